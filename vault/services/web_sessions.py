"""Holders' web-page sessions, kept server-side so that logout and idle time end them.

The browser's sealed cookie carries a random token; the table keeps the token's SHA-256
only. A session is alive while its row exists, its absolute lifetime has not run out and
it was seen within the idle time. Seeing it again moves ``last_seen_at`` forward, at most
once a minute (a page view then costs one indexed read, not a write). Ending a session
deletes its row: the cookie, even a copy of it kept elsewhere, opens nothing any more.

These functions flush; the caller commits.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import delete
from sqlalchemy.orm import Session

from vault.db.base import utcnow
from vault.models import WebSession

__all__ = ["TOUCH_AFTER", "end_web_session", "open_web_session", "web_session_alive"]

#: ``last_seen_at`` is written again only when it is older than this.
TOUCH_AFTER = dt.timedelta(seconds=60)


def _key(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def open_web_session(
    *, session: Session, lifetime: dt.timedelta, now: dt.datetime | None = None
) -> str:
    """A new session's token (for the sealed cookie only); removes sessions past their end."""
    now = now or utcnow()
    session.execute(delete(WebSession).where(WebSession.expires_at <= now))
    token = secrets.token_urlsafe(32)
    session.add(
        WebSession(id=_key(token), created_at=now, last_seen_at=now, expires_at=now + lifetime)
    )
    session.flush()
    return token


def web_session_alive(
    *, session: Session, token: str, idle: dt.timedelta, now: dt.datetime | None = None
) -> bool:
    """Whether the session is alive now (and, when it is, seen now); an ended, expired or
    idle session is removed."""
    now = now or utcnow()
    row = session.get(WebSession, _key(token))
    if row is None:
        return False
    if row.expires_at <= now or row.last_seen_at <= now - idle:
        session.delete(row)
        session.flush()
        return False
    if now - row.last_seen_at >= TOUCH_AFTER:
        row.last_seen_at = now
        session.flush()
    return True


def end_web_session(*, session: Session, token: str) -> None:
    """End the session (logout): its cookie opens nothing from now on."""
    session.execute(delete(WebSession).where(WebSession.id == _key(token)))
