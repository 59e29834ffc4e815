"""Holders' sessions of the web pages, kept server-side so that they can be ended."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from vault.db.base import Base, UTCDateTime

__all__ = ["WebSession"]


class WebSession(Base):
    """One logged-in browser session of a holder's pages.

    The browser holds the session's random token inside its sealed cookie; the vault keeps
    only the token's SHA-256 (``id``), so a copy of this table opens no session. A session
    is alive while its row exists, ``expires_at`` (absolute) has not passed and it was seen
    within the idle time; logout deletes the row.
    """

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
