"""``python -m bench.load [--seconds N] [--read-connections N] [--copy-connections N]``."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict

from bench.harness import format_table
from bench.load import copy_row, read_row, serve, worker_split


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load")
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--read-connections", type=int, action="append", default=[])
    parser.add_argument("--copy-connections", type=int, action="append", default=[])
    parser.add_argument("--json", help="also write every run's figures to this file")
    args = parser.parse_args(argv)
    results = []
    with serve(workers=args.workers) as server:
        # 0 connections skips a path: --copy-connections 0 measures reads only.
        for c in args.read_connections or [8]:
            if c > 0:
                results.append(server.wrk("read", seconds=args.seconds, connections=c))
        for c in args.copy_connections or [4]:
            if c > 0:
                results.append(server.wrk("copy", seconds=args.seconds, connections=c))
    rows = [read_row(r) if r.path == "read" else copy_row(r) for r in results]
    print(format_table(rows))
    print()
    print(
        "| path | connections | requests | seconds | req/s "
        "| p50 ms | p95 ms | p99 ms | max ms | errors | server CPU ms/req | db CPU ms/req "
        "| load avg | steal % | workers' CPU split |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in results:
        print(
            f"| {r.path} | {r.connections} | {r.requests} | {r.seconds:.1f} | {r.rps:.1f} "
            f"| {r.p50_ms:.1f} | {r.p95_ms:.1f} | {r.p99_ms:.1f} | {r.max_ms:.1f} | {r.errors} "
            f"| {r.server_cpu_ms:.1f} | {r.db_cpu_ms:.1f} | {r.load_average:.1f} "
            f"| {r.steal_percent:.0f} | {worker_split(r)} |"
        )
    for r in results:
        if r.first_error:
            print(f"first error on the {r.path} path: {r.first_error}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump([asdict(r) | {"rps": r.rps} for r in results], fh, indent=2)
    return 0 if all(r.errors == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
