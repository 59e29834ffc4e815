"""The commit rule: services flush, the edge commits (docs/architecture.md, "Commits").

The edge is the API's session dependency (``api.deps.get_session``), the CLI's session scope
(``vault/cli/scope.py``) and the bulk worker (``vault/services/bulk``). A function of a
service module (``vault/services``, ``vault/log``) that commits says so in its name
(``record_and_commit``, ``witness_latest_and_commit``, ``_commit_copy_step``...), or is one
of the exceptions named below with the reason it has; any other ``commit()`` fails here.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVICE_PACKAGES = ("vault/services", "vault/log")

#: Commits inside services that do not (yet) say so in their name, by module and function.
NAMED_EXCEPTIONS: dict[str, dict[str, str]] = {
    # Sessions the service opens itself on a key lock (vault.db.keylock.key_lock): the
    # service is that session's edge; its refusal or result must outlive the lock.
    "vault/services/copies.py": {"copy_for_department": "key-locked session"},
    "vault/services/idempotency.py": {"run_once": "key-locked session"},
    "vault/services/materials.py": {
        "_deposit_locked": "key-locked session",
        "_store": "key-locked session",
    },
    # Batch jobs: one transaction per batch, so a long run holds no lock for its length.
    "vault/services/key_rotation.py": {"rotate_holder_keys": "one commit per batch"},
    "vault/services/license_fields.py": {
        "reseal_field_values": "one commit per batch",
    },
}


def _is_edge(path: str) -> bool:
    """The bulk worker is an edge: it commits its own batches."""
    return path == "vault/services/bulk.py" or path.startswith("vault/services/bulk/")


def _commits(source: str) -> list[tuple[str, int]]:
    """(innermost enclosing function, line) of every ``<something>.commit()`` call."""
    found: list[tuple[str, int]] = []

    def visit(node: ast.AST, function: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                visit(child, child.name)
                continue
            call = child
            if (
                isinstance(call, ast.Call)
                and isinstance(call.func, ast.Attribute)
                and call.func.attr == "commit"
            ):
                found.append((function, call.lineno))
            visit(child, function)

    visit(ast.parse(source), "<module>")
    return found


def _unnamed(name: str, source: str) -> list[str]:
    """The commits of module ``name`` outside a function named for it or a named exception."""
    if _is_edge(name):
        return []
    allowed = NAMED_EXCEPTIONS.get(name, {})
    return [
        f"{name}:{line} in {function}()"
        for function, line in _commits(source)
        if "commit" not in function and function not in allowed
    ]


def _unnamed_commits() -> list[str]:
    bad = []
    for package in SERVICE_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            bad += _unnamed(str(path.relative_to(ROOT)), path.read_text(encoding="utf-8"))
    return bad


def test_services_commit_only_where_they_say_so() -> None:
    assert _unnamed_commits() == []


def test_the_named_exceptions_still_commit() -> None:
    """An exception that no longer commits is taken off the list (so it cannot come back)."""
    stale = []
    for name, functions in NAMED_EXCEPTIONS.items():
        committing = {function for function, _ in _commits((ROOT / name).read_text("utf-8"))}
        stale += [f"{name}: {function}" for function in functions if function not in committing]
    assert stale == []


def test_a_commit_in_a_service_is_found() -> None:
    source = (
        "def grant(session):\n"
        "    session.flush()\n"
        "    session.commit()\n"
        "def record_and_commit(session):\n"
        "    session.commit()\n"
        "def rotate_holder_keys(session):\n"
        "    def inner():\n"
        "        session.commit()\n"
    )
    assert _unnamed("vault/services/grants.py", source) == [
        "vault/services/grants.py:3 in grant()",
        "vault/services/grants.py:8 in inner()",
    ]
    # a named exception's module: its function is allowed, the others are not
    assert _unnamed("vault/services/key_rotation.py", source) == [
        "vault/services/key_rotation.py:3 in grant()",
        "vault/services/key_rotation.py:8 in inner()",
    ]
    assert _unnamed("vault/services/bulk/pipeline.py", source) == []
