"""The access log (用证记录): one row per decision or holder action, and its leaf.

:func:`record_event` (or :func:`record_in_transaction`, the same for an
:class:`EventValues`) and :func:`record_and_commit` are the only ways the vault writes an
access-log row, and they append the row's transparency-log leaf in the same transaction:
there is no flag or hook to skip the log. The services that act (``access``, ``grants``, ``copies``,
the holder's own downloads) call them themselves.

The log's append lock serializes every writer of the log, so what matters for throughput
is how long it is held. On PostgreSQL both writers send the lock and the append (the row,
its leaf, the next index and the leaf hash) as one query. :func:`record_event` does it
inside the caller's transaction, so the lock lasts until the caller commits;
:func:`record_and_commit`, for a request whose last write is its log row (a department's
read), adds the ``COMMIT`` to that query: the lock is held for the server's own work
only, never across a network round trip or the worker's wait for the GIL, and not across
the commit's WAL flush either, which is waited for after the lock is let go (see
:func:`locked_then_flushed`): the row is durable when the call returns.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from typing import Any, cast

from sqlalchemy import Table, insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from signing.transparency.event import LEAF_VERSION, canonical_json, format_time
from vault.db.base import utcnow
from vault.db.engine import UNAVAILABLE
from vault.db.partitioning import NO_HOLDER
from vault.errors import DatabaseUnavailable
from vault.log.append import APPEND_LOCK_ID, insert_leaf, next_index
from vault.models import AccessEvent, Holder

__all__ = [
    "EventValues",
    "RecordedEvent",
    "UseContext",
    "acting_person",
    "connection_idle",
    "driver_errors",
    "leaf_parts",
    "locked_then_flushed",
    "outside_transaction",
    "record_alone",
    "record_and_commit",
    "record_event",
    "record_in_transaction",
]


#: The person (经办人 or 法定代表人) acting for a company in the current request.
_ACTING_PERSON: ContextVar[int | None] = ContextVar("evault_acting_person", default=None)


@contextlib.contextmanager
def acting_person(person_id: int | None) -> Iterator[None]:
    """Within the block, every access-log row written also names ``person_id`` (``agent``).

    The edge (an API route acting for a company) opens it around the service call, so the
    services that record events need not know who acts for whom.
    """
    token = _ACTING_PERSON.set(person_id)
    try:
        yield
    finally:
        _ACTING_PERSON.reset(token)


def _current_person() -> int | None:
    return _ACTING_PERSON.get()


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


@dataclass(frozen=True)
class EventValues:
    """One access-log row to write, as a value (built before any lock is taken)."""

    action: str
    outcome: str
    actor: str
    at: dt.datetime
    holder_id: int | None = None
    department_id: int | None = None
    basis: str | None = None
    grant_id: int | None = None
    license_id: int | None = None
    copy_id: str | None = None
    use: UseContext | None = None
    reason: str | None = None
    material_id: int | None = None
    #: The person who acted for the company ``holder_id`` (see :func:`acting_person`).
    agent_id: int | None = field(default_factory=_current_person)
    #: The holder's blind index, the access log's partition key (found from ``holder_id``
    #: when the event is written, if not given).
    holder_blind_index: bytes | None = None

    def __post_init__(self) -> None:
        if self.at.tzinfo is None:
            raise ValueError("naive datetime given for an access event")

    @property
    def event_type(self) -> str:
        """The leaf's event type: ``access.<action>``."""
        return f"access.{self.action}"

    def row(self) -> dict[str, Any]:
        """The ``access_events`` columns (without ``id`` and ``log_index``)."""
        use = self.use
        return {
            "at": self.at.astimezone(dt.UTC),
            "holder_id": self.holder_id,
            "department_id": self.department_id,
            "actor": self.actor,
            "action": self.action,
            "outcome": self.outcome,
            "basis": self.basis,
            "grant_id": self.grant_id,
            "license_id": self.license_id,
            "copy_id": self.copy_id,
            "purpose": use.purpose if use else None,
            "case_no": use.case_no if use else None,
            "reason": self.reason,
            "material_id": self.material_id,
            "agent_id": self.agent_id,
            "holder_blind_index": self.holder_blind_index,
        }

    def fields(self) -> dict[str, Any]:
        """The leaf's payload without the row id: the row's non-empty fields.

        Never a holder ID number: ``holder`` (and ``agent``, the person acting for a
        company) are holders' row ids.
        """
        use = self.use
        payload: dict[str, Any] = {
            "action": self.action,
            "outcome": self.outcome,
            "actor": self.actor,
            "holder": self.holder_id,
            "department": self.department_id,
            "basis": self.basis,
            "license": self.license_id,
            "copy": self.copy_id,
            "material": self.material_id,
            "agent": self.agent_id,
            "purpose": use.purpose if use else None,
            "case_no": use.case_no if use else None,
        }
        return {k: v for k, v in payload.items() if v is not None}

    def leaf_payload(self, event_id: int) -> dict[str, Any]:
        """The leaf's payload: the row's id (``access_event``) and :meth:`fields`."""
        return {"access_event": event_id, **self.fields()}


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
    material_id: int | None = None,
) -> RecordedEvent:
    """Write one access-log row and its transparency-log leaf, in the caller's transaction.

    Not committed. The leaf (``access.<action>``) names the row and the row records the
    leaf's index, so the log's append lock is taken first: pending changes are flushed
    before it, and under it only the index is read and the two rows inserted (Core
    inserts, no unit of work). The lock lasts until the commit: commit soon after.
    """
    event = EventValues(
        action=action,
        outcome=outcome,
        actor=actor,
        at=now or utcnow(),
        holder_id=holder_id,
        department_id=department_id,
        basis=basis,
        grant_id=grant_id,
        license_id=license_id,
        copy_id=copy_id,
        use=use,
        reason=reason,
        material_id=material_id,
    )
    return record_in_transaction(session, event)


