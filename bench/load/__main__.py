"""``python -m bench.load [--seconds N] [--read-connections N] [--copy-connections N]
[--together] [--baseline REF --rounds N]``."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
from dataclasses import asdict
from pathlib import Path

from bench.harness import format_table
from bench.load import (
    DATABASE,
    DEFAULT_DATA,
    LoadResult,
    LoadServer,
    copy_row,
    export_baseline,
    read_row,
    requests_split,
    serve,
    worker_split,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load")
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--read-connections", type=int, action="append", default=[])
    parser.add_argument("--copy-connections", type=int, action="append", default=[])
    parser.add_argument(
        "--together", action="store_true", help="reads and copies at once (one wrk each)"
    )
    parser.add_argument(
        "--baseline",
        metavar="REF",
        help="also serve commit REF (e.g. main) and alternate the runs with it, round by round",
    )
    parser.add_argument(
        "--server",
        action="append",
        default=[],
        help="this tree's server: uvicorn (default: a shared socket, connections balanced), "
        "no-balance, reuseport (a socket per worker) or granian; with --baseline, repeat "
        "to run each beside the baseline",
    )
    parser.add_argument(
        "--database",
        default=DATABASE,
        help="PostgreSQL database (with --baseline: the prefix of one per server)",
    )
    parser.add_argument("--rounds", type=int, default=1, help="runs of each line (with --baseline)")
    parser.add_argument("--json", help="also write every run's figures to this file")
    args = parser.parse_args(argv)
    reads = [c for c in args.read_connections or [8] if c > 0]  # 0 skips a path
    copies = [c for c in args.copy_connections or [4] if c > 0]
    if args.baseline:
        return _compare(args, reads, copies)
    kind = (args.server or ["uvicorn"])[0]
    with serve(workers=args.workers, server=kind, database=args.database) as server:
        results = _lines(server, args, reads, copies)
    _print(results)
    if args.json:
        _write_json(args.json, [asdict(r) | {"rps": r.rps} for r in results])
    return 0 if all(r.errors == 0 for r in results) else 1


def _lines(server: LoadServer, args: argparse.Namespace, reads: list[int], copies: list[int]):
    if args.together:
        return [
            r
            for c_read, c_copy in zip(reads, copies, strict=False)
            for r in server.wrk_together([("read", c_read), ("copy", c_copy)], seconds=args.seconds)
        ]
    return [server.wrk("read", seconds=args.seconds, connections=c) for c in reads] + [
        server.wrk("copy", seconds=args.seconds, connections=c) for c in copies
    ]


def _compare(args: argparse.Namespace, reads: list[int], copies: list[int]) -> int:
    """This tree's server and commit REF's side by side, runs alternated round by round."""
    source, commit = export_baseline(args.baseline)
    print(f"baseline: {args.baseline} = {commit}, exported to {source}", flush=True)
    kinds = args.server or ["uvicorn"]
    names = ["baseline"] + [f"new ({kind})" for kind in kinds]
    runs: dict[str, list[LoadResult]] = {name: [] for name in names}
    with contextlib.ExitStack() as stack:
        servers = {
            f"new ({kind})": stack.enter_context(
                serve(
                    workers=args.workers,
                    data_dir=Path(f"{DEFAULT_DATA}-{kind}"),
                    database=f"{args.database}_{kind.replace('-', '_')}",
                    server=kind,
                )
            )
            for kind in kinds
        }
        servers["baseline"] = stack.enter_context(
            serve(
                workers=args.workers,
                data_dir=Path(f"{DEFAULT_DATA}-baseline"),
                database=f"{args.database}_baseline",
                source=source,
            )
        )
        for k in range(args.rounds):
            order = names if k % 2 == 0 else names[::-1]
            for name in order:
                for line in _lines(servers[name], args, reads, copies):
                    runs[name].append(line)
                    _print_line(name, line)
    _print_ratios(runs)
    if args.json:
        _write_json(
            args.json,
            {name: [asdict(r) | {"rps": r.rps} for r in rs] for name, rs in runs.items()}
            | {"baseline_commit": commit},
        )
    return 0 if all(r.errors == 0 for rs in runs.values() for r in rs) else 1


_HEADER = (
    "| code | path | connections | requests | req/s | p50 ms | p99 ms | errors "
    "| server CPU ms/req | db CPU ms/req | load avg | steal % | workers' CPU split "
    "| answers by worker |\n"
    "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|"
)
_header_shown = False


def _print_line(name: str, r: LoadResult) -> None:
    global _header_shown
    if not _header_shown:
        print(_HEADER)
        _header_shown = True
    print(
        f"| {name} | {r.path} | {r.connections} | {r.requests} | {r.rps:.1f} | {r.p50_ms:.1f} "
        f"| {r.p99_ms:.1f} | {r.errors} | {r.server_cpu_ms:.2f} | {r.db_cpu_ms:.2f} "
        f"| {r.load_average:.1f} | {r.steal_percent:.0f} | {worker_split(r)} "
        f"| {requests_split(r)} |",
        flush=True,
    )


def _print_ratios(runs: dict[str, list[LoadResult]]) -> None:
    """Per path and connections: medians of each code and its ratio to the baseline."""
    print()
    print(
        "| code | path | connections | req/s | ratio to baseline | p99 ms "
        "| server + db CPU ms/req |"
    )
    print("|---|---|---:|---:|---:|---:|---:|")
    keys = sorted({(r.path, r.connections) for r in runs["baseline"]})
    for path, c in keys:
        base = statistics.median(
            r.rps for r in runs["baseline"] if (r.path, r.connections) == (path, c)
        )
        for name, results in runs.items():
            mine = [r for r in results if (r.path, r.connections) == (path, c)]
            rps = statistics.median(r.rps for r in mine)
            print(
                f"| {name} | {path} | {c} | {rps:.1f} | {rps / base:.2f}x "
                f"| {statistics.median(r.p99_ms for r in mine):.1f} "
                f"| {statistics.median(r.server_cpu_ms + r.db_cpu_ms for r in mine):.2f} |"
            )
    print(f"load average now: {' '.join(f'{v:.1f}' for v in os.getloadavg())}")


def _print(results: list[LoadResult]) -> None:
    rows = [read_row(r) if r.path == "read" else copy_row(r) for r in results]
    print(format_table(rows))
    print()
    for r in results:
        _print_line("this tree", r)
    for r in results:
        if r.first_error:
            print(f"first error on the {r.path} path: {r.first_error}")


def _write_json(path: str, data: object) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2)


if __name__ == "__main__":
    sys.exit(main())
