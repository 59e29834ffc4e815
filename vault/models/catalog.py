"""The catalog: departments, their seal certificates, license types, who may issue which
type, and the standing permissions of using departments (用证目录)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vault.db.base import Base, IdType, UTCDateTime, utcnow

__all__ = [
    "Department",
    "LicenseType",
    "LicenseTypeIssuer",
    "SealCertificate",
    "StandingPermission",
]


class Department(Base):
    """A government department: an issuer (发证部门), a user (用证部门), or both."""

    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    is_issuer: Mapped[bool] = mapped_column(Boolean, default=False)
    is_user: Mapped[bool] = mapped_column(Boolean, default=False)
    #: OAuth 2 client credentials for the API (the secret only as an argon2 hash).
    oauth_client_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    oauth_secret_hash: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    seal_certificates: Mapped[list[SealCertificate]] = relationship(
        back_populates="department", cascade="all, delete-orphan"
    )


class SealCertificate(Base):
    """A seal certificate of a department, by SHA-256 fingerprint (lowercase hex)."""

    __tablename__ = "seal_certificates"
    __table_args__ = (CheckConstraint("length(fingerprint) = 64", name="fingerprint_length"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    department_id: Mapped[int] = mapped_column(
        ForeignKey("departments.id", ondelete="CASCADE"), index=True
    )
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str | None] = mapped_column(String(200))
    added_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    department: Mapped[Department] = relationship(back_populates="seal_certificates")


class LicenseType(Base):
    """A license type (证照类型) by its 21-character 证照类型代码."""

    __tablename__ = "license_types"
    __table_args__ = (CheckConstraint("holder_kind IN ('111', '001')", name="holder_kind"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    code: Mapped[str] = mapped_column(String(21), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    #: 持证主体代码类型代码 of its holders: 111 citizens, 001 organisations.
    holder_kind: Mapped[str] = mapped_column(String(3))
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class LicenseTypeIssuer(Base):
    """A department registered as an issuer of a license type."""

    __tablename__ = "license_type_issuers"

    license_type_id: Mapped[int] = mapped_column(
        ForeignKey("license_types.id", ondelete="CASCADE"), primary_key=True
    )
    department_id: Mapped[int] = mapped_column(
        ForeignKey("departments.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    added_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class StandingPermission(Base):
    """用证目录: a using department may read licenses of this type without consent."""

    __tablename__ = "standing_permissions"

    department_id: Mapped[int] = mapped_column(
        ForeignKey("departments.id", ondelete="CASCADE"), primary_key=True
    )
    license_type_id: Mapped[int] = mapped_column(
        ForeignKey("license_types.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    note: Mapped[str | None] = mapped_column(String(200))
    granted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
