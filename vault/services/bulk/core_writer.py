"""The bulk import's writer, in SQLAlchemy Core: a batch of verified new licenses in a few
multi-row statements (holders, licenses, versions, transparency-log leaves), inside the
caller's transaction, which commits the batch as a whole.

It writes only the common case of stock, a license whose key (type, issuer, 证照编号) is
not stored yet, for a holder that is new or stored under the same name. Every other file of
the batch (a stored key: a new version or a conflict; a holder whose name changed; two files
of the batch with the same key or the same bytes) is *set aside*: the caller decides it
after the commit by the one-file path, :func:`vault.services.intake.ingest`, which applies
every rule there. A unique constraint that fails (the bytes or a holder stored meanwhile by
another writer) raises IntegrityError: the caller rolls the batch back and decides each of
its files by the one-file path.

The rows are those :func:`vault.services.intake.ingest` writes, built by the same functions
(:func:`~vault.services.intake.version_values`, :func:`~vault.services.intake.ingested_event`,
:func:`~vault.services.holders.new_holder_values`); the leaves are appended under the log's
append lock, taken once for the batch (:func:`vault.audit_log.next_index`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, insert, select, tuple_
from sqlalchemy.orm import Session

from schemas.identifiers import CitizenId, CreditCode, parse_holder_id
from schemas.license import LicenseMetadata
from schemas.report import FileFormat, VerificationReport
from vault.audit_log import leaf_values, next_index
from vault.crypto import HolderCrypto
from vault.models import Holder, License, LicenseVersion
from vault.models.log import LogEntry
from vault.services.holders import holder_name, new_holder_values
from vault.services.intake import (
    INGESTED_EVENT,
    RuleContext,
    ingested_event,
    version_values,
)

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
    parsed = {
        i: parse_holder_id(files[i].metadata.holder_id, files[i].metadata.holder_id_type)
        for i in kept
    }
    holders = _holders(session, crypto, files, parsed)
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
            | {"license_id": license_id}
            for i, license_id in zip(kept, license_ids, strict=True)
        ],
    )
    first = next_index(session)
    connection.execute(
        insert(_LEAVES),
        [
            leaf_values(
                idx=first + n,
                event_type=INGESTED_EVENT,
                payload=ingested_event(
                    license_id,
                    files[i].metadata,
                    holders[i],
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
    stored = {tuple(row) for row in session.connection().execute(query)}
    return sorted(i for key, i in first.items() if key not in stored)


def _holders(
    session: Session,
    crypto: HolderCrypto,
    files: Sequence[Verified],
    parsed: dict[int, CitizenId | CreditCode],
) -> dict[int, int]:
    """Each file's holder row id: found under any index key with the same name, or
    inserted; a file whose holder is stored under another name is left out (set aside:
    ``ingest`` re-seals the row with the new name)."""
    indexes = {i: crypto.blind_indexes(p.id_type.value, p) for i, p in parsed.items()}
    wanted = sorted({b for group in indexes.values() for b in group})
    stored: dict[bytes, tuple[int, bytes]] = {}
    if wanted:
        rows = session.connection().execute(
            select(Holder.id, Holder.blind_index, Holder.name_ciphertext)
            .where(Holder.blind_index.in_(wanted))
            .order_by(Holder.id)
        )
        for row_id, index, sealed_name in rows:
            stored.setdefault(bytes(index), (row_id, bytes(sealed_name)))
    found: dict[int, int] = {}
    new: dict[bytes, list[int]] = {}
    for i, group in indexes.items():
        hit = next((stored[b] for b in group if b in stored), None)
        name = files[i].metadata.holder_name
        if hit is None:
            new.setdefault(group[0], []).append(i)
        elif holder_name(crypto=crypto, name_ciphertext=hit[1]) == name:
            found[i] = hit[0]
    _insert_holders(session, crypto, files, parsed, new, found)
    return found


def _insert_holders(
    session: Session,
    crypto: HolderCrypto,
    files: Sequence[Verified],
    parsed: dict[int, CitizenId | CreditCode],
    new: dict[bytes, list[int]],
    found: dict[int, int],
) -> None:
    """Insert each new holder once (the first file's name); files that name the same new
    holder differently are left out of ``found``."""
    if not new:
        return
    firsts = [positions[0] for positions in new.values()]
    ids = _insert_returning_ids(
        session.connection(),
        _HOLDERS,
        [
            new_holder_values(
                crypto=crypto, holder_id=parsed[i], name=files[i].metadata.holder_name
            )
            for i in firsts
        ],
    )
    for positions, row_id in zip(new.values(), ids, strict=True):
        name = files[positions[0]].metadata.holder_name
        for i in positions:
            if files[i].metadata.holder_name == name:
                found[i] = row_id


def _insert_returning_ids(connection: Any, table: Table, rows: list[dict[str, Any]]) -> list[int]:
    """Insert ``rows`` in one statement (or a few: SQLAlchemy's insertmanyvalues) and return
    their ids in the order of ``rows``."""
    statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return [row_id for (row_id,) in connection.execute(statement, rows)]


def _license_values(file: Verified, holder_id: int, now: dt.datetime) -> dict[str, Any]:
    return {
        "license_type_id": file.context.license_type_id,
        "issuer_department_id": file.context.department_id,
        "number": file.metadata.number,
        "holder_id": holder_id,
        "status": "有效",
        "current_version": file.metadata.version,
        "created_at": now,
        "updated_at": now,
    }
