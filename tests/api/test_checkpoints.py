"""Signed checkpoints come at least every interval, with no one asking (issue 9)."""

from __future__ import annotations

import shutil
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import pytest

from api import checkpoints
from api.context import ApiContext
from tests.api.conftest import HOLDER, _make_api
from vault.log.checkpoints import latest_checkpoint
from vault.log.keys import load_log_key
from vault.log.proofs import log_size


def test_background_checkpoints_cover_new_entries(sqlite_template: Path, tmp_path: Path) -> None:
    target = tmp_path / "evault.db"
    shutil.copyfile(sqlite_template, target)
    with _make_api(f"sqlite:///{target}", tmp_path, checkpoint_interval_seconds=1) as api:
        api.push(1)
        found = api.client.post(
            "/v1/licenses/search",
            headers=api.dept("housing"),
            json={"holder_id": HOLDER, "purpose": "住房保障", "case_no": "CK-1"},
        )
        assert found.status_code == 200, found.text
        with api.ctx.sessions() as session:
            size = log_size(session=session)
        assert size >= 2  # the intake and the search
        deadline = time.monotonic() + 20
        latest = None
        while time.monotonic() < deadline:
            with api.ctx.sessions() as session:
                latest = latest_checkpoint(session=session)
                if latest is not None and latest.tree_size >= size:
                    break
            time.sleep(0.2)
        assert latest is not None and latest.tree_size >= size, "no checkpoint was signed"
        key = load_log_key(api.ctx.settings)
        signed = key.verifier().verify(latest.signed_note)
        assert signed.checkpoint.size == latest.tree_size


def _count_periodic_starts(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Record each start of the periodic checkpointer (which then runs as it does)."""
    started: list[object] = []
    real = checkpoints.run_periodically

    def recorded(ctx: ApiContext) -> Coroutine[Any, Any, None]:
        started.append(ctx)  # when the lifespan makes the task, before the application runs
        return real(ctx)

    monkeypatch.setattr(checkpoints, "run_periodically", recorded)
    return started


@pytest.mark.parametrize("interval", [0, 1])
def test_interval_zero_means_on_demand_only_else_periodic(
    sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, interval: int
) -> None:
    started = _count_periodic_starts(monkeypatch)
    target = tmp_path / "evault.db"
    shutil.copyfile(sqlite_template, target)
    with _make_api(f"sqlite:///{target}", tmp_path, checkpoint_interval_seconds=interval) as api:
        # the application has started: its periodic checkpointer runs, or never will
        assert len(started) == interval
        if interval:
            return
        api.push(1)
        with api.ctx.sessions() as session:
            assert latest_checkpoint(session=session) is None
        note = api.client.get("/v1/log/checkpoint", headers=api.dept("audit"))
        assert note.status_code == 200 and note.text.count("\n") >= 4
