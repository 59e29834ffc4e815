"""The bulk import's writer, in SQLAlchemy Core: a batch of verified new licenses in a few
multi-row statements (holders, licenses, versions, transparency-log leaves), inside the
caller's transaction, which commits the batch as a whole.

It writes only the common case of stock, a license whose key (type, issuer, 证照编号) is
not stored yet, for a holder that is new or stored under the same name. Every other file of
the batch (a stored key: a new version or a conflict; every file of a holder named by more
than one name, stored or in the batch; two files of the batch with the same key or the same
bytes) is *set aside*: the caller decides it
after the commit by the one-file path, :func:`vault.services.intake.ingest`, which applies
every rule there. A unique constraint that fails (the bytes or a holder stored meanwhile by
another writer) raises IntegrityError: the caller rolls the batch back and decides each of
its files by the one-file path.

The rows are those :func:`vault.services.intake.ingest` writes, built by the same functions
(:func:`~vault.services.intake.version_values`, :func:`~vault.services.intake.ingested_event`,
:func:`~vault.services.holders.new_holder_values`); the leaves are appended under the log's
append lock, taken once for the batch (:func:`vault.log.append.next_index`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, insert, select, tuple_
from sqlalchemy.orm import Session

from schemas.identifiers import parse_holder_id
from schemas.license import LicenseMetadata
from schemas.report import FileFormat, VerificationReport
from vault.crypto import HolderCrypto
from vault.log.append import leaf_values, next_index
from vault.models import Holder, License, LicenseVersion
from vault.models.log import LogEntry
from vault.services.holders import holder_name, new_holder_values
from vault.services.intake import RuleContext, ingested_event, lock_license_keys, version_values

__all__ = ["Verified", "Written", "write_new_licenses"]

_HOLDERS = cast(Table, Holder.__table__)
_LICENSES = cast(Table, License.__table__)
_VERSIONS = cast(Table, LicenseVersion.__table__)
_LEAVES = cast(Table, LogEntry.__table__)


@dataclass(frozen=True)
class Verified:
    """A file verified and checked against intake's rules, ready to be written."""

    sha256: str
    size: int
    file_format: FileFormat
    metadata: LicenseMetadata
    context: RuleContext
    report: VerificationReport
    report_json: str

    @property
    def key(self) -> tuple[int, int, str]:
        return (self.context.license_type_id, self.context.department_id, self.metadata.number)


@dataclass(frozen=True)
class Written:
    """Where a file was written: its license row and version."""

    license_id: int
    version: int


def write_new_licenses(
    session: Session, crypto: HolderCrypto, files: Sequence[Verified], now: dt.datetime
) -> dict[int, Written]:
    """Write the new licenses of ``files`` (see the module docstring); returns them by
    their position in ``files``; the positions missing are set aside. Flushes nothing of
    the ORM and commits nothing."""
    kept = _new_keys(session, files)
    holders = _holders(session, crypto, files, kept)
    kept = [i for i in kept if i in holders]
    if not kept:
        return {}
    connection = session.connection()
    license_ids = _insert_returning_ids(
        connection,
        _LICENSES,
        [_license_values(files[i], holders[i], now) for i in kept],
    )
    connection.execute(
        insert(_VERSIONS),
        [
            version_values(
                files[i].metadata,
                files[i].context,
                (files[i].sha256, files[i].size, files[i].file_format),
                files[i].report_json,
                files[i].report,
                now,
            )
            | {"license_id": license_id, "holder_blind_index": holders[i].blind_index}
            for i, license_id in zip(kept, license_ids, strict=True)
        ],
    )
    first = next_index(session)
    connection.execute(
        insert(_LEAVES),
        [
            leaf_values(
                idx=first + n,
                event_type="license.ingested",
                payload=ingested_event(
                    license_id,
                    files[i].metadata,
                    holders[i].row_id,
                    (files[i].sha256, files[i].size, files[i].file_format),
                    now,
                ),
                now=now,
            )
            for n, (i, license_id) in enumerate(zip(kept, license_ids, strict=True))
        ],
    )
    return {
        i: Written(license_id, files[i].metadata.version)
        for i, license_id in zip(kept, license_ids, strict=True)
    }


