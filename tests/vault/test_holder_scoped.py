"""Every table of one holder's rows carries the holder's blind index (migration
0115_holder_scoped), as licenses, materials and access events do (0112_partition).

The models: every table referring to holder data names the blind index in that reference,
but for the references listed (and why) in ``NOT_THE_ROWS_HOLDER``. The migration: existing
rows of every such table are filled from their parent, equal to their holder's; the
downgrade restores 0114's schema exactly (PostgreSQL: every key, index, trigger and
trigger function). A new blind index (key rotation) moves every row of the holder with it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, ForeignKeyConstraint, LargeBinary, create_engine, inspect, text

from tests.vault.conftest import schema_url
from tests.vault.test_partition import NOW, _downgrade, _index, _keys, _seed, pg_schema  # noqa: F401
from vault.db import make_engine
from vault.db.partitioning import HOLDER_SCOPED, PARTITIONED
from vault.migrations import check, current, upgrade
from vault.models import Base

BEFORE = "0114_agents_portal"
INDEX = "holder_blind_index"

#: References to holder data by id alone, on purpose: (table, column) -> why.
NOT_THE_ROWS_HOLDER = {
    ("company_spaces", "representative_id"): "the representative is another holder",
    ("company_agents", "agent_id"): "the agent is another holder",
    ("access_events", "agent_id"): "the agent is another holder",
    ("access_events", "grant_id"): "ON DELETE SET NULL of one column of a composite key",
    ("import_journal", "license_id"): "a journal entry belongs to an import run",
}


def test_every_table_of_one_holders_rows_carries_the_blind_index() -> None:
    holder_data = set(PARTITIONED) | set(HOLDER_SCOPED)
    licenses_index = Base.metadata.tables["licenses"].c[INDEX]
    for name, (column, parent) in HOLDER_SCOPED.items():
        table = Base.metadata.tables[name]
        assert INDEX in table.c, name
        own = table.c[INDEX]
        assert not own.nullable, name
        assert isinstance(own.type, LargeBinary), name
        assert own.type.length == licenses_index.type.length == 32, name
        parent_index = PARTITIONED.get(parent, INDEX)
        keys = [
            fk
            for fk in table.foreign_key_constraints
            if fk.referred_table.name == parent and column in fk.column_keys
        ]
        assert len(keys) == 1, name
        assert keys[0].column_keys == [column, INDEX], name
        assert [e.column.name for e in keys[0].elements] == ["id", parent_index], name
        assert keys[0].onupdate == "CASCADE", name
    unlisted = []
    for table in Base.metadata.sorted_tables:
        for fk in table.constraints:
            if not isinstance(fk, ForeignKeyConstraint):
                continue
            if fk.referred_table.name not in holder_data:
                continue
            columns = fk.column_keys
            if INDEX in columns:
                assert table.name in holder_data, table.name
                continue
            if (table.name, columns[0]) not in NOT_THE_ROWS_HOLDER:
                unlisted.append((table.name, columns[0], fk.referred_table.name))
    assert unlisted == []


#: One row in each table of HOLDER_SCOPED (besides _seed's version of license 1), and the
#: holder it belongs to (_seed: holder 1 has license 1 and its version, holder 2 license 2
#: and material 1).
_ROWS = [
    (
        "status_changes",
        1,
        "INSERT INTO status_changes (id, license_id, version, from_status, to_status, reason,"
        " actor, changed_at{c}) VALUES (1, 1, 1, '有效', '暂扣', 'r', 'cli', :now{v})",
    ),
    (
        "license_field_values",
        2,
        "INSERT INTO license_field_values (license_id, sealed, updated_at{c})"
        " VALUES (2, :blob, :now{v})",
    ),
    (
        "certified_copies",
        1,
        "INSERT INTO certified_copies (id, license_id, license_version, holder_id, requested_by,"
        " purpose, blob_sha256, size, made_at, expires_at{c}) VALUES ('c1', 1, 1, 1, 'holder',"
        " 'p', :sha, 1, :now, :now{v})",
    ),
    (
        "certified_copies",
        2,
        "INSERT INTO certified_copies (id, material_id, holder_id, requested_by, purpose,"
        " blob_sha256, size, made_at, expires_at{c}) VALUES ('c2', 1, 2, 'holder', 'p', :sha, 1,"
        " :now, :now{v})",
    ),
    (
        "grants",
        2,
        "INSERT INTO grants (id, public_id, holder_id, kind, department_id, license_types,"
        " created_at, expires_at{c}) VALUES (1, 'g_1', 2, 'consent', 1, '[]', :now, :now{v})",
    ),
    (
        "grant_uses",
        2,
        "INSERT INTO grant_uses (id, grant_id, case_no, first_used_at{c})"
        " VALUES (1, 1, 'k', :now{v})",
    ),
    (
        "credential_offers",
        1,
        "INSERT INTO credential_offers (id, holder_id, license_id, code_hash, tx_code_failures,"
        " created_at, expires_at{c}) VALUES (1, 1, 1, :sha, 0, :now, :now{v})",
    ),
    (
        "issued_credentials",
        1,
        "INSERT INTO issued_credentials (id, offer_id, holder_id, license_id, version,"
        " status_list, status_idx, holder_key_thumbprint, issued_at{c})"
        " VALUES (1, 1, 1, 1, 1, 1, 1, 't', :now{v})",
    ),
    (
        "company_spaces",
        2,
        "INSERT INTO company_spaces (id, public_id, company_id, representative_id, updated_at{c})"
        " VALUES (1, 'co_1', 2, 1, :now{v})",
    ),
    (
        "company_agents",
        2,
        "INSERT INTO company_agents (id, public_id, space_id, agent_id, scopes, expires_at,"
        " created_at{c}) VALUES (1, 'ag_1', 1, 1, 'licenses', :now, :now{v})",
    ),
    (
        "case_licenses",
        2,
        "INSERT INTO case_licenses (id, public_id, department_id, case_no, purpose, license_id,"
        " license_version, sha256, holder_id, created_at{c})"
        " VALUES (1, 'cl_1', 1, 'k', 'p', 2, 1, :sha, 2, :now{v})",
    ),
    (
        "archive_renewals",
        1,
        "INSERT INTO archive_renewals (id, license_version_id, sequence, blob_sha256,"
        " previous_sha256, size, horizon_before, horizon_after, renewed_at{c})"
        " VALUES (1, 1, 1, :sha, :sha, 1, :now, :now, :now{v})",
    ),
]
#: Every row of HOLDER_SCOPED the seed writes, by table, with its holder.
OWNERS = {
    "license_versions": [1],
    "status_changes": [1],
    "license_field_values": [2],
    "certified_copies": [1, 2],
    "grants": [2],
    "grant_uses": [2],
    "credential_offers": [1],
    "issued_credentials": [1],
    "company_spaces": [2],
    "company_agents": [2],
    "case_licenses": [2],
    "archive_renewals": [1],
}


def _seed_all(conn: object, *, holder_scoped: bool) -> None:
    _seed(conn, partitioned=True, holder_scoped=holder_scoped)
    for n, (_, holder, sql) in enumerate(_ROWS):
        c, v = (f", {INDEX}", ", :bi") if holder_scoped else ("", "")
        conn.execute(  # type: ignore[attr-defined]
            text(sql.format(c=c, v=v)),
            {"now": NOW, "blob": b"x", "sha": f"{n:064d}", "bi": _index(holder)},
        )


def _stored(conn: object) -> dict[str, list[bytes]]:
    """Each table's blind indexes, in the order of its parent's column (one row per
    holder in the seed), and the parent's: equal row by row."""
    out: dict[str, list[bytes]] = {}
    for table, (column, parent) in HOLDER_SCOPED.items():
        parent_index = PARTITIONED.get(parent, INDEX)
        rows = conn.execute(  # type: ignore[attr-defined]
            text(
                f"SELECT t.{INDEX}, p.{parent_index} FROM {table} t JOIN {parent} p"
                f" ON p.id = t.{column} ORDER BY t.{column}"
            )
        ).all()
        for own, parents in rows:
            assert bytes(own) == bytes(parents), table  # the parent's, row by row
        out[table] = [bytes(r[0]) for r in rows]
    return out