def _routed(session: Session, event: EventValues) -> EventValues:
    """``event`` with its holder's blind index: from the session's holder (loaded by the
    request that is logged), :data:`~vault.db.partitioning.NO_HOLDER` without a holder."""
    if event.holder_blind_index is not None:
        return event
    if event.holder_id is None:
        return replace(event, holder_blind_index=NO_HOLDER)
    holder = session.get(Holder, event.holder_id)
    # An unknown holder id keeps NO_HOLDER: the foreign key refuses the row then.
    return replace(event, holder_blind_index=holder.blind_index if holder else NO_HOLDER)


def record_in_transaction(session: Session, event: EventValues) -> RecordedEvent:
    """:func:`record_event` for an :class:`EventValues`: in the session's transaction."""
    session.flush()
    event = _routed(session, event)
    if session.get_bind().dialect.name == "postgresql":
        return _append_on_postgresql(session, event, commit=False)
    idx = next_index(session)
    result = session.connection().execute(_INSERT_EVENT, {**event.row(), "log_index": idx})
    key = result.inserted_primary_key
    assert key is not None  # a single-row insert
    event_id = int(key[0])
    insert_leaf(
        session=session,
        idx=idx,
        event_type=event.event_type,
        payload=event.leaf_payload(event_id),
        now=utcnow(),
    )
    return RecordedEvent(event_id, idx)


def record_and_commit(session: Session, event: EventValues) -> RecordedEvent:
    """Write ``event``'s row and leaf and commit the session's transaction with them.

    For a request whose log row is its last write. Everything the session holds is
    flushed first and commits together with the row. On PostgreSQL the append lock,
    both inserts and the commit go to the server as one query (see the module's
    docstring); elsewhere this is :func:`record_in_transaction` and a commit.
    """
    session.flush()
    event = _routed(session, event)
    if session.get_bind().dialect.name != "postgresql":
        recorded = record_in_transaction(session, event)
        session.commit()
        return recorded
    recorded = _append_on_postgresql(session, event, commit=True)
    # The driver is out of its transaction; the session's commit only ends its own
    # bookkeeping (psycopg sends nothing when no transaction is open).
    session.commit()
    return recorded


def _append_on_postgresql(session: Session, event: EventValues, *, commit: bool) -> RecordedEvent:
    """The append lock and the row with its leaf (and ``COMMIT``) in one round trip.

    Statements in one simple query, the values bound client-side: the server stops at
    the first error (nothing is committed then). Without ``commit`` the lock lasts until
    the caller's commit.
    """
    raw = session.connection().connection.driver_connection
    assert raw is not None
    values = {**event.row(), **leaf_parts(event)}
    from psycopg import ClientCursor  # binds the values client-side, safely quoted

    connection = session.connection()
    with driver_errors(connection.dialect, raw, connection.invalidate, "append to the access log"):
        if commit and connection_idle(raw):
            row = _append_alone(raw, values)
        else:
            with ClientCursor(raw) as cursor:
                cursor.execute(_PG_APPEND_AND_COMMIT if commit else _PG_LOCKED_APPEND, values)
                cursor.nextset()
                row = cursor.fetchone()
    assert row is not None
    return RecordedEvent(int(row[1]), int(row[0]))


