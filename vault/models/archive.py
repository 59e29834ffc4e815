"""Long-term archive renewals: each renewed file of a license version, the old kept."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from vault.db.base import Base, IdType, UTCDateTime, utcnow
from vault.db.partitioning import holder_key

__all__ = ["ArchiveRenewal"]


class ArchiveRenewal(Base):
    """One renewal (DSS + new document timestamp) of a license version's stored PDF.

    The version's own ``blob_sha256`` stays the bytes the issuer pushed (intake identity,
    de-duplication); the renewal with the highest ``sequence`` holds the bytes served. Every
    earlier blob stays referenced (here or by the version), so gc keeps it.
    """

    __tablename__ = "archive_renewals"
    __table_args__ = (
        UniqueConstraint("license_version_id", "sequence"),
        holder_key("license_version_id", "license_versions", ondelete="CASCADE"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    license_version_id: Mapped[int] = mapped_column(IdType, index=True)
    holder_blind_index: Mapped[bytes] = mapped_column(LargeBinary(32))
    sequence: Mapped[int] = mapped_column(Integer)
    blob_sha256: Mapped[str] = mapped_column(String(64), unique=True, info={"blob_ref": True})
    previous_sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    #: When the previous file's latest timestamp stopped proving, and the new one's does.
    horizon_before: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    horizon_after: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    renewed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
