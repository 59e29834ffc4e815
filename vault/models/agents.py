"""法人空间: a company's legal representative (法定代表人) and its agents (经办人)."""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import CheckConstraint, ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from vault.db.base import Base, IdType, UTCDateTime, utcnow
from vault.db.partitioning import holder_key

__all__ = ["AGENT_PUBLIC_ID_PREFIX", "COMPANY_PUBLIC_ID_PREFIX", "CompanyAgent", "CompanySpace"]

COMPANY_PUBLIC_ID_PREFIX = "co_"
AGENT_PUBLIC_ID_PREFIX = "ag_"


def _company_public_id() -> str:
    return COMPANY_PUBLIC_ID_PREFIX + secrets.token_urlsafe(16)


def _agent_public_id() -> str:
    return AGENT_PUBLIC_ID_PREFIX + secrets.token_urlsafe(16)


class CompanySpace(Base):
    """A company holder (统一社会信用代码) and its legal representative (a person holder).

    Recorded by an operator (``evault holders set-representative``); ``public_id`` is the
    opaque id by which the representative and the agents name the company ("acting for"):
    the company's code never appears in a URL.
    """

    __tablename__ = "company_spaces"
    __table_args__ = (
        UniqueConstraint("id", "holder_blind_index"),
        holder_key("company_id", "holders", ondelete="CASCADE"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True, default=_company_public_id)
    company_id: Mapped[int] = mapped_column(IdType, unique=True)
    #: The company's blind index (the representative is another holder, named by id).
    holder_blind_index: Mapped[bytes] = mapped_column(LargeBinary(32))
    representative_id: Mapped[int] = mapped_column(
        ForeignKey("holders.id", ondelete="CASCADE"), index=True
    )
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class CompanyAgent(Base):
    """One designation of a person as the company's agent, with scopes and an expiry.

    ``scopes`` is a space-separated subset of :data:`vault.services.agents.AGENT_SCOPES`.
    A revoked or expired designation grants nothing; it is kept for the record.
    """

    __tablename__ = "company_agents"
    __table_args__ = (
        CheckConstraint("scopes <> ''", name="scopes"),
        holder_key("space_id", "company_spaces", ondelete="CASCADE"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True, default=_agent_public_id)
    space_id: Mapped[int] = mapped_column(IdType, index=True)
    #: The company's blind index (the agent is another holder, named by id).
    holder_blind_index: Mapped[bytes] = mapped_column(LargeBinary(32))
    agent_id: Mapped[int] = mapped_column(ForeignKey("holders.id", ondelete="CASCADE"), index=True)
    scopes: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
