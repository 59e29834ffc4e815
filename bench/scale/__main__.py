"""``python -m bench.scale [fill|measure|plans]``: fill databases, time reads, show plans.

Without a command: the harness table (:func:`bench.scale.run` with 30 rounds).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

from bench.scale import (
    HOLDERS_PER_LICENSE,
    LARGE_DATABASE,
    SMALL_DATABASE,
    SMALL_LICENSES,
    base_conninfo,
    ensure_filled,
    run,
)


def _pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000


def _fill(args: argparse.Namespace) -> int:
    from bench.scale.fill import fill

    holders = args.holders or max(1, int(args.licenses * HOLDERS_PER_LICENSE))
    started = time.perf_counter()
    result = fill(
        base=base_conninfo(),
        database=args.database,
        licenses=args.licenses,
        holders=holders,
        progress=lambda m: print(f"{time.strftime('%X')} {m}", flush=True),
    )
    total = time.perf_counter() - started
    print(
        f"{result.database}: {result.licenses:,} licenses, {result.holders:,} holders; "
        f"load {result.seconds_load:.0f} s, indexes+vacuum {result.seconds_index:.0f} s, "
        f"total {total:.0f} s; {result.bytes_total / 2**30:.2f} GiB "
        f"({result.bytes_total / 2**30 / (result.licenses / 1e6):.2f} GiB per million licenses)"
    )
    return 0


def _plans(args: argparse.Namespace) -> int:
    from bench.scale.probe import Probe

    ok = True
    for database in args.database:
        probe = Probe(base_conninfo(), database)
        try:
            print(f"## {database} ({probe.licenses:,} licenses)")
            for name, fn in (("search and get", probe.reads),):
                for check in probe.explain(fn):
                    ok &= check.uses_indexes
                    scans = ", ".join(
                        f"{t}: {n}" + (f" ({i})" if i else "") for t, n, i in check.scans
                    )
                    print(
                        f"- {name}: {check.execution_ms:.3f} ms, buffers hit {check.shared_hit} "
                        f"read {check.shared_read}: {scans}"
                    )
        finally:
            probe.close()
    print(
        "every read of holders/licenses/license_versions uses an index" if ok else "SEQ SCAN FOUND"
    )
    return 0 if ok else 1


def _measure(args: argparse.Namespace) -> int:
    from bench.scale.probe import Probe, database_figures, time_calls

    base = base_conninfo()
    probes = [Probe(base, d) for d in args.database]
    results: dict[str, dict[str, object]] = {}
    try:
        for probe in probes:  # warm up each database the same way
            time_calls(probe.search_once, args.warmup)
            time_calls(probe.get_once, args.warmup)
        samples: dict[str, dict[str, list[float]]] = {
            p.database: {"search": [], "get": []} for p in probes
        }
        for _ in range(args.samples):  # interleaved: noise hits every database alike
            for probe in probes:
                samples[probe.database]["search"] += time_calls(probe.search_once, 1)
                samples[probe.database]["get"] += time_calls(probe.get_once, 1)
        for probe in probes:
            figures = database_figures(base, probe.database)
            row: dict[str, object] = {"licenses": probe.licenses, "holders": probe.holders}
            for op, values in samples[probe.database].items():
                row[op] = {
                    "p50_ms": statistics.median(values) * 1000,
                    "p95_ms": _pct(values, 0.95),
                    "p99_ms": _pct(values, 0.99),
                    "n": len(values),
                }
            row["bytes"] = figures
            row["gib_per_million"] = figures["database"] / 2**30 / (probe.licenses / 1e6)
            results[probe.database] = row
    finally:
        for probe in probes:
            probe.close()
    print(
        "| database | licenses | holders | search p50 / p95 / p99 ms "
        "| get p50 / p95 / p99 ms | size GiB | GiB per million |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, row in results.items():
        s, g = row["search"], row["get"]
        assert isinstance(s, dict) and isinstance(g, dict)
        size = row["bytes"]
        assert isinstance(size, dict)
        print(
            f"| {name} | {row['licenses']:,} | {row['holders']:,} "
            f"| {s['p50_ms']:.1f} / {s['p95_ms']:.1f} / {s['p99_ms']:.1f} "
            f"| {g['p50_ms']:.1f} / {g['p95_ms']:.1f} / {g['p99_ms']:.1f} "
            f"| {size['database'] / 2**30:.2f} | {row['gib_per_million']:.2f} |"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale")
    sub = parser.add_subparsers(dest="command")
    p_fill = sub.add_parser("fill", help="create and fill one database")
    p_fill.add_argument("--database", default=LARGE_DATABASE)
    p_fill.add_argument("--licenses", type=int, default=10_000_000)
    p_fill.add_argument("--holders", type=int, default=0, help="default: licenses / 8")
    sub.add_parser("fill-small", help=f"fill {SMALL_DATABASE} (100 thousand)")
    p_measure = sub.add_parser("measure", help="time the read path on each database")
    p_measure.add_argument("--database", action="append", default=[])
    p_measure.add_argument("--samples", type=int, default=1000)
    p_measure.add_argument("--warmup", type=int, default=200)
    p_measure.add_argument("--json", help="also write the figures to this file")
    p_plans = sub.add_parser("plans", help="EXPLAIN (ANALYZE, BUFFERS) every read query")
    p_plans.add_argument("--database", action="append", default=[])
    args = parser.parse_args(argv)
    if args.command == "fill":
        return _fill(args)
    if args.command == "fill-small":
        ensure_filled(base_conninfo(), SMALL_DATABASE, SMALL_LICENSES)
        return 0
    if args.command in ("measure", "plans"):
        args.database = args.database or [SMALL_DATABASE, LARGE_DATABASE]
        return _measure(args) if args.command == "measure" else _plans(args)
    from bench.harness import format_table

    print(format_table(run(30)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
