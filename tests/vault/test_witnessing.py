"""The vault's side of witnessing over a real database (SQLite and PostgreSQL) and a real
witness served on loopback: requests that waited their turn share one round trip."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from api.witness import create_witness_app
from signing.transparency import LogSigner
from signing.transparency.cosignature import CosignatureSigner, verify_cosignatures
from vault.log.append import append_event
from vault.log.checkpoints import latest_checkpoint, make_checkpoint
from vault.log.witness import WitnessService
from vault.log.witnessing import WitnessClient, witness_latest_and_commit

ORIGIN = "vault.example.org/log"


class _Counted:
    """The witness's own ASGI app, counting the add-checkpoint requests it receives."""

    def __init__(self, app: Any) -> None:
        self.app, self.posts = app, 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/add-checkpoint":
            self.posts += 1
        await self.app(scope, receive, send)


@pytest.fixture
def witness(tmp_path: Path) -> Iterator[tuple[WitnessService, _Counted, str, LogSigner]]:
    import uvicorn

    log_key = LogSigner.generate(ORIGIN)
    service = WitnessService(
        db_path=tmp_path / "witness.db",
        signer=CosignatureSigner.generate("witness.example.org/w1"),
        logs={ORIGIN: log_key.verifier()},
    )
    counted = _Counted(create_witness_app(service))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    config = uvicorn.Config(counted, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        assert thread.is_alive()
        threading.Event().wait(0.01)
    yield service, counted, f"http://127.0.0.1:{port}", log_key
    server.should_exit = True
    thread.join(timeout=10)


def _append_and_checkpoint(sessions: sessionmaker[Session], log_key: LogSigner, n: int) -> int:
    with sessions() as session:
        for i in range(n):
            append_event(session=session, event_type="license.read", payload={"n": i})
        session.commit()
        row = make_checkpoint(session=session, log_key=log_key)
        session.commit()
        return row.tree_size


def test_requests_that_waited_share_the_round_trip(
    sessions: sessionmaker[Session], witness: tuple[WitnessService, _Counted, str, LogSigner]
) -> None:
    service, counted, url, log_key = witness
    clients = (WitnessClient.parse(f"{url} {service.signer.verifier().vkey()}"),)
    lock = threading.Lock()
    results: list[Any] = []

    def cosign() -> None:
        with sessions() as session:
            results.append(witness_latest_and_commit(session=session, clients=clients, lock=lock))

    _append_and_checkpoint(sessions, log_key, 2)
    with lock:  # both requests wait for their turn, each after its checkpoint was stored
        first = threading.Thread(target=cosign)
        first.start()
        size = _append_and_checkpoint(sessions, log_key, 1)
        second = threading.Thread(target=cosign)
        second.start()
    first.join(timeout=60)
    second.join(timeout=60)
    assert [row.tree_size for row in results] == [size, size]
    assert counted.posts == 1  # the second found the newest checkpoint already cosigned
    witness_key = service.signer.verifier()
    for row in results:
        verify_cosignatures(row.signed_note, [witness_key], 1)
    with sessions() as session:
        stored = latest_checkpoint(session=session)
        assert stored is not None and stored.signed_note == results[0].signed_note
