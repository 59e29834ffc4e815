"""Alembic environment: one set of migrations for SQLite and PostgreSQL.

On PostgreSQL the migration takes an advisory lock (two workers upgrading at once run one
after the other) and sets lock and statement timeouts, so a migration waiting behind a
long transaction fails quickly instead of blocking every query behind it (as Warehouse
does). On SQLite, ALTERs run in batch mode (copy and move), which SQLite needs.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, text

from vault.db.engine import make_engine
from vault.models import Base

MIGRATION_LOCK_ID = 0x65766C74  # "evlt"
LOCK_TIMEOUT = "4s"
STATEMENT_TIMEOUT = "60s"

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    is_pg = connection.dialect.name == "postgresql"
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
        )
        with context.begin_transaction():
            context.run_migrations()
    finally:
        if is_pg:
            connection.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": MIGRATION_LOCK_ID})
            connection.commit()


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
