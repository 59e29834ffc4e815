"""Verify stored licenses again under today's rules.

Every verification rule evault adds (each red-team round added some) applies to pushes
from then on; a license the vault accepted before may not pass it. :func:`recheck_stock`
verifies the current version of each stored license again, with today's verifier and
intake's report rules (:func:`vault.services.intake.check_report`), as of the time intake
first verified it (``verified_at``: what the vault held then is proven by its log, so a
certificate that expired since is no finding). It changes nothing: each finding names the
license by its public id (never its holder), the version, and the reason and message intake
would refuse it with today; the issuing department decides (revoke, re-issue) and the
operator may hold its copies meanwhile.

An unknown revocation status is not a finding here: an operator may have let intake take
such licenses on purpose (``EVAULT_INTAKE_REQUIRE_REVOCATION=false``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from vault.blobs.base import BlobStore
from vault.errors import BlobStoreError, IntakeRefused
from vault.models import License, LicenseType, LicenseVersion
from vault.services.intake import PdfVerifier, RuleContext, check_report, stored_rule_context

__all__ = ["Finding", "RecheckSummary", "recheck_stock"]

_BATCH = 500


@dataclass(frozen=True)
class Finding:
    """A stored license its current version of which today's rules refuse."""

    license_id: str
    """The license's public id."""
    version: int
    file_format: str
    reason: str
    message: str


@dataclass
class RecheckSummary:
    checked: int = 0
    findings: list[Finding] = field(default_factory=list)


@dataclass(frozen=True)
class _Stored:
    public_id: str
    row_id: int
    version: int
    blob_sha256: str
    file_format: str
    verified_at: dt.datetime
    department_id: int
    license_type_id: int


def recheck_stock(
    session: Session,
    blobs: BlobStore,
    verifier: PdfVerifier,
    *,
    file_format: str | None = None,
    type_code: str | None = None,
    limit: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> RecheckSummary:
    """Verify the current version of every stored license (of ``file_format`` "PDF" or
    "OFD", of license type ``type_code``; the first ``limit``) again; see the module."""
    summary = RecheckSummary()
    contexts: dict[tuple[int, int], RuleContext] = {}
    for stored in _current_versions(session, file_format, type_code, limit):
        key = (stored.department_id, stored.license_type_id)
        if key not in contexts:
            contexts[key] = stored_rule_context(session, *key)
        finding = _recheck_one(stored, blobs, verifier, contexts[key])
        summary.checked += 1
        if finding is not None:
            summary.findings.append(finding)
        if progress is not None:
            progress(summary.checked)
    return summary


def _recheck_one(
    stored: _Stored, blobs: BlobStore, verifier: PdfVerifier, context: RuleContext
) -> Finding | None:
    def finding(reason: str, message: str) -> Finding:
        return Finding(stored.public_id, stored.version, stored.file_format, reason, message)

    try:
        data = blobs.get(stored.blob_sha256)  # checked against its address
    except BlobStoreError as exc:
        return finding("blob_unreadable", str(exc))
    name = f"{stored.public_id} v{stored.version}"
    report = verifier.verify(data, at=stored.verified_at, file_name=name)
    try:
        check_report(report, sha256=stored.blob_sha256, context=context, require_revocation=False)
    except IntakeRefused as refused:
        return finding(refused.reason, str(refused))
    return None


def _current_versions(
    session: Session, file_format: str | None, type_code: str | None, limit: int | None
) -> Iterator[_Stored]:
    """The current versions, in row order, read in batches (a province holds millions)."""
    last, left = 0, limit
    while left is None or left > 0:
        size = _BATCH if left is None else min(_BATCH, left)
        rows = session.execute(_page(file_format, type_code, last, size)).all()
        for row in rows:
            yield _Stored(*row)
        if len(rows) < size:
            return
        last = rows[-1].row_id
        left = None if left is None else left - len(rows)


def _page(file_format: str | None, type_code: str | None, after: int, size: int) -> Select[Any]:
    query: Any = (
        select(
            License.public_id,
            License.id.label("row_id"),
            LicenseVersion.version,
            LicenseVersion.blob_sha256,
            LicenseVersion.file_format,
            LicenseVersion.verified_at,
            LicenseVersion.pushed_by_department_id,
            License.license_type_id,
        )
        .join(
            LicenseVersion,
            (LicenseVersion.license_id == License.id)
            & (LicenseVersion.holder_blind_index == License.holder_blind_index)
            & (LicenseVersion.version == License.current_version),
        )
        .where(License.id > after)
        .order_by(License.id)
        .limit(size)
    )
    if file_format is not None:
        query = query.where(LicenseVersion.file_format == file_format)
    if type_code is not None:
        query = query.join(LicenseType, LicenseType.id == License.license_type_id).where(
            LicenseType.code == type_code
        )
    return query
