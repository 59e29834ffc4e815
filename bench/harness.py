"""The common harness of evault's benchmarks.

Each benchmark module in ``bench/`` defines ``run(rounds: int) -> list[Row]`` and may be run
alone (``python -m bench.<name>``); ``python -m bench`` runs them all and prints one table.
Our figure and its baseline are measured in the same run, interleaved round by round, so that
machine noise hits both alike; only the ratio is meant to be compared across runs.
"""

from __future__ import annotations

import gc
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

__all__ = ["Row", "Stats", "compare", "format_table", "machine", "measure", "single"]


@dataclass(frozen=True)
class Stats:
    median_ms: float
    p95_ms: float
    rounds: int


@dataclass(frozen=True)
class Row:
    """One line of the table: an operation, our figure, the baseline's and the ratio."""

    operation: str
    ours: Stats
    baseline_name: str | None = None
    baseline: Stats | None = None
    target: str = ""
    unit: str = "ms"

    @property
    def ratio(self) -> float | None:
        """How many times faster we are than the baseline (baseline median / ours)."""
        if self.baseline is None or self.ours.median_ms == 0:
            return None
        return self.baseline.median_ms / self.ours.median_ms


def _stats(samples: Sequence[float]) -> Stats:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return Stats(statistics.median(ordered) * 1000, p95 * 1000, len(ordered))


def _time_once(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def measure(fn: Callable[[], object], *, rounds: int, warmup: int = 2) -> Stats:
    for _ in range(warmup):
        fn()
    gc.collect()
    return _stats([_time_once(fn) for _ in range(rounds)])


def compare(
    operation: str,
    ours: Callable[[], object],
    baseline: Callable[[], object],
    *,
    baseline_name: str,
    rounds: int,
    warmup: int = 2,
    target: str = "",
) -> Row:
    """Time ``ours`` and ``baseline`` interleaved, ``rounds`` times each."""
    for _ in range(warmup):
        ours()
        baseline()
    gc.collect()
    a: list[float] = []
    b: list[float] = []
    for _ in range(rounds):
        a.append(_time_once(ours))
        b.append(_time_once(baseline))
    return Row(operation, _stats(a), baseline_name, _stats(b), target)


def single(operation: str, fn: Callable[[], object], *, rounds: int, target: str = "") -> Row:
    """A figure with no baseline (e.g. a cold start against a target)."""
    return Row(operation, measure(fn, rounds=rounds), target=target)


def machine() -> str:
    import os

    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )


def format_table(rows: Sequence[Row]) -> str:
    """A Markdown table (readable in a terminal too)."""
    lines = [
        "| operation | ours median | ours p95 | baseline | baseline median | ratio | target |",
        "|---|---:|---:|---|---:|---:|---|",
    ]
    for r in rows:
        base_name = r.baseline_name or "—"
        base_med = f"{r.baseline.median_ms:.1f} {r.unit}" if r.baseline else "—"
        ratio = f"{r.ratio:.1f}x" if r.ratio is not None else "—"
        lines.append(
            f"| {r.operation} | {r.ours.median_ms:.1f} {r.unit} | {r.ours.p95_ms:.1f} {r.unit} "
            f"| {base_name} | {base_med} | {ratio} | {r.target} |"
        )
    return "\n".join(lines)