def _expected(holders: dict[int, bytes]) -> dict[str, list[bytes]]:
    return {table: [holders[h] for h in sorted(owners)] for table, owners in OWNERS.items()}


def _triggers_and_functions(conn: object) -> set[tuple[str, ...]]:
    triggers = conn.execute(  # type: ignore[attr-defined]
        text(
            "SELECT tgrelid::regclass::text, tgname, pg_get_triggerdef(oid) FROM pg_trigger"
            " WHERE NOT tgisinternal AND tgrelid IN (SELECT oid FROM pg_class WHERE"
            " relnamespace = CAST(current_schema() AS regnamespace))"
        )
    )
    functions = conn.execute(  # type: ignore[attr-defined]
        text(
            "SELECT proname, prosrc FROM pg_proc"
            " WHERE pronamespace = CAST(current_schema() AS regnamespace)"
        )
    )
    return {tuple(r) for r in triggers} | {tuple(r) for r in functions}


def _counts(conn: object) -> dict[str, int]:
    return {
        t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()  # type: ignore[attr-defined]
        for t in HOLDER_SCOPED
    }


def _rotate_and_check(url: str) -> None:
    """A new blind index for each holder (a key rotation's UPDATE): every row follows."""
    engine = make_engine(url)  # SQLite: foreign keys on, as the vault runs
    new = {1: b"\x81" * 32, 2: b"\x82" * 32}
    for holder, index in new.items():
        with engine.begin() as conn:
            conn.execute(
                text("UPDATE holders SET blind_index = :b WHERE id = :h"), {"b": index, "h": holder}
            )
    with engine.connect() as conn:
        assert _stored(conn) == _expected(new)
        assert _counts(conn) == {t: len(o) for t, o in OWNERS.items()}
    engine.dispose()


