"""A second vault over a restored database and blob store, and the CLI against either
(backup, restore and archive tests)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from tests.api.conftest import _LazyRenderer
from tests.vault.licenses import verifier
from vault.bootstrap import open_vault
from vault.cli import build_app
from vault.settings import load_settings

__all__ = ["cli_env", "restored_client", "run_cli"]

runner = CliRunner()


def cli_env(tmp_path: Path, url: str, blob_dir: Path | None = None) -> dict[str, str]:
    """The environment of a demo-mode CLI on ``url``, keys in ``tmp_path/data``."""
    env = {
        "EVAULT_MODE": "demo",
        "EVAULT_DATA_DIR": str(tmp_path / "data"),
        "EVAULT_DATABASE_URL": url,
        "EVAULT_PUBLIC_BASE_URL": "http://testserver",
    }
    if blob_dir is not None:
        env["EVAULT_BLOB_DIR"] = str(blob_dir)
    return env


def run_cli(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = runner.invoke(build_app(), list(args), env=env)
    return result.exit_code, result.output


@contextlib.contextmanager
def restored_client(tmp_path: Path, url: str, blob_dir: Path) -> Iterator[Any]:
    """The API (``.client``, ``.ctx``) over ``url`` and ``blob_dir``, keys in tmp_path/data."""
    settings = load_settings(
        mode="demo",
        data_dir=tmp_path / "data",
        database_url=url,
        blob_dir=blob_dir,
        public_base_url="http://testserver",
    )
    opened = open_vault(settings, verifier=verifier(), upgrade=False)
    vault = SimpleNamespace(
        engine=opened.engine,
        sessions=opened.sessions,
        blobs=opened.blobs,
        crypto=opened.crypto,
        verifier=opened.verifier,
        copy_renderer=_LazyRenderer(),
    )
    app = create_app(settings, vault=vault)
    with TestClient(app) as client:
        yield SimpleNamespace(client=client, ctx=app.state.ctx)
    opened.close()
