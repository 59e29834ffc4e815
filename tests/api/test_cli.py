"""``evault demo``, ``evault dev-token`` and ``evault dept add`` through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.cli import build_app

runner = CliRunner()


def _app() -> typer.Typer:
    return build_app()


def test_demo_twice_reuses_what_is_there(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("EVAULT_MODE", "EVAULT_DATA_DIR", "EVAULT_DATABASE_URL", "EVAULT_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    data = tmp_path / "demo"
    first = runner.invoke(_app(), ["demo", "--data", str(data), "--no-serve", "--port", "8123"])
    assert first.exit_code == 0, first.output
    assert "http://127.0.0.1:8123" in first.output
    doc = json.loads((data / "demo-credentials.json").read_text())
    assert doc["base_url"] == "http://127.0.0.1:8123"
    assert {d["name"] for d in doc["departments"]} >= {"福州市公安局", "福州市住房和城乡建设局"}
    assert all(d["client_id"] and d["client_secret"] for d in doc["departments"])
    assert len(doc["holders"]) == 5 and all(h["token"] for h in doc["holders"])

    second = runner.invoke(_app(), ["demo", "--data", str(data), "--no-serve", "--port", "8123"])
    assert second.exit_code == 0, second.output
    again = json.loads((data / "demo-credentials.json").read_text())
    assert [(d["client_id"], d["client_secret"]) for d in again["departments"]] == [
        (d["client_id"], d["client_secret"]) for d in doc["departments"]
    ]

    from api.app import create_app
    from vault.settings import load_settings

    settings = load_settings(mode="demo", data_dir=data)
    with TestClient(create_app(settings)) as client:
        citizen = doc["holders"][0]
        mine = client.get(
            "/v1/me/licenses", headers={"Authorization": f"Bearer {citizen['token']}"}
        ).json()["licenses"]
        assert len(mine) == 1 and mine[0]["status"] == "有效"  # not pushed twice
        housing = next(d for d in doc["departments"] if d["name"] == "福州市住房和城乡建设局")
        token = client.post(
            "/v1/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": housing["client_id"],
                "client_secret": housing["client_secret"],
            },
        )
        assert token.status_code == 200
        # dev-token gives a token the app accepts
        out = runner.invoke(
            _app(), ["dev-token", "--data", str(data), "--holder", citizen["holder_id"]]
        )
        assert out.exit_code == 0, out.output
        r = client.get("/v1/me/licenses", headers={"Authorization": f"Bearer {out.output.strip()}"})
        assert r.status_code == 200


def test_dev_token_refused_outside_demo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVAULT_MODE", "production")
    result = runner.invoke(_app(), ["dev-token", "--holder", "11010519491231002X"])
    assert result.exit_code == 2
    assert "only in demo mode" in result.output


def test_dept_add_prints_credentials_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVAULT_MODE", "demo")
    monkeypatch.setenv("EVAULT_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("EVAULT_DATABASE_URL", raising=False)
    result = runner.invoke(
        _app(),
        [
            "dept",
            "add",
            "福州市税务局",
            "--credit-code",
            "11350100MB0000035H",
            "--roles",
            "user",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    creds = json.loads(result.output)
    assert creds["scopes"] == ["licenses:use"] and creds["client_secret"]
    from vault.bootstrap import open_vault
    from vault.models import Department
    from vault.settings import load_settings

    vault = open_vault(load_settings())
    with vault.session() as session:
        dept = session.get(Department, creds["department_id"])
        assert dept is not None and creds["client_secret"] not in (dept.oauth_secret_hash or "")
    vault.close()
    dup = runner.invoke(
        _app(), ["dept", "add", "x", "--credit-code", "11350100MB0000035H", "--roles", "user"]
    )
    assert dup.exit_code == 1 and "already registered" in dup.output
    bad = runner.invoke(_app(), ["dept", "add", "x", "--credit-code", "1", "--roles", "boss"])
    assert bad.exit_code == 2 and "--roles" in bad.output
