"""Appending to the transparency log: the append lock, the next index and the leaf.

Every event is one row of ``log_entries`` (a leaf of an RFC 9162 Merkle tree, see
:mod:`signing.transparency`). Access-log rows append their leaves through
:mod:`vault.log.access_log`; other events (intake, status changes) through
:func:`append_event`.

Appending is serialized: on PostgreSQL each append takes the transaction-scoped advisory lock
:data:`APPEND_LOCK_ID` before reading the last index, so several API workers never race for
an index and indexes stay contiguous (an append rolled back frees its index for the next
one). Run appends in READ COMMITTED (PostgreSQL's default). On SQLite every transaction
starts with ``BEGIN IMMEDIATE`` (see :mod:`vault.db.engine`), which already serializes
writers. The primary key on ``idx`` makes a duplicate index impossible either way.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from typing import Any, cast

from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.orm import Session

from signing.errors import LogFormatError
from signing.transparency import LogEvent
from vault.db.base import utcnow
from vault.errors import InvalidInput
from vault.models.log import LogEntry

__all__ = [
    "APPEND_LOCK_ID",
    "append_event",
    "insert_leaf",
    "leaf_values",
    "next_index",
    "take_append_lock",
]

#: pg_advisory_xact_lock key serializing appends ("evlt" "log!").
APPEND_LOCK_ID = 0x65766C74_6C6F6721


def append_event(
    *,
    session: Session,
    event_type: str,
    payload: Mapping[str, Any],
    now: dt.datetime | None = None,
) -> LogEntry:
    """Append one event as the next leaf, inside the caller's transaction; return its row.

    ``payload`` is JSON (no floats) and must not hold a holder ID number in clear: pass the
    blind index. The row is flushed, not committed.

    The event is checked and its payload encoded before the append lock is taken; under
    the lock only the next index is read, the leaf hashed and the row inserted. The lock
    lasts until the caller's commit: append last and commit right after, so other workers
    wait little.
    """
    moment = (now or utcnow()).astimezone(dt.UTC)
    template = _checked(event_type, payload, moment)
    session.flush()  # anything pending is written before the lock, not under it
    idx = next_index(session)
    row = LogEntry(
        idx=idx,
        created_at=template.time,
        event_type=event_type,
        payload=template.payload_bytes(),
        leaf_hash=dataclasses.replace(template, idx=idx).leaf_hash(),
    )
    session.add(row)
    session.flush()
    return row


def _checked(event_type: str, payload: Mapping[str, Any], moment: dt.datetime) -> LogEvent:
    try:
        return LogEvent(idx=0, time=moment, event_type=event_type, payload=dict(payload))
    except LogFormatError as exc:
        raise InvalidInput(f"log event {event_type!r}: {exc}") from None


def next_index(session: Session) -> int:
    """Take the append lock and read the next free index (for :func:`insert_leaf`).

    PostgreSQL: the transaction-scoped advisory lock :data:`APPEND_LOCK_ID`, until the
    commit; SQLite: the transaction already holds the write lock (``BEGIN IMMEDIATE``).
    The caller must insert that index (:func:`insert_leaf`) before it commits.
    """
    take_append_lock(session)
    last = session.scalar(_MAX_IDX)
    return 0 if last is None else last + 1


def take_append_lock(session: Session) -> None:
    """Take the log's append lock now (it is held until the commit; taking it again in the
    same transaction is free). A writer that must see what a concurrent appender commits
    before it decides takes it first: PostgreSQL's advisory lock :data:`APPEND_LOCK_ID`;
    SQLite's transaction already holds the write lock."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_LOCK_APPEND)


def leaf_values(
    *, idx: int, event_type: str, payload: Mapping[str, Any], now: dt.datetime
) -> dict[str, Any]:
    """The column values of leaf ``idx`` (``log_entries``), its hash computed."""
    try:
        event = LogEvent(
            idx=idx, time=now.astimezone(dt.UTC), event_type=event_type, payload=dict(payload)
        )
    except LogFormatError as exc:
        raise InvalidInput(f"log event {event_type!r}: {exc}") from None
    return {
        "idx": idx,
        "created_at": event.time,
        "event_type": event_type,
        "payload": event.payload_bytes(),
        "leaf_hash": event.leaf_hash(),
    }


def insert_leaf(
    *,
    session: Session,
    idx: int,
    event_type: str,
    payload: Mapping[str, Any],
    now: dt.datetime,
) -> None:
    """Insert the leaf ``idx`` reserved by :func:`next_index` (a Core insert: no ORM row).

    For callers that need the index before they can write the payload (an access-log row
    records its leaf's index, and its leaf names the row).
    """
    values = leaf_values(idx=idx, event_type=event_type, payload=payload, now=now)
    session.execute(_INSERT_LEAF, values)


_LOCK_APPEND = text(f"SELECT pg_advisory_xact_lock({APPEND_LOCK_ID})")
_MAX_IDX = select(func.max(LogEntry.idx))
_INSERT_LEAF = insert(cast(Table, LogEntry.__table__))
