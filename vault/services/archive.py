"""Long-term archive: renew stored licenses before their latest timestamp stops proving.

``renew_archives_and_commit`` looks at every stored license version's served file; when its latest
timestamp's certificates expire within ``margin`` (see :func:`signing.archive.archive_horizon`)
it appends validation data and a new document timestamp, checks that the vault's own
verifier still passes the result, stores it as a new blob (the old one stays, referenced),
records an :class:`~vault.models.ArchiveRenewal` and a ``license.archive_renewed`` log
entry, and commits, one license version at a time. A second run finds nothing due
(idempotent); a run that stops part-way is simply run again (resumable); two runs at once
renew each file once (the second insert of a sequence number fails and is skipped).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from vault.blobs.base import BlobStore
from vault.db.base import utcnow
from vault.errors import VaultError
from vault.log.append import append_event
from vault.models import ArchiveRenewal, License, LicenseVersion
from vault.services.intake import PdfVerifier

__all__ = ["RenewalReport", "renew_archives_and_commit", "served_blob"]

Renew = Callable[[bytes], bytes]
"""Appends a DSS and a new document timestamp to a PDF (signing.archive.renew_archive)."""


@dataclass
class RenewalReport:
    """What a run did. Ids are license public ids with the version: no holder data."""

    scanned: int = 0
    not_due: int = 0
    not_timestamped: int = 0
    not_pdf: int = 0
    """Files in another format (OFD): this job renews PAdES files only."""
    renewed: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    skipped_concurrent: int = 0


def served_blob(session: Session, version: LicenseVersion) -> str:
    """The SHA-256 of the file served for ``version``: its latest renewal, else the original."""
    latest = session.scalar(
        select(ArchiveRenewal.blob_sha256)
        .where(ArchiveRenewal.license_version_id == version.id)
        .order_by(ArchiveRenewal.sequence.desc())
        .limit(1)
    )
    return latest or version.blob_sha256


@dataclass(frozen=True)
class _Target:
    """A license version to look at, read in a short transaction."""

    version_id: int
    license_id: int
    version: int
    name: str
    previous: str
    not_due: bool


@dataclass(frozen=True)
class _Renewer:
    """Reads in one short transaction, renews (TSA, verification) outside any transaction,
    stores in another: a slow TSA never holds a database lock."""

    session: Session
    blobs: BlobStore
    renew: Renew
    verifier: PdfVerifier
    due_before: dt.datetime
    now: dt.datetime

    def _target(self, version_id: int) -> _Target | None:
        version = self.session.get(LicenseVersion, version_id)
        if version is None:
            return None  # removed meanwhile
        latest = self.session.scalars(
            select(ArchiveRenewal)
            .where(ArchiveRenewal.license_version_id == version_id)
            .order_by(ArchiveRenewal.sequence.desc())
            .limit(1)
        ).first()
        target = _Target(
            version_id,
            version.license_id,
            version.version,
            f"{version.license.public_id} v{version.version}",
            latest.blob_sha256 if latest else version.blob_sha256,
            latest is not None and latest.horizon_after > self.due_before,
        )
        self.session.rollback()
        return target

    def one(self, version_id: int, report: RenewalReport) -> str | None:
        """Renew one version's file if due; return its name when renewed."""
        from signing.archive import archive_horizon
        from signing.errors import SigningError

        target = self._target(version_id)
        if target is None:
            return None
        report.scanned += 1
        if target.not_due:  # known from its last renewal, without reading the file
            report.not_due += 1
            return None
        try:
            data = self.blobs.get(target.previous)
            if data.lstrip()[:5] != b"%PDF-":
                report.not_pdf += 1
                return None
            before = archive_horizon(data).horizon
            if before is None:
                report.not_timestamped += 1
                return None
            if before > self.due_before:
                report.not_due += 1
                return None
            renewed = self.renew(data)
            after = archive_horizon(renewed).horizon
        except (SigningError, VaultError) as exc:
            report.failed.append((target.name, str(exc)))
            return None
        if after is None or after <= self.due_before:
            report.failed.append(
                (target.name, "the new timestamp's certificate expires within the margin")
            )
            return None
        verdict = self.verifier.verify(renewed)
        if verdict.indication != "TOTAL_PASSED":
            report.failed.append(
                (target.name, f"the renewed file does not verify: {verdict.indication}")
            )
            return None
        if not self._store(target, renewed, before, after):
            report.skipped_concurrent += 1
            return None
        return target.name

    def _store(
        self, target: _Target, renewed: bytes, before: dt.datetime, after: dt.datetime
    ) -> bool:
        """Store the renewal unless another run renewed the file meanwhile (False)."""
        sha256 = self.blobs.put(renewed)  # before the row: gc collects it if the commit fails
        latest = self.session.execute(
            select(ArchiveRenewal.sequence, ArchiveRenewal.blob_sha256)
            .where(ArchiveRenewal.license_version_id == target.version_id)
            .order_by(ArchiveRenewal.sequence.desc())
            .limit(1)
        ).first()
        current = latest[1] if latest else None
        if current is not None and current != target.previous:
            return False
        sequence = 1 + (latest[0] if latest else 0)
        self.session.add(
            ArchiveRenewal(
                license_version_id=target.version_id,
                # the version's as it is now (a key rotation may have run since the read)
                holder_blind_index=select(LicenseVersion.holder_blind_index)
                .where(LicenseVersion.id == target.version_id)
                .scalar_subquery(),
                sequence=sequence,
                blob_sha256=sha256,
                previous_sha256=target.previous,
                size=len(renewed),
                horizon_before=before,
                horizon_after=after,
                renewed_at=self.now,
            )
        )
        append_event(
            session=self.session,
            event_type="license.archive_renewed",
            payload={
                "license_id": target.license_id,
                "version": target.version,
                "sequence": sequence,
                "previous_sha256": target.previous,
                "sha256": sha256,
                "horizon": after.isoformat(),
            },
            now=self.now,
        )
        return True


def renew_archives_and_commit(
    *,
    session: Session,
    blobs: BlobStore,
    renew: Renew,
    verifier: PdfVerifier,
    margin: dt.timedelta,
    now: dt.datetime | None = None,
    limit: int | None = None,
) -> RenewalReport:
    """Renew every stored file whose latest timestamp stops proving before ``now + margin``.

    Commits after each file (a long job must not hold the log's append lock across
    files). ``limit`` caps how many files are renewed in one run.
    """
    now = now or utcnow()
    renewer = _Renewer(session, blobs, renew, verifier, now + margin, now)
    report = RenewalReport()
    ids = session.scalars(select(LicenseVersion.id).join(License).order_by(LicenseVersion.id)).all()
    session.rollback()
    for version_id in ids:
        if limit is not None and len(report.renewed) >= limit:
            break
        try:
            name = renewer.one(version_id, report)
            session.commit()
        except IntegrityError:  # another run renewed this file first
            session.rollback()
            report.skipped_concurrent += 1
            continue
        if name is not None:
            report.renewed.append(name)
    return report
