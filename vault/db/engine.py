"""Engines and sessions for SQLite (embedded default) and PostgreSQL (production)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from vault.errors import ConfigError, DatabaseUnavailable

__all__ = ["make_engine", "make_session_factory", "session_scope"]

#: A pooled PostgreSQL connection idle this long is pinged before use.
PING_AFTER_IDLE_SECONDS = 10.0
#: How long a SQLite writer waits for the lock before failing (milliseconds).
SQLITE_BUSY_TIMEOUT_MS = 30_000


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine for ``url``; SQLite gets WAL, foreign keys and a busy timeout.

    For SQLite the parent directory is created. A pooled PostgreSQL connection that has
    been idle for :data:`PING_AFTER_IDLE_SECONDS` is checked before use (and replaced if
    dead), so a restarted server does not fail the first request; a connection in steady
    use is not pinged (SQLAlchemy's ``pool_pre_ping`` costs a round trip per checkout,
    a tenth of a short request's time).
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError("database_url is not a valid SQLAlchemy URL") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("connect_args", {}).setdefault("timeout", SQLITE_BUSY_TIMEOUT_MS / 1000)
        engine = create_engine(parsed, **kwargs)
        _configure_sqlite(engine)
        return engine
    if backend == "postgresql":
        engine = create_engine(parsed, **kwargs)
        if not kwargs.get("pool_pre_ping"):
            _ping_when_idle(engine)
        _unavailable_as_ours(engine)
        _generic_plans(engine)
        return engine
    raise ConfigError(f"database backend {backend!r} is not supported (sqlite or postgresql)")


#: What a caller is told when the database cannot be reached (no host, no port, no name).
UNAVAILABLE = "the database is unavailable; try again later"


def _unavailable_as_ours(engine: Engine) -> None:
    """A lost or refused connection becomes :class:`DatabaseUnavailable` (ours), after
    SQLAlchemy has invalidated the pool's connections to the old server; other errors
    (constraints, bad SQL, a locked SQLite file) stay as they are."""

    @event.listens_for(engine, "handle_error")
    def _on_error(context: Any) -> None:
        if context.is_pre_ping:
            return  # the pool replaces the connection itself
        if context.is_disconnect or context.connection is None:
            raise DatabaseUnavailable(UNAVAILABLE) from context.original_exception


def _generic_plans(engine: Engine) -> None:
    """Prepared statements keep one generic plan (``plan_cache_mode``).

    psycopg prepares a statement from its fifth execution. The holder data is hash-
    partitioned (:mod:`vault.db.partitioning`): for a statement with parameters on a
    partitioned table PostgreSQL would otherwise plan each execution again (a custom plan
    prunes partitions when planning, so the generic plan looks dearer), which tripled the
    database's CPU of a department's search. A generic plan prunes when it starts instead.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET plan_cache_mode = force_generic_plan")
        dbapi_connection.commit()


def _ping_when_idle(engine: Engine) -> None:
    dialect = engine.dialect

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["evault_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("evault_idle_since")
        if since is None or time.monotonic() - since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except Exception:
            # The pool discards this connection and checks out another (a fresh one).
            raise DisconnectionError("stale pooled connection") from None


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, decide when transactions begin (BEGIN IMMEDIATE
        # below), so concurrent writers queue on the lock instead of failing to upgrade.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit (``expire_on_commit=False``)."""
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextlib.contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session that commits on success and rolls back on any exception."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
