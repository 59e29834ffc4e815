"""``./dev``: CLI words act on ``var/demo`` when nothing else is configured, and say so.

Each test runs a copy of the script in a directory laid out like a checkout (this
checkout's ``.venv``), with no ``EVAULT_*`` variable but those it sets.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT

HOLDER = "11010519491231002X"
NOTICE = "dev: acting on the demo in var/demo"


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    shutil.copy2(ROOT / "dev", tmp_path / "dev")
    (tmp_path / ".venv").symlink_to(ROOT / ".venv")
    return tmp_path


def _dev(checkout: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("EVAULT_")}
    clean.update(HOME=str(checkout / "home"), **env)
    return subprocess.run(
        [str(checkout / "dev"), *args],
        cwd=checkout,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_with_var_demo_and_no_settings_commands_act_on_the_demo(checkout: Path) -> None:
    (checkout / "var" / "demo").mkdir(parents=True)
    done = _dev(checkout, "dev-token", "--holder", HOLDER)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count(".") == 2  # a JWT
    assert NOTICE in done.stderr


def test_settings_given_win_over_the_demo(checkout: Path) -> None:
    (checkout / "var" / "demo").mkdir(parents=True)
    done = _dev(checkout, "dev-token", "--holder", HOLDER, EVAULT_MODE="production")
    assert done.returncode != 0
    assert NOTICE not in done.stderr
    assert "dev-token exists only in demo mode" in done.stderr


def test_without_a_demo_production_defaults_stay_strict(checkout: Path) -> None:
    done = _dev(checkout, "trust", "export")
    assert done.returncode != 0
    assert NOTICE not in done.stderr
    assert "trust" in done.stderr.lower()


def test_help_prints_the_words_and_the_cli_help(checkout: Path) -> None:
    done = _dev(checkout, "--help")
    assert done.returncode == 0, done.stderr
    assert "./dev demo" in done.stdout and "Usage: evault" in done.stdout
    assert "set -euo" not in done.stdout
