"""The import rules (schemas <- signing <- vault <- api, nothing imports api) hold, and the
checker really catches a violation."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = str(Path(sys.executable).parent / "lint-imports")


def _lint_imports(cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [LINT_IMPORTS, "--no-cache"], cwd=cwd, capture_output=True, text=True, check=False, env=env
    )


def _lint_with_extra_module(tmp_path: Path, module: str, source: str) -> str:
    """Copy the four packages, add ``module`` with ``source``, lint; the output if it failed."""
    for pkg in ("schemas", "signing", "vault", "api"):
        shutil.copytree(ROOT / pkg, tmp_path / pkg, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / (module.replace(".", "/") + ".py")).write_text(source)
    result = _lint_imports(tmp_path, env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert result.returncode != 0, "the import rules did not catch the violation"
    return result.stdout


def test_import_rules_hold() -> None:
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_signing_importing_vault_is_caught(tmp_path: Path) -> None:
    out = _lint_with_extra_module(tmp_path, "signing.bad_import", "import vault.errors\n")
    assert "signing.bad_import -> vault.errors" in out


def test_nothing_imports_api(tmp_path: Path) -> None:
    out = _lint_with_extra_module(tmp_path, "vault.bad_import", "import api.errors\n")
    assert "vault.bad_import -> api.errors" in out
