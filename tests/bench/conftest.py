"""Fixtures of the benchmark smoke tests: a small filled database on the test PostgreSQL."""

from __future__ import annotations

import psycopg
import pytest

from bench.scale import base_conninfo, ensure_filled
from tests.conftest import require

SMOKE_LICENSES = 20_000
SMOKE_HOLDERS = 2_500


def postgres_available() -> bool:
    try:
        with psycopg.connect(f"{base_conninfo()} dbname=postgres", connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def _smoke_database() -> str:
    """``evault_bench_smoke_<hash of the migrations' head>``: checkouts on other schemas
    share the PostgreSQL server, and a database one of them upgraded would be at a revision
    the others' migrations do not know."""
    import hashlib

    from alembic.script import ScriptDirectory

    from vault.migrations import alembic_config

    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head() or ""
    return f"evault_bench_smoke_{hashlib.sha256(head.encode()).hexdigest()[:8]}"


SMOKE_DATABASE = _smoke_database()


@pytest.fixture(scope="session")
def smoke_db() -> str:
    """20 thousand licenses over 2,500 holders; kept between runs, the licenses only read.

    Built once (about 5 s) under an advisory lock, so that concurrent test sessions neither
    race nor rebuild it; the probes add only the access-log rows and log leaves of their
    reads. Not dropped at the end: DROP DATABASE forces a checkpoint, slow on a busy server.
    """
    require(postgres_available(), "PostgreSQL at 127.0.0.1:5432")
    with psycopg.connect(f"{base_conninfo()} dbname=postgres", autocommit=True) as lock:
        lock.execute("SELECT pg_advisory_lock(hashtext(%s))", (SMOKE_DATABASE,))
        try:
            ensure_filled(base_conninfo(), SMOKE_DATABASE, SMOKE_LICENSES, holders=SMOKE_HOLDERS)
        finally:
            lock.execute("SELECT pg_advisory_unlock(hashtext(%s))", (SMOKE_DATABASE,))
    return SMOKE_DATABASE
