"""The user documentation names only what the code has, and names all of it where it lists it.

Checked mechanically over docs/*.md and README.md: ``EVAULT_*`` settings, ``evault``
commands and their options, API routes, transparency-log event types, problem types and
intake refusal codes. Each check is a function from the documentation's text to a list of
problems; the ``*_catches_*`` tests feed it a deliberately wrong name to show it can fail.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import typer

ROOT = Path(__file__).resolve().parents[2]
DOC_FILES = [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]
_EXTS = ("md", "py", "txt", "json", "jsonl", "pem", "vkey", "csv", "pdf", "zip", "db", "hex")


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


@cache
def _docs() -> dict[str, str]:
    return {p.relative_to(ROOT).as_posix(): _read(p) for p in DOC_FILES}


def _all_docs() -> str:
    return "\n".join(_docs().values())


def _sources(*packages: str) -> Iterator[tuple[Path, str]]:
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path, _read(path)


def code_snippets(markdown: str) -> list[str]:
    """Inline code spans and code-block lines (backslash continuations joined)."""
    snippets: list[str] = []
    fenced = False
    for line in markdown.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif fenced or line.startswith("    "):
            snippets.append(line.strip())
        else:
            snippets.extend(re.findall(r"`([^`]+)`", line.replace("\\|", "|")))
    joined: list[str] = []
    for snippet in snippets:
        if joined and joined[-1].endswith("\\"):
            joined[-1] = joined[-1][:-1] + " " + snippet
        else:
            joined.append(snippet)
    return joined


# --- Settings ------------------------------------------------------------------------------


def _setting_names() -> set[str]:
    from vault.settings import Settings

    return {f"EVAULT_{name.upper()}" for name in Settings.model_fields}


@cache
def _other_env_names() -> frozenset[str]:
    """EVAULT_* variables the code reads that are not settings (EVAULT_CONFIG, ...)."""
    read = re.compile(r'(?:environ\.get\(|environ\[|getenv\(|envvar=)\s*"(EVAULT_[A-Z0-9_]+)"')
    names = {
        m for _, text in _sources("api", "vault", "signing", "bench") for m in read.findall(text)
    }
    for command in _cli_commands().values():
        for param in command.params:
            if isinstance(param.default, str) and param.default.startswith("EVAULT_"):
                names.add(param.default)  # --password-env's default
    return frozenset(names)


def setting_problems(text: str) -> list[str]:
    known = _setting_names() | _other_env_names()
    named = set(re.findall(r"\bEVAULT_[A-Z0-9_]*[A-Z0-9]", text))
    return [f"{name} is no setting or variable evault reads" for name in sorted(named - known)]


def test_docs_name_only_real_settings() -> None:
    assert setting_problems(_all_docs()) == []


def test_every_setting_is_in_the_operators_table() -> None:
    listed = set(re.findall(r"`(EVAULT_[A-Z0-9_]+)`", _docs()["docs/operations.md"]))
    assert sorted(_setting_names() - listed) == []


def test_settings_check_catches_a_wrong_name() -> None:
    assert setting_problems("set `EVAULT_COPY_MAX_DAYZ=30`") == [
        "EVAULT_COPY_MAX_DAYZ is no setting or variable evault reads"
    ]


# --- The CLI -------------------------------------------------------------------------------


@cache
def _cli() -> Any:
    from api.cli import build_app

    return typer.main.get_command(build_app())


@cache
def _cli_commands() -> dict[str, Any]:
    """Every leaf command by its full name ("log verify")."""
    out: dict[str, Any] = {}

    def walk(command: Any, path: tuple[str, ...]) -> None:
        subcommands = getattr(command, "commands", None)
        if subcommands is None:
            out[" ".join(path)] = command
            return
        for name, sub in subcommands.items():
            walk(sub, (*path, name))

    walk(_cli(), ())
    return out


_INVOCATION = re.compile(r"^(?:.*[$(=])?(evault|\./dev)$")
_SHELL_BREAKS = {"|", "||", "&&", ";", "#"}


def _cli_problems_in(tokens: list[str]) -> Iterator[str]:
    node, path, j = _cli(), ["evault"], 0
    while getattr(node, "commands", None) is not None and j < len(tokens):
        word = tokens[j].strip("`,.;:)")
        if word in node.commands:
            node, j = node.commands[word], j + 1
            path.append(word)
            continue
        choices = word.split("/")
        if len(choices) > 1 and all(c in node.commands for c in choices):
            return  # "evault log export/verify/checkpoint"
        if re.fullmatch(r"[a-z][a-z0-9-]*", word):
            yield f"`{' '.join(path)}` has no command {word!r}"
        return
    if getattr(node, "commands", None) is not None:
        return
    options = {opt for p in node.params for opt in (*p.opts, *p.secondary_opts)} | {"--help"}
    for token in tokens[j:]:
        if token in _SHELL_BREAKS:
            return
        for flag in re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", token):
            if flag not in options:
                yield f"`{' '.join(path)}` has no option {flag}"
        if token.endswith((")", ";")):
            return


def cli_problems(snippets: Iterable[str]) -> list[str]:
    problems: list[str] = []
    for snippet in snippets:
        tokens = snippet.split()
        for i, token in enumerate(tokens):
            match = _INVOCATION.match(token)
            if match is None:
                continue
            rest = tokens[i + 1 :]
            if match.group(1) == "./dev" and (not rest or rest[0] in ("test", "bench", "help")):
                continue
            problems.extend(_cli_problems_in(rest))
    return problems


def test_docs_name_only_real_commands_and_options() -> None:
    snippets = [s for text in _docs().values() for s in code_snippets(text)]
    assert sum("evault " in s for s in snippets) > 40, "the snippet scan found too little"
    assert cli_problems(snippets) == []


def test_cli_check_catches_wrong_names() -> None:
    docs = (
        "`evault log verify --log-key k --entries DIR`\n"
        "    evault catalog add-type CODE NAME --holder-kind 111 \\\n"
        "        --issuer 113501000036043600 --isuser X\n"
        "    H=$(evault dev-token --data var/demo --holder 1)\n"
        "`./dev demo --port 8001` and `evault db migrate` and `evault verify --trusted b.json`\n"
    )
    assert cli_problems(code_snippets(docs)) == [
        "`evault catalog add-type` has no option --isuser",
        "`evault db` has no command 'migrate'",
        "`evault verify` has no option --trusted",
    ]


# --- API routes ----------------------------------------------------------------------------


@cache
def _routes() -> frozenset[tuple[str, str]]:
    import tempfile

    from api.app import create_app
    from vault.settings import load_settings

    with tempfile.TemporaryDirectory() as data:
        app = create_app(load_settings(mode="demo", data_dir=Path(data)))
        schema = app.openapi()
    return frozenset(
        (method.upper(), _normal(path)) for path, item in schema["paths"].items() for method in item
    )


def _normal(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path)


_ROUTE = re.compile(
    r"\b((?:GET|POST|PATCH|PUT|DELETE)(?:/(?:GET|POST|PATCH|PUT|DELETE))*) (/[^\s`?,)|\"']*)"
)


def documented_routes(text: str) -> set[tuple[str, str]]:
    return {
        (method, _normal(path.rstrip(".:")))
        for methods, path in _ROUTE.findall(text)
        for method in methods.split("/")
    }


def route_problems(text: str) -> list[str]:
    return [f"{m} {p} is no route" for m, p in sorted(documented_routes(text) - _routes())]


def test_docs_name_only_real_routes() -> None:
    assert route_problems(_all_docs()) == []


def test_every_route_is_in_the_api_page() -> None:
    assert sorted(_routes() - documented_routes(_docs()["docs/api.md"])) == []


def test_route_check_catches_a_wrong_route() -> None:
    assert route_problems("`GET /v1/licenses/{id}` and `GET/DELETE /v1/me/grants`") == [
        "DELETE /v1/me/grants is no route"
    ]


# --- Transparency-log event types ----------------------------------------------------------


def _action_positions(tree: ast.Module) -> dict[str, int]:
    """Functions of a module with a parameter ``action``, and its position."""
    out: dict[str, int] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            names = [a.arg for a in (*node.args.posonlyargs, *node.args.args)]
            if "action" in names:
                out[node.name] = names.index("action")
    return out


@cache
def code_event_types() -> frozenset[str]:
    """Every event type the vault appends: literal ``event_type=`` values, and
    ``<prefix>{action}`` (the access log's leaves: an ``event_type=`` f-string or an
    ``event_type`` property returning one) for every literal action passed."""
    types: set[str] = set()
    prefixes: set[str] = set()
    actions: set[str] = set()
    for _, text in _sources("vault"):
        tree = ast.parse(text)
        positions = _action_positions(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name == "event_type":
                # a property: ``return f"access.{self.action}"``
                for ret in ast.walk(node):
                    if isinstance(ret, ast.Return) and isinstance(ret.value, ast.JoinedStr):
                        head = ret.value.values[0]
                        assert isinstance(head, ast.Constant), ast.unparse(ret.value)
                        prefixes.add(str(head.value))
            if not isinstance(node, ast.Call):
                continue
            for kw in node.keywords:
                value = kw.value
                if kw.arg == "event_type" and isinstance(value, ast.Constant):
                    types.add(str(value.value))
                elif kw.arg == "event_type" and isinstance(value, ast.JoinedStr):
                    head, *tail = value.values
                    assert isinstance(head, ast.Constant) and len(tail) == 1, ast.unparse(value)
                    prefixes.add(str(head.value))
                elif kw.arg == "action" and isinstance(value, ast.Constant):
                    actions.add(str(value.value))
            name = getattr(node.func, "id", getattr(node.func, "attr", None))
            at = positions.get(name or "")
            arg = node.args[at] if at is not None and at < len(node.args) else None
            if isinstance(arg, ast.Constant):
                actions.add(str(arg.value))
    assert prefixes == {"access."}, prefixes
    return frozenset(types | {p + a for p in prefixes for a in actions})


def _prefixes() -> set[str]:
    return {t.split(".")[0] + "." for t in code_event_types()}


def _event_table(text: str) -> set[str]:
    """The first column of the table under a heading "Event types"."""
    parts = re.split(r"^#+ Event types$", text, maxsplit=1, flags=re.M)
    section = parts[1].split("\n#", 1)[0] if len(parts) == 2 else ""
    return set(re.findall(r"^\| `([^`]+)` \|", section, flags=re.M))


def documented_event_types(text: str) -> set[str]:
    """Event types in JSON examples, in the event-type table, and names with a known prefix."""
    named = set(re.findall(r'"(?:event_)?type":\s*"(?!urn:)([^"]+)"', text)) | _event_table(text)
    for token in re.findall(r"[`(]([a-z][a-z0-9_]*\.[a-z][a-z0-9_.:-]*)[`)]", text):
        if token.split(".")[0] + "." in _prefixes() and token.rsplit(".", 1)[-1] not in _EXTS:
            named.add(token)
    return named


def event_type_problems(text: str) -> list[str]:
    wrong = documented_event_types(text) - code_event_types()
    return [f"{t} is no event type the vault logs" for t in sorted(wrong)]


def test_code_scan_finds_the_event_types() -> None:
    assert {"license.ingested", "license.status_changed", "access.copy"} <= code_event_types()


def test_docs_name_only_real_event_types() -> None:
    assert "access.copy" in documented_event_types(_docs()["docs/audit.md"])
    for name, text in _docs().items():
        assert event_type_problems(text) == [], name


def test_every_event_type_is_in_the_audit_page() -> None:
    assert sorted(code_event_types() - _event_table(_docs()["docs/audit.md"])) == []


def test_event_type_check_catches_wrong_names() -> None:
    docs = (
        '{"idx":41,"type":"copy.issued","v":1}\n'
        "### Event types\n\n| `grant.created` | ... |\n\n## Next\n\n| `copy.made` | ... |\n"
        "logged (`license.read`), (`access.copy`), `entries.jsonl`\n"
    )
    assert event_type_problems(docs) == [
        "copy.issued is no event type the vault logs",
        "grant.created is no event type the vault logs",
        "license.read is no event type the vault logs",
    ]


# --- Problem types -------------------------------------------------------------------------


@cache
def code_problem_types() -> frozenset[str]:
    patterns = (
        r'\d{3}: \("([a-z][a-z-]*)"',  # the HTTP status table
        r'return \d{3}, "([a-z][a-z-]*)"',  # classify()
        r'(?:ApiError|__init__)\(\s*\d{3},\s*"([a-z][a-z-]*)"',
        r'slug="([a-z][a-z-]*)"',
        r'\.get\([^()]*\("([a-z][a-z-]*)", "',  # the fallback for other statuses
    )
    found = {m for _, text in _sources("api") for p in patterns for m in re.findall(p, text)}
    oauth = {
        m
        for _, text in _sources("api")
        for m in re.findall(r'_oauth_error\(\s*\d{3},\s*"([a-z_]+)"', text)
    }
    return frozenset(found | {"oauth-" + e.replace("_", "-") for e in oauth})


def documented_problem_types(text: str) -> set[str]:
    named = set(re.findall(r"urn:evault:problem:([a-z][a-z-]*)", text))
    errors = text.split("## Errors", 1)[1].split("\n## ", 1)[0] if "## Errors" in text else ""
    for row in re.findall(r"^\| \d{3}[^|]*\|(.*)\|$", errors, flags=re.M):
        named |= set(re.findall(r"`([a-z][a-z-]*)`", row))
    named |= set(re.findall(r"Any other HTTP status is `([a-z-]+)`", errors))
    return named


def test_api_page_lists_exactly_the_problem_types() -> None:
    assert {"forbidden", "oauth-invalid-client", "http-error"} <= code_problem_types()
    api = _docs()["docs/api.md"]
    assert sorted(documented_problem_types(api) ^ code_problem_types()) == []


def test_docs_name_only_real_problem_types() -> None:
    named = set(re.findall(r"urn:evault:problem:([a-z][a-z-]*)", _all_docs()))
    assert named and sorted(named - code_problem_types()) == []


def test_problem_type_check_catches_a_wrong_name() -> None:
    text = '{"type":"urn:evault:problem:denied"}\n## Errors\n| 403 | `forbiden` |\n'
    assert sorted(documented_problem_types(text) - code_problem_types()) == ["denied", "forbiden"]


# --- Intake refusal codes ------------------------------------------------------------------

#: Refusal codes no caller can meet (a worker's report checked against other bytes).
INTERNAL_REFUSALS = {"report_mismatch"}


@cache
def code_refusal_codes() -> frozenset[str]:
    patterns = (
        r'(?:IntakeRefused|_refuse|\brefused)\(\s*"([a-z_]+)"',
        r'"refused",\s*"([a-z_]+)"',
    )
    services = ROOT / "vault" / "services"
    paths = [services / "intake.py", *sorted((services / "bulk").glob("*.py"))]
    texts = [_read(path) for path in paths]
    return frozenset(m for text in texts for p in patterns for m in re.findall(p, text))


def documented_refusal_codes(text: str) -> set[str]:
    match = re.search(r"Refusal reasons: (.*?)\.\n", text, flags=re.S)
    assert match is not None, "no 'Refusal reasons:' list"
    return set(re.findall(r"`([a-z_]+)`", match.group(1)))


def test_operations_page_lists_exactly_the_refusal_codes() -> None:
    assert INTERNAL_REFUSALS.issubset(code_refusal_codes())
    documented = documented_refusal_codes(_docs()["docs/operations.md"])
    assert sorted(documented ^ (code_refusal_codes() - INTERNAL_REFUSALS)) == []


def test_refusal_check_catches_a_wrong_code() -> None:
    documented = documented_refusal_codes("Refusal reasons: `unsigned`, `bad_seal`.\n")
    assert documented - code_refusal_codes() == {"bad_seal"}
