"""``evault serve``'s workers each bind a listening socket of their own to one address."""

from __future__ import annotations

import socket
import sys

import pytest

from api.serving import listening_socket


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
