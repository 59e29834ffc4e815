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


def test_a_model_importing_a_service_is_caught(tmp_path: Path) -> None:
    """The layers inside vault: models sit below services (and the log) and import neither."""
    out = _lint_with_extra_module(
        tmp_path, "vault.models.bad_import", "import vault.services.grants\n"
    )
    assert "vault.models.bad_import -> vault.services.grants" in out


def test_a_vault_module_outside_every_layer_is_caught(tmp_path: Path) -> None:
    """Every module directly under vault is in one of its layers (the contract is exhaustive)."""
    out = _lint_with_extra_module(tmp_path, "vault.unplaced", "import vault.errors\n")
    assert "vault.unplaced" in out


def _cycles(packages: tuple[str, ...]) -> list[list[str]]:
    """Import cycles among the modules of ``packages`` (imports inside functions included):
    the strongly connected components of grimp's import graph with more than one module."""
    import grimp

    graph = grimp.build_graph(*packages)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(module: str) -> None:  # Tarjan; the graph is small enough to recurse
        index[module] = low[module] = len(index)
        stack.append(module)
        for imported in graph.find_modules_directly_imported_by(module):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def test_no_import_cycles() -> None:
    """No module reaches itself through imports, however late they are made (a cycle hidden
    by an import inside a function is still a cycle between the two modules' rooms)."""
    assert _cycles(("schemas", "signing", "vault", "api")) == []


def test_the_cycle_finder_finds_a_cycle(tmp_path: Path) -> None:
    package = tmp_path / "cyclic"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("def f():\n    from cyclic import b\n")
    (package / "b.py").write_text("import cyclic.a\n")
    sys.path.insert(0, str(tmp_path))
    try:
        assert _cycles(("cyclic",)) == [["cyclic.a", "cyclic.b"]]
    finally:
        sys.path.remove(str(tmp_path))


def test_files_are_answered_through_one_helper() -> None:
    """Every download (originals, copies, materials, the trust bundle) goes through
    api/downloads.py, so none lacks ``nosniff`` or ``no-store`` (four copies of the headers
    were written by hand before, two without ``nosniff``)."""
    writers = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "api").rglob("*.py")
        if "Content-Disposition" in path.read_text(encoding="utf-8")
        and path.name != "downloads.py"
        and "attachment; filename" in path.read_text(encoding="utf-8")
    ]
    assert writers == []


def test_api_reading_the_orm_is_caught(tmp_path: Path) -> None:
    out = _lint_with_extra_module(
        tmp_path, "api.bad_import", "import vault.models\nimport vault.db.base\n"
    )
    assert "api.bad_import -> vault.models" in out
    assert "api.bad_import -> vault.db.base" in out
