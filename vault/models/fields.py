"""Structured license data ("一张表"): the surface fields (照面信息) each license type
declares, which of them a using department may read, and each license's values (sealed
with the holder key, like ID numbers)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from vault.db.base import Base, IdType, UTCDateTime, utcnow
from vault.db.partitioning import holder_key

__all__ = ["FIELD_KINDS", "FieldPermission", "LicenseFieldValues", "LicenseTypeField"]

#: string (max_length), date (YYYY-MM-DD), enum (one of choices), id_number (公民身份号码
#: or 统一社会信用代码, checked by schemas.identifiers).
FIELD_KINDS = ("string", "date", "enum", "id_number")


class LicenseTypeField(Base):
    """One surface field a license type declares (e.g. ``name``, ``birth_date``)."""

    __tablename__ = "license_type_fields"
    __table_args__ = (
        CheckConstraint("kind IN ('string', 'date', 'enum', 'id_number')", name="kind"),
    )

    license_type_id: Mapped[int] = mapped_column(
        ForeignKey("license_types.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    label: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))
    max_length: Mapped[int | None] = mapped_column(Integer)
    #: enum: the allowed values, one per line.
    choices: Mapped[str | None] = mapped_column(Text)
    required: Mapped[bool] = mapped_column(default=False)
    added_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class FieldPermission(Base):
    """A using department may read this field of licenses of this type (in a case)."""

    __tablename__ = "field_permissions"

    department_id: Mapped[int] = mapped_column(
        ForeignKey("departments.id", ondelete="CASCADE"), primary_key=True
    )
    license_type_id: Mapped[int] = mapped_column(
        ForeignKey("license_types.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    field_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    granted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class LicenseFieldValues(Base):
    """A license's field values: one JSON object sealed with the holder key, bound to the
    license's row id (purpose ``license-fields:<id>``)."""

    __tablename__ = "license_field_values"
    __table_args__ = (holder_key("license_id", "licenses", ondelete="CASCADE"),)

    license_id: Mapped[int] = mapped_column(IdType, primary_key=True)
    holder_blind_index: Mapped[bytes] = mapped_column(LargeBinary(32))
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
