"""``evault keys status`` and ``evault keys rotate``: key ids and counts only, never an ID."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.vault.licenses import citizen_id
from vault.cli import build_app
from vault.crypto import HolderCrypto, key_id
from vault.db import make_engine, make_session_factory
from vault.migrations import upgrade
from vault.services.holders import find_holder, get_or_create_holder

OLD_H, OLD_B = bytes(range(100, 132)), bytes(range(140, 172))
NEW_H, NEW_B = bytes(range(200, 232)), bytes(range(10, 42))
IDS = [citizen_id(40 + i) for i in range(5)]


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A database with five holders under the old keys; the settings name the new ones."""
    url = f"sqlite:///{tmp_path / 'keys.db'}"
    upgrade(url)
    engine = make_engine(url)
    with make_session_factory(engine)() as s:
        for n in IDS:
            get_or_create_holder(
                session=s, crypto=HolderCrypto(OLD_H, OLD_B), holder_id=n, name="名"
            )
        s.commit()
    engine.dispose()
    for key, value in {
        "EVAULT_MODE": "production",
        "EVAULT_DATA_DIR": str(tmp_path / "data"),
        "EVAULT_DATABASE_URL": url,
        "EVAULT_HOLDER_KEY": NEW_H.hex(),
        "EVAULT_BLIND_INDEX_KEY": NEW_B.hex(),
        "EVAULT_OLD_HOLDER_KEYS": OLD_H.hex(),
        "EVAULT_OLD_BLIND_INDEX_KEYS": OLD_B.hex(),
    }.items():
        monkeypatch.setenv(key, value)
    return url


def test_status_then_rotate_then_status(db: str) -> None:
    app, runner = build_app(), CliRunner()
    result = runner.invoke(app, ["keys", "status"])
    assert result.exit_code == 1, result.output
    assert result.stdout.splitlines() == [
        f"holder key {key_id(NEW_H)} (old: {key_id(OLD_H)})",
        f"blind-index key {key_id(NEW_B)} (old: {key_id(OLD_B)})",
        f"  5 holder rows: sealed {key_id(OLD_H)}, indexed {key_id(OLD_B)}",
        "5 of 5 holder rows still to re-seal: run `evault keys rotate`",
    ]

    result = runner.invoke(app, ["keys", "rotate", "--batch-size", "2"])
    assert result.exit_code == 0, result.output
    assert "re-sealed 5 holder rows in 3 batches" in result.stdout
    assert (
        "complete: all 5 holder rows are under the current keys; the old keys may be removed"
        in (result.stdout)
    )
    assert not any(n in result.output for n in IDS)

    result = runner.invoke(app, ["keys", "status", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["holders"], data["current"], data["remaining"], data["complete"]) == (
        5,
        5,
        0,
        True,
    )
    assert data["rows_by_keys"] == [
        {"holder_key_id": key_id(NEW_H), "blind_index_key_id": key_id(NEW_B), "rows": 5}
    ]
    engine = make_engine(db)
    with make_session_factory(engine)() as s:
        assert find_holder(session=s, crypto=HolderCrypto(NEW_H, NEW_B), holder_id=IDS[0])
    engine.dispose()


def test_rotation_without_the_old_key_fails_in_one_line(
    db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EVAULT_OLD_HOLDER_KEYS")
    result = CliRunner().invoke(build_app(), ["keys", "rotate", "--json"])
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"evault: holder row 1: stored id is encrypted under holder key {key_id(OLD_H)}, "
        "which is not configured (EVAULT_HOLDER_KEY or EVAULT_OLD_HOLDER_KEYS)"
    )
    status = CliRunner().invoke(build_app(), ["keys", "status"])
    assert "5 holder rows name a key that is not configured" in status.stdout


def test_production_has_no_default_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVAULT_MODE", "production")
    monkeypatch.setenv("EVAULT_DATA_DIR", str(tmp_path))
    for key in ("EVAULT_HOLDER_KEY", "EVAULT_BLIND_INDEX_KEY", "EVAULT_CONFIG"):
        monkeypatch.delenv(key, raising=False)
    result = CliRunner().invoke(build_app(), ["keys", "status"])
    assert result.exit_code == 1
    assert result.stderr.strip() == "evault: EVAULT_HOLDER_KEY is not set (required in production)"
    assert not (tmp_path / "keys").exists()
