"""The OFD benchmarks run: each checks, before timing, that what it times verifies (a copy
with both seals), so a rule change that breaks the benchmark's copy shows here first."""

from __future__ import annotations

import re

import bench.ofd_copy
import bench.ofd_verify
import bench.verify_cpu


def test_ofd_copy_benchmark_runs() -> None:
    rows = bench.ofd_copy.run(1)
    assert rows and all(r.ours.median_ms > 0 for r in rows)


def test_ofd_verify_benchmark_runs() -> None:
    rows = bench.ofd_verify.run(1)
    assert rows and all(r.ours.median_ms > 0 for r in rows)


def test_verify_cpu_benchmark_runs_beside_the_commit_before_the_speed_up() -> None:
    rows = bench.verify_cpu.run(1)
    assert rows and all(r.baseline is not None and r.ours.median_ms > 0 for r in rows)
    assert all("main at 8f06a6f" in (r.baseline_name or "") for r in rows)
    for row in rows:  # the same verdicts from both trees, every file (rules added since the
        # baseline add reasons: red team pdf11's text-layer rule to three DSS1376 files)
        same = re.search(r"verdicts identical (\d+)/(\d+)", row.operation)
        assert same is not None and same.group(1) == same.group(2), row.operation