def _migrate_and_check(url: str, *, postgresql: bool) -> None:
    upgrade(url, BEFORE)
    engine = create_engine(url)
    with engine.begin() as conn:
        _seed_all(conn, holder_scoped=False)
        schema_before = (_keys(conn) | _triggers_and_functions(conn)) if postgresql else set()
        counts = _counts(conn)
    upgrade(url)
    check(url)
    with engine.connect() as conn:
        assert _stored(conn) == _expected({1: _index(1), 2: _index(2)})
        for table in HOLDER_SCOPED:
            column = {c["name"]: c for c in inspect(conn).get_columns(table)}[INDEX]
            assert column["nullable"] is False, table
    _downgrade(url, BEFORE)
    assert current(url) == BEFORE
    with engine.connect() as conn:
        assert _counts(conn) == counts
        for table in HOLDER_SCOPED:
            assert INDEX not in {c["name"] for c in inspect(conn).get_columns(table)}, table
        if postgresql:
            assert (_keys(conn) | _triggers_and_functions(conn)) == schema_before
    engine.dispose()
    upgrade(url)  # and forward again, from the restored tables
    _rotate_and_check(url)


@pytest.mark.postgres
def test_postgresql_fills_every_table_from_its_parent_and_downgrades_exactly(
    pg_schema: str,  # noqa: F811
) -> None:
    _migrate_and_check(schema_url(pg_schema), postgresql=True)


def test_sqlite_fills_every_table_from_its_parent_and_downgrades(tmp_path: Path) -> None:
    _migrate_and_check(f"sqlite:///{tmp_path / 'h.db'}", postgresql=False)


def test_a_row_with_another_holders_index_is_refused(engine: Engine) -> None:
    """The composite foreign key: a row's blind index is its parent's, or nothing."""
    from sqlalchemy.exc import IntegrityError

    with engine.begin() as conn:
        _seed_all(conn, holder_scoped=True)
    for table, row, other in (
        ("license_versions", "1", 2),
        ("grant_uses", "1", 1),
        ("certified_copies", "'c1'", 2),
        ("company_agents", "1", 1),
    ):
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(
                text(f"UPDATE {table} SET {INDEX} = :bi WHERE id = {row}"), {"bi": _index(other)}
            )
