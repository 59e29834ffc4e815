"""Signed checkpoints come at least every interval, with no one asking (issue 9)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

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


def test_interval_zero_means_on_demand_only(sqlite_template: Path, tmp_path: Path) -> None:
    target = tmp_path / "evault.db"
    shutil.copyfile(sqlite_template, target)
    with _make_api(f"sqlite:///{target}", tmp_path, checkpoint_interval_seconds=0) as api:
        api.push(1)
        time.sleep(1.5)
        with api.ctx.sessions() as session:
            assert latest_checkpoint(session=session) is None
        note = api.client.get("/v1/log/checkpoint", headers=api.dept("audit"))
        assert note.status_code == 200 and note.text.count("\n") >= 4
