"""``evault materials``: add types, permit a department, list; bad input is one line, exit 1."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vault.cli import build_app
from vault.db import make_engine, make_session_factory
from vault.migrations import upgrade
from vault.models import MaterialPermission
from vault.services import catalog

runner = CliRunner()
HOUSING = "11350100MB0000027N"


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    upgrade(url)
    engine = make_engine(url)
    with make_session_factory(engine)() as s:
        catalog.create_department(session=s, name="住建局", credit_code=HOUSING, user=True)
        s.commit()
    engine.dispose()
    for key, value in {
        "EVAULT_MODE": "production",
        "EVAULT_DATA_DIR": str(tmp_path / "data"),
        "EVAULT_DATABASE_URL": url,
        "EVAULT_HOLDER_KEY": secrets.token_hex(32),
        "EVAULT_BLIND_INDEX_KEY": secrets.token_hex(32),
    }.items():
        monkeypatch.setenv(key, value)
    return url


def test_add_permit_and_list(db: str) -> None:
    app = build_app()
    ok = runner.invoke(app, ["materials", "add-type", "SFZ", "居民身份证", "--holder-kind", "111"])
    assert ok.exit_code == 0, ok.output
    assert "usable until the document's own date" in ok.output
    hkb = ["materials", "add-type", "HKB", "居民户口簿", "--holder-kind", "111", "--months", "6"]
    assert runner.invoke(app, hkb).exit_code == 0
    permitted = runner.invoke(app, ["materials", "permit", "SFZ", HOUSING])
    assert permitted.exit_code == 0, permitted.output
    listed = json.loads(runner.invoke(app, ["materials", "types", "--json"]).output)
    assert [(t["code"], t["validity"], t["validity_months"]) for t in listed] == [
        ("HKB", "period", 6),
        ("SFZ", "document", None),
    ]
    engine = make_engine(db)
    with make_session_factory(engine)() as s:
        assert s.query(MaterialPermission).count() == 1
    engine.dispose()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["add-type", "S F Z", "x", "--holder-kind", "111"], "is not a material code"),
        (["add-type", "SFZ", "x", "--holder-kind", "222"], "holder kinds must be among"),
        (["add-type", "SFZ", "x", "--holder-kind", "111", "--months", "0"], "1 to 120 months"),
        (["permit", "NOPE", HOUSING], "no material type NOPE"),
        (["permit", "SFZ", "11350100MB0000035H"], "no department"),
    ],
)
def test_bad_input_is_one_line(db: str, args: list[str], message: str) -> None:
    app = build_app()
    runner.invoke(app, ["materials", "add-type", "SFZ", "居民身份证", "--holder-kind", "111"])
    result = runner.invoke(app, ["materials", *args])
    assert result.exit_code != 0
    assert message in result.output and "Traceback" not in result.output
