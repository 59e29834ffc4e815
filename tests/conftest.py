"""Shared fixtures.

A service that CI must have fails the test under CI=true when missing, and skips elsewhere.
"""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus" / "dss"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
POSTGRES_URL = os.environ.get(
    "EVAULT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def require(available: bool, what: str) -> None:
    """Skip with a visible reason when ``what`` is missing; fail instead under CI=true."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"required under CI=true but missing: {what}", pytrace=False)
    pytest.skip(f"missing here: {what}")


def require_tool(name: str) -> str:
    path = shutil.which(name)
    require(path is not None, f"the {name} command")
    assert path is not None
    return path


def free_ports(count: int) -> list[int]:
    """``count`` distinct loopback ports that were free a moment ago.

    Every socket stays bound until all are picked, so the ports differ from one another;
    a server of a test takes each port from here, never as a neighbour of another one
    (``port + 1`` may be any other process's).
    """
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def free_port() -> int:
    """One loopback port that was free a moment ago."""
    return free_ports(1)[0]


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    require((CORPUS / "expected.json").is_file(), f"the DSS corpus at {CORPUS}")
    return CORPUS
