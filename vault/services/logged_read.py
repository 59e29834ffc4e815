"""A department's read of one license and its access-log row, in one query (PostgreSQL).

:func:`read_one_and_record` sends the log's append lock and one statement: the license
read for the department (:data:`~vault.services.license_records.ONE_FOR_DEPARTMENT`), and,
when the read alone decides the use, the access-log row and its transparency-log leaf,
completed and hashed by the server as :func:`vault.log.access_log.record_and_commit`
does. They are sent in one pipeline with the commit and a wait for its flush outside the
lock (:func:`vault.log.access_log.locked_then_flushed`): one round trip for a read that
used to take three, prepared statements after a few runs (planned once per connection).

The read decides the use when the department holds a standing permission for the type
(allowed), when it holds none and the holder has no live grant to it (denied), or when no
such license exists (denied, "no such license"). Otherwise the holder's grants must be
read: nothing is written, and the caller decides and records as before.

The row and the leaf are the ones the caller's :class:`EventValues` define: the caller
gives the event of each outcome with :data:`HOLDER` and :data:`LICENSE` standing for the
ids the server reads, and the server picks the outcome and puts the ids in.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, Select
from sqlalchemy.orm import Session

from signing.transparency.event import canonical_json
from vault.db.engine import UNAVAILABLE
from vault.db.partitioning import NO_HOLDER
from vault.errors import DatabaseUnavailable
from vault.log.access_log import (
    EventValues,
    connection_idle,
    driver_errors,
    leaf_parts,
    locked_then_flushed,
    outside_transaction,
)
from vault.services.license_records import ONE_FOR_DEPARTMENT

__all__ = [
    "HOLDER",
    "LICENSE",
    "LoggedRead",
    "plain_rows",
    "pooled_connection",
    "read_one_and_record",
    "read_one_and_record_pooled",
    "read_rows",
]

#: Stand-ins for the holder's and the license's row ids in the events given.
HOLDER = -7_001
LICENSE = -7_002
#: Columns of ONE_FOR_DEPARTMENT: license id, updated at, holder id, the holder's blind
#: index (the access-log row's partition), the permission, any live grant.
_NAMES = [column.name for column in ONE_FOR_DEPARTMENT.selected_columns]
_ID, _UPDATED_AT, _HOLDER_ID, _HOLDER_INDEX, _PERMISSION, _CONSENT = (
    _NAMES.index(name)
    for name in (
        "id",
        "updated_at",
        "holder_id",
        "holder_blind_index",
        "license_type_id",
        "consent",
    )
)
_WIDTH = len(_NAMES)


@dataclass(frozen=True)
class LoggedRead:
    """The read row (``None``: no such license) and whether its use was recorded."""

    row: tuple[Any, ...] | None
    recorded: bool


def read_rows(
    session: Session, statement: Select[Any], params: dict[str, Any]
) -> Sequence[Sequence[Any]]:
    """Run a read-only ``statement``; on PostgreSQL, with nothing else in the session's
    transaction, without the ``BEGIN`` round trip (the statement is its own transaction)
    and past SQLAlchemy's execution: its SQL compiled once per number of values of each
    list parameter, sent on the driver's cursor, the columns' result types applied (a
    query of 25 columns spent as much CPU in SQLAlchemy's result set-up as in the rest)."""
    connection = session.connection()
    raw = connection.connection.driver_connection
    if raw is None or connection.dialect.name != "postgresql" or not connection_idle(raw):
        return list(connection.execute(statement, params).all())
    return plain_rows(raw, connection.dialect, statement, params, connection.invalidate)


def plain_rows(
    raw: Any,
    dialect: Any,
    statement: Select[Any],
    params: dict[str, Any],
    invalidate: Callable[[BaseException], None],
) -> Sequence[Sequence[Any]]:
    """:func:`read_rows` on the idle psycopg connection ``raw`` (PostgreSQL): the statement
    is its own transaction; ``invalidate`` discards ``raw`` when its connection is lost."""
    sql, values, processors = _plain(statement, dialect, params)
    errors = driver_errors(dialect, raw, invalidate, "read")
    with errors, outside_transaction(raw), raw.cursor() as cursor:
        cursor.execute(sql, values)
        rows: list[Sequence[Any]] = cursor.fetchall()
    if not processors:
        return rows
    return [
        tuple(value if p is None else p(value) for p, value in zip(processors, row, strict=True))
        for row in rows
    ]


#: By statement, dialect and the lengths of its list parameters: the SQL with its list
#: parameters expanded, and the columns' result processors.
_PLAIN: dict[tuple[int, str, tuple[int, ...]], tuple[Select[Any], bytes, list[Any]]] = {}


def _plain(
    statement: Select[Any], dialect: Any, params: dict[str, Any]
) -> tuple[bytes, dict[str, Any], list[Any]]:
    """``statement``'s SQL for ``params``, the driver's parameters, the result processors."""
    lists = {k: v for k, v in params.items() if isinstance(v, list | tuple)}
    values = {k: v for k, v in params.items() if k not in lists}
    for name, items in lists.items():  # as SQLAlchemy names an expanded IN's parameters
        values.update({f"{name}_{k}": item for k, item in enumerate(items, 1)})
    key = (id(statement), dialect.name, tuple(len(v) for v in lists.values()))
    found = _PLAIN.get(key)
    if found is None or found[0] is not statement:
        compiled = statement.compile(dialect=dialect)
        expanded = compiled.construct_expanded_state(params)
        if set(expanded.parameters) != set(values):  # pragma: no cover - a new SQLAlchemy
            raise RuntimeError(f"unexpected parameters {sorted(expanded.parameters)}")
        processors = [
            column.type.result_processor(dialect, None) for column in statement.selected_columns
        ]
        found = _PLAIN[key] = (statement, expanded.statement.encode(), processors)
    _, sql, processors = found
    return sql, values, [] if all(p is None for p in processors) else processors


def read_one_and_record(
    session: Session,
    params: dict[str, Any],
    *,
    allowed: EventValues,
    denied: EventValues,
    missing: EventValues,
) -> LoggedRead | None:
    """Read one license for a department and record the decision the read makes, in one
    round trip; ``None`` when this does not apply (not PostgreSQL, a transaction already
    open, events this query cannot write): the caller reads and records the usual way.

    ``params``: those of ``ONE_FOR_DEPARTMENT``. ``allowed`` and ``denied``: the events
    of a standing permission and of a refusal, naming :data:`HOLDER` and
    :data:`LICENSE`; ``missing``: the event when no such license exists.
    """
    connection = session.connection()
    raw = connection.connection.driver_connection
    if raw is None or connection.dialect.name != "postgresql" or not connection_idle(raw):
        return None
    values = _values(params, allowed=allowed, denied=denied, missing=missing)
    if values is None:
        return None
    return _send(raw, connection.dialect, values, connection.invalidate)


def read_one_and_record_pooled(
    engine: Engine,
    params: dict[str, Any],
    *,
    allowed: EventValues,
    denied: EventValues,
    missing: EventValues,
) -> LoggedRead | None:
    """:func:`read_one_and_record` on a connection of ``engine``'s pool, without a
    :class:`Session` (its bookkeeping cost a read more CPU than building the query's
    values); ``None`` when it does not apply, as there."""
    dialect = engine.dialect
    if dialect.name != "postgresql":
        return None
    values = _values(params, allowed=allowed, denied=denied, missing=missing)
    if values is None:
        return None
    with pooled_connection(engine) as (raw, invalidate):
        return _send(raw, dialect, values, invalidate)


@contextlib.contextmanager
def pooled_connection(
    engine: Engine,
) -> Iterator[tuple[Any, Callable[[BaseException], None]]]:
    """An idle psycopg connection of ``engine``'s pool and the function that discards it
    (its connection lost), back to the pool after the block: no session, no transaction."""
    try:
        pooled = engine.raw_connection()
    except engine.dialect.loaded_dbapi.Error as exc:
        # No connection to be had: what the engine's handler makes of it for a session.
        raise DatabaseUnavailable(UNAVAILABLE) from exc
    try:
        raw = pooled.driver_connection
        assert raw is not None and connection_idle(raw)  # checked in idle
        yield raw, pooled.invalidate
    finally:
        pooled.close()  # back to the pool (psycopg sends nothing: no transaction is open)


def _send(
    raw: Any, dialect: Any, values: dict[str, Any], invalidate: Callable[[BaseException], None]
) -> LoggedRead:
    """Send the lock and the read-and-append on the idle psycopg connection ``raw``: one
    round trip, the statement prepared after a few runs (psycopg's prepare_threshold), so
    the server plans this join only once per connection; durable when this returns."""
    with driver_errors(dialect, raw, invalidate, "read and log"):
        row = locked_then_flushed(raw, _sql(dialect), values)
    if row is None:
        return LoggedRead(None, recorded=True)
    record = list(row[:-1])
    record[_UPDATED_AT] = record[_UPDATED_AT].astimezone(dt.UTC)  # as UTCDateTime gives it
    return LoggedRead(tuple(record), recorded=row[-1] is not None)


#: The row's columns that the three events must share (the server picks the others).
_SHARED = ("at", "department_id", "actor", "action", "purpose", "case_no", "agent_id")
_NONE = ("grant_id", "copy_id", "material_id")


def _values(
    params: dict[str, Any], *, allowed: EventValues, denied: EventValues, missing: EventValues
) -> dict[str, Any] | None:
    """The query's parameters, or ``None`` if the events differ where the query cannot
    tell them apart."""
    rows = [e.row() for e in (allowed, denied, missing)]
    if any(r[k] != rows[0][k] for r in rows for k in _SHARED) or any(
        r[k] is not None for r in rows for k in _NONE
    ):
        return None
    if allowed.event_type != denied.event_type or denied.event_type != missing.event_type:
        return None
    if missing.holder_id is not None or missing.license_id is not None:
        return None
    pieces = {}
    for name, event in (("allowed", allowed), ("denied", denied)):
        if (event.holder_id, event.license_id) != (HOLDER, LICENSE):
            return None
        split = _split(canonical_json(event.fields()))
        if split is None:
            return None
        for k, piece in enumerate(split):
            pieces[f"{name}_{k}"] = piece
    parts = leaf_parts(missing)  # the time, the type; the missing event's payload
    values: dict[str, Any] = {
        **{k: rows[0][k] for k in _SHARED if k != "department_id"},
        "row_department_id": rows[0]["department_id"],  # the read's is in ``params``
        **params,
        **pieces,
        "created_at": parts["created_at"],
        "event_type": parts["event_type"],
        "leaf_tail": parts["leaf_tail"],
        "missing_rest": parts["payload_rest"],
        "no_holder": NO_HOLDER,
    }
    for name, row in (("allowed", rows[0]), ("denied", rows[1]), ("missing", rows[2])):
        for column in ("outcome", "basis", "reason"):
            values[f"{name}_{column}"] = row[column]
    return values


def _split(fields: bytes) -> tuple[bytes, bytes, bytes] | None:
    """``,"action":...,"holder":`` / ``,"license":`` / ``...}``: the payload after the
    row id, cut where the server puts the holder's and the license's ids."""
    holder = b'"holder":' + str(HOLDER).encode()
    license_ = b'"license":' + str(LICENSE).encode()
    if fields.count(holder) != 1 or fields.count(license_) != 1:
        return None
    head, rest = fields.split(holder)
    middle, tail = rest.split(license_)
    return b"," + head[1:] + b'"holder":', middle + b'"license":', tail


_compiled: dict[str, bytes] = {}


def _sql(dialect: Any) -> bytes:
    """The statement, with psycopg's placeholders (built once)."""
    found = _compiled.get(dialect.name)
    if found is None:
        read = str(ONE_FOR_DEPARTMENT.compile(dialect=dialect))
        found = _compiled[dialect.name] = _READ_AND_APPEND.replace(
            "{read}",
            read,  # already escaped for pyformat
        ).encode()
    return found


_COLUMNS = ", ".join(f"c{k}" for k in range(_WIDTH))
_ID_TEXT = "convert_to({}::text, 'UTF8')"
#: The read (``rec``), the event its row decides (``ev``: none when grants must be read),
#: then the same append as ``recording._PG_APPEND``: the row id, the next index, the row,
#: the leaf and its hash. Returns the read row and the leaf's index (NULL: not recorded).
_READ_AND_APPEND = f"""
WITH rec({_COLUMNS}) AS ({{read}}),
ev AS (
    SELECT c{_HOLDER_ID} AS holder_id, c{_ID} AS license_id,
        c{_HOLDER_INDEX} AS holder_blind_index,
        CASE WHEN c{_PERMISSION} IS NOT NULL THEN %(allowed_outcome)s ELSE %(denied_outcome)s END
            AS outcome,
        CASE WHEN c{_PERMISSION} IS NOT NULL THEN %(allowed_basis)s ELSE %(denied_basis)s END
            AS basis,
        CASE WHEN c{_PERMISSION} IS NOT NULL THEN %(allowed_reason)s ELSE %(denied_reason)s END
            AS reason,
        CASE WHEN c{_PERMISSION} IS NOT NULL
            THEN %(allowed_0)s || {_ID_TEXT.format(f"c{_HOLDER_ID}")} || %(allowed_1)s
                || {_ID_TEXT.format(f"c{_ID}")} || %(allowed_2)s
            ELSE %(denied_0)s || {_ID_TEXT.format(f"c{_HOLDER_ID}")} || %(denied_1)s
                || {_ID_TEXT.format(f"c{_ID}")} || %(denied_2)s
        END AS rest
    FROM rec WHERE c{_PERMISSION} IS NOT NULL OR NOT c{_CONSENT}
    UNION ALL
    SELECT NULL, NULL, %(no_holder)s, %(missing_outcome)s, %(missing_basis)s, %(missing_reason)s,
        %(missing_rest)s
    WHERE NOT EXISTS (SELECT 1 FROM rec)
), reserved AS (
    SELECT nextval(pg_get_serial_sequence('access_events', 'id')) AS id,
           (SELECT coalesce(max(idx), -1) + 1 FROM log_entries) AS idx, ev.*
    FROM ev
), leaf AS (
    SELECT reserved.*, convert_to('{{"access_event":' || id::text, 'UTF8') || rest AS payload
    FROM reserved
), event AS (
    INSERT INTO access_events (id, at, holder_id, department_id, actor, action, outcome,
        basis, grant_id, license_id, copy_id, purpose, case_no, reason, material_id, agent_id,
        holder_blind_index, log_index)
    SELECT id, %(at)s, holder_id, %(row_department_id)s, %(actor)s, %(action)s, outcome,
        basis, NULL, license_id, NULL, %(purpose)s, %(case_no)s,
        reason, NULL, %(agent_id)s, holder_blind_index, idx
    FROM leaf
), entry AS (
    INSERT INTO log_entries (idx, created_at, event_type, payload, leaf_hash)
    SELECT idx, %(created_at)s, %(event_type)s, payload,
           sha256('\\x00'::bytea
                  || convert_to('{{"idx":' || idx::text || ',"payload":', 'UTF8')
                  || payload || %(leaf_tail)s)
    FROM leaf
    RETURNING idx
)
SELECT rec.*, (SELECT idx FROM entry) FROM rec
"""  # noqa: S608 (constants only: every value is bound)