def record_alone(
    raw: Any, dialect: Any, event: EventValues, invalidate: Callable[[BaseException], None]
) -> RecordedEvent:
    """:func:`record_and_commit` on the psycopg connection ``raw`` (PostgreSQL, no
    transaction open, no session): the lock and the append in one round trip, committed.

    ``event`` names its holder's blind index (no session to find it from); ``invalidate``
    discards ``raw`` when its connection is lost.
    """
    if event.holder_blind_index is None or not connection_idle(raw):
        raise ValueError("record_alone needs the holder's blind index and an idle connection")
    values = {**event.row(), **leaf_parts(event)}
    with driver_errors(dialect, raw, invalidate, "append to the access log"):
        row = _append_alone(raw, values)
    return RecordedEvent(int(row[1]), int(row[0]))


@contextlib.contextmanager
def driver_errors(
    dialect: Any, raw: Any, invalidate: Callable[[BaseException], None], what: str
) -> Iterator[None]:
    """Within the block, a driver error on ``raw`` is raised as SQLAlchemy raises it for its
    own statements (IntegrityError, OperationalError...), and a lost connection is
    :class:`DatabaseUnavailable` after ``invalidate`` (the connection is never reused)."""
    dbapi_error = dialect.loaded_dbapi.Error
    try:
        yield
    except dbapi_error as exc:
        if dialect.is_disconnect(exc, raw, None):
            invalidate(exc)
            raise DatabaseUnavailable(UNAVAILABLE) from exc
        raise DBAPIError.instance(what, None, exc, dbapi_error) from exc


def _append_alone(raw: Any, values: dict[str, Any]) -> Any:
    """The lock and the append, for a transaction with nothing else in it, flushed
    outside the lock (:func:`locked_then_flushed`)."""
    return locked_then_flushed(raw, _PG_APPEND, values)


def locked_then_flushed(raw: Any, statement: bytes, values: dict[str, Any]) -> Any:
    """Run ``statement`` (an append to the log) under the log's append lock on the idle
    psycopg connection ``raw``, commit, wait until the commit is durable, and return the
    statement's first row: one pipeline, one round trip, the statements prepared after a
    few runs (planned once per connection).

    The lock is held until the transaction ends, and a commit that waits for its WAL
    flush ends only after the flush: every writer of the log used to wait for the one
    before it *and its disk write* (an fdatasync takes 0.2-3 ms here), so the log's
    throughput was one write per flush. Here the append's transaction commits without
    waiting for the flush (``synchronous_commit`` off for that transaction alone), which
    lets the lock go as soon as the commit record is written; then a transaction of its
    own writes a WAL record (``pg_logical_emit_message``) and commits *synchronously*,
    so its commit returns only once the WAL is flushed up to its own commit record,
    which comes after the append's. The WAL is one sequence, flushed in order: when this
    returns the append is durable, exactly as after a synchronous commit, and the
    appends of concurrent requests share their flushes (group commit), none of them
    waiting for a flush under the lock. A server that fails before the flush loses the
    append and every later one, none of them answered; a reader may see an append some
    milliseconds before it is durable (as a row committed on a primary is seen before a
    synchronous standby has it). docs/performance.md has the measurements.
    """
    cursor = raw.cursor()
    with outside_transaction(raw), raw.pipeline(), raw.cursor() as control:
        control.execute(b"BEGIN")
        control.execute(_PG_LOCK_FLUSH_AFTER)
        cursor.execute(statement, values)
        control.execute(b"COMMIT")
        control.execute(_PG_FLUSH)
    return cursor.fetchone()


def connection_idle(raw: Any) -> bool:
    """The driver connection has no transaction open (psycopg would send BEGIN first)."""
    from psycopg.pq import TransactionStatus

    return bool(raw.info.transaction_status == TransactionStatus.IDLE)


