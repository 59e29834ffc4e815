"""The import's first step, before any verification: each file of a chunk read and decided
as far as it can be without its seals (settled by an earlier run, a duplicate, bad
metadata, refused by intake's rules or a conflict), or made ready to verify.

The lookups are made for the whole chunk at once (stored bytes, earlier runs' decisions,
stored license keys; the catalog's rules once per issuer and type in the chunk). A file
whose bytes or license key an earlier file of this run already took is *deferred*: it is
decided alone, after that file was written (:meth:`Preparer.chunk` with ``alone``), as a
run that took one file at a time would decide it.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from schemas.license import LicenseMetadata
from vault.crypto import HolderCrypto
from vault.errors import ConflictError, IntakeRefused, InvalidInput
from vault.models import License, LicenseVersion
from vault.services.bulk.journal import Decision, ImportOutcome, decisions_of, settled_refusal
from vault.services.bulk.source import (
    ImportItem,
    StockSource,
    metadata_from_input,
    metadata_input,
)
from vault.services.catalog import find_department_by_code
from vault.services.intake import Prechecked, RuleContext, check_rules, precheck

__all__ = ["Deferred", "Pending", "Prepared", "Preparer"]

_METADATA_PURPOSE = "import-metadata"


@dataclass(frozen=True)
class Pending:
    """A file to verify, with what its write needs."""

    item: ImportItem
    data: bytes
    sha256: str
    metadata_digest: str
    metadata: LicenseMetadata
    department_id: int
    prechecked: Prechecked

    def refused(self, reason: str, message: str) -> ImportOutcome:
        return _refusal(self.item, self.sha256, self.metadata_digest, reason, message)


@dataclass(frozen=True)
class Deferred:
    """A file to decide alone once the files before it are written."""

    item: ImportItem


Prepared = Pending | Deferred | ImportOutcome


@dataclass(frozen=True)
class _Read:
    """A file read: its bytes and SHA-256."""

    item: ImportItem
    data: bytes
    sha256: str


@dataclass(frozen=True)
class _Unchecked:
    """A file with its metadata and department, before intake's rules."""

    read: _Read
    metadata: LicenseMetadata
    metadata_digest: str
    department_id: int

    def refused(self, reason: str, message: str) -> ImportOutcome:
        return _refusal(self.read.item, self.read.sha256, self.metadata_digest, reason, message)


def _refusal(
    item: ImportItem, sha256: str, metadata_digest: str | None, reason: str, message: str
) -> ImportOutcome:
    return ImportOutcome(
        item.name, "refused", reason, message, sha256=sha256, metadata_digest=metadata_digest
    )


