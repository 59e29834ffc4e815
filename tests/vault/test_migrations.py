"""The Alembic migrations build exactly the models, on SQLite and on PostgreSQL."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from tests.conftest import POSTGRES_URL, require
from tests.vault.conftest import _postgres_available, schema_url
from vault.migrations import MigrationDrift, alembic_config, check, current, upgrade
from vault.models import Base


def _head() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


def _fresh_sqlite(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'fresh.db'}"


def test_upgrade_and_check_sqlite(tmp_path: Path) -> None:
    url = _fresh_sqlite(tmp_path)
    assert current(url) is None
    upgrade(url)
    assert current(url) == _head()
    check(url)  # raises MigrationDrift when the models need a migration
    upgrade(url)  # idempotent
    tables = set(inspect(create_engine(url)).get_table_names())
    assert set(Base.metadata.tables) <= tables


@pytest.mark.postgres
def test_upgrade_and_check_postgres() -> None:
    require(_postgres_available(), f"PostgreSQL at {POSTGRES_URL}")
    schema = f"evault_m_{secrets.token_hex(4)}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = schema_url(schema)
        upgrade(url)
        assert current(url) == _head()
        check(url)
        names = set(inspect(create_engine(url)).get_table_names(schema=schema))
        assert set(Base.metadata.tables) <= names
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_check_catches_drift(tmp_path: Path) -> None:
    """A column added to the models without a migration is reported."""
    url = _fresh_sqlite(tmp_path)
    upgrade(url)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE holders ADD COLUMN stray TEXT"))
    engine.dispose()
    with pytest.raises(MigrationDrift, match="stray"):
        check(url)


def test_existing_licenses_get_random_public_ids(tmp_path: Path) -> None:
    import sqlite3

    url = _fresh_sqlite(tmp_path)
    upgrade(url, "0101_journal_keys")
    raw = sqlite3.connect(tmp_path / "fresh.db")  # foreign keys off: bare license rows
    with raw:
        raw.executemany(
            "INSERT INTO licenses (id, license_type_id, issuer_department_id, number, holder_id,"
            " status, current_version, created_at, updated_at)"
            " VALUES (?, 1, 1, ?, 1, '有效', 1, '2026-01-01', '2026-01-01')",
            [(n, f"N{n}") for n in (1, 2, 3)],
        )
    raw.close()
    # up to 0111 only: 0112_partition copies each license's holder's blind index, and
    # these bare rows have no holder (test_partition.py upgrades complete rows)
    upgrade(url, "0111_license_fields")
    with create_engine(url).connect() as conn:
        ids = [row[0] for row in conn.execute(text("SELECT public_id FROM licenses"))]
    assert len(ids) == len(set(ids)) == 3
    assert all(i.startswith("l_") and len(i) == 24 for i in ids)
