"""``evault witness``: run a transparency-log witness (C2SP tlog-witness), make its key.

- ``evault witness keygen --name NAME --out KEY.pem``: a new Ed25519 witness key (0600);
  prints its vkey (signature type 0x04), the line logs and verifiers configure.
- ``evault witness serve --name NAME --key KEY.pem --log VKEY [--log VKEY...] --state DB``:
  serve ``POST /add-checkpoint`` and ``GET /<origin hash>/checkpoint``.
- ``evault witness evidence --state DB``: the refused checkpoints that prove a log forked.

Also :func:`start_in_thread`, which the demo uses to run one witness beside the vault.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

import typer

from vault.cli.output import EXIT_USAGE, fail, print_json

__all__ = ["DEMO_WITNESS_NAME", "app", "demo_witness", "load_witness", "start_in_thread"]

#: The demo witness's name; its key and state live in ``<demo data>/witness/``.
DEMO_WITNESS_NAME = "witness.demo.evault/w1"


def _read_key(path: Path, name: str) -> Any:
    from signing.errors import KeySourceError, LogFormatError
    from signing.transparency.cosignature import CosignatureSigner

    try:
        return CosignatureSigner.from_pem(path.read_bytes(), name)
    except OSError as exc:
        fail(f"--key {path}: {exc.strerror or exc}", EXIT_USAGE)
    except (KeySourceError, LogFormatError) as exc:
        fail(f"--key {path}: {exc}", EXIT_USAGE)


def _log_keys(values: list[str]) -> dict[str, Any]:
    """origin -> log key, from vkeys (or files holding one) whose name is the origin."""
    from signing.errors import KeySourceError, LogFormatError
    from signing.transparency import LogVerifier

    logs: dict[str, Any] = {}
    for value in values:
        path = Path(value)
        try:
            text = path.read_text(encoding="utf-8") if path.is_file() else value
            verifier = LogVerifier.from_vkey(text)
        except (KeySourceError, LogFormatError, OSError, UnicodeDecodeError) as exc:
            fail(f"--log {value}: {exc}", EXIT_USAGE)
        assert verifier.name is not None
        logs[verifier.name] = verifier
    if not logs:
        fail(
            "give the logs to witness: --log <log vkey> (its name is the log's origin)", EXIT_USAGE
        )
    return logs


def load_witness(*, name: str, key: Path, logs: list[str], state: Path) -> Any:
    """The :class:`vault.log.witness.WitnessService` of the command's options (exit 2 if bad)."""
    from vault.errors import ConfigError
    from vault.log.witness import WitnessService

    signer = _read_key(key, name)
    try:
        return WitnessService(db_path=state, signer=signer, logs=_log_keys(logs))
    except ConfigError as exc:
        fail(str(exc), EXIT_USAGE)


def demo_witness(data_dir: Path, log_vkey: str, host: str, port: int) -> tuple[Any, str]:
    """The demo's witness (key made once in ``data_dir/witness``) and its settings entry.

    Also writes ``data_dir/witness/witness.vkey`` for ``evault verify --witness-key``.
    """
    from signing.transparency import LogVerifier
    from signing.transparency.cosignature import CosignatureSigner
    from vault.log.witness import WitnessService

    folder = data_dir / "witness"
    folder.mkdir(parents=True, exist_ok=True)
    key_path = folder / "witness-key.pem"
    if not key_path.exists():
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(CosignatureSigner.generate(DEMO_WITNESS_NAME).private_pem())
    signer = CosignatureSigner.from_pem(key_path.read_bytes(), DEMO_WITNESS_NAME)
    log = LogVerifier.from_vkey(log_vkey)
    assert log.name is not None
    service = WitnessService(db_path=folder / "witness.db", signer=signer, logs={log.name: log})
    vkey = signer.verifier().vkey()
    (folder / "witness.vkey").write_text(vkey + "\n", encoding="utf-8")
    return service, f"http://{host}:{port} {vkey}"


def start_in_thread(service: Any, host: str, port: int) -> Any:
    """Serve ``service`` with uvicorn on a daemon thread; the server, once it listens."""
    import uvicorn

    from api.witness import create_witness_app

    config = uvicorn.Config(
        create_witness_app(service), host=host, port=port, access_log=False, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="evault-witness", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    if not server.started:
        fail(f"the witness could not listen on {host}:{port} (in use? evault demo --witness-port)")
    return server


app = typer.Typer(help="A transparency-log witness (C2SP tlog-witness).")


@app.command("keygen")
def keygen(
    name: str = typer.Option(..., "--name", help="the witness's name, e.g. example.org/w1"),
    out: Path = typer.Option(..., "--out", help="where to write the private key (PEM)"),
) -> None:
    """Make a witness key; print its vkey (give it to the logs and to verifiers)."""
    from signing.errors import LogFormatError
    from signing.transparency.cosignature import CosignatureSigner

    try:
        signer = CosignatureSigner.generate(name)
    except LogFormatError as exc:
        fail(f"--name: {exc}", EXIT_USAGE)
    try:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        fail(f"--out {out}: {exc.strerror or exc}", EXIT_USAGE)
    with os.fdopen(fd, "wb") as handle:
        handle.write(signer.private_pem())
    typer.echo(signer.verifier().vkey())


@app.command("serve")
def serve(
    name: str = typer.Option(..., "--name", help="the witness's name (as in its vkey)"),
    key: Path = typer.Option(..., "--key", help="the witness's Ed25519 key (PEM)"),
    log: list[str] = typer.Option(..., "--log", help="a log's vkey (or file); repeatable"),
    state: Path = typer.Option(..., "--state", help="SQLite file of what it cosigned"),
    host: str = typer.Option("127.0.0.1", "--host", help="address to listen on"),
    port: int = typer.Option(8100, "--port", help="TCP port"),
) -> None:
    """Serve POST /add-checkpoint and GET /<origin hash>/checkpoint."""
    import uvicorn

    from api.witness import create_witness_app

    service = load_witness(name=name, key=key, logs=log, state=state)
    typer.echo(f"witness {service.signer.verifier().vkey()} on http://{host}:{port}")
    uvicorn.run(create_witness_app(service), host=host, port=port, access_log=False)


@app.command("evidence")
def evidence(
    state: Path = typer.Option(..., "--state", help="the witness's SQLite file"),
) -> None:
    """Print the stored evidence of forks and inconsistent checkpoints (JSON)."""
    from dataclasses import asdict

    from vault.errors import ConfigError
    from vault.log.witness import read_evidence

    if not state.is_file():
        fail(f"--state {state}: no such file", EXIT_USAGE)
    try:
        found = read_evidence(state)
    except ConfigError as exc:
        fail(str(exc))
    print_json([asdict(e) for e in found])
