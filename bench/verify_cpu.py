"""Warm CPU time of verifying a PDF/PAdES license, ours beside a baseline tree's.

    .venv/bin/python -m bench.verify_cpu [--rounds N] [--baseline COMMIT-OR-TREE]

What bulk import and intake pay per license once the verifier is warm: one
:class:`signing._verify.engine.Engine` (the in-process verifier a worker keeps) per tree,
each in a process of its own, run on the same files. The baseline is the code before a
change, measured in the same run and imported through ``PYTHONPATH``: a commit, exported
with ``git archive`` (by default 8f06a6f, main before the verify speed-up of issue 20), or
another checkout's directory (``$EVAULT_BASELINE`` sets the default). Rounds alternate
between the two processes, so machine noise hits both alike; a round is the CPU time (user +
sys of the verifying process) of verifying every file once, per file.

The files: distinct B-LT licenses sealed here by the demo PKI (each a new file, as in a
stock import: the change verdict remembered per file digest is cleared before each
call, as a new file would miss it), and the DSS corpus's PDFs (../shared/corpus/dss, when
present) with no trust bundle. Both processes also write every report as JSON (at one
fixed ``checked_at``); the check that they are byte-identical is printed beside the
figures. Each process does what a bulk-import worker of its tree does before verifying
(where the tree has it: keep the noisy loggers quiet for the process's life).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.harness import Row, Stats, format_table, machine
from bench.intake import baseline_tree

__all__ = ["run"]

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus" / "dss" / "pdfs"
#: main before the verify speed-up (issue 20): the baseline unless told otherwise.
DEFAULT_BASELINE = os.environ.get("EVAULT_BASELINE", "8f06a6f")
LICENSES = 12

# Runs in each tree's process: reads commands on stdin, answers one JSON line each.
_WORKER = """
import datetime as dt, json, sys, time, warnings
from pathlib import Path
warnings.simplefilter("ignore")
from signing._verify import engine as E
from signing.trust import TrustBundle
try:  # what a bulk-import worker does in trees that have it
    from signing.verify import keep_loggers_quiet
    keep_loggers_quiet()
except ImportError:
    pass
place = Path(sys.argv[1])
at = dt.datetime.fromisoformat(sys.argv[2])
sets = {
    "licenses": (E.Engine(TrustBundle.load(place / "bundle.json")),
                 [p.read_bytes() for p in sorted((place / "licenses").glob("*.pdf"))]),
    "corpus": (E.Engine(None), [Path(p).read_bytes() for p in json.loads(sys.argv[3])]),
}
def verify(name):
    engine, files = sets[name]
    reports = []
    for i, data in enumerate(files):
        E._known_verdicts.clear()
        reports.append(engine.run(data, at, f"{name}-{i}.pdf").model_dump_json())
    return reports
for which in sets:  # warm up: imports, caches, trust
    verify(which)
for line in sys.stdin:
    cmd, which = line.split()
    if cmd == "reports":
        print(json.dumps(verify(which)), flush=True)
        continue
    start = time.process_time()
    verify(which)
    spent = time.process_time() - start
    print(json.dumps(spent * 1000 / max(1, len(sets[which][1]))), flush=True)
"""


class _Tree:
    """One tree's verifying process."""

    def __init__(self, tree: Path, place: Path, at: dt.datetime, corpus: list[Path]) -> None:
        env = {**os.environ, "PYTHONPATH": str(tree)}
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                _WORKER,
                str(place),
                at.isoformat(),
                json.dumps(list(map(str, corpus))),
            ],
            cwd=tree,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def ask(self, cmd: str, which: str) -> object:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(f"{cmd} {which}\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the verifying process ended (exit {self.proc.wait()})")
        return json.loads(line)

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait(timeout=60)


def _stats(samples: list[float]) -> Stats:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return Stats(statistics.median(ordered), p95, len(ordered))


