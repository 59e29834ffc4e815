"""The access log (用证记录): one row per decision or holder action, and its leaf.

:func:`record_event` is the only way the vault writes an access-log row, and it always
appends the row's transparency-log leaf in the same transaction: there is no flag or hook
to skip the log. The services that act (``access``, ``grants``, ``copies``,
``holder_actions``) call it themselves.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from vault.audit_log import APPEND_LOCK_ID, insert_leaf, leaf_values, next_index
from vault.db.base import utcnow
from vault.models import AccessEvent

__all__ = ["RecordedEvent", "UseContext", "record_event"]


@dataclass(frozen=True)
class UseContext:
    """申请事由 and 办件编号 of a department's request."""

    purpose: str
    case_no: str


@dataclass(frozen=True)
class RecordedEvent:
    """An access-log row as written: its id, and its leaf's index in the transparency log."""

    id: int
    log_index: int


_INSERT_EVENT = insert(cast(Table, AccessEvent.__table__))


def record_event(
    *,
    session: Session,
    action: str,
    outcome: str,
    actor: str,
    holder_id: int | None = None,
    department_id: int | None = None,
    basis: str | None = None,
    grant_id: int | None = None,
    license_id: int | None = None,
    copy_id: str | None = None,
    use: UseContext | None = None,
    reason: str | None = None,
    now: dt.datetime | None = None,
) -> RecordedEvent:
    """Write one access-log row and its transparency-log leaf, in the caller's transaction.

    Not committed. The leaf (``access.<action>``) names the row and the row records the
    leaf's index, so the log's append lock is taken first: pending changes are flushed
    before it, and under it only the index is read and the two rows inserted (Core
    inserts, no unit of work). The lock lasts until the commit: commit soon after.
    """
    purpose = use.purpose if use else None
    case_no = use.case_no if use else None
    at = now or utcnow()
    if at.tzinfo is None:
        raise ValueError("naive datetime given for an access event")
    values: dict[str, Any] = {
        "at": at.astimezone(dt.UTC),
        "holder_id": holder_id,
        "department_id": department_id,
        "actor": actor,
        "action": action,
        "outcome": outcome,
        "basis": basis,
        "grant_id": grant_id,
        "license_id": license_id,
        "copy_id": copy_id,
        "purpose": purpose,
        "case_no": case_no,
        "reason": reason,
    }
    payload: dict[str, Any] = {
        "action": action,
        "outcome": outcome,
        "actor": actor,
        "holder": holder_id,
        "department": department_id,
        "basis": basis,
        "license": license_id,
        "copy": copy_id,
        "purpose": purpose,
        "case_no": case_no,
    }
    session.flush()
    if session.get_bind().dialect.name == "postgresql":
        return _record_on_postgresql(session, values, payload, f"access.{action}")
    idx = next_index(session)
    result = session.connection().execute(_INSERT_EVENT, {**values, "log_index": idx})
    key = result.inserted_primary_key
    assert key is not None  # a single-row insert
    event_id = int(key[0])
    insert_leaf(
        session=session,
        idx=idx,
        event_type=f"access.{action}",
        payload=_leaf_payload(event_id, payload),
        now=utcnow(),
    )
    return RecordedEvent(event_id, idx)


def _leaf_payload(event_id: int, payload: dict[str, Any]) -> dict[str, Any]:
    return {"access_event": event_id, **{k: v for k, v in payload.items() if v is not None}}


#: One round trip: the append lock, then (a statement of its own, so a snapshot taken
#: after the lock) the last index and the access-log row's id.
_PG_RESERVE = (
    "SELECT pg_advisory_xact_lock(7311150292373825313); "  # APPEND_LOCK_ID
    "SELECT (SELECT max(idx) FROM log_entries), "
    "nextval(pg_get_serial_sequence('access_events', 'id'))"
)
assert str(APPEND_LOCK_ID) in _PG_RESERVE
_PG_INSERT_EVENT = (
    "INSERT INTO access_events (id, at, holder_id, department_id, actor, action, outcome, "
    "basis, grant_id, license_id, copy_id, purpose, case_no, reason, log_index) VALUES "
    "(%(id)s, %(at)s, %(holder_id)s, %(department_id)s, %(actor)s, %(action)s, %(outcome)s, "
    "%(basis)s, %(grant_id)s, %(license_id)s, %(copy_id)s, %(purpose)s, %(case_no)s, "
    "%(reason)s, %(log_index)s)"
)
_PG_INSERT_LEAF = (
    "INSERT INTO log_entries (idx, created_at, event_type, payload, leaf_hash) "
    "VALUES (%(idx)s, %(created_at)s, %(event_type)s, %(payload)s, %(leaf_hash)s)"
)


def _record_on_postgresql(
    session: Session, values: dict[str, Any], payload: dict[str, Any], event_type: str
) -> RecordedEvent:
    """:func:`record_event` on PostgreSQL in two round trips, in the session's transaction.

    The same rows as the portable path, written through the session's own driver
    connection: the lock, the index and the row id in one round trip, then both inserts
    pipelined. Under the append lock this is two round trips and the commit, instead of
    five statements through the ORM.
    """
    raw = session.connection().connection.driver_connection
    assert raw is not None
    with raw.cursor() as cursor:
        cursor.execute(_PG_RESERVE)
        cursor.nextset()
        last, event_id = cursor.fetchone()
        idx = 0 if last is None else last + 1
        leaf = leaf_values(
            idx=idx, event_type=event_type, payload=_leaf_payload(event_id, payload), now=utcnow()
        )
        with raw.pipeline():
            cursor.execute(_PG_INSERT_EVENT, {**values, "id": event_id, "log_index": idx})
            cursor.execute(_PG_INSERT_LEAF, leaf)
    return RecordedEvent(int(event_id), idx)