def _new_keys(session: Session, files: Sequence[Verified]) -> list[int]:
    """The positions of files whose key and bytes are the batch's first and not stored; the
    stored keys' rows are locked until the commit (PostgreSQL), as ``ingest`` locks one."""
    first: dict[tuple[int, int, str], int] = {}
    seen_bytes: set[str] = set()
    for i, f in enumerate(files):
        if f.sha256 in seen_bytes:
            continue
        seen_bytes.add(f.sha256)
        first.setdefault(f.key, i)
    keys = list(first)
    if not keys:
        return []
    query = (
        select(License.license_type_id, License.issuer_department_id, License.number)
        .where(
            tuple_(License.license_type_id, License.issuer_department_id, License.number).in_(keys)
        )
        .with_for_update()
    )
    lock_license_keys(session, keys)  # as ingest does, all in one statement
    stored = {tuple(row) for row in session.connection().execute(query)}
    return sorted(i for key, i in first.items() if key not in stored)


@dataclass(frozen=True)
class _HolderRow:
    """A holder row's key: its id and its blind index (the partition key on PostgreSQL)."""

    row_id: int
    blind_index: bytes


def _holders(
    session: Session, crypto: HolderCrypto, files: Sequence[Verified], kept: list[int]
) -> dict[int, _HolderRow]:
    """The holder row of each kept file: found under any index key, or inserted.

    A holder whose files in the batch (kept or not) or whose stored row name it by more
    than one name is left out with all its files (set aside: ``ingest`` then updates the
    name file by file, in the source's order, as one file at a time would)."""
    parsed = {
        i: parse_holder_id(f.metadata.holder_id, f.metadata.holder_id_type)
        for i, f in enumerate(files)
    }
    indexes = {i: crypto.blind_indexes(p.id_type.value, p) for i, p in parsed.items()}
    stored = _stored_holders(session, {b for group in indexes.values() for b in group})
    groups: dict[int | bytes, list[int]] = {}
    stored_index: dict[int, bytes] = {row_id: b for b, (row_id, _) in stored.items()}
    names: dict[int | bytes, set[str]] = {}
    for i, group in indexes.items():
        # As find_holder: the oldest row under any index key (two only during a rotation).
        hit = min((stored[b] for b in group if b in stored), default=None)
        holder: int | bytes = group[0] if hit is None else hit[0]
        groups.setdefault(holder, []).append(i)
        names.setdefault(holder, set()).add(files[i].metadata.holder_name)
        if hit is not None:
            names[holder].add(holder_name(crypto=crypto, name_ciphertext=hit[1]))
    wanted = set(kept)
    found: dict[int, _HolderRow] = {}
    new: list[list[int]] = []
    for holder, positions in groups.items():
        positions = [i for i in positions if i in wanted]
        if len(names[holder]) > 1 or not positions:
            continue
        if isinstance(holder, int):
            found |= dict.fromkeys(positions, _HolderRow(holder, stored_index[holder]))
        else:
            new.append(positions)
    if new:
        rows = [
            new_holder_values(
                crypto=crypto, holder_id=parsed[p[0]], name=files[p[0]].metadata.holder_name
            )
            for p in new
        ]
        ids = _insert_returning_ids(session.connection(), _HOLDERS, rows)
        for positions, row, row_id in zip(new, rows, ids, strict=True):
            found |= dict.fromkeys(positions, _HolderRow(row_id, cast(bytes, row["blind_index"])))
    return found


def _stored_holders(session: Session, indexes: set[bytes]) -> dict[bytes, tuple[int, bytes]]:
    """The stored holders under these blind indexes: (row id, sealed name) by index."""
    if not indexes:
        return {}
    rows = session.connection().execute(
        select(Holder.id, Holder.blind_index, Holder.name_ciphertext).where(
            Holder.blind_index.in_(sorted(indexes))
        )
    )
    return {bytes(index): (row_id, bytes(name)) for row_id, index, name in rows}


def _insert_returning_ids(connection: Any, table: Table, rows: list[dict[str, Any]]) -> list[int]:
    """Insert ``rows`` in one statement (or a few: SQLAlchemy's insertmanyvalues) and return
    their ids in the order of ``rows``."""
    statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return [row_id for (row_id,) in connection.execute(statement, rows)]


def _license_values(file: Verified, holder: _HolderRow, now: dt.datetime) -> dict[str, Any]:
    return {
        "license_type_id": file.context.license_type_id,
        "issuer_department_id": file.context.department_id,
        "number": file.metadata.number,
        "holder_id": holder.row_id,
        "holder_blind_index": holder.blind_index,
        "status": "有效",
        "current_version": file.metadata.version,
        "created_at": now,
        "updated_at": now,
    }
