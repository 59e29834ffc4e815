"""Smoke test of bench.load: the real server on PostgreSQL under wrk, for a moment.

Checks that the demo dataset, the token, both wrk paths and the figures work, and that no
request failed; the speed itself is measured by ``python -m bench.load`` (docs/performance.md).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench.load import copy_row, read_row, serve
from tests.conftest import require, require_tool

from .conftest import postgres_available

pytestmark = pytest.mark.postgres


def test_read_and_copy_paths_under_wrk_without_errors(tmp_path: Path) -> None:
    require_tool("wrk")
    require(postgres_available(), "PostgreSQL at 127.0.0.1:5432")
    database = f"evault_load_smoke_{os.getpid()}"
    with serve(workers=2, data_dir=tmp_path / "demo", database=database, drop_after=True) as s:
        assert s.license_ids, "the demo's using department sees no license"
        read = s.wrk("read", seconds=2, connections=2)
        copy = s.wrk("copy", seconds=2, connections=2)
    assert (read.errors, read.first_error) == (0, None)
    assert (copy.errors, copy.first_error) == (0, None)
    assert read.requests > 0 and read.p50_ms <= read.p99_ms
    assert copy.requests > 0
    assert "load: read path" in read_row(read).operation
    assert copy_row(copy).ours.rounds == copy.requests
