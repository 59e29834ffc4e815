"""End to end: a vault whose checkpoints a real witness cosigns over HTTP (as in the demo).

The witness is ``evault witness``'s own server (uvicorn on a loopback port, SQLite state);
the vault submits each new checkpoint to it, serves the cosigned checkpoint, and its copies
carry it; ``evault verify --log-key --witness-key`` passes, and fails with a wrong witness
key or when the copy's checkpoint lacks the cosignature.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from api.witness_cli import demo_witness, start_in_thread
from signing.transparency.cosignature import (
    CosignatureSigner,
    CosignatureVerifier,
    verify_cosignatures,
)
from tests.api.conftest import Api, _make_api
from tests.conftest import free_port
from tests.vault.conftest import db_url, postgres_schema, sqlite_template  # noqa: F401
from tests.vault.licenses import trust_bundle
from vault.cli import build_app
from vault.log.keys import load_log_key
from vault.settings import load_settings

USE = {"purpose": "住房保障资格审核", "case_no": "ZF-2026-001"}


@pytest.fixture
def witnessed(db_url: str, tmp_path: Path) -> Iterator[tuple[Api, Any, str]]:  # noqa: F811
    """The API (SQLite and PostgreSQL) with one witness, served on a loopback port."""
    data = tmp_path / "data"
    settings = load_settings(mode="demo", data_dir=data, public_base_url="http://testserver")
    port = free_port()
    service, spec = demo_witness(data, load_log_key(settings).verifier().vkey(), "127.0.0.1", port)
    server = start_in_thread(service, "127.0.0.1", port)
    try:
        with _make_api(db_url, tmp_path, witnesses=[spec]) as api:
            yield api, server, spec.split()[1]
    finally:
        server.should_exit = True


def _copy(api: Api, n: int) -> bytes:
    license_id = api.push(n).json()["license"]["id"]
    made = api.client.post(
        f"/v1/licenses/{license_id}/copies", headers=api.dept("housing"), json=USE
    )
    assert made.status_code == 201, made.text
    copy_id = made.json()["id"]
    return api.client.get(f"/v1/copies/{copy_id}/pdf", headers=api.dept("housing")).content


def _verify(tmp_path: Path, pdf: bytes, *extra: str) -> Any:
    copy_file = tmp_path / "copy.pdf"
    copy_file.write_bytes(pdf)
    bundle = tmp_path / "bundle.json"
    bundle.write_bytes(trust_bundle().dump())
    args = ["verify", str(copy_file), "--trust", str(bundle), *extra]
    return CliRunner().invoke(build_app(), args)


def test_copies_carry_the_witness_cosignature_and_verify_requires_it(
    witnessed: tuple[Api, Any, str], tmp_path: Path
) -> None:
    api, server, witness_vkey = witnessed
    log_vkey = load_log_key(api.ctx.settings).verifier().vkey()
    pdf = _copy(api, 1)
    ok = _verify(tmp_path, pdf, "--log-key", log_vkey, "--witness-key", witness_vkey)
    assert ok.exit_code == 0, ok.output
    assert "cosigned by witness.demo.evault/w1" in ok.output
    as_json = _verify(tmp_path, pdf, "--log-key", log_vkey, "--witness-key", witness_vkey, "--json")
    assert json.loads(as_json.output)["log_proof"]["cosigned_by"] == ["witness.demo.evault/w1"]

    served = api.client.get("/v1/log/checkpoint").text
    verify_cosignatures(served, [CosignatureVerifier.from_vkey(witness_vkey)], 1)

    wrong = CosignatureSigner.generate("witness.demo.evault/w1").verifier().vkey()
    bad = _verify(tmp_path, pdf, "--log-key", log_vkey, "--witness-key", wrong)
    assert bad.exit_code == 1
    assert "none by witness.demo.evault/w1" in bad.output

    # The witness goes away: the vault still makes copies, without the cosignature, and a
    # verifier that requires it says so.
    server.should_exit = True
    _wait_closed(witnessed_port(witness_vkey, api))
    unwitnessed = _copy(api, 2)
    plain = _verify(tmp_path, unwitnessed, "--log-key", log_vkey)
    assert plain.exit_code == 0, plain.output
    missing = _verify(tmp_path, unwitnessed, "--log-key", log_vkey, "--witness-key", witness_vkey)
    assert missing.exit_code == 1
    assert "0 of the 1 required witness cosignature(s) verify" in missing.output


def witnessed_port(vkey: str, api: Api) -> int:
    (spec,) = api.ctx.settings.witnesses
    assert spec.endswith(vkey)
    return int(spec.split()[0].rsplit(":", 1)[1])


def _wait_closed(port: int) -> None:
    """Until nothing listens on ``port`` any more (the server stops within a second)."""
    import time

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) != 0:
                return
        time.sleep(0.01)
    raise AssertionError("the witness did not stop")


def test_verify_usage_errors(tmp_path: Path) -> None:
    witness = CosignatureSigner.generate("w.example/1").verifier().vkey()
    no_log = _verify(tmp_path, b"%PDF-1.7", "--witness-key", witness)
    assert no_log.exit_code == 2 and "--witness-key needs --log-key" in no_log.output
    log_vkey = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
    not_witness = _verify(tmp_path, b"%PDF-1.7", "--log-key", log_vkey, "--witness-key", log_vkey)
    assert not_witness.exit_code == 2 and "signature type 0x04" in not_witness.output
    too_many = _verify(
        tmp_path, b"%PDF-1.7", "--log-key", log_vkey, "--witness-key", witness, "--witnesses", "2"
    )
    assert too_many.exit_code == 2 and "between 1 and 1" in too_many.output


def test_the_public_checkpoint_is_cosigned_and_the_witness_serves_it(
    witnessed: tuple[Api, Any, str],
) -> None:
    import urllib.request

    from vault.log.witness import origin_hash

    api, _server, witness_vkey = witnessed
    assert api.push(1).status_code == 201
    served = api.client.get("/log/checkpoint")
    assert served.status_code == 200
    witness = CosignatureVerifier.from_vkey(witness_vkey)
    (cosignature,) = verify_cosignatures(served.text, [witness], 1)
    assert cosignature.name == "witness.demo.evault/w1"
    log = load_log_key(api.ctx.settings).verifier()
    origin = log.verify(served.text).checkpoint.origin
    port = witnessed_port(witness_vkey, api)
    url = f"http://127.0.0.1:{port}/{origin_hash(origin)}/checkpoint"
    with urllib.request.urlopen(url, timeout=10) as answer:
        monitored = answer.read().decode("utf-8")
    assert log.verify(monitored).checkpoint == log.verify(served.text).checkpoint
