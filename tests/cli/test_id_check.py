from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from vault.cli import build_app

runner = CliRunner()
EXAMPLE_ID = "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U"


def test_all_valid_exits_zero_and_masks() -> None:
    result = runner.invoke(build_app(), ["id", "check", "11010519491231002X", "91350100M000100Y43"])
    assert result.exit_code == 0, result.output
    assert "110105********002X  公民身份号码  valid" in result.output
    assert "11010519491231002X" not in result.output


def test_invalid_exits_one_and_says_why() -> None:
    result = runner.invoke(build_app(), ["id", "check", "91350100M000100Y42", EXAMPLE_ID])
    assert result.exit_code == 1
    assert "invalid: check character should be 3" in result.output
    assert "电子证照标识  valid" in result.output


def test_json_output() -> None:
    result = runner.invoke(build_app(), ["id", "check", "--json", EXAMPLE_ID[:-1] + "V", "xyz"])
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data[0] == {
        "value": EXAMPLE_ID[:-1] + "V",
        "kind": "电子证照标识",
        "valid": False,
        "reasons": ["check character should be U (ISO/IEC 7064 MOD 37,36)"],
    }
    assert data[1]["kind"] is None and not data[1]["valid"]


def test_console_script_version() -> None:
    exe = Path(sys.executable).parent / "evault"
    out = subprocess.run([str(exe), "version"], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("evault 0.")
    assert "pyhanko" in out.stdout


def test_usage_error_exits_two() -> None:
    result = runner.invoke(build_app(), ["id", "check"])
    assert result.exit_code == 2


def test_wrong_embedded_organization_code_is_invalid() -> None:
    # 91350100M000100Y5 + its GB 32100 check: the last character fits, the embedded
    # organization code M000100Y-5 (GB 11714) does not (its check is 4).
    from schemas.identifiers import credit_code_check_char

    body = "91350100M000100Y5"
    result = runner.invoke(build_app(), ["id", "check", body + credit_code_check_char(body)])
    assert result.exit_code == 1
    assert "organization code" in result.output and "should be 4" in result.output
