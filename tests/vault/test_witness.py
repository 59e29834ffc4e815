"""The witness (C2SP tlog-witness): real SQLite state, real signatures, its HTTP interface.

A log is a real Merkle tree signed with a real log key; a fork is a second tree with other
leaves signed by the same key. Each refusal is checked for the status the spec gives.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.witness import create_witness_app
from signing.transparency import Checkpoint, LogSigner, SignedNote
from signing.transparency.cosignature import CosignatureSigner, verify_cosignatures
from signing.transparency.merkle import MerkleTree, leaf_hash
from signing.transparency.witness import AddCheckpoint, Refusal, WitnessRefusal
from vault.log.witness import WitnessService, origin_hash

ORIGIN = "vault.example.org/log"


class Log:
    """A log: leaves, its key, and requests made from them."""

    def __init__(self, key: LogSigner, prefix: bytes = b"entry") -> None:
        self.key = key
        self.tree = MerkleTree()
        self.prefix = prefix

    def grow(self, n: int) -> Log:
        for _ in range(n):
            self.tree.append_hash(leaf_hash(self.prefix + str(self.tree.size).encode()))
        return self

    def note(self, size: int | None = None) -> str:
        size = self.tree.size if size is None else size
        return self.key.sign(Checkpoint(origin=ORIGIN, size=size, root_hash=self.tree.root(size)))

    def request(self, old: int, size: int | None = None) -> bytes:
        size = self.tree.size if size is None else size
        proof = tuple(self.tree.consistency_proof(old, size))
        return AddCheckpoint(old_size=old, proof=proof, checkpoint=self.note(size)).body()


@pytest.fixture
def log_key() -> LogSigner:
    return LogSigner.generate(ORIGIN)


@pytest.fixture
def witness(tmp_path: Path, log_key: LogSigner) -> WitnessService:
    signer = CosignatureSigner.generate("witness.example.org/w1")
    return WitnessService(
        db_path=tmp_path / "witness.db", signer=signer, logs={ORIGIN: log_key.verifier()}
    )


def _refused(witness: WitnessService, body: bytes) -> WitnessRefusal:
    with pytest.raises(WitnessRefusal) as caught:
        witness.add_checkpoint(body)
    return caught.value


def test_cosigns_the_first_checkpoint_and_each_consistent_one(
    witness: WitnessService, log_key: LogSigner, tmp_path: Path
) -> None:
    log = Log(log_key).grow(5)
    answer = witness.add_checkpoint(log.request(0))
    cosigned = log.note() + answer
    (found,) = verify_cosignatures(cosigned, [witness.signer.verifier()], 1)
    assert found.name == "witness.example.org/w1" and found.timestamp > 0
    log.grow(7)
    witness.add_checkpoint(log.request(5))
    assert witness.latest(ORIGIN).size == 12  # type: ignore[union-attr]
    witness.add_checkpoint(log.request(12))  # the same checkpoint again: cosigned again
    # Durable: another service on the same file knows the size.
    again = WitnessService(
        db_path=tmp_path / "witness.db",
        signer=witness.signer,
        logs={ORIGIN: log_key.verifier()},
    )
    assert _refused(again, log.request(5)).size == 12


def test_going_backwards_is_refused_with_the_witness_size(
    witness: WitnessService, log_key: LogSigner
) -> None:
    log = Log(log_key).grow(10)
    witness.add_checkpoint(log.request(0))
    stale = _refused(witness, log.request(0, 6))
    assert stale.kind is Refusal.CONFLICT and stale.size == 10
    assert witness.evidence() == []  # a stale client is not evidence against the log


def test_a_fork_of_the_same_size_is_refused_and_reported(
    witness: WitnessService, log_key: LogSigner, caplog: pytest.LogCaptureFixture
) -> None:
    log = Log(log_key).grow(8)
    witness.add_checkpoint(log.request(0))
    fork = Log(log_key, prefix=b"rewritten").grow(8)
    with caplog.at_level(logging.ERROR, logger="evault.witness"):
        refusal = _refused(witness, fork.request(8))
    assert refusal.kind is Refusal.INCONSISTENT and "fork" in str(refusal)
    assert any("misbehaves" in r.getMessage() for r in caplog.records)
    (evidence,) = witness.evidence()
    assert evidence.reason.startswith("fork: two checkpoints of size 8")
    assert evidence.cosigned_note is not None and log.note() in evidence.cosigned_note
    assert fork.note() in evidence.offered_request
    # Offered with a stale old size, the fork gets 409 but is still kept as evidence.
    assert _refused(witness, fork.request(0)).kind is Refusal.CONFLICT
    assert len(witness.evidence()) == 2
    assert witness.latest(ORIGIN).root_hash == log.tree.root()  # type: ignore[union-attr]


def test_a_bad_consistency_proof_is_refused(witness: WitnessService, log_key: LogSigner) -> None:
    log = Log(log_key).grow(6)
    witness.add_checkpoint(log.request(0))
    fork = Log(log_key, prefix=b"other").grow(9)  # another history, a proof from its own 6
    refusal = _refused(witness, fork.request(6))
    assert refusal.kind is Refusal.INCONSISTENT
    assert witness.evidence()[0].reason.startswith("inconsistent")
    log.grow(3)
    no_proof = AddCheckpoint(old_size=6, proof=(), checkpoint=log.note()).body()
    assert _refused(witness, no_proof).kind is Refusal.INCONSISTENT
    same = AddCheckpoint(old_size=6, proof=(bytes(32),), checkpoint=log.note(6)).body()
    assert "must be empty" in str(_refused(witness, same))
    assert witness.latest(ORIGIN).size == 6  # type: ignore[union-attr]


def test_signatures_origins_and_malformed_requests(
    witness: WitnessService, log_key: LogSigner
) -> None:
    log = Log(log_key).grow(3)
    impostor = Log(LogSigner.generate(ORIGIN)).grow(3)  # same name, another key: no signature
    assert _refused(witness, impostor.request(0)).kind is Refusal.BAD_SIGNATURE
    forged = log.note().replace("\n3\n", "\n4\n", 1)
    body = AddCheckpoint(old_size=0, proof=(), checkpoint=forged).body()
    assert _refused(witness, body).kind is Refusal.BAD_SIGNATURE
    other = LogSigner.generate("other.example.org/log")
    unknown = other.sign(Checkpoint(origin="other.example.org/log", size=0, root_hash=bytes(32)))
    body = AddCheckpoint(old_size=0, proof=(), checkpoint=unknown).body()
    assert _refused(witness, body).kind is Refusal.UNKNOWN_LOG
    assert _refused(witness, log.request(0).replace(b"old 0", b"old 4")).kind is Refusal.MALFORMED
    assert _refused(witness, b"old 01\n\n" + log.note().encode()).kind is Refusal.MALFORMED
    assert _refused(witness, b"no header").kind is Refusal.MALFORMED
    empty = log_key.sign(Checkpoint(origin=ORIGIN, size=0, root_hash=bytes(32)))
    body = AddCheckpoint(old_size=0, proof=(), checkpoint=empty).body()
    assert _refused(witness, body).kind is Refusal.INCONSISTENT  # size 0 needs the empty root
    assert witness.latest(ORIGIN) is None


def test_http_interface(witness: WitnessService, log_key: LogSigner) -> None:
    log = Log(log_key).grow(4)
    client = TestClient(create_witness_app(witness))
    monitor = f"/{origin_hash(ORIGIN)}/checkpoint"
    assert client.get(monitor).status_code == 404
    ok = client.post("/add-checkpoint", content=log.request(0))
    assert ok.status_code == 200 and ok.text.startswith("— witness.example.org/w1 ")
    log.grow(2)
    conflict = client.post("/add-checkpoint", content=log.request(0))
    assert conflict.status_code == 409
    assert conflict.headers["content-type"] == "text/x.tlog.size"
    assert conflict.text == "4\n"
    stranger = CosignatureSigner.generate("someone.example/w9")
    with_stranger = SignedNote.parse(log.note())
    extra = stranger.cosign(with_stranger.text, 1)  # an unknown key's line: ignored, not kept
    body = AddCheckpoint(
        old_size=4,
        proof=tuple(log.tree.consistency_proof(4)),
        checkpoint=with_stranger.with_signatures((extra,)).format(),
    ).body()
    assert client.post("/add-checkpoint", content=body).status_code == 200
    fork = Log(log_key, prefix=b"x").grow(6)
    assert client.post("/add-checkpoint", content=fork.request(6)).status_code == 422
    assert client.post("/add-checkpoint", content=b"old x\n\n").status_code == 400
    huge = client.post("/add-checkpoint", content=b"old 0\n\n" + b"x" * (1 << 17))
    assert huge.status_code == 413
    served = client.get(monitor)
    assert served.status_code == 200 and served.text.startswith(log.note().split("\n\n")[0])
    assert served.text.count("\n— ") == 2  # the log's signature and the cosignature
    verify_cosignatures(served.text, [witness.signer.verifier()], 1)
    log_key.verifier().verify(served.text, origin=ORIGIN)


@pytest.fixture
def served(witness: WitnessService) -> Iterator[str]:
    """The witness on a loopback port (its real uvicorn server); its URL prefix."""
    import socket

    from api.witness_cli import start_in_thread

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = start_in_thread(witness, "127.0.0.1", port)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True


def test_the_vault_client_follows_409_and_knows_when_the_witness_is_ahead(
    witness: WitnessService, log_key: LogSigner, served: str
) -> None:
    import socket

    from vault.log.witnessing import WitnessAhead, WitnessClient, WitnessFailed

    spec = f"{served} {witness.signer.verifier().vkey()}"
    first, second = WitnessClient.parse(spec), WitnessClient.parse(spec)  # two workers
    log = Log(log_key).grow(5)
    line = first.cosign(log.note(), 5, lambda old: log.tree.consistency_proof(old, 5))
    assert line.name == "witness.example.org/w1" and first.known_size == 5
    with pytest.raises(WitnessAhead) as ahead:  # second knows nothing: 409, and 5 > 3
        second.cosign(log.note(3), 3, lambda old: log.tree.consistency_proof(old, 3))
    assert ahead.value.size == 5 and second.known_size == 5
    log.grow(4)
    second.cosign(log.note(), 9, lambda old: log.tree.consistency_proof(old, 9))
    # first still thinks 5: a 409 names 9, and it resends from there.
    log.grow(1)
    first.cosign(log.note(), 10, lambda old: log.tree.consistency_proof(old, 10))
    assert witness.latest(ORIGIN).size == 10  # type: ignore[union-attr]
    fork = Log(log_key, prefix=b"fork").grow(10)
    with pytest.raises(WitnessFailed, match=r"refused \(422\)"):
        first.cosign(fork.note(), 10, lambda old: fork.tree.consistency_proof(old, 10))
    other = WitnessClient.parse(
        f"{served} {CosignatureSigner.generate('x.example/w').verifier().vkey()}"
    )
    log.grow(1)
    with pytest.raises(WitnessFailed, match="no cosignature by its key"):
        other.cosign(log.note(), 11, lambda old: log.tree.consistency_proof(old, 11))
    with socket.socket() as closed:  # bound, not listening: connections are refused
        closed.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{closed.getsockname()[1]}"
        down = WitnessClient.parse(f"{url} {witness.signer.verifier().vkey()}", 1.0)
        with pytest.raises(WitnessFailed, match="is unreachable"):
            down.cosign(log.note(), 11, lambda old: log.tree.consistency_proof(old, 11))
    with pytest.raises(WitnessFailed, match="was unreachable: not asked for now"):
        down.cosign(log.note(), 11, lambda old: log.tree.consistency_proof(old, 11))


def test_an_unwritable_state_is_a_503_and_nothing_is_cosigned(
    witness: WitnessService, log_key: LogSigner, tmp_path: Path
) -> None:
    import sqlite3

    log = Log(log_key).grow(2)
    impatient = WitnessService(
        db_path=tmp_path / "witness.db",
        signer=witness.signer,
        logs={ORIGIN: log_key.verifier()},
        busy_timeout=0.1,
    )
    client = TestClient(create_witness_app(impatient))
    other = sqlite3.connect(tmp_path / "witness.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another writer holds the lock
    answer = client.post("/add-checkpoint", content=log.request(0))
    other.execute("ROLLBACK")
    other.close()
    assert answer.status_code == 503 and answer.headers["retry-after"] == "30"
    assert witness.latest(ORIGIN) is None
