"""The holder data partitioned by the holder's blind index (migration 0112_partition).

PostgreSQL: the four tables are hash-partitioned, existing rows are converted in place and
back, the foreign keys PostgreSQL cannot declare are kept by triggers, a key rotation moves
a holder's rows together, and a license key stays unique across holders (a lock). SQLite
keeps the same rules with ordinary tables.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import POSTGRES_URL, require
from tests.vault.conftest import _postgres_available, schema_url
from vault.db.partitioning import NO_HOLDER, PARTITIONED, PARTITIONS
from vault.migrations import alembic_config, check, current, upgrade
from vault.services.intake import lock_license_key, lock_license_keys

BEFORE = "0111_license_fields"
NOW = "2026-01-01 00:00:00"


def _downgrade(url: str, revision: str) -> None:
    from alembic import command

    command.downgrade(alembic_config(url), revision)


def _index(holder: int | None) -> bytes:
    return bytes([holder]) * 32 if holder else NO_HOLDER


def _seed(conn: object, *, partitioned: bool = False, holder_scoped: bool = False) -> None:
    """Two holders with a license each, a version, a material and access events (one about
    no holder): rows as 0111 stores them, as 0112 does (``partitioned``), or as 0115 does
    (both: the version carries the blind index too)."""
    col, val = (", holder_blind_index", ", :bi") if partitioned else ("", "")
    v_col, v_val = (col, val) if holder_scoped else ("", "")
    statements = [
        "INSERT INTO departments (id, name, credit_code, is_issuer, is_user, created_at) "
        "VALUES (1, '发证部门', '11100000000013338W', true, true, :now)",
        "INSERT INTO license_types (id, code, name, holder_kind, created_at) "
        "VALUES (1, 'T1', '类型', '111', :now)",
        "INSERT INTO material_types (id, code, name, holder_kinds, validity, created_at) "
        "VALUES (1, 'idcard', '身份证', '[\"111\"]', 'document', :now)",
    ]
    for sql in statements:
        conn.execute(text(sql), {"now": NOW})  # type: ignore[attr-defined]
    for h in (1, 2):
        conn.execute(  # type: ignore[attr-defined]
            text(
                "INSERT INTO holders (id, id_type, blind_index, id_ciphertext, name_ciphertext,"
                " masked_id, created_at, updated_at) VALUES (:h, '111', :b, :c, :c, 'm', :now,"
                " :now)"
            ),
            {"h": h, "b": _index(h), "c": b"x", "now": NOW},
        )
        conn.execute(  # type: ignore[attr-defined]
            text(
                "INSERT INTO licenses (id, public_id, license_type_id, issuer_department_id,"
                f" number, holder_id, status, current_version, created_at, updated_at{col})"
                f" VALUES (:h, :p, 1, 1, :n, :h, '有效', 1, :now, :now{val})"
            ),
            {"h": h, "p": f"l_{h}", "n": f"N{h}", "now": NOW, "bi": _index(h)},
        )
    conn.execute(  # type: ignore[attr-defined]
        text(
            "INSERT INTO license_versions (id, license_id, version, blob_sha256, size,"
            " file_format, name, issuer_name, issue_date, extra, report_json, verified_at,"
            f" pushed_by_department_id, created_at{v_col}) VALUES (1, 1, 1, :sha, 1, 'PDF', 'n',"
            f" 'i', '2026-01-01', '{{}}', '{{}}', :now, 1, :now{v_val})"
        ),
        {"sha": "a" * 64, "now": NOW, "bi": _index(1)},
    )
    conn.execute(  # type: ignore[attr-defined]
        text(
            "INSERT INTO materials (id, public_id, holder_id, material_type_id, source_sha256,"
            " media_type, source_size, blob_sha256, size, department_id, clerk, purpose,"
            f" case_no, checked_at, usable_until, state, created_at{col}) VALUES (1, 'm_1', 2,"
            " 1, :sha, 'image/png', 1, :sha, 1, 1, 'c', 'p', 'k', :now, '2027-01-01',"
            f" 'current', :now{val})"
        ),
        {"sha": "b" * 64, "now": NOW, "bi": _index(2)},
    )
    for event_id, holder, license_id, material in ((1, 1, 1, None), (2, 2, None, 1)):
        conn.execute(  # type: ignore[attr-defined]
            text(
                "INSERT INTO access_events (id, at, holder_id, actor, action, outcome,"
                f" license_id, material_id{col}) VALUES (:e, :now, :h, 'department', 'read',"
                f" 'allowed', :l, :m{val})"
            ),
            {
                "e": event_id,
                "h": holder,
                "l": license_id,
                "m": material,
                "now": NOW,
                "bi": _index(holder),
            },
        )
    conn.execute(  # type: ignore[attr-defined]
        text(
            f"INSERT INTO access_events (id, at, actor, action, outcome, reason{col}) "
            f"VALUES (3, :now, 'department', 'search', 'denied', 'unknown holder'{val})"
        ),
        {"now": NOW, "bi": NO_HOLDER},
    )


def _counts(conn: object) -> dict[str, int]:
    tables = ("holders", "licenses", "license_versions", "materials", "access_events")
    return {
        t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()  # type: ignore[attr-defined]
        for t in tables
    }


SEEDED = {"holders": 2, "licenses": 2, "license_versions": 1, "materials": 1, "access_events": 3}


def _blind_indexes(conn: object) -> dict[str, list[tuple[object, bytes]]]:
    return {
        table: [
            (row[0], bytes(row[1]))
            for row in conn.execute(  # type: ignore[attr-defined]
                text(f"SELECT id, holder_blind_index FROM {table} ORDER BY id")
            )
        ]
        for table in ("licenses", "materials", "access_events")
    }


EXPECTED_INDEXES = {
    "licenses": [(1, _index(1)), (2, _index(2))],
    "materials": [(1, _index(2))],
    "access_events": [(1, _index(1)), (2, _index(2)), (3, NO_HOLDER)],
}


@pytest.fixture
def pg_schema() -> Iterator[str]:
    require(_postgres_available(), f"PostgreSQL at {POSTGRES_URL}")
    schema = f"partition_t_{secrets.token_hex(4)}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield schema
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _partitioned(conn: object) -> set[str]:
    rows = conn.execute(  # type: ignore[attr-defined]
        text(
            "SELECT c.relname FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid"
            " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema()"
        )
    )
    return {r[0] for r in rows}


def _keys(conn: object) -> set[tuple[str, str, str]]:
    """Every constraint and index of the schema, with its definition."""
    constraints = conn.execute(  # type: ignore[attr-defined]
        text(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM"
            " pg_constraint WHERE connamespace = CAST(current_schema() AS regnamespace)"
        )
    )
    indexes = conn.execute(  # type: ignore[attr-defined]
        text(
            "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname ="
            " current_schema()"
        )
    )
    return {tuple(r) for r in constraints} | {tuple(r) for r in indexes}


@pytest.mark.postgres
def test_postgresql_upgrade_converts_rows_in_place_and_downgrade_restores(
    pg_schema: str,
) -> None:
    url = schema_url(pg_schema)
    upgrade(url, BEFORE)
    engine = create_engine(url)
    with engine.begin() as conn:
        _seed(conn)
        keys_before = _keys(conn)
    upgrade(url)
    check(url)
    with engine.connect() as conn:
        assert _partitioned(conn) == set(PARTITIONED)
        assert _counts(conn) == SEEDED
        assert _blind_indexes(conn) == EXPECTED_INDEXES
        parts = conn.execute(
            text(
                "SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhparent"
                " WHERE c.relname = 'licenses' AND c.relnamespace = CAST(current_schema() AS"
                " regnamespace)"
            )
        ).scalar_one()
        assert parts == PARTITIONS
        # the id sequences belong to the partitioned tables (the access log's append finds
        # its sequence so)
        for table in PARTITIONED:
            owned = conn.execute(text(f"SELECT pg_get_serial_sequence('{table}', 'id')"))
            assert owned.scalar_one() is not None
    _downgrade(url, BEFORE)
    assert current(url) == BEFORE
    with engine.connect() as conn:
        assert _partitioned(conn) == set()
        assert _counts(conn) == SEEDED
        columns = conn.execute(
            text(
                "SELECT count(*) FROM information_schema.columns WHERE table_schema ="
                " current_schema() AND column_name = 'holder_blind_index'"
            )
        ).scalar_one()
        assert columns == 0
        assert _keys(conn) == keys_before  # every key, index and foreign key of 0111
    upgrade(url)  # and forward again, from the restored tables
    with engine.connect() as conn:
        assert _blind_indexes(conn) == EXPECTED_INDEXES
    engine.dispose()


def test_sqlite_upgrade_converts_rows_and_downgrade_restores(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'p.db'}"
    upgrade(url, BEFORE)
    engine = create_engine(url)
    with engine.begin() as conn:
        _seed(conn)
    upgrade(url)
    check(url)
    with engine.connect() as conn:
        assert _counts(conn) == SEEDED
        assert _blind_indexes(conn) == EXPECTED_INDEXES
    _downgrade(url, BEFORE)
    with engine.connect() as conn:
        assert _counts(conn) == SEEDED
        names = [r[1] for r in conn.execute(text("PRAGMA table_info(licenses)"))]
        assert "holder_blind_index" not in names
    engine.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_the_suite_runs_on_the_partitioned_schema(engine: Engine, db_url: str) -> None:
    with engine.connect() as conn:
        assert _partitioned(conn) == set(PARTITIONED)


def _seeded(engine: Engine) -> None:
    with engine.begin() as conn:
        _seed(conn, partitioned=True, holder_scoped=True)
        if _is_pg(engine):  # the rows above chose their ids: move the sequences past them
            for table in (*PARTITIONED, "license_versions", "departments", "license_types"):
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                        f" (SELECT max(id) FROM {table}))"
                    )
                )


def _is_pg(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def test_a_child_names_an_existing_parent_and_follows_its_deletion(engine: Engine) -> None:
    """Foreign keys by id alone to a partitioned table: triggers on PostgreSQL, real
    foreign keys on SQLite, the same rule."""
    _seeded(engine)
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(text("UPDATE license_versions SET license_id = 99 WHERE id = 1"))
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO grants (public_id, holder_id, kind, license_types, created_at,"
                " expires_at, holder_blind_index) VALUES ('g_1', 99, 'consent', '[]', :now,"
                " :now, :bi)"
            ),
            {"now": NOW, "bi": _index(1)},
        )
    with engine.begin() as conn:  # a grant of holder 2, and holder 2's license deleted:
        conn.execute(
            text(
                "INSERT INTO grants (public_id, holder_id, kind, license_types, created_at,"
                " expires_at, holder_blind_index) VALUES ('g_2', 2, 'consent', '[]', :now, :now,"
                " :bi)"
            ),
            {"now": NOW, "bi": _index(2)},
        )
        conn.execute(text("DELETE FROM access_events WHERE holder_id = 2"))
        conn.execute(text("DELETE FROM materials"))
        conn.execute(text("DELETE FROM licenses WHERE id = 1"))  # cascades to its version
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM license_versions")).scalar_one() == 0
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM licenses WHERE id = 2"))
        conn.execute(text("DELETE FROM holders WHERE id = 2"))  # cascades to its grant
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM grants")).scalar_one() == 0


def _partition_of(conn: object, table: str, row_id: int) -> str:
    if conn.dialect.name != "postgresql":  # type: ignore[attr-defined]
        return ""
    row = conn.execute(  # type: ignore[attr-defined]
        text(f"SELECT tableoid::regclass::text FROM {table} WHERE id = :i"),
        {"i": row_id},
    )
    return str(row.scalar_one()).rsplit("_p", 1)[1]


def test_a_new_blind_index_moves_the_holders_rows_together(engine: Engine) -> None:
    """A key rotation writes a new blind index: licenses, materials and access events
    follow (ON UPDATE CASCADE), into the partition of the same number, and nothing that
    refers to them by id alone is lost on the way."""
    _seeded(engine)
    for holder in (1, 2):
        new = bytes([0x80 + holder]) * 32
        with engine.begin() as conn:
            conn.execute(
                text("UPDATE holders SET blind_index = :b WHERE id = :h"), {"b": new, "h": holder}
            )
    with engine.connect() as conn:
        indexes = _blind_indexes(conn)
        assert indexes["licenses"] == [(1, b"\x81" * 32), (2, b"\x82" * 32)]
        assert indexes["materials"] == [(1, b"\x82" * 32)]
        assert indexes["access_events"] == [(1, b"\x81" * 32), (2, b"\x82" * 32), (3, NO_HOLDER)]
        assert _counts(conn) == SEEDED  # the version of license 1 is still there
        for holder in (1, 2):
            assert _partition_of(conn, "licenses", holder) == _partition_of(conn, "holders", holder)
        assert _partition_of(conn, "materials", 1) == _partition_of(conn, "holders", 2)


def test_access_events_carry_their_holders_blind_index(
    engine: Engine, sessions: sessionmaker[Session]
) -> None:
    from vault.log.access_log import record_event

    _seeded(engine)
    with sessions() as session:
        about = record_event(
            session=session,
            action="read",
            outcome="allowed",
            actor="department",
            holder_id=2,
            license_id=2,
        )
        unknown = record_event(
            session=session, action="search", outcome="denied", actor="department"
        )
        session.commit()
    with engine.connect() as conn:
        rows = dict(
            (r[0], bytes(r[1]))
            for r in conn.execute(text("SELECT id, holder_blind_index FROM access_events"))
        )
    assert rows[about.id] == _index(2)
    assert rows[unknown.id] == NO_HOLDER


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_a_license_key_is_locked_across_holders(engine: Engine) -> None:
    """No unique index spans the partitions: writers of one (type, issuer, 证照编号) take a
    lock on it before looking it up, so a second writer waits for the first's commit."""
    factory = sessionmaker(bind=engine)
    with factory() as first, factory() as second:
        lock_license_key(first, 1, 1, "N1")
        second.execute(text("SET lock_timeout = '50ms'"))
        with pytest.raises(OperationalError):
            lock_license_key(second, 1, 1, "N1")
        second.rollback()
        lock_license_key(second, 1, 1, "N2")  # another key: no wait
        second.rollback()
        first.commit()
        second.execute(text("SET lock_timeout = '50ms'"))
        lock_license_key(second, 1, 1, "N1")  # free again
        second.rollback()


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_a_batch_locks_all_its_license_keys_in_one_statement(engine: Engine) -> None:
    """The bulk writer's locks (lock_license_keys) are the keys' own: each one waits a
    one-file writer of that key, and no other key."""
    factory = sessionmaker(bind=engine)
    with factory() as first, factory() as second:
        lock_license_keys(first, [(1, 1, "N2"), (1, 1, "N1"), (1, 1, "N2")])
        for number in ("N1", "N2"):
            second.execute(text("SET lock_timeout = '50ms'"))
            with pytest.raises(OperationalError):
                lock_license_key(second, 1, 1, number)
            second.rollback()
        lock_license_keys(second, [(1, 1, "N3"), (2, 1, "N1")])  # other keys: no wait
        second.rollback()
        first.commit()
        second.execute(text("SET lock_timeout = '50ms'"))
        lock_license_keys(second, [(1, 1, "N1"), (1, 1, "N2")])  # free again
        second.rollback()


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_prepared_statements_keep_one_generic_plan(engine: Engine) -> None:
    """A custom plan per execution tripled the search's database CPU on partitioned tables
    (vault.db.engine._generic_plans); the setting survives the pool's rollback."""
    for _ in range(2):
        with engine.connect() as conn:
            assert conn.execute(text("SHOW plan_cache_mode")).scalar_one() == ("force_generic_plan")
            conn.rollback()
