"""A pooled PostgreSQL connection killed while idle is replaced, not handed out dead.

``make_engine`` pings a connection only when it has been idle for a while (not on every
checkout); this checks that the ping still saves the first request after a restart.
"""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import POSTGRES_URL
from vault.db import engine as engine_module
from vault.db import make_engine


@pytest.mark.postgres
def test_a_connection_killed_while_idle_is_replaced_on_checkout(
    postgres_schema: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(POSTGRES_URL, pool_size=1, max_overflow=0)
    admin = create_engine(POSTGRES_URL)
    try:
        with engine.connect() as conn:
            first_pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with admin.begin() as conn:  # the server drops it, as on a restart
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first_pid})

        monkeypatch.setattr(engine_module, "PING_AFTER_IDLE_SECONDS", 0.0)
        with engine.connect() as conn:
            second_pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        assert second_pid != first_pid
    finally:
        engine.dispose()
        admin.dispose()


@pytest.mark.postgres
def test_a_connection_in_steady_use_is_not_pinged(
    postgres_schema: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(POSTGRES_URL, pool_size=1, max_overflow=0)
    pings: list[object] = []
    monkeypatch.setattr(engine.dialect, "do_ping", lambda conn: pings.append(conn) or True)
    try:
        for _ in range(3):
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        assert pings == []
        monkeypatch.setattr(engine_module, "PING_AFTER_IDLE_SECONDS", 0.0)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        assert len(pings) == 1
    finally:
        engine.dispose()
