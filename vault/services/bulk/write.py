"""The import's last step: verified files written :data:`WRITE_BATCH` to a transaction by
the Core writer (:mod:`vault.services.bulk.core_writer`), outcomes recorded in the source's
order after the commit that stored them.

An interrupt loses the uncommitted files from the journal as well as from the store, and
the next run verifies them again. A file the Core writer sets aside, and a file deferred by
the first step, is decided after the commit by the one-file path,
:func:`vault.services.intake.ingest`, which finds the duplicate or the conflict.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from schemas.report import VerificationReport
from vault.blobs.base import BlobStore
from vault.crypto import HolderCrypto
from vault.db.base import utcnow
from vault.errors import ConflictError, IntakeRefused
from vault.services.bulk.core_writer import Verified, write_new_licenses
from vault.services.bulk.journal import ImportOutcome
from vault.services.bulk.prepare import Deferred, Pending
from vault.services.bulk.source import declared_type
from vault.services.bulk.workers import Failed, Stored
from vault.services.intake import (
    IntakeResult,
    PrecomputedVerifier,
    check_file_format,
    check_report,
    ingest,
)

__all__ = ["WRITE_BATCH", "BatchWriter"]

#: Verified files written per transaction (``import_stock(write_batch=...)``; 1: one
#: commit per file, each outcome reported as soon as it is decided).
WRITE_BATCH = 32


@dataclass(frozen=True)
class _ToWrite:
    pending: Pending
    verified: Verified
    #: The worker that verified the file stored its blob (durably) already.
    stored: bool = False


_Held = ImportOutcome | _ToWrite | Deferred


class BatchWriter:
    """Holds what the pipeline decided, in order, and writes it a batch at a time.

    A deferred file is decided by itself: ``prepare_alone`` prepares it, ``verify_alone``
    verifies it, and ``ingest`` writes it. ``record`` is told every outcome, after the
    commit that stored it.
    """

    def __init__(
        self,
        session: Session,
        blobs: BlobStore,
        crypto: HolderCrypto,
        *,
        size: int,
        now: dt.datetime | None,
        require_revocation: bool,
        record: Callable[[ImportOutcome], None],
        prepare_alone: Callable[[Deferred], Pending | Deferred | ImportOutcome],
        verify_alone: Callable[[Pending], str],
    ) -> None:
        self.session, self.blobs, self.crypto = session, blobs, crypto
        self.size, self.now, self.require_revocation = max(1, size), now, require_revocation
        self.record = record
        self.prepare_alone, self.verify_alone = prepare_alone, verify_alone
        self._held: list[_Held] = []
        self._writes = 0

    def add(self, prepared: Pending | Deferred | ImportOutcome, answer: str | None) -> None:
        """A file of the pipeline, in the source's order, with its verification's answer
        (a report as JSON, or :class:`Failed`) when it was verified."""
        if isinstance(prepared, Pending):
            assert answer is not None
            held = self._checked(prepared, answer)
            if isinstance(held, _ToWrite):
                self._hold(held)
                self._writes += 1
                if self._writes >= self.size:
                    self.flush()
                return
            prepared = held
        if self._held:
            self._hold(prepared)
        elif isinstance(prepared, Deferred):
            self.record(self.decide_alone(prepared))
        else:
            self.record(prepared)

    def _hold(self, held: _Held) -> None:
        self._held.append(held)

    def _checked(self, pending: Pending, answer: str) -> _ToWrite | ImportOutcome:
        """The report read and checked against the bytes and intake's rules (as ``ingest``
        checks it); a refusal is an outcome, written nowhere."""
        if isinstance(answer, Failed):
            return ImportOutcome(
                pending.item.name,
                "refused",
                "verification_error",
                f"verification failed to run: {answer}",
            )
        report = VerificationReport.model_validate_json(answer)
        try:
            file_format = check_file_format(pending.data, declared_type(pending.item.name))
            check_report(
                report,
                sha256=pending.sha256,  # of these bytes, when the chunk was read
                context=pending.prechecked.context,
                require_revocation=self.require_revocation,
            )
        except IntakeRefused as exc:
            return pending.refused(exc.reason, str(exc))
        verified = Verified(
            sha256=pending.sha256,
            size=len(pending.data),
            file_format=file_format,
            metadata=pending.prechecked.metadata,
            context=pending.prechecked.context,
            report=report,
            report_json=answer,
        )
        return _ToWrite(pending, verified, stored=isinstance(answer, Stored))

    def flush(self) -> None:
        """Write the files held in one transaction, commit, then record every outcome held,
        in order (deciding the files set aside and deferred, one by one)."""
        held, self._held, self._writes = self._held, [], 0
        to_write = [h for h in held if isinstance(h, _ToWrite)]
        written = self._write(to_write) if to_write else {}
        for h in held:
            if isinstance(h, Deferred):
                self.record(self.decide_alone(h))
            elif not isinstance(h, _ToWrite):
                self.record(h)
            elif id(h) in written:
                self.record(written[id(h)])
            else:
                self.record(self._write_alone(h))

    def _write(self, to_write: list[_ToWrite]) -> dict[int, ImportOutcome]:
        """The batch's blobs (those no worker stored), then its rows in one transaction:
        the outcomes of the files written, by ``id`` of their entry; nothing on a
        unique-constraint collision."""
        self.blobs.put_many([h.pending.data for h in to_write if not h.stored])
        try:
            with self.session.begin_nested():
                rows = write_new_licenses(
                    self.session, self.crypto, [h.verified for h in to_write], self.now or utcnow()
                )
        except IntegrityError:  # stored meanwhile by another writer: each file alone
            rows = {}
        self.session.commit()
        return {
            id(to_write[i]): _ingested(to_write[i].pending, row.license_id, row.version)
            for i, row in rows.items()
        }

    def decide_alone(self, deferred: Deferred) -> ImportOutcome:
        """A deferred file, prepared, verified and written by itself."""
        prepared = self.prepare_alone(deferred)
        if isinstance(prepared, Deferred):  # cannot be: alone, nothing is deferred
            raise AssertionError(f"{deferred.item.name} deferred twice")
        if isinstance(prepared, ImportOutcome):
            return prepared
        held = self._checked(prepared, self.verify_alone(prepared))
        return held if isinstance(held, ImportOutcome) else self._write_alone(held)

    def _write_alone(self, h: _ToWrite) -> ImportOutcome:
        """A file set aside, by ``ingest`` (its report made already)."""
        pending = h.pending
        try:
            result = ingest(
                session=self.session,
                blobs=self.blobs,
                verifier=PrecomputedVerifier(h.verified.report),
                crypto=self.crypto,
                metadata=pending.metadata,
                pdf=pending.data,
                pushed_by_department_id=pending.department_id,
                file_name=pending.item.name,
                now=self.now,
                prechecked=pending.prechecked,
                require_revocation=self.require_revocation,
                declared_type=declared_type(pending.item.name),
            )
        except IntakeRefused as exc:
            self.session.rollback()
            return pending.refused(exc.reason, str(exc))
        except ConflictError as exc:
            self.session.rollback()
            return pending.refused("conflict", str(exc))
        self.session.commit()  # the import is the edge: it commits what intake wrote
        return stored_outcome(pending, result)


def _ingested(pending: Pending, license_id: int, version: int) -> ImportOutcome:
    return ImportOutcome(
        pending.item.name,
        "ingested",
        license_id=license_id,
        version=version,
        sha256=pending.sha256,
        metadata_digest=pending.metadata_digest,
    )


def stored_outcome(pending: Pending, result: IntakeResult) -> ImportOutcome:
    """The outcome of ``ingest`` for a pending file: ingested, or a duplicate."""
    return ImportOutcome(
        pending.item.name,
        "ingested" if result.created else "duplicate",
        license_id=result.license.id,
        version=result.version.version,
        sha256=pending.sha256,
        metadata_digest=pending.metadata_digest,
    )
