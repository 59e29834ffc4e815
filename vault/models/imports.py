"""Bulk import's journal: each run of ``evault import`` and what it decided for each file."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from vault.db.base import Base, IdType, UTCDateTime, utcnow

__all__ = ["ImportJournalEntry", "ImportRun"]


class ImportRun(Base):
    """One run of ``evault import`` over a folder or a ZIP file.

    ``state`` is ``running`` until the run ends (``finished``) or is interrupted
    (``interrupted``); a run whose process was killed stays ``running``. ``intake_digest``
    fingerprints what intake's verdicts depended on (trust bundle, catalog, evault version):
    a refusal made under another digest is tried again. The counters are this run's
    decisions; ``settled_before`` counts files an earlier run had settled (not verified again).
    """

    __tablename__ = "import_runs"
    __table_args__ = (
        CheckConstraint("state IN ('running', 'finished', 'interrupted')", name="state"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    source: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(12), default="running")
    retry_refused: Mapped[bool] = mapped_column(Boolean, default=False)
    intake_digest: Mapped[str] = mapped_column(String(64))
    files: Mapped[int] = mapped_column(Integer, default=0)
    ingested: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    refused: Mapped[int] = mapped_column(Integer, default=0)
    settled_before: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class ImportJournalEntry(Base):
    """What one run decided for one file: ``ingested``, ``duplicate`` or ``refused``.

    ``sha256`` is the file's (NULL when it could not be read). ``metadata_digest`` is a
    keyed digest of the manifest row or sidecar the file came with
    (:meth:`vault.crypto.HolderCrypto.digest`: a row carries a holder ID), so a refusal is
    tried again once its metadata is corrected. Not a blob reference: a refused file's
    blob is garbage.
    """

    __tablename__ = "import_journal"
    __table_args__ = (
        CheckConstraint("outcome IN ('ingested', 'duplicate', 'refused')", name="outcome"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    run_id: Mapped[int] = mapped_column(
        ForeignKey("import_runs.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    metadata_digest: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str | None] = mapped_column(String(40))
    message: Mapped[str | None] = mapped_column(Text)
    license_id: Mapped[int | None] = mapped_column(ForeignKey("licenses.id", ondelete="SET NULL"))
    version: Mapped[int | None] = mapped_column(Integer)
    decided_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
