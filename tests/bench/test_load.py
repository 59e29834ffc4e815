"""Smoke test of bench.load: the real server on PostgreSQL under wrk, for a moment.

Checks that the demo dataset, the token, both wrk paths and the figures work, and that no
request failed; the speed itself is measured by ``python -m bench.load`` (docs/performance.md).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from bench.load import copy_row, read_row, serve
from tests.conftest import require, require_tool

from .conftest import postgres_available

pytestmark = pytest.mark.postgres


_PASSWORD = "keys/pki_password.hex"


def _demo_version() -> str:
    """A tag of the demo's code: a PKI kept from another version of the demo (other
    departments) must not be reused."""
    root = Path(__file__).resolve().parents[2] / "api" / "demo"
    digest = hashlib.sha256()
    for path in sorted(root.glob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _reuse_pki(template: Path, data: Path) -> None:
    """Copy a demo PKI kept in pytest's cache into ``data`` (generating one takes seconds)."""
    if not template.is_dir():
        return
    shutil.copytree(template / "pki", data / "pki")
    (data / "keys").mkdir(mode=0o700)
    shutil.copy2(template / _PASSWORD, data / _PASSWORD)


def _keep_pki(data: Path, template: Path) -> None:
    """Keep this run's demo PKI as the template (one atomic rename; the first one wins)."""
    if template.exists():
        return
    staging = Path(tempfile.mkdtemp(dir=template.parent))
    shutil.copytree(data / "pki", staging / "pki")
    (staging / "keys").mkdir()
    shutil.copy2(data / _PASSWORD, staging / _PASSWORD)
    with contextlib.suppress(OSError):
        staging.rename(template)
    shutil.rmtree(staging, ignore_errors=True)


def test_read_and_copy_paths_under_wrk_without_errors(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    require_tool("wrk")
    require(postgres_available(), "PostgreSQL at 127.0.0.1:5432")
    template = request.config.cache.mkdir("evault-bench-load") / f"demo-pki-{_demo_version()}"
    data = tmp_path / "demo"
    data.mkdir()
    _reuse_pki(template, data)
    database = f"evault_load_smoke_{os.getpid()}"  # this session's own, dropped at the end
    with serve(workers=2, data_dir=data, database=database, drop_after=True) as s:
        assert s.license_ids, "the demo's using department sees no license"
        read = s.wrk("read", seconds=2, connections=2)
        copy = s.wrk("copy", seconds=2, connections=2)
        together = s.wrk_together([("read", 3), ("copy", 1)], seconds=2)
    for line in together:  # reads and copies at once, the connections balanced
        assert (line.errors, line.first_error) == (0, None)
        assert line.requests > 0 and line.worker_shares
        assert abs(sum(line.worker_shares) - 100.0) < 0.1
    # Every answer named its worker; 4 connections over 2 workers: 2 each, both answer.
    assert sum(sum(line.worker_requests) for line in together) == sum(
        line.requests for line in together
    )
    assert len(read.worker_requests) == 2 and sum(read.worker_requests) == read.requests
    assert (read.errors, read.first_error) == (0, None)
    assert (copy.errors, copy.first_error) == (0, None)
    assert read.requests > 0 and read.p50_ms <= read.p99_ms
    assert copy.requests > 0
    assert "load: read path" in read_row(read).operation
    assert copy_row(copy).ours.rounds == copy.requests
    _keep_pki(data, template)