def _prepare(place: Path) -> None:
    from signing.seal import PadesLevel
    from tests.helpers.pki import MARKET_DEPT, demo_trust_bundle, sample_pdf, sealer

    (place / "licenses").mkdir()
    seal = sealer(MARKET_DEPT)
    for n in range(LICENSES):
        text = f"evault sample license No. 2024-{n:04d}"
        data = seal.seal(
            sample_pdf(text), level=PadesLevel.B_LT, reason="issued", location="Fuzhou"
        )
        (place / "licenses" / f"{n:04d}.pdf").write_bytes(data)
    (place / "bundle.json").write_bytes(demo_trust_bundle().dump())


def _verdicts(report: object) -> tuple[object, ...]:
    """The verdicts of a report (JSON): the file's and each signature's indication and
    sub-indication. A rule added since the baseline may add a reason to a report (so the
    bytes differ) without changing a verdict; a speed-up must change neither."""
    assert isinstance(report, str)
    found = json.loads(report)
    return (
        found.get("indication"),
        found.get("sub_indication"),
        *((s.get("indication"), s.get("sub_indication")) for s in found.get("signatures", [])),
    )


def run(rounds: int, baseline: str = DEFAULT_BASELINE) -> list[Row]:
    corpus = sorted(CORPUS.rglob("*.pdf")) if CORPUS.is_dir() else []
    sets = ["licenses", *(["corpus"] if corpus else [])]
    at = dt.datetime.now(dt.UTC).replace(microsecond=0)
    with tempfile.TemporaryDirectory() as tmp:
        place = Path(tmp)
        _prepare(place)
        given = Path(baseline)
        tree = given if given.is_dir() else baseline_tree(place, baseline)
        name = f"baseline tree {given}" if given.is_dir() else f"main at {baseline}"
        ours = _Tree(ROOT, place, at, corpus)
        base = _Tree(tree, place, at, corpus) if (tree / "signing").is_dir() else None
        try:
            identical = {}
            if base is not None:
                for which in sets:
                    a, b = ours.ask("reports", which), base.ask("reports", which)
                    assert isinstance(a, list) and isinstance(b, list)
                    pairs = list(zip(a, b, strict=True))
                    identical[which] = (
                        sum(x == y for x, y in pairs),
                        sum(_verdicts(x) == _verdicts(y) for x, y in pairs),
                        len(a),
                    )
            samples: dict[tuple[str, str], list[float]] = {}
            for n in range(rounds):
                for which in sets:
                    order = (
                        [("ours", ours), ("base", base)]
                        if n % 2 == 0
                        else [("base", base), ("ours", ours)]
                    )
                    for side, tree in order:
                        if tree is not None:
                            value = tree.ask("time", which)
                            assert isinstance(value, float)
                            samples.setdefault((side, which), []).append(value)
        finally:
            ours.close()
            if base is not None:
                base.close()
    load = "load " + " ".join(f"{x:.2f}" for x in os.getloadavg())
    rows = []
    for which in sets:
        count = LICENSES if which == "licenses" else len(corpus)
        what = (
            f"{count} distinct B-LT licenses, demo trust bundle"
            if which == "licenses"
            else f"{count} DSS corpus PDFs, no trust bundle"
        )
        same = identical.get(which)
        check = (
            f"; reports byte-identical {same[0]}/{same[2]}, verdicts identical {same[1]}/{same[2]}"
            if same
            else ""
        )
        rows.append(
            Row(
                f"warm PDF verify, CPU per file: {what} ({load}{check})",
                _stats(samples[("ours", which)]),
                baseline_name=name if base is not None else None,
                baseline=_stats(samples[("base", which)]) if base is not None else None,
                target="report",
            )
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.verify_cpu")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--baseline", default=DEFAULT_BASELINE, help="a commit or a directory")
    args = parser.parse_args(argv)
    print(machine())
    print(format_table(run(args.rounds, args.baseline)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
