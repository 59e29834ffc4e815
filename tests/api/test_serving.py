"""``evault serve``'s workers: a socket of their own each (``--reuseport``), or one shared
socket over which persistent connections split evenly."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from api.serving import WORKER_HEADER, listening_socket
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]


def test_each_worker_can_bind_its_own_socket_to_the_same_port() -> None:
    first = listening_socket("127.0.0.1", 0)
    port = first.getsockname()[1]
    second = listening_socket("127.0.0.1", port)  # SO_REUSEPORT: no "address in use"
    try:
        assert second.getsockname() == ("127.0.0.1", port)
        with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
            assert client.getpeername()[1] == port
    finally:
        first.close()
        second.close()


def test_granian_not_installed_is_one_line_and_exit_2(monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from api.cli import build_app

    monkeypatch.setitem(sys.modules, "granian", None)  # as if not installed: import fails
    monkeypatch.setenv("EVAULT_MODE", "demo")
    result = CliRunner().invoke(build_app(), ["serve", "--server", "granian", "--port", "1"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "evault: --server granian needs granian: pip install 'evault[granian]'"
    ]


# --- connections split evenly over the workers of one shared socket -------------------


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, int]]:
    """``evault serve --workers 2 --worker-header`` on the demo's settings: its port and
    the supervisor's pid."""
    data = tmp_path_factory.mktemp("serve")
    port = free_port()
    env = dict(
        os.environ,
        EVAULT_MODE="demo",
        EVAULT_DATA_DIR=str(data),
        PYTHONPATH=str(ROOT),
        EVAULT_RATE_LIMIT_PER_MINUTE="100000",
    )
    log = (data / "serve.log").open("wb")
    command = ["serve", "--workers", "2", "--port", str(port), "--worker-header"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "api.cli", *command],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        _wait_until_both_serve(port, proc)
        yield port, proc.pid
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


@pytest.fixture
def two_workers(served: tuple[int, int]) -> int:
    return served[0]


def _wait_until_both_serve(port: int, proc: subprocess.Popen[bytes] | None) -> None:
    """Until each worker has answered once (a worker that has not started yet does not
    count, so the first answers may all come from the one that started first)."""
    deadline = time.monotonic() + 180
    seen: set[str] = set()
    while seen != {"0", "1"}:
        assert proc is None or proc.poll() is None, f"evault serve exited: {proc.returncode}"
        assert time.monotonic() < deadline, f"workers that answered: {seen}"
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz")
            answer = conn.getresponse()
            answer.read()
            seen.add(str(answer.getheader(WORKER_HEADER)))
            conn.close()
        except OSError:
            time.sleep(0.2)


class _Client:
    """A persistent HTTP connection that remembers which worker answers it."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.worker = ""

    def ask(self, *, close: bool = False) -> str:
        self.conn.request("GET", "/healthz", headers={"Connection": "close"} if close else {})
        answer = self.conn.getresponse()
        assert answer.status == 200
        answer.read()
        worker = str(answer.getheader(WORKER_HEADER))
        assert self.worker in ("", worker)  # a persistent connection stays on its worker
        self.worker = worker
        return worker


def _connect(port: int, n: int) -> list[_Client]:
    """``n`` persistent connections opened at once, each answered once."""
    clients = [_Client(port) for _ in range(n)]
    with ThreadPoolExecutor(n) as pool:
        list(pool.map(lambda c: c.ask(), clients))
    return clients


def test_persistent_connections_split_evenly_over_the_workers(two_workers: int) -> None:
    clients = _connect(two_workers, 16)
    split = Counter(c.worker for c in clients)
    assert set(split) == {"0", "1"}
    assert abs(split["0"] - split["1"]) <= 2, split  # 8/8, or 9/7 if a close was late
    for _ in range(3):  # they stay where they are
        for c in clients:
            c.ask()
    # Worker 0's connections end (the server closes them): the next ones go to it.
    for c in [c for c in clients if c.worker == "0"]:
        c.ask(close=True)
    clients = [c for c in clients if c.worker == "1"] + _connect(two_workers, 8)
    split = Counter(c.worker for c in clients)
    assert abs(split["0"] - split["1"]) <= 2, split
    for c in clients:
        c.conn.close()


def _workers_of(supervisor: int) -> list[int]:
    """The supervisor's worker processes (Linux /proc; not multiprocessing's helpers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if ppid == supervisor and b"spawn_main" in cmdline:
            found.append(int(entry.name))
    return found


def test_a_dead_worker_is_replaced_and_its_connections_not_waited_for(
    served: tuple[int, int],
) -> None:
    two_workers, supervisor = served
    workers = _workers_of(supervisor)
    assert len(workers) == 2
    clients = _connect(two_workers, 8)
    os.kill(workers[0], signal.SIGKILL)  # its connections die with it
    survivors = [c for c in clients if _still_answers(c)]
    assert 0 < len(survivors) < 8  # 4, unless a close of an earlier test was counted late
    # New connections are served at once, by the survivor or the replacement.
    fresh = _connect(two_workers, 8)
    assert all(c.worker in ("0", "1") for c in fresh)
    _wait_until_both_serve(two_workers, None)  # the replacement serves
    assert len(_workers_of(supervisor)) == 2
    for c in survivors + fresh:
        c.conn.close()


def _still_answers(client: _Client) -> bool:
    try:
        client.ask()
    except (OSError, http.client.HTTPException):
        return False
    return True
