"""Licenses, their versions (each one PDF, content-addressed) and status changes."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vault.db.base import Base, IdType, UTCDateTime, utcnow
from vault.db.partitioning import holder_key
from vault.models.catalog import Department, LicenseType
from vault.models.holders import Holder

__all__ = [
    "LICENSE_PUBLIC_ID_PREFIX",
    "STORED_STATUSES",
    "License",
    "LicenseVersion",
    "StatusChange",
    "new_license_public_id",
]

#: Statuses kept in the database. 失效 (expired) is never stored: it is computed from
#: 有效期截止 and the current time; "superseded" is computed from the version numbers.
STORED_STATUSES = ("有效", "暂扣", "撤销", "注销", "吊销")
_STATUS_CHECK = "status IN ('有效', '暂扣', '撤销', '注销', '吊销')"
LICENSE_PUBLIC_ID_PREFIX = "l_"


def new_license_public_id() -> str:
    """``l_`` and 128 random bits (URL-safe base64, 22 characters): a license's id outside."""
    return LICENSE_PUBLIC_ID_PREFIX + secrets.token_urlsafe(16)


class License(Base):
    """One license, identified by (type, issuer, 证照编号); its content lives in versions.

    Outside the vault a license is known by ``public_id`` only.

    ``holder_blind_index`` is the holder's blind index (its partition key on PostgreSQL):
    every unique key includes it, and the key (type, issuer, 证照编号) is kept unique
    across holders by intake, under a lock on that key (vault.services.intake).
    """

    __tablename__ = "licenses"
    __table_args__ = (
        UniqueConstraint(
            "license_type_id",
            "issuer_department_id",
            "number",
            "holder_blind_index",
            name="uq_licenses_type_issuer_number_holder",
        ),
        UniqueConstraint("id", "holder_blind_index"),
        Index("ix_licenses_public_id", "public_id", "holder_blind_index", unique=True),
        ForeignKeyConstraint(
            ["holder_id", "holder_blind_index"],
            ["holders.id", "holders.blind_index"],
            onupdate="CASCADE",
        ),
        CheckConstraint(_STATUS_CHECK, name="status"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    #: The id the API and the pages show: random, so it reveals neither how many licenses
    #: there are nor which exist (the row id stays inside the vault and its log).
    public_id: Mapped[str] = mapped_column(String(40), default=new_license_public_id)
    license_type_id: Mapped[int] = mapped_column(ForeignKey("license_types.id"))
    issuer_department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    number: Mapped[str] = mapped_column(String(100))
    holder_id: Mapped[int] = mapped_column(IdType, index=True)
    holder_blind_index: Mapped[bytes] = mapped_column(LargeBinary(32))
    status: Mapped[str] = mapped_column(String(8), default="有效")
    current_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    license_type: Mapped[LicenseType] = relationship(lazy="joined", innerjoin=True)
    issuer: Mapped[Department] = relationship(lazy="joined", innerjoin=True)
    holder: Mapped[Holder] = relationship(lazy="joined", innerjoin=True)
    #: The current version (read-only; load it with ``joinedload(License.current)`` to read
    #: a license and its current version in one query).
    current: Mapped[LicenseVersion | None] = relationship(
        primaryjoin="and_(License.id == foreign(LicenseVersion.license_id), "
        "License.holder_blind_index == foreign(LicenseVersion.holder_blind_index), "
        "License.current_version == foreign(LicenseVersion.version))",
        viewonly=True,
        uselist=False,
        lazy="select",
    )


class LicenseVersion(Base):
    """One version of a license: the sealed PDF or OFD file (by SHA-256), its metadata and report.

    ``blob_sha256`` is unique: the same bytes are the same version, which is what makes a
    repeated push a duplicate rather than a second record.

    ``holder_blind_index`` is the license's (:data:`vault.db.partitioning.HOLDER_SCOPED`).
    """

    __tablename__ = "license_versions"
    __table_args__ = (
        UniqueConstraint("license_id", "version"),
        UniqueConstraint("id", "holder_blind_index"),
        holder_key("license_id", "licenses", ondelete="CASCADE"),
        CheckConstraint("file_format IN ('PDF', 'OFD')", name="file_format"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    license_id: Mapped[int] = mapped_column(IdType)
    holder_blind_index: Mapped[bytes] = mapped_column(LargeBinary(32))
    version: Mapped[int] = mapped_column(Integer)
    blob_sha256: Mapped[str] = mapped_column(String(64), unique=True, info={"blob_ref": True})
    size: Mapped[int] = mapped_column(Integer)
    #: The sealed file's format (schemas.report.FileFormat): PDF (PAdES) or OFD (GB/T 38540).
    file_format: Mapped[str] = mapped_column(String(8), default="PDF", server_default="PDF")
    name: Mapped[str] = mapped_column(String(200))
    license_identifier: Mapped[str | None] = mapped_column(String(120))
    issuer_name: Mapped[str] = mapped_column(String(200))
    issue_date: Mapped[dt.date] = mapped_column(Date)
    valid_from: Mapped[dt.date | None] = mapped_column(Date)
    valid_until: Mapped[dt.date | None] = mapped_column(Date)
    change_reason: Mapped[str | None] = mapped_column(String(200))
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: The VerificationReport found at intake, as JSON (schemas.VerificationReport).
    report_json: Mapped[str] = mapped_column(Text)
    verified_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    pushed_by_department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    license: Mapped[License] = relationship(lazy="joined", innerjoin=True)


class StatusChange(Base):
    """Who changed a license's status, when, why, from what to what."""

    __tablename__ = "status_changes"
    __table_args__ = (
        holder_key("license_id", "licenses", ondelete="CASCADE"),
        CheckConstraint(
            "from_status IN ('有效', '暂扣', '撤销', '注销', '吊销')", name="from_status"
        ),
        CheckConstraint("to_status IN ('有效', '暂扣', '撤销', '注销', '吊销')", name="to_status"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    license_id: Mapped[int] = mapped_column(IdType, index=True)
    holder_blind_index: Mapped[bytes] = mapped_column(LargeBinary(32))
    version: Mapped[int] = mapped_column(Integer)
    from_status: Mapped[str] = mapped_column(String(8))
    to_status: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(Text)
    changed_by_department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    #: Who acted, as text: e.g. ``department:3`` or ``cli:operator``.
    actor: Mapped[str] = mapped_column(String(100))
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
