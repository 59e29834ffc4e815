"""The transparency log's storage: entries (leaves) and signed checkpoints.

Only the tables live here; the log's service (appending, proofs) is written elsewhere.
Payloads are canonical JSON bytes and never carry a clear holder ID number.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from vault.db.base import Base, IdType, UTCDateTime, utcnow

__all__ = ["LogCheckpoint", "LogEntry"]


class LogEntry(Base):
    """One leaf of the append-only Merkle log; ``idx`` counts from 0 with no gaps."""

    __tablename__ = "log_entries"

    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    event_type: Mapped[str] = mapped_column(String(50), index=True)
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class LogCheckpoint(Base):
    """A signed checkpoint (tree size and root hash) of the log, as a signed note."""

    __tablename__ = "log_checkpoints"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    tree_size: Mapped[int] = mapped_column(BigInteger, index=True)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    signed_note: Mapped[str] = mapped_column(Text)
