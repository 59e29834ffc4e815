"""Run every benchmark and print one table: ``python -m bench [--rounds N] [--only NAME]``.

Each module in ``bench/`` (other than this harness) that defines ``run(rounds) -> list[Row]``
is a benchmark. ``--write-docs`` replaces the table in docs/performance.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import pkgutil
import re
import sys
from pathlib import Path

import bench
from bench.harness import Row, format_table, machine

DOCS = Path(__file__).resolve().parent.parent / "docs" / "performance.md"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--only", action="append", default=[], help="run only these modules")
    parser.add_argument("--write-docs", action="store_true", help="update docs/performance.md")
    args = parser.parse_args(argv)

    rows: list[Row] = []
    for info in sorted(pkgutil.iter_modules(bench.__path__), key=lambda m: m.name):
        if info.name in ("harness", "__main__") or info.name.startswith("_"):
            continue
        if args.only and info.name not in args.only:
            continue
        module = importlib.import_module(f"bench.{info.name}")
        run = getattr(module, "run", None)
        if run is None:
            continue
        print(f"running bench.{info.name} ...", file=sys.stderr, flush=True)
        rows.extend(run(args.rounds))

    stamp = f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {machine()}, {args.rounds} rounds"
    table = format_table(rows)
    print(f"{stamp}\n\n{table}")
    if args.write_docs:
        text = DOCS.read_text(encoding="utf-8") if DOCS.exists() else f"{BEGIN}\n{END}\n"
        block = f"{BEGIN}\nMeasured {stamp}.\n\n{table}\n{END}"
        text = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), block, text, flags=re.S)
        DOCS.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
