"""Garbage collection: blobs that no row references, after a grace period, and rows past
their time (ended web sessions, idempotent answers older than their window).

A blob is written before the transaction that references it commits; if that commit
fails (a crash, a refusal found late), the blob is unreferenced. ``collect_garbage``
removes such blobs once they are older than the grace period, which must be far longer
than an intake takes (default 24 h). Referencing columns are found in the models: every
column declared with ``info={"blob_ref": True}`` (later features add their own).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Column, delete, exists, or_, select
from sqlalchemy.orm import Session

from vault.blobs.base import BlobStore
from vault.blobs.local import LocalBlobStore
from vault.db.base import Base, utcnow
from vault.models import IdempotentAnswer, WebSession
from vault.services.idempotency import WINDOW as IDEMPOTENCY_WINDOW

__all__ = [
    "ExpiredRows",
    "GcResult",
    "blob_reference_columns",
    "collect_expired_rows",
    "collect_garbage",
    "is_referenced",
]


@dataclass(frozen=True)
class GcResult:
    scanned: int
    referenced: int
    young: int
    removed: tuple[str, ...]
    dry_run: bool
    temp_files_removed: int = 0


def blob_reference_columns() -> list[Column[str]]:
    """Every model column that holds a blob's SHA-256."""
    import vault.models  # noqa: F401  (complete the metadata)

    return [
        column
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if column.info.get("blob_ref")
    ]


def _referenced_set(session: Session) -> set[str]:
    found: set[str] = set()
    for column in blob_reference_columns():
        found.update(v for v in session.scalars(select(column).where(column.is_not(None))) if v)
    return found


def is_referenced(*, session: Session, sha256: str) -> bool:
    for column in blob_reference_columns():
        if session.scalar(select(exists().where(column == sha256))):
            return True
    return False


def collect_garbage(
    *,
    session: Session,
    blobs: BlobStore,
    grace: dt.timedelta,
    now: dt.datetime | None = None,
    dry_run: bool = False,
) -> GcResult:
    """Remove blobs that nothing references and that are older than ``grace``.

    Just before each removal the reference and the blob's age are checked again, so a
    blob that an intake has meanwhile put again or committed is kept.
    """
    now = now or utcnow()
    cutoff = now - grace
    referenced = _referenced_set(session)
    session.rollback()
    scanned = kept_referenced = young = 0
    removed: list[str] = []
    for blob in blobs.iter():
        scanned += 1
        if blob.sha256 in referenced:
            kept_referenced += 1
            continue
        if blob.modified_at >= cutoff:
            young += 1
            continue
        if dry_run:
            removed.append(blob.sha256)
            continue
        fresh = blobs.info(blob.sha256)
        if fresh is None:
            continue
        if fresh.modified_at >= cutoff:
            young += 1
            continue
        if is_referenced(session=session, sha256=blob.sha256):
            kept_referenced += 1
            session.rollback()
            continue
        session.rollback()
        blobs.delete(blob.sha256)
        removed.append(blob.sha256)
    temp_removed = 0
    if not dry_run and isinstance(blobs, LocalBlobStore):
        temp_removed = blobs.clean_temp(older_than=cutoff)
    return GcResult(
        scanned=scanned,
        referenced=kept_referenced,
        young=young,
        removed=tuple(removed),
        dry_run=dry_run,
        temp_files_removed=temp_removed,
    )


@dataclass(frozen=True)
class ExpiredRows:
    """How many rows :func:`collect_expired_rows` deleted, per table."""

    web_sessions: int
    idempotent_answers: int


def collect_expired_rows(
    *, session: Session, idle: dt.timedelta, now: dt.datetime | None = None
) -> ExpiredRows:
    """Delete web sessions that have ended (past ``expires_at`` or idle longer than ``idle``)
    and idempotent answers older than their window. Flushes; the caller commits.

    Both are otherwise removed only when the same browser or caller comes back: a holder
    who never returns would leave its session row, and a department its answers, forever.
    """
    now = now or utcnow()
    sessions = session.execute(
        delete(WebSession).where(
            or_(WebSession.expires_at <= now, WebSession.last_seen_at <= now - idle)
        )
    )
    answers = session.execute(
        delete(IdempotentAnswer).where(IdempotentAnswer.created_at <= now - IDEMPOTENCY_WINDOW)
    )
    return ExpiredRows(web_sessions=_deleted(sessions), idempotent_answers=_deleted(answers))


def _deleted(result: object) -> int:
    """Rows a bulk DELETE removed (its cursor's rowcount; -1 when the driver cannot tell)."""
    return max(0, int(getattr(result, "rowcount", 0) or 0))
