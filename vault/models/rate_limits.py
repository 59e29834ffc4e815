"""Rate-limit buckets shared by every API worker process (see ``api.limits``)."""

from __future__ import annotations

from sqlalchemy import Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from vault.db.base import Base

__all__ = ["RateLimitBucket"]


class RateLimitBucket(Base):
    """One client's token bucket: ``tokens`` left at ``updated`` (Unix seconds).

    ``granted``: how many tokens the last take got (the upsert that takes them returns it).
    Nothing here is evidence: on PostgreSQL the table is UNLOGGED (not written to the WAL,
    emptied after a crash, which only refills every bucket).
    """

    __tablename__ = "rate_limit_buckets"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    tokens: Mapped[float] = mapped_column(Float)
    updated: Mapped[float] = mapped_column(Float)
    granted: Mapped[int] = mapped_column(Integer)