@contextlib.contextmanager
def outside_transaction(raw: Any) -> Iterator[None]:
    """Within the block, the idle psycopg connection ``raw`` sends no ``BEGIN``: each query
    (one statement, or several in one simple query) is a transaction of its own.

    Saves a round trip for a query that needs no transaction around it. The connection is
    idle again after such a query, so the session's later commit sends nothing.
    """
    raw.autocommit = True
    try:
        yield
    finally:
        if not raw.closed:  # a lost connection is invalidated by the caller
            if not connection_idle(raw):  # a failed BEGIN ... COMMIT (locked_then_flushed)
                raw.rollback()
            raw.autocommit = False


def leaf_parts(event: EventValues) -> dict[str, Any]:
    """The parts of the leaf that do not depend on the row id and the index.

    A leaf's data (:meth:`signing.transparency.LogEvent.leaf_data`) is canonical JSON
    with sorted keys: ``{"idx":I,"payload":{"access_event":N,...},"time":...}``. The
    row id ``N`` sorts first in the payload and the index ``I`` first in the leaf, so the
    server completes both by concatenation and hashes the result; ``canonical_json``
    checks the fields, and the tests compare every such leaf with :class:`LogEvent`'s.
    """
    fields = canonical_json(event.fields())  # b'{"action":...}', never empty
    moment = utcnow()
    time_and_type = canonical_json(
        {"time": format_time(moment), "type": event.event_type, "v": LEAF_VERSION}
    )
    return {
        "created_at": moment,
        "event_type": event.event_type,
        "payload_rest": b"," + fields[1:],
        "leaf_tail": b"," + time_and_type[1:],
    }


_PG_LOCK = f"SELECT pg_advisory_xact_lock({APPEND_LOCK_ID})".encode()
#: The lock, and this transaction's commit not waiting for its WAL flush (see
#: :func:`locked_then_flushed`).
_PG_LOCK_FLUSH_AFTER = (
    f"SELECT pg_advisory_xact_lock({APPEND_LOCK_ID}), set_config('synchronous_commit', 'off', true)"
).encode()
#: A transaction that writes WAL (a logical decoding message, which nothing reads) and
#: commits synchronously: it returns once the WAL is flushed up to its commit record.
_PG_FLUSH = b"SELECT pg_logical_emit_message(true, 'evault.flush', '')"
#: One statement, after the lock: the row id, the next index, both rows and the leaf hash
#: (SHA-256 of 0x00 || leaf data, RFC 9162), computed by the server from the parts above.
_PG_APPEND = b"""
WITH reserved AS (
    SELECT nextval(pg_get_serial_sequence('access_events', 'id')) AS id,
           (SELECT coalesce(max(idx), -1) + 1 FROM log_entries) AS idx
), leaf AS (
    SELECT id, idx,
           convert_to('{"access_event":' || id::text, 'UTF8') || %(payload_rest)s AS payload
    FROM reserved
), event AS (
    INSERT INTO access_events (id, at, holder_id, department_id, actor, action, outcome,
        basis, grant_id, license_id, copy_id, purpose, case_no, reason, material_id, agent_id,
        holder_blind_index, log_index)
    SELECT id, %(at)s, %(holder_id)s, %(department_id)s, %(actor)s, %(action)s, %(outcome)s,
        %(basis)s, %(grant_id)s, %(license_id)s, %(copy_id)s, %(purpose)s, %(case_no)s,
        %(reason)s, %(material_id)s, %(agent_id)s, %(holder_blind_index)s, idx
    FROM leaf
)
INSERT INTO log_entries (idx, created_at, event_type, payload, leaf_hash)
SELECT idx, %(created_at)s, %(event_type)s, payload,
       sha256('\\x00'::bytea
              || convert_to('{"idx":' || idx::text || ',"payload":', 'UTF8')
              || payload || %(leaf_tail)s)
FROM leaf
RETURNING idx, (SELECT id FROM leaf)
"""
_PG_LOCKED_APPEND = _PG_LOCK + b"; " + _PG_APPEND
#: The same, committed without waiting for the flush under the lock, then flushed (as
#: :func:`locked_then_flushed` does): after ``COMMIT`` the last statement is a transaction
#: of its own, committed synchronously when the query ends.
_PG_APPEND_AND_COMMIT = _PG_LOCK_FLUSH_AFTER + b"; " + _PG_APPEND + b"; COMMIT; " + _PG_FLUSH
