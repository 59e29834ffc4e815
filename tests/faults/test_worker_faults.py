"""Issue 14, faults: a verification worker process killed (SIGKILL) mid-verification.

The API verifies each pushed PDF in a worker process (signing._verify.workers). A worker
initializer of the tests (tests/signing/slow_check.py) parks the check of one marked PDF
and writes the worker's pid, so that the kill lands inside a verification, not before or
after it; the kill itself is a real SIGKILL from outside, as the OOM killer's.

- Killed once: the verification is tried again in a new worker and the push is stored, once.
- Killed every time: the push gets a clear answer (422, the report saying the worker was
  ended by SIGKILL), nothing of it is written, and the next push verifies as usual.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from signing._verify.workers import WorkerPool
from signing.seal import PadesLevel
from signing.verify import Verifier
from tests.api.conftest import Api, _make_api
from tests.faults.conftest import row_counts
from tests.helpers.pki import MARKET_DEPT, sample_pdf, sealer
from tests.signing import slow_check
from tests.vault.conftest import sqlite_template  # noqa: F401
from tests.vault.licenses import license_pdf, metadata, trust_bundle

#: A bound on waiting for the parked worker (a hang fails instead of blocking CI).
WAIT_BOUND = 120.0


def _marked_pdf(n: int) -> bytes:
    text = f"license No. {n} {slow_check.MARKER.decode()}"
    return sealer(MARKET_DEPT).seal(sample_pdf(text), level=PadesLevel.B_B, reason="issued")


def _api_with(
    initializer: Callable[[], None], template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Api, WorkerPool]]:
    gate = tmp_path / "gate"
    gate.mkdir()
    monkeypatch.setenv(slow_check.PAUSE_DIR, str(gate))  # the workers inherit it
    pool = WorkerPool(2, initializer=initializer)
    target = tmp_path / "evault.db"
    shutil.copyfile(template, target)
    try:
        verifier = Verifier(trust_bundle(), timeout=180, pool=pool)
        with _make_api(f"sqlite:///{target}", tmp_path, pdf_verifier=verifier) as api:
            yield api, pool
    finally:
        pool.close()


@pytest.fixture
def paused(
    request: pytest.FixtureRequest,
    sqlite_template: Path,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[Api, WorkerPool]]:
    """The API whose verification workers run ``request.param`` (a slow_check pause)."""
    yield from _api_with(request.param, sqlite_template, tmp_path, monkeypatch)


class Killer(threading.Thread):
    """Kills (SIGKILL) each worker that parks in ``gate``, up to ``count`` of them."""

    def __init__(self, gate: Path, pool: WorkerPool, count: int) -> None:
        super().__init__(daemon=True)
        self.gate, self.pool, self.count = gate / "paused", pool, count
        self.killed: list[int] = []
        self.problem: str | None = None

    def run(self) -> None:
        deadline = time.monotonic() + WAIT_BOUND
        while len(self.killed) < self.count:
            if time.monotonic() > deadline:
                self.problem = f"only {len(self.killed)} worker(s) parked"
                return
            pids = self._parked()
            for pid in pids[len(self.killed) :]:
                assert pid in self.pool.pids(), "the parked process is not a worker of the pool"
                os.kill(pid, signal.SIGKILL)
                self.killed.append(pid)
            time.sleep(0.02)

    def _parked(self) -> list[int]:
        try:
            return [int(p) for p in self.gate.read_text().split()]
        except (FileNotFoundError, ValueError):
            return []  # not yet parked, or its pid half-written


def _push(api: Api, n: int, pdf: bytes) -> httpx.Response:
    return api.client.post(
        "/v1/licenses",
        headers=api.dept("market"),
        files={"pdf": (f"license-{n}.pdf", pdf, "application/pdf")},
        data={"metadata": metadata(n).model_dump_json()},
    )


@pytest.mark.parametrize("paused", [slow_check.pause_first_marked_check], indirect=True)
def test_a_worker_killed_mid_verification_is_replaced_and_the_push_stored(
    paused: tuple[Api, WorkerPool], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    api, pool = paused
    before = row_counts(api)
    killer = Killer(tmp_path / "gate", pool, count=1)
    killer.start()
    with caplog.at_level(logging.WARNING, logger="evault.verify"):
        pushed = _push(api, 1, _marked_pdf(1))
    killer.join(timeout=WAIT_BOUND)
    assert killer.problem is None and len(killer.killed) == 1, killer.problem

    assert pushed.status_code == 201, pushed.text
    assert "ended by SIGKILL during a verification; trying once more" in caplog.text
    assert killer.killed[0] not in pool.pids()  # reaped and replaced
    stored = pushed.json()["license"]
    after = row_counts(api)  # acknowledged ⇒ present, once
    assert after["licenses"] == before["licenses"] + 1
    assert after["log_entries"] == before["log_entries"] + 1
    assert {blob.sha256 for blob in api.ctx.blobs.iter()} == {stored["sha256"]}

    assert _push(api, 2, license_pdf(2)).status_code == 201


@pytest.mark.parametrize("paused", [slow_check.pause_every_marked_check], indirect=True)
def test_a_worker_killed_on_every_try_is_a_clear_refusal_that_writes_nothing(
    paused: tuple[Api, WorkerPool], tmp_path: Path
) -> None:
    api, pool = paused
    before = row_counts(api)
    killer = Killer(tmp_path / "gate", pool, count=2)
    killer.start()
    refused = _push(api, 1, _marked_pdf(1))
    killer.join(timeout=WAIT_BOUND)
    assert killer.problem is None and len(killer.killed) == 2, killer.problem

    assert refused.status_code == 422, refused.text
    body = refused.json()
    assert body["type"] == "urn:evault:problem:intake-refused"
    assert body["report"]["indication"] == "INDETERMINATE"
    assert "the verification worker was ended by SIGKILL" in " ".join(
        body["report"]["signatures"][0]["reasons"]
        if body["report"].get("signatures")
        else body["report"]["reasons"]
    )
    assert row_counts(api) == before  # refused ⇒ absent
    assert list(api.ctx.blobs.iter()) == []
    assert not set(killer.killed) & set(pool.pids())

    assert _push(api, 2, license_pdf(2)).status_code == 201
