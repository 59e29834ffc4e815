"""``evault witness keygen`` and ``evault witness evidence``; ``serve``'s option checks."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import typer
from typer.testing import CliRunner

from signing.transparency import Checkpoint, LogSigner
from signing.transparency.cosignature import CosignatureSigner, CosignatureVerifier
from signing.transparency.merkle import MerkleTree, leaf_hash
from signing.transparency.witness import AddCheckpoint, WitnessRefusal
from tests.conftest import free_port
from vault.log.witness import WitnessService

ORIGIN = "vault.example.org/log"


def _app() -> typer.Typer:
    from api.cli import build_app

    return build_app()


def test_keygen_writes_a_private_key_and_prints_its_vkey(tmp_path: Path) -> None:
    out = tmp_path / "witness.pem"
    made = CliRunner().invoke(
        _app(), ["witness", "keygen", "--name", "w.example/1", "--out", str(out)]
    )
    assert made.exit_code == 0, made.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    verifier = CosignatureVerifier.from_vkey(made.output.strip())
    signer = CosignatureSigner.from_pem(out.read_bytes(), "w.example/1")
    assert signer.verifier().vkey() == verifier.vkey()
    again = CliRunner().invoke(
        _app(), ["witness", "keygen", "--name", "w.example/1", "--out", str(out)]
    )
    assert again.exit_code == 2 and "exists" in again.output
    bad = CliRunner().invoke(
        _app(), ["witness", "keygen", "--name", "a b", "--out", str(tmp_path / "x")]
    )
    assert bad.exit_code == 2 and "--name" in bad.output


def test_serve_refuses_bad_options_before_listening(tmp_path: Path) -> None:
    key = tmp_path / "witness.pem"
    key.write_bytes(CosignatureSigner.generate("w.example/1").private_pem())
    witness_vkey = CosignatureSigner.generate("w.example/1").verifier().vkey()
    base = ["witness", "serve", "--name", "w.example/1", "--state", str(tmp_path / "s.db")]
    not_a_log_key = CliRunner().invoke(_app(), [*base, "--key", str(key), "--log", witness_vkey])
    assert not_a_log_key.exit_code == 2 and "--log" in not_a_log_key.output
    log_vkey = LogSigner.generate(ORIGIN).verifier().vkey()
    no_key = CliRunner().invoke(
        _app(), [*base, "--key", str(tmp_path / "none.pem"), "--log", log_vkey]
    )
    assert no_key.exit_code == 2 and "--key" in no_key.output


def test_evidence_lists_a_fork(tmp_path: Path) -> None:
    log_key = LogSigner.generate(ORIGIN)
    state = tmp_path / "state.db"
    service = WitnessService(
        db_path=state,
        signer=CosignatureSigner.generate("w.example/1"),
        logs={ORIGIN: log_key.verifier()},
    )
    for prefix in (b"a", b"b"):
        tree = MerkleTree()
        for i in range(3):
            tree.append_hash(leaf_hash(prefix + bytes([i])))
        note = log_key.sign(Checkpoint(origin=ORIGIN, size=3, root_hash=tree.root()))
        old = 0 if prefix == b"a" else 3
        try:
            service.add_checkpoint(AddCheckpoint(old_size=old, proof=(), checkpoint=note).body())
        except WitnessRefusal:
            assert prefix == b"b"
    shown = CliRunner().invoke(_app(), ["witness", "evidence", "--state", str(state)])
    assert shown.exit_code == 0, shown.output
    (record,) = json.loads(shown.output)
    assert record["origin"] == ORIGIN and record["reason"].startswith("fork")
    missing = CliRunner().invoke(
        _app(), ["witness", "evidence", "--state", str(tmp_path / "no.db")]
    )
    assert missing.exit_code == 2 and "no such file" in missing.output


def test_serve_runs_a_witness_that_cosigns(tmp_path: Path) -> None:
    """``evault witness serve`` as a process of its own, asked over HTTP on loopback."""
    import os
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    from signing.transparency.cosignature import verify_cosignatures

    key = tmp_path / "witness.pem"
    key.write_bytes(CosignatureSigner.generate("w.example/1").private_pem())
    log_key = LogSigner.generate(ORIGIN)
    (tmp_path / "log.vkey").write_text(log_key.verifier().vkey())
    port = free_port()
    evault = Path(sys.executable).with_name("evault")
    args = [str(evault), "witness", "serve", "--name", "w.example/1", "--key", str(key)]
    args += ["--log", str(tmp_path / "log.vkey"), "--state", str(tmp_path / "state.db")]
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVAULT_")}
    process = subprocess.Popen(
        [*args, "--port", str(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        for _ in range(300):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            time.sleep(0.05)
        tree = MerkleTree()
        tree.append_hash(leaf_hash(b"first"))
        note = log_key.sign(Checkpoint(origin=ORIGIN, size=1, root_hash=tree.root()))
        body = AddCheckpoint(old_size=0, proof=(), checkpoint=note).body()
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/add-checkpoint", data=body, method="POST"
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            lines = answer.read().decode("utf-8")
        witness = CosignatureSigner.from_pem(key.read_bytes(), "w.example/1").verifier()
        verify_cosignatures(note + lines, [witness], 1)
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert (tmp_path / "state.db").is_file()
