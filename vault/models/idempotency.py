"""The first answers of creating API calls that carried an ``Idempotency-Key``."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from vault.db.base import Base, UTCDateTime

__all__ = ["IdempotentAnswer"]


class IdempotentAnswer(Base):
    """What a caller's call with one ``Idempotency-Key`` answered first.

    ``caller`` names who called (``department:<id>``, ``holder:<blind index prefix>``);
    ``fingerprint`` is the SHA-256 of the call (method, path, body); ``body`` is the answer
    sealed with the holder-data key (answers carry personal data). Kept 24 hours.
    """

    __tablename__ = "idempotent_answers"

    caller: Mapped[str] = mapped_column(String(100), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
