"""Every documented command, run as written against a fresh demo (README.md, docs/*.md).

The commands are the pages' indented shell blocks: a block whose first command is ``./dev``,
``evault``, ``curl``, ``jq``, ``.venv/...``, a ``NAME=$(...)`` assignment or a ``$ command``
line (its other lines are then the expected output, compared exactly). A block right after
``<!-- not run: why -->`` is skipped, with its reason in the page. Fenced blocks are code
and synopses, not commands.

Each page's blocks run in order in one bash (``set -euo pipefail``), so a value one block
sets (``TOKEN``, ``LICENSE_ID``) serves the next; every page runs in the same directory, laid
out like a checkout: a copy of ``./dev``, this checkout's ``.venv``, and ``var/demo``, a
demo prepared for this test and served on a free port (``127.0.0.1:8000`` in the text
becomes it). ``curl`` fails on an HTTP error status; ``evault`` is ``./dev``, as the README
says. Nothing in the environment names the demo: ``./dev`` must find it.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT, free_port, require_tool
from tests.web.conftest import Site, prepare_demo_data, serving

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
PAGE_TIMEOUT = 300
_COMMAND = re.compile(r"^(\./dev |evault |curl |jq |\$ |\.venv/|[A-Z_]+=\$\(|BASE=)")
_NOT_RUN = re.compile(r"^<!-- not run: (.+) -->$")
_PRELUDE = """\
set -euo pipefail
curl() { command curl --fail-with-body --max-time 120 "$@"; }
evault() { ./dev "$@"; }
"""


@dataclass(frozen=True)
class Block:
    page: str
    line: int
    text: str
    skipped: str | None  # the reason given in the page, or None: it runs


def shell_blocks(name: str, markdown: str) -> list[Block]:
    """The indented blocks of ``markdown`` that are commands, in order."""
    lines = markdown.splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        starts = lines[i].startswith("    ") and (i == 0 or not lines[i - 1].strip())
        starts = starts or (lines[i].startswith("    ") and bool(_NOT_RUN.match(lines[i - 1])))
        if not starts:
            i += 1
            continue
        j = i
        while j < len(lines) and lines[j].startswith("    "):
            j += 1
        text = "\n".join(line[4:] for line in lines[i:j])
        first = next((t for t in text.splitlines() if t.strip() and not t.startswith("#")), "")
        if _COMMAND.match(first):
            before = next((p for p in reversed(lines[:i]) if p.strip()), "")
            marker = _NOT_RUN.match(before)
            blocks.append(Block(name, i + 1, text, marker.group(1) if marker else None))
        i = j
    return blocks


def _expect_output(text: str) -> str:
    """A ``$ command`` block as bash: run each command, compare its stdout with the page."""
    out: list[str] = []
    for chunk in re.split(r"^(?=\$ )", text, flags=re.M):
        if not chunk.strip():
            continue
        command, _, expected = chunk[2:].partition("\n")
        out.append(
            f"__got=$( {{ {command} ; }} 2>/dev/null || true )\n"
            f"__want={shlex.quote(expected.rstrip())}\n"
            '[ "$__got" = "$__want" ] || { printf "output differs:\\n%s\\n--- the page says:\\n'
            '%s\\n" "$__got" "$__want" >&2; exit 1; }'
        )
    return "\n".join(out)


def page_script(blocks: list[Block], port: int) -> str:
    """One bash script for a page's blocks; each announces itself on stderr first."""
    parts = [_PRELUDE]
    for block in blocks:
        if block.skipped:
            continue
        body = block.text.replace("127.0.0.1:8000", f"127.0.0.1:{port}")
        if body.startswith("$ "):
            body = _expect_output(body)
        parts.append(f"echo '@@ {block.page}:{block.line}' >&2\n{body}\n")
    return "\n".join(parts)


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Site]]:
    """A directory laid out like a checkout, whose ``var/demo`` is a fresh, served demo."""
    for tool in ("bash", "curl", "jq"):
        require_tool(tool)
    work = tmp_path_factory.mktemp("walk")
    shutil.copy2(ROOT / "dev", work / "dev")
    (work / ".venv").symlink_to(ROOT / ".venv")
    port = free_port()
    demo = prepare_demo_data(work / "var" / "demo", f"http://127.0.0.1:{port}")
    with serving(demo, port) as site:
        yield work, site


def _environment(work: Path) -> dict[str, str]:
    """The caller's environment less evault's settings, with a home of its own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVAULT_")}
    env.update(HOME=str(work / "home"), XDG_DATA_HOME=str(work / "home" / "data"))
    return env


def test_block_scan_finds_commands_and_skips_marked_ones() -> None:
    page = (
        "Text.\n\n    ./dev log export --out x\n    jq . x\n\n"
        '    {"output": 1}\n\n<!-- not run: production paths -->\n    evault import /data\n'
        "\n    $ evault id check 1\n    1  invalid\n"
    )
    blocks = shell_blocks("p.md", page)
    assert [(b.line, b.skipped) for b in blocks] == [(3, None), (9, "production paths"), (11, None)]
    script = page_script(blocks, 9999)
    assert "evault import" not in script and "./dev log export --out x" in script
    assert "__want='1  invalid'" in script


def test_every_page_has_its_commands_found() -> None:
    counts = {p.name: len(shell_blocks(p.name, p.read_text(encoding="utf-8"))) for p in PAGES}
    assert counts["api.md"] >= 15 and counts["audit.md"] >= 3, counts
    assert sum(counts.values()) >= 25, counts
    assert [p.name for p in RUN_PAGES] == [
        "README.md",
        "api.md",
        "audit.md",
        "identifiers.md",
        "operations.md",
        "verification.md",
    ]


def _runs(page: Path) -> bool:
    blocks = shell_blocks(page.name, page.read_text(encoding="utf-8"))
    return any(b.skipped is None for b in blocks)


RUN_PAGES = [p for p in PAGES if _runs(p)]


@pytest.mark.parametrize("page", RUN_PAGES, ids=[p.name for p in RUN_PAGES])
def test_documented_commands_work_as_written(page: Path, checkout: tuple[Path, Site]) -> None:
    work, site = checkout
    blocks = shell_blocks(page.name, page.read_text(encoding="utf-8"))
    port = int(site.base.rsplit(":", 1)[1])
    done = subprocess.run(
        ["bash", "-c", page_script(blocks, port)],
        cwd=work,
        env=_environment(work),
        capture_output=True,
        text=True,
        timeout=PAGE_TIMEOUT,
        check=False,
    )
    if done.returncode != 0:
        started = re.findall(r"^@@ (.+)$", done.stderr, flags=re.M)
        where = started[-1] if started else page.name
        pytest.fail(
            f"the command block at {where} failed (exit {done.returncode}):\n"
            f"--- stdout (end):\n{done.stdout[-3000:]}\n--- stderr (end):\n{done.stderr[-3000:]}",
            pytrace=False,
        )