class Preparer:
    """Prepares the files of one run, chunk by chunk (see the module docstring)."""

    def __init__(
        self,
        session: Session,
        crypto: HolderCrypto,
        stock: StockSource,
        manifest: dict[str, dict[str, str]] | None,
        *,
        run_id: int,
        digest: str,
        retry_refused: bool,
    ) -> None:
        self.session, self.crypto, self.stock, self.manifest = session, crypto, stock, manifest
        self.run_id, self.digest, self.retry_refused = run_id, digest, retry_refused
        self._departments: dict[str, int | None] = {}
        self._bytes_taken: set[str] = set()
        self._keys_taken: set[tuple[str, str, str]] = set()

    def chunk(self, items: Sequence[ImportItem], *, alone: bool = False) -> list[Prepared]:
        """Each file of ``items``, prepared; ``alone``: decided now, never deferred."""
        read = [self._read(item) for item in items]
        files = [r for r in read if isinstance(r, _Read)]
        shas = [f.sha256 for f in files]
        stored = _stored(self.session, shas)
        earlier = decisions_of(self.session, shas, excluding_run=self.run_id)
        decided: dict[str, Prepared | _Unchecked] = {
            f.item.name: self._unverified(f, stored.get(f.sha256), earlier.get(f.sha256, []))
            for f in files
        }
        self._check_rules_and_keys(decided, alone=alone)
        self.session.rollback()  # the chunk's reads were one transaction
        return [_done(decided[r.item.name]) if isinstance(r, _Read) else r for r in read]

    def _read(self, item: ImportItem) -> _Read | ImportOutcome:
        try:
            data = self.stock.read(item)
        except (OSError, zipfile.BadZipFile, KeyError, InvalidInput) as exc:
            return ImportOutcome(item.name, "refused", "unreadable", str(exc))
        return _Read(item, data, hashlib.sha256(data).hexdigest())

    def _unverified(
        self, f: _Read, stored: tuple[int, int] | None, earlier: list[Decision]
    ) -> ImportOutcome | _Unchecked:
        """A duplicate, a settled refusal, a metadata refusal, or a file still to check."""
        name, sha256 = f.item.name, f.sha256
        if stored is not None:
            stored_by = next((e.run_id for e in earlier if e.outcome != "refused"), None)
            return ImportOutcome(
                name,
                "duplicate",
                license_id=stored[0],
                version=stored[1],
                sha256=sha256,
                settled_in=stored_by,
            )
        try:
            raw = metadata_input(self.stock, f.item, self.manifest)
        except IntakeRefused as exc:
            return _refusal(f.item, sha256, None, exc.reason, str(exc))
        metadata_digest = self.crypto.digest(
            json.dumps(raw, sort_keys=True, ensure_ascii=False).encode(),
            purpose=_METADATA_PURPOSE,
        )
        if not self.retry_refused:
            settled = settled_refusal(earlier, metadata_digest, self.digest)
            if settled is not None:
                return ImportOutcome(
                    name,
                    "refused",
                    settled.reason,
                    settled.message,
                    sha256=sha256,
                    metadata_digest=metadata_digest,
                    settled_in=settled.run_id,
                )
        return self._with_metadata(f, raw, metadata_digest)

    def _with_metadata(
        self, f: _Read, raw: dict[str, Any] | None, digest: str
    ) -> ImportOutcome | _Unchecked:
        """The metadata parsed and its department found: a file ready for the rules."""

        def refused(reason: str, message: str) -> ImportOutcome:
            return _refusal(f.item, f.sha256, digest, reason, message)

        try:
            metadata = metadata_from_input(raw, manifest=self.manifest is not None)
        except IntakeRefused as exc:
            return refused(exc.reason, str(exc))
        code = str(metadata.issuer_code)
        if code not in self._departments:
            found = find_department_by_code(session=self.session, credit_code=code)
            self._departments[code] = found.id if found is not None else None
        department_id = self._departments[code]
        if department_id is None:
            return refused(
                "unknown_department", f"no department is registered with 颁发机构代码 {code}"
            )
        return _Unchecked(f, metadata, digest, department_id)

    def _check_rules_and_keys(
        self, decided: dict[str, Prepared | _Unchecked], *, alone: bool
    ) -> None:
        """Intake's rules (once per department and type in the chunk) and the stored
        license keys (one query) for the chunk's pending files; the one-file ``precheck``
        for a file whose key is stored (a new version, or a conflict)."""
        pending = [p for p in decided.values() if isinstance(p, _Unchecked)]
        contexts: dict[tuple[int, str, str, str], RuleContext | IntakeRefused] = {}
        for p in pending:
            m = p.metadata
            key = (p.department_id, str(m.issuer_code), m.type_code, m.holder_id_type.value)
            if key not in contexts:
                try:
                    contexts[key] = check_rules(self.session, m, p.department_id)
                except IntakeRefused as exc:
                    contexts[key] = exc
        stored_keys = _stored_keys(
            self.session,
            [
                (c.license_type_id, c.department_id, p.metadata.number)
                for p in pending
                if isinstance(c := contexts[_rule_key(p)], RuleContext)
            ],
        )
        for p in pending:
            decided[p.read.item.name] = self._checked(p, contexts[_rule_key(p)], stored_keys, alone)

    def _checked(
        self,
        p: _Unchecked,
        context: RuleContext | IntakeRefused,
        stored_keys: set[tuple[int, int, str]],
        alone: bool,
    ) -> Prepared:
        if isinstance(context, IntakeRefused):
            return p.refused(context.reason, str(context))
        m = p.metadata
        run_key = (m.type_code, str(m.issuer_code), m.number)
        sha256 = p.read.sha256
        if not alone and (run_key in self._keys_taken or sha256 in self._bytes_taken):
            return Deferred(p.read.item)
        self._keys_taken.add(run_key)
        self._bytes_taken.add(sha256)
        prechecked = Prechecked(department_id=p.department_id, metadata=m, context=context)
        if (context.license_type_id, context.department_id, m.number) in stored_keys:
            try:
                prechecked = precheck(
                    session=self.session,
                    crypto=self.crypto,
                    metadata=m,
                    pushed_by_department_id=p.department_id,
                    sha256=sha256,
                )
            except IntakeRefused as exc:
                return p.refused(exc.reason, str(exc))
            except ConflictError as exc:
                return p.refused("conflict", str(exc))
        return Pending(
            p.read.item, p.read.data, sha256, p.metadata_digest, m, p.department_id, prechecked
        )


def _done(p: Prepared | _Unchecked) -> Prepared:
    assert not isinstance(p, _Unchecked)  # every file was checked
    return p


def _rule_key(p: _Unchecked) -> tuple[int, str, str, str]:
    m = p.metadata
    return (p.department_id, str(m.issuer_code), m.type_code, m.holder_id_type.value)


def _stored(session: Session, sha256s: list[str]) -> dict[str, tuple[int, int]]:
    """The stored versions of these bytes: (license row id, version) by SHA-256."""
    if not sha256s:
        return {}
    rows = session.execute(
        select(LicenseVersion.blob_sha256, LicenseVersion.license_id, LicenseVersion.version).where(
            LicenseVersion.blob_sha256.in_(sorted(set(sha256s)))
        )
    )
    return {sha: (license_id, version) for sha, license_id, version in rows}


def _stored_keys(session: Session, keys: list[tuple[int, int, str]]) -> set[tuple[int, int, str]]:
    """Which of these license keys (type, issuer, 证照编号) are stored."""
    if not keys:
        return set()
    rows = session.execute(
        select(License.license_type_id, License.issuer_department_id, License.number).where(
            tuple_(License.license_type_id, License.issuer_department_id, License.number).in_(
                sorted(set(keys))
            )
        )
    )
    return {(t, d, n) for t, d, n in rows}
