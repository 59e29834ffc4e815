"""A sealed license referenced as a material of a department's case (办件材料)."""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from vault.db.base import Base, IdType, UTCDateTime, utcnow
from vault.db.partitioning import holder_key

__all__ = ["CASE_LICENSE_PUBLIC_ID_PREFIX", "CaseLicense"]

CASE_LICENSE_PUBLIC_ID_PREFIX = "cl_"


def _case_license_public_id() -> str:
    return CASE_LICENSE_PUBLIC_ID_PREFIX + secrets.token_urlsafe(16)


class CaseLicense(Base):
    """One license version a using department referenced in one of its cases.

    The reference is to the sealed file as it was (``license_version`` and its
    ``sha256``): a later version or a status change does not alter what the case used.
    Once per (department, case, license version); ``log_index`` is the leaf of the
    ``case_reference`` access-log row that recorded it.
    """

    __tablename__ = "case_licenses"
    __table_args__ = (
        UniqueConstraint(
            "department_id",
            "case_no",
            "license_id",
            "license_version",
            name="uq_case_licenses_reference",
        ),
        Index("ix_case_licenses_department_case", "department_id", "case_no"),
        holder_key("license_id", "licenses", ondelete="CASCADE"),
        holder_key("holder_id", "holders", ondelete="CASCADE"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True, default=_case_license_public_id)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    case_no: Mapped[str] = mapped_column(String(100))
    purpose: Mapped[str] = mapped_column(String(200))
    license_id: Mapped[int] = mapped_column(IdType, index=True)
    license_version: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    holder_id: Mapped[int] = mapped_column(IdType)
    holder_blind_index: Mapped[bytes] = mapped_column(LargeBinary(32))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    log_index: Mapped[int | None] = mapped_column(BigInteger)
