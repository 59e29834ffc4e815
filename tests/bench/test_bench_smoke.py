"""The OFD benchmarks run: each checks, before timing, that what it times verifies (a copy
with both seals), so a rule change that breaks the benchmark's copy shows here first."""

from __future__ import annotations

import bench.ofd_copy
import bench.ofd_verify


def test_ofd_copy_benchmark_runs() -> None:
    rows = bench.ofd_copy.run(1)
    assert rows and all(r.ours.median_ms > 0 for r in rows)


def test_ofd_verify_benchmark_runs() -> None:
    rows = bench.ofd_verify.run(1)
    assert rows and all(r.ours.median_ms > 0 for r in rows)
