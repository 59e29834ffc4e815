"""电子材料库: the material catalogue, deposited materials, and who may reuse which type."""

from __future__ import annotations

import datetime as dt
import secrets

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
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vault.db.base import Base, IdType, UTCDateTime, utcnow

__all__ = [
    "MATERIAL_PUBLIC_ID_PREFIX",
    "Material",
    "MaterialPermission",
    "MaterialType",
    "new_material_public_id",
]

MATERIAL_PUBLIC_ID_PREFIX = "m_"


def new_material_public_id() -> str:
    """``m_`` and 128 random bits (URL-safe base64): a material's id outside the vault."""
    return MATERIAL_PUBLIC_ID_PREFIX + secrets.token_urlsafe(16)


class MaterialType(Base):
    """材料目录: one kind of application material (身份证, 户口簿 ...).

    ``holder_kinds`` lists the 持证主体代码类型代码 it applies to (``111`` persons, ``001``
    companies). How long a deposit stays usable: ``validity`` is ``document`` (until a date
    given with each deposit, e.g. a card's expiry) or ``period`` (``validity_months`` after
    the clerk's check, e.g. a 户口簿 scan for 6 months).
    """

    __tablename__ = "material_types"
    __table_args__ = (
        CheckConstraint("validity IN ('document', 'period')", name="validity"),
        CheckConstraint(
            "(validity = 'period') = (validity_months IS NOT NULL)", name="validity_months"
        ),
        CheckConstraint("validity_months IS NULL OR validity_months >= 1", name="months_positive"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    holder_kinds: Mapped[list[str]] = mapped_column(JSON)
    validity: Mapped[str] = mapped_column(String(10))
    validity_months: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class MaterialPermission(Base):
    """A department may reuse holders' materials of this type without consent (材料共享目录)."""

    __tablename__ = "material_permissions"

    department_id: Mapped[int] = mapped_column(
        ForeignKey("departments.id", ondelete="CASCADE"), primary_key=True
    )
    material_type_id: Mapped[int] = mapped_column(
        ForeignKey("material_types.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    granted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Material(Base):
    """One deposited material of one holder, as the vault sealed it.

    Once only: ``(holder_id, material_type_id, source_sha256)`` is unique, ``source_sha256``
    being the SHA-256 of the bytes the window handed in. The sealed PDF is in the blob store
    under ``blob_sha256``. ``state``: ``current``; ``superseded`` when a newer deposit of the
    same type for the same holder arrived; ``withdrawn`` by the holder. ``usable_until``
    (inclusive, a date in China) is computed at deposit from the type's validity.
    ``holder_blind_index`` is the holder's (the partition key on PostgreSQL).
    """

    __tablename__ = "materials"
    __table_args__ = (
        UniqueConstraint(
            "holder_id",
            "material_type_id",
            "source_sha256",
            "holder_blind_index",
            name="uq_materials_holder_type_source",
        ),
        UniqueConstraint("id", "holder_blind_index"),
        Index("ix_materials_public_id", "public_id", "holder_blind_index", unique=True),
        ForeignKeyConstraint(
            ["holder_id", "holder_blind_index"],
            ["holders.id", "holders.blind_index"],
            ondelete="CASCADE",
            onupdate="CASCADE",
        ),
        CheckConstraint("state IN ('current', 'superseded', 'withdrawn')", name="state"),
        CheckConstraint(
            "media_type IN ('image/jpeg', 'image/png', 'application/pdf')", name="media_type"
        ),
        Index("ix_materials_holder_type", "holder_id", "material_type_id"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(40), default=new_material_public_id)
    holder_id: Mapped[int] = mapped_column(IdType)
    holder_blind_index: Mapped[bytes] = mapped_column(LargeBinary(32))
    material_type_id: Mapped[int] = mapped_column(ForeignKey("material_types.id"))
    source_sha256: Mapped[str] = mapped_column(String(64))
    media_type: Mapped[str] = mapped_column(String(20))
    source_size: Mapped[int] = mapped_column(Integer)
    blob_sha256: Mapped[str] = mapped_column(String(64), info={"blob_ref": True})
    size: Mapped[int] = mapped_column(Integer)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    clerk: Mapped[str] = mapped_column(String(100))
    purpose: Mapped[str] = mapped_column(String(200))
    case_no: Mapped[str] = mapped_column(String(100))
    checked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    document_valid_until: Mapped[dt.date | None] = mapped_column(Date)
    usable_until: Mapped[dt.date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(12), default="current")
    state_changed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    material_type: Mapped[MaterialType] = relationship(lazy="joined", innerjoin=True)
