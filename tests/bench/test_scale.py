"""Smoke tests of bench.scale: the generator, the probes, the plan checks, the harness rows.

The 10-million run is a manual step (docs/performance.md); here a 20-thousand database
shows that the generator makes the vault's real schema and that every read of the large
tables in the department read path goes through an index.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import text

import bench.scale
from bench.scale import base_conninfo, compare_databases
from bench.scale.fill import (
    BENCH_CRYPTO,
    USER_DEPARTMENT,
    citizen_id,
    public_id_of,
    sqlalchemy_url,
)
from bench.scale.probe import INDEXED_TABLES, PlanCheck, Probe, database_figures
from schemas.identifiers import CitizenId, mask
from vault.db.base import utcnow
from vault.db.engine import make_engine
from vault.migrations import check as alembic_check
from vault.services.holders import describe_holder, find_holder
from vault.services.license_records import ONE_FOR_DEPARTMENT

from .conftest import SMOKE_HOLDERS, SMOKE_LICENSES

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def probe(smoke_db: str) -> Iterator[Probe]:
    p = Probe(base_conninfo(), smoke_db)
    yield p
    p.close()


def test_fill_makes_the_migrations_schema_and_the_asked_counts(smoke_db: str) -> None:
    url = sqlalchemy_url(base_conninfo(), smoke_db)
    alembic_check(url)  # raises MigrationDrift if the rebuilt keys and indexes drifted
    figures = database_figures(base_conninfo(), smoke_db)
    assert figures["licenses_count"] == SMOKE_LICENSES
    assert figures["holders_count"] == SMOKE_HOLDERS
    assert figures["database"] > figures["license_versions"] > 0


def test_holders_are_real_vault_holders(smoke_db: str) -> None:
    from sqlalchemy.orm import Session

    number = citizen_id(1234)
    assert str(CitizenId.parse(number)) == number  # a valid 公民身份号码
    engine = make_engine(sqlalchemy_url(base_conninfo(), smoke_db))
    try:
        with Session(engine) as session:
            holder = find_holder(session=session, crypto=BENCH_CRYPTO, holder_id=number)
            assert holder is not None
            assert holder.masked_id == mask(number)
            assert describe_holder(crypto=BENCH_CRYPTO, holder=holder).name
            per_holder = session.execute(
                text("SELECT count(*) FROM licenses WHERE holder_id = :h"), {"h": holder.id}
            ).scalar_one()
            assert per_holder == SMOKE_LICENSES // SMOKE_HOLDERS
    finally:
        engine.dispose()


def test_probes_find_what_the_generator_wrote(probe: Probe) -> None:
    assert probe.search_once(holder=7) == SMOKE_LICENSES // SMOKE_HOLDERS
    assert probe.get_once(license_id=SMOKE_LICENSES) == 1


def _scans(checks: list[PlanCheck]) -> set[tuple[str, str]]:
    return {(table, node) for c in checks for table, node, _ in c.scans}


def test_search_by_holder_plans_use_indexes(probe: Probe) -> None:
    """The search's read (and the get's): on PostgreSQL the services send them past
    SQLAlchemy, on the driver's cursor, so :meth:`Probe.reads` runs them for the plans."""
    assert probe.search_once(holder=11) > 0  # the service finds what the read finds
    checks = probe.explain(lambda: probe.reads(holder=11, license_id=42))
    assert checks, "the probe issued no SELECT"
    assert [c.statement for c in checks if not c.uses_indexes] == []
    scans = _scans(checks)
    assert ("holders", "Index Scan") in scans  # by blind index
    assert ("license_versions", "Index Scan") in scans  # current version
    assert not {t for t, node in scans if node == "Seq Scan"} & INDEXED_TABLES
    used = set().union(*(c.indexes for c in checks))
    assert {"uq_holders_blind_index", "ix_licenses_holder_id"} <= used
    assert "uq_license_versions_license_id_version" in used


def test_get_by_id_plans_use_indexes(probe: Probe) -> None:
    """The get's read: on PostgreSQL it runs inside one statement with its log row
    (``vault.services.logged_read``, sent past SQLAlchemy, and an EXPLAIN ANALYZE of it
    would append to the log), so its read part is explained on its own."""

    def read() -> None:
        params = {"department_id": USER_DEPARTMENT, "public_id": public_id_of(42), "now": utcnow()}
        with probe.engine.connect() as conn:
            assert conn.execute(ONE_FOR_DEPARTMENT, params).all()

    checks = probe.explain(read)
    assert [c.statement for c in checks if not c.uses_indexes] == []
    scans = _scans(checks)
    assert ("licenses", "Index Scan") in scans
    assert ("license_versions", "Index Scan") in scans
    assert "ix_licenses_public_id" in set().union(*(c.indexes for c in checks))


def test_a_seq_scan_is_caught(probe: Probe) -> None:
    """The check can fail: a query without a usable index reads as not using indexes."""

    def unindexed() -> None:
        with probe.engine.connect() as conn:
            conn.execute(text("SELECT id FROM licenses WHERE number LIKE '%9'")).all()

    checks = probe.explain(unindexed)
    assert [c.uses_indexes for c in checks] == [False]


def test_compare_rows_and_harness_entry(smoke_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = compare_databases(base_conninfo(), smoke_db, smoke_db, rounds=2)
    assert [r.operation.split(",")[0] for r in rows] == [
        "scale: search by holder (service)",
        "scale: get license by id (service)",
    ]
    assert all(r.ratio is not None and r.ours.median_ms > 0 for r in rows)
    monkeypatch.setattr(bench.scale, "SMALL_DATABASE", smoke_db)
    monkeypatch.setattr(bench.scale, "SMALL_LICENSES", SMOKE_LICENSES)
    monkeypatch.setenv("EVAULT_BENCH_SCALE_LARGE", "evault_bench_no_such_db")
    single = bench.scale.run(1)
    assert [r.baseline for r in single] == [None, None]
    assert "20k" in single[0].operation
