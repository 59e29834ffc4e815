"""Alembic environment: one set of migrations for SQLite and PostgreSQL.

On PostgreSQL the migration takes an advisory lock (two workers upgrading at once run one
after the other) and sets lock and statement timeouts, so a migration waiting behind a
long transaction fails quickly instead of blocking every query behind it (as Warehouse
does). On SQLite, ALTERs run in batch mode (copy and move), which SQLite needs.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, ForeignKeyConstraint, text

from vault.db.engine import make_engine
from vault.db.partitioning import drift_ignored, is_partition
from vault.models import Base

MIGRATION_LOCK_ID = 0x65766C74  # "evlt"
LOCK_TIMEOUT = "4s"
STATEMENT_TIMEOUT = "60s"

config = context.config
target_metadata = Base.metadata


def _include_on_postgresql(
    item: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """What ``alembic check`` compares on PostgreSQL: not the hash partitions of the holder
    data, nor the model constraints PostgreSQL holds as a primary key or a trigger there
    (:mod:`vault.db.partitioning`)."""
    if type_ == "table" and reflected and compare_to is None and is_partition(name):
        return False
    if isinstance(item, ForeignKeyConstraint) and reflected:
        # PostgreSQL's own copies of a foreign key, one per partition of the referred table
        return not is_partition(item.referred_table.name)
    return not (not reflected and drift_ignored(item))


def _sqlite_foreign_keys_off(connection: Connection) -> set[tuple[object, ...]] | None:
    """Turn SQLite's foreign keys off (outside a transaction: inside one SQLite ignores it);
    return the rows already breaking one, or None when they could not be turned off.

    A table rebuild (batch mode) drops the old table, which with foreign keys on would
    delete or refuse the rows referring to it; SQLite's own procedure for altering a
    table turns them off, rebuilds, then checks (``PRAGMA foreign_key_check``).
    """
    raw = connection.connection.driver_connection
    if raw is None or raw.in_transaction:
        return None
    raw.execute("PRAGMA foreign_keys=OFF")
    return set(raw.execute("PRAGMA foreign_key_check").fetchall())


def _sqlite_foreign_keys_on(connection: Connection, before: set[tuple[object, ...]]) -> None:
    """Turn them on again; raise if the migrations left rows breaking a foreign key."""
    raw = connection.connection.driver_connection
    assert raw is not None
    broken = set(raw.execute("PRAGMA foreign_key_check").fetchall()) - before
    raw.execute("PRAGMA foreign_keys=ON")
    if broken:
        raise RuntimeError(f"the migrations left rows breaking foreign keys: {sorted(broken)[:5]}")


def _run(connection: Connection) -> None:
    is_pg = connection.dialect.name == "postgresql"
    is_sqlite = connection.dialect.name == "sqlite"
    broken_before = _sqlite_foreign_keys_off(connection) if is_sqlite else None
    if is_pg:
        connection.execute(text(f"SET lock_timeout = '{LOCK_TIMEOUT}'"))
        connection.execute(text(f"SET statement_timeout = '{STATEMENT_TIMEOUT}'"))
        connection.execute(text("SELECT pg_advisory_lock(:id)"), {"id": MIGRATION_LOCK_ID})
        connection.commit()
    try:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            transaction_per_migration=True,
            include_object=_include_on_postgresql if is_pg else None,
        )
        with context.begin_transaction():
            context.run_migrations()
    finally:
        if is_pg:
            connection.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": MIGRATION_LOCK_ID})
            connection.commit()
        if broken_before is not None:
            _sqlite_foreign_keys_on(connection, broken_before)


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database URL: run migrations through `evault db upgrade`")
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
