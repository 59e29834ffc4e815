"""Holders' consent: grants to a department, and one-time share codes read out at a counter."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from vault.db.base import Base, IdType, UTCDateTime, utcnow
from vault.db.partitioning import holder_key

__all__ = ["Grant", "GrantUse"]


class Grant(Base):
    """A holder's consent for a department to use its licenses.

    ``kind`` is ``consent`` (named department, from creation) or ``share_code`` (no department
    until a department redeems the code; then bound to it and to that case). ``license_types``
    lists 证照类型代码 (empty: every type). ``uses_allowed`` counts distinct cases (办件) in
    which the department may use it (None: any number until expiry). Only the SHA-256 of a
    share code is kept.
    """

    __tablename__ = "grants"
    __table_args__ = (
        CheckConstraint("kind IN ('consent', 'share_code')", name="kind"),
        CheckConstraint("uses_allowed IS NULL OR uses_allowed >= 1", name="uses_allowed"),
        UniqueConstraint("id", "holder_blind_index"),
        holder_key("holder_id", "holders", ondelete="CASCADE"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    holder_id: Mapped[int] = mapped_column(IdType, index=True)
    holder_blind_index: Mapped[bytes] = mapped_column(LargeBinary(32))
    kind: Mapped[str] = mapped_column(String(12))
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey("departments.id", ondelete="CASCADE"), index=True
    )
    license_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    purpose: Mapped[str | None] = mapped_column(String(200))
    uses_allowed: Mapped[int | None] = mapped_column(Integer)
    code_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32), unique=True)
    redeemed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class GrantUse(Base):
    """A case (办件) in which a department used a grant: counts against ``uses_allowed``."""

    __tablename__ = "grant_uses"
    __table_args__ = (
        UniqueConstraint("grant_id", "case_no"),
        holder_key("grant_id", "grants", ondelete="CASCADE"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    grant_id: Mapped[int] = mapped_column(IdType)
    holder_blind_index: Mapped[bytes] = mapped_column(LargeBinary(32))
    case_no: Mapped[str] = mapped_column(String(100))
    first_used_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
