"""Certified copies (加注件): what was made, for whom, why, until when."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from vault.db.base import Base, IdType, UTCDateTime, utcnow
from vault.db.partitioning import holder_key

__all__ = ["CertifiedCopy"]


class CertifiedCopy(Base):
    """One certified copy of one license version, or of one material (电子材料).

    A copy of a material names it (``material_id``) and leaves the license columns empty.

    ``id`` is random (128 bits, URL-safe base64) and is what the QR code carries. The copy's
    bytes are in the blob store under ``blob_sha256``. ``department_id`` is None when the
    holder made the copy for itself. ``holder_blind_index`` is the holder's (and the
    license's or the material's).
    """

    __tablename__ = "certified_copies"
    __table_args__ = (
        CheckConstraint("requested_by IN ('department', 'holder')", name="requested_by"),
        CheckConstraint(
            "(license_id IS NULL) <> (material_id IS NULL) "
            "AND (license_id IS NULL) = (license_version IS NULL)",
            name="of_one",
        ),
        holder_key("license_id", "licenses", ondelete="CASCADE"),
        holder_key("material_id", "materials", ondelete="CASCADE"),
        holder_key("holder_id", "holders"),
        Index(
            "ix_certified_copies_reuse",
            "license_id",
            "department_id",
            "purpose",
            "case_no",
        ),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    license_id: Mapped[int | None] = mapped_column(IdType)
    license_version: Mapped[int | None] = mapped_column(Integer)
    material_id: Mapped[int | None] = mapped_column(IdType, index=True)
    holder_id: Mapped[int] = mapped_column(IdType, index=True)
    holder_blind_index: Mapped[bytes] = mapped_column(LargeBinary(32))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    requested_by: Mapped[str] = mapped_column(String(12))
    purpose: Mapped[str] = mapped_column(String(200))
    case_no: Mapped[str | None] = mapped_column(String(100))
    blob_sha256: Mapped[str] = mapped_column(String(64), info={"blob_ref": True})
    size: Mapped[int] = mapped_column(Integer)
    made_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    log_index: Mapped[int | None] = mapped_column(BigInteger)
