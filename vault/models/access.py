"""用证记录: every read, copy, grant and refusal concerning a holder's licenses; API scopes."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    LargeBinary,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from vault.db.base import Base, IdType, UTCDateTime, utcnow

__all__ = ["AccessEvent", "DepartmentScope"]


class AccessEvent(Base):
    """One access decision or holder action, as the holder sees it in its access log.

    ``holder_id`` is None only for a refusal about a holder or license the vault does not
    hold (recorded for operators; nobody's log shows it). ``log_index`` is the event's leaf
    in the transparency log, when it was appended there.

    ``holder_blind_index`` is the holder's blind index (the partition key on PostgreSQL;
    :data:`vault.db.partitioning.NO_HOLDER` when ``holder_id`` is None). The holder, the
    license and the material are referred to with it; the agent, another holder, by id.
    """

    __tablename__ = "access_events"
    __table_args__ = (
        CheckConstraint("outcome IN ('allowed', 'denied')", name="outcome"),
        Index("ix_access_events_holder_at", "holder_id", "at"),
        ForeignKeyConstraint(
            ["holder_id", "holder_blind_index"],
            ["holders.id", "holders.blind_index"],
            ondelete="CASCADE",
            onupdate="CASCADE",
        ),
        ForeignKeyConstraint(
            ["license_id", "holder_blind_index"],
            ["licenses.id", "licenses.holder_blind_index"],
            ondelete="CASCADE",
            onupdate="CASCADE",
        ),
        ForeignKeyConstraint(
            ["material_id", "holder_blind_index"],
            ["materials.id", "materials.holder_blind_index"],
            ondelete="CASCADE",
            onupdate="CASCADE",
        ),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    holder_id: Mapped[int | None] = mapped_column(IdType)
    holder_blind_index: Mapped[bytes] = mapped_column(LargeBinary(32))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    #: department, holder, public, agent (经办人 acting for a company) or operator
    actor: Mapped[str] = mapped_column(String(12))
    #: search, read, download, copy, grant, grant_revoke, share_redeem
    action: Mapped[str] = mapped_column(String(20))
    outcome: Mapped[str] = mapped_column(String(8))
    #: standing_permission, consent, share_code, owner (None when denied)
    basis: Mapped[str | None] = mapped_column(String(20))
    grant_id: Mapped[int | None] = mapped_column(ForeignKey("grants.id", ondelete="SET NULL"))
    license_id: Mapped[int | None] = mapped_column(IdType, index=True)
    copy_id: Mapped[str | None] = mapped_column(String(32))
    #: The material (电子材料) the event concerns, when it is about one.
    material_id: Mapped[int | None] = mapped_column(IdType, index=True)
    purpose: Mapped[str | None] = mapped_column(String(200))
    case_no: Mapped[str | None] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(String(200))
    log_index: Mapped[int | None] = mapped_column(BigInteger)
    #: The person (经办人 or 法定代表人) who acted for the company ``holder_id``, if any.
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("holders.id", ondelete="SET NULL"))


class DepartmentScope(Base):
    """An OAuth scope a department's client may ask for (licenses:issue, licenses:use, ...)."""

    __tablename__ = "department_scopes"

    department_id: Mapped[int] = mapped_column(
        ForeignKey("departments.id", ondelete="CASCADE"), primary_key=True
    )
    scope: Mapped[str] = mapped_column(String(40), primary_key=True)
    granted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
