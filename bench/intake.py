"""Intake: bulk-import throughput (2 worker processes) vs a naive sequential loop, the rerun
of a bulk import with refusals (journal vs verifying the refused files again), and the cost
of a duplicate push vs verifying the PDF.

    .venv/bin/python -m bench.intake [--rounds N] [--level B-LT]
    .venv/bin/python -m bench.intake --against-main 300 [--postgres]   # that row alone
    .venv/bin/python -m bench.intake --against-main 300 --baseline main  # beside today's main

Against main (issue 20): ``evault import``'s path against main at :data:`BASELINE_COMMIT`,
taken from its own source with ``git archive``, on the same stock in the same run, each
import in a process of its own (``bench/_bulk_run.py``) with 2 workers and batches of 32,
into a fresh SQLite vault, and into a PostgreSQL schema when the server answers.

Both imports start from an empty embedded vault (SQLite + local blob folder) with the same
N freshly sealed licenses (B-LT by default: stock carries validation data); the bulk import
pays its worker start-up. The naive loop reads each file, verifies it with one reused
``signing.verify.Verifier`` and calls ``ingest``, one after the other. The duplicate push
is ``ingest`` of bytes already stored (a SHA-256 and an indexed lookup, no PDF parsing),
timed against verifying the same PDF.

The rerun: 40 files, 30 good and 10 sealed by a department that is not their issuer (refused
only after verification, ``signer_not_issuer``), imported once; then the same command again.
With the journal the rerun verifies nothing; the baseline is the rerun with
``retry_refused``, which verifies the 10 refused files again as every rerun did before the
journal. Both with 2 worker processes, interleaved.

The OFD push: ``ingest`` of a new OFD license sealed with SM2 (GB/T 38540 V4) against
``ingest`` of a new PDF license sealed at the stock's level, interleaved, one reused
verifier: what a push costs in the vault for either format.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import functools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bench.harness import Row, Stats, compare, format_table, machine
from signing.seal import PadesLevel
from signing.verify import Verifier
from tests.helpers.pki import PUBLIC_SECURITY_DEPT, sample_pdf, sealer
from tests.vault.licenses import MARKET_DEPT, make_catalog, metadata, trust_bundle
from vault.blobs import LocalBlobStore
from vault.bootstrap import build_verifier
from vault.crypto import HolderCrypto
from vault.db import make_engine, make_session_factory
from vault.migrations import upgrade
from vault.services.bulk import (
    MANIFEST_FIELDS,
    WRITE_BATCH,
    ImportSummary,
    VerifierFactory,
    import_stock,
)
from vault.services.intake import ingest
from vault.settings import load_settings

__all__ = ["run"]


def _vault(root: Path) -> tuple[object, LocalBlobStore, HolderCrypto, int]:
    url = f"sqlite:///{root / 'evault.db'}"
    upgrade(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    with sessions() as s:
        market = make_catalog(s).market
    return sessions, LocalBlobStore(root / "blobs"), HolderCrypto.generate(), market


def _stock(
    root: Path, count: int, level: PadesLevel, *, foreign: int = 0, folder_name: str = "stock"
) -> Path:
    """``count`` sealed licenses and their manifest; the last ``foreign`` sealed by another
    department than their issuer (refused after verification)."""
    folder = root / folder_name
    folder.mkdir(parents=True)
    seal, other = sealer(MARKET_DEPT), sealer(PUBLIC_SECURITY_DEPT)
    rows = []
    for i in range(count):
        name = f"{i:05d}.pdf"
        by = other if i >= count - foreign else seal
        pdf = by.seal(sample_pdf(f"bench license {i}"), level=level)
        (folder / name).write_bytes(pdf)
        data = metadata(10_000 + i).model_dump(mode="json")
        rows.append({"file": name, **{k: "" if v is None else str(v) for k, v in data.items()}})
        rows[-1]["extra"] = "{}"
    manifest = root / f"{folder_name}-manifest.csv"
    with manifest.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=MANIFEST_FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    return manifest


def _bulk_importer(
    place: Path, source: Path, manifest: Path, factory: VerifierFactory
) -> Callable[..., ImportSummary]:
    """A fresh vault at ``place``, and ``import_stock`` of ``source`` into it (2 processes)."""
    place.mkdir()
    sessions, blobs, crypto, _ = _vault(place)
    return functools.partial(
        import_stock,
        sessions=sessions,  # type: ignore[arg-type]
        blobs=blobs,
        crypto=crypto,
        verifier_factory=factory,
        blobs_factory=functools.partial(LocalBlobStore, place / "blobs"),
        source=source,
        manifest=manifest,
        workers=2,
        trust_fingerprint=trust_bundle().fingerprint,
    )


def _per_license(seconds: float, count: int) -> Stats:
    ms = seconds * 1000 / count
    return Stats(ms, ms, 1)


def run(rounds: int, level: PadesLevel = PadesLevel.B_LT) -> list[Row]:
    count = max(20, 2 * rounds)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        manifest = _stock(root, count, level)
        bundle = root / "bundle.json"
        bundle.write_bytes(trust_bundle().dump())
        factory = functools.partial(
            build_verifier, load_settings(trust_bundle=bundle), isolation="thread"
        )  # as `evault import` builds it

        # Bulk import, 2 worker processes.
        bulk = _bulk_importer(root / "a", root / "stock", manifest, factory)
        started = time.perf_counter()
        summary = bulk()
        bulk_s = time.perf_counter() - started
        assert summary.ingested == count, summary

        # Naive sequential loop.
        (root / "b").mkdir()
        sessions_b, blobs_b, crypto_b, market = _vault(root / "b")
        verifier = Verifier(trust_bundle())
        files = sorted((root / "stock").glob("*.pdf"))
        verifier.verify(files[0].read_bytes())  # its worker process started, as in a server
        started = time.perf_counter()
        with sessions_b() as session:  # type: ignore[operator]
            for i, path in enumerate(files):
                ingest(
                    session=session,
                    blobs=blobs_b,
                    verifier=verifier,
                    crypto=crypto_b,
                    metadata=metadata(10_000 + i),
                    pdf=path.read_bytes(),
                    pushed_by_department_id=market,
                )
        naive_s = time.perf_counter() - started

        # Duplicate push vs verifying the same PDF.
        pdf = files[0].read_bytes()
        meta = metadata(10_000)
        with sessions_b() as session:  # type: ignore[operator]

            def duplicate() -> None:
                result = ingest(
                    session=session,
                    blobs=blobs_b,
                    verifier=verifier,
                    crypto=crypto_b,
                    metadata=meta,
                    pdf=pdf,
                    pushed_by_department_id=market,
                )
                assert not result.created

            dup = compare(
                "duplicate push (same bytes, SQLite)",
                duplicate,
                lambda: verifier.verify(pdf),
                baseline_name="verify the PDF (what parsing would cost)",
                rounds=max(rounds, 50),
                target="< 5 ms",
            )
        dup_pg = _duplicate_on_postgres(pdf, verifier, root, rounds=max(rounds, 50))
        batched = against_main(root, 4 * count, level, rounds=max(2, rounds // 10))
        batched_pg = (  # only when PostgreSQL answered for the duplicate push
            against_main(root, 4 * count, level, rounds=max(2, rounds // 10), postgres=True)
            if dup_pg is not None
            else None
        )
        rerun = _rerun(root, factory, level, rounds=max(5, rounds // 4))
        ofd = ofd_push(root / "c", verifier, level, rounds=max(5, rounds // 2))
    print(
        f"bulk import: {count} licenses in {bulk_s:.2f} s = {count / bulk_s:.1f} licenses/s "
        f"(2 processes, start-up included); naive loop: {naive_s:.2f} s = "
        f"{count / naive_s:.1f} licenses/s",
        file=sys.stderr,
    )
    return [
        Row(
            f"bulk import of {count} {level.value} licenses, per license (2 processes)",
            _per_license(bulk_s, count),
            "sequential verify + ingest loop",
            _per_license(naive_s, count),
            target=f"{count / bulk_s:.1f} licenses/s vs {count / naive_s:.1f}",
        ),
        batched,
        *([batched_pg] if batched_pg is not None else []),
        dup,
        *([dup_pg] if dup_pg is not None else []),
        rerun,
        ofd,
    ]


#: Licenses in the projection (Fuzhou's stock, issue 20).
PROJECTED = 12_000_000
#: main when the bulk import was rebuilt as a pipeline with a Core writer (issue 20): the
#: baseline, run from its own source (``git archive``) beside ours.
BASELINE_COMMIT = "6c26c86"
#: The cores the imports share (the machine's, or this process's affinity).
CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
_REPO = Path(__file__).resolve().parent.parent
_RUNNER = Path(__file__).resolve().parent / "_bulk_run.py"


def baseline_tree(root: Path, commit: str = BASELINE_COMMIT) -> Path:
    """The source of vault, signing, schemas and tests at ``commit``."""
    dest = root / f"main-{commit}"
    dest.mkdir(parents=True)
    archive = subprocess.run(
        [
            "git",
            "-C",
            str(_REPO),
            "archive",
            commit,
            "vault",
            "signing",
            "schemas",
            "tests",
        ],
        check=True,
        capture_output=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest


def _import_in(
    tree: Path, place: Path, stock: Path, manifest: Path, bundle: Path, url: str | None
) -> dict[str, Any]:
    """One import of ``stock`` by the code of ``tree``, in a process of its own, into a
    fresh vault (SQLite at ``place``, or the empty PostgreSQL schema of ``url``)."""
    code = f"import runpy; runpy.run_path({str(_RUNNER)!r}, run_name='__main__')"
    args = [str(place), str(stock), str(manifest), str(bundle), "2", str(WRITE_BATCH)]
    args += [url] if url else []
    out = subprocess.run(
        [sys.executable, "-c", code, *args], cwd=tree, check=True, capture_output=True, text=True
    ).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    assert Path(result["vault"]).is_relative_to(tree), result["vault"]
    return result


@contextlib.contextmanager
def _postgres_schema() -> Iterator[str]:
    """The URL of an empty PostgreSQL schema, dropped afterwards."""
    import secrets

    from sqlalchemy import create_engine, text

    from tests.conftest import POSTGRES_URL
    from tests.vault.conftest import schema_url

    admin = create_engine(POSTGRES_URL)
    schema = f"bulk_bench_{secrets.token_hex(4)}"
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield schema_url(schema)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def against_main(
    root: Path,
    count: int,
    level: PadesLevel,
    *,
    rounds: int,
    postgres: bool = False,
    baseline: str = BASELINE_COMMIT,
) -> Row:
    """``evault import`` of ``count`` licenses of one issuer against the same import by main
    at :data:`BASELINE_COMMIT` (or ``baseline``, any commit) (2 worker processes, writes batched by
    :data:`WRITE_BATCH` as ``evault import`` does), each into a fresh vault (SQLite, or a
    PostgreSQL schema), alternating which goes first. CPU: user+sys of the import and its
    reaped workers (PostgreSQL's own CPU not included); how busy the cores were: that CPU
    over the wall time and :data:`CORES`; the load average (1 min) before the first import
    and after each."""
    manifest = _stock(root, count, level, folder_name=f"provincial-{int(postgres)}")
    bundle = root / "provincial-bundle.json"
    bundle.write_bytes(trust_bundle().dump())
    trees = {"ours": _REPO, "main": baseline_tree(root / f"src-{int(postgres)}", baseline)}
    runs: dict[str, list[dict[str, Any]]] = {"ours": [], "main": []}
    loads = [os.getloadavg()[0]]
    for r in range(rounds):
        for name in ("ours", "main") if r % 2 == 0 else ("main", "ours"):
            with contextlib.ExitStack() as stack:
                url = stack.enter_context(_postgres_schema()) if postgres else None
                place = root / f"bulk-{name}-{r}-{int(postgres)}"
                stock = root / f"provincial-{int(postgres)}"
                result = _import_in(trees[name], place, stock, manifest, bundle, url)
            assert result["ingested"] == count, result
            runs[name].append(result)
            loads.append(os.getloadavg()[0])

    def per_license(name: str, key: str) -> list[float]:
        return [run[key] * 1000 / count for run in runs[name]]

    ours, base = per_license("ours", "wall"), per_license("main", "wall")
    rate, base_rate = 1000 / statistics.median(ours), 1000 / statistics.median(base)
    cpu = {n: statistics.median(per_license(n, "cpu")) for n in runs}
    writer = {n: statistics.median(per_license(n, "cpu_writer")) for n in runs}
    busy = {n: statistics.median(run["cpu"] / run["wall"] / CORES for run in runs[n]) for n in runs}
    load = f"{min(loads):.1f}-{max(loads):.1f}"
    print(
        f"bulk import against main {baseline} (postgres={postgres}): {rate:.1f} vs "
        f"{base_rate:.1f} licenses/s "
        f"({rate / base_rate:.2f}x); CPU {cpu['ours']:.1f} vs {cpu['main']:.1f} ms/license; "
        f"cores busy {busy['ours']:.0%} vs {busy['main']:.0%}; load {load}",
        file=sys.stderr,
    )
    return Row(
        f"bulk import of {count} {level.value} licenses, per license (2 processes, batches of "
        f"{WRITE_BATCH}, {'PostgreSQL' if postgres else 'SQLite'})",
        Stats(statistics.median(ours), max(ours), rounds),
        f"main at {BASELINE_COMMIT} (ORM writer, a lookup per file)"
        if baseline == BASELINE_COMMIT
        else f"main at {baseline}",
        Stats(statistics.median(base), max(base), rounds),
        target=(
            f">= 4x (issue 20): {rate:.1f} licenses/s vs {base_rate:.1f}; CPU "
            f"{cpu['ours']:.1f} vs {cpu['main']:.1f} ms/license (writer process "
            f"{writer['ours']:.1f} vs {writer['main']:.1f}); cores busy {busy['ours']:.0%} "
            f"vs {busy['main']:.0%} (CPU / wall / {CORES}); 12M in "
            f"{PROJECTED / rate / 86400:.1f} vs {PROJECTED / base_rate / 86400:.1f} days; "
            f"load {load}"
        ),
    )


def ofd_push(place: Path, verifier: Verifier, level: PadesLevel, *, rounds: int) -> Row:
    """A new OFD license pushed (SM2 seal verified, stored, logged) vs a new PDF one."""
    from tests.helpers.ofd import license_ofd

    place.mkdir()
    sessions, blobs, crypto, market = _vault(place)
    count = rounds + 2  # compare() warms up twice
    ofds = iter([(20_000 + i, license_ofd(20_000 + i)) for i in range(count)])
    seal = sealer(MARKET_DEPT)
    pdfs = iter(
        [
            (30_000 + i, seal.seal(sample_pdf(f"bench license {30_000 + i}"), level=level))
            for i in range(count)
        ]
    )

    def push(files: Iterator[tuple[int, bytes]]) -> None:
        n, data = next(files)
        with sessions() as session:  # type: ignore[operator]
            result = ingest(
                session=session,
                blobs=blobs,
                verifier=verifier,
                crypto=crypto,
                metadata=metadata(n),
                pdf=data,
                pushed_by_department_id=market,
            )
        assert result.created, n

    return compare(
        "push of a new OFD license (SM2 seal, SQLite)",
        lambda: push(ofds),
        lambda: push(pdfs),
        baseline_name=f"push of a new PDF license ({level.value})",
        rounds=rounds,
        target="no slower than a PDF",
    )


RERUN_FILES, RERUN_REFUSED = 40, 10


def _rerun(root: Path, factory: VerifierFactory, level: PadesLevel, *, rounds: int) -> Row:
    """The rerun of a 40-file import with 10 refusals: journal vs verifying them again."""
    manifest = _stock(root, RERUN_FILES, level, foreign=RERUN_REFUSED, folder_name="rerun")
    importer = _bulk_importer(root / "r", root / "rerun", manifest, factory)

    def run(*, retry_refused: bool = False) -> None:
        summary = importer(retry_refused=retry_refused)
        assert summary.refused_total == RERUN_REFUSED, summary
        assert summary.ingested + summary.settled_before >= RERUN_FILES - RERUN_REFUSED

    run()
    return compare(
        f"rerun of a {RERUN_FILES}-file import, {RERUN_REFUSED} refused (2 processes)",
        run,
        lambda: run(retry_refused=True),
        baseline_name="rerun verifying the refused files again (as before the journal)",
        rounds=rounds,
        warmup=1,
        target="no file verified again",
    )


def _duplicate_on_postgres(
    pdf: bytes, verifier: Verifier, root: Path, *, rounds: int
) -> Row | None:
    """The duplicate push on PostgreSQL (in a throw-away schema), if the server is there."""
    import secrets

    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError

    from tests.conftest import POSTGRES_URL
    from tests.vault.conftest import schema_url

    admin = create_engine(POSTGRES_URL)
    schema = f"evault_bench_{secrets.token_hex(4)}"
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except OperationalError:
        print("PostgreSQL not reachable: no PostgreSQL row", file=sys.stderr)
        return None
    try:
        url = schema_url(schema)
        upgrade(url)
        engine = make_engine(url)
        sessions = make_session_factory(engine)
        blobs = LocalBlobStore(root / "pg-blobs")
        crypto = HolderCrypto.generate()
        with sessions() as session:
            market = make_catalog(session).market

            def push() -> bool:
                return ingest(
                    session=session,
                    blobs=blobs,
                    verifier=verifier,
                    crypto=crypto,
                    metadata=metadata(10_000),
                    pdf=pdf,
                    pushed_by_department_id=market,
                ).created

            assert push()

            def duplicate() -> None:
                assert not push(), "stored twice"

            row = compare(
                "duplicate push (same bytes, PostgreSQL)",
                duplicate,
                lambda: verifier.verify(pdf),
                baseline_name="verify the PDF (what parsing would cost)",
                rounds=rounds,
                target="< 5 ms",
            )
        engine.dispose()
        return row
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.intake")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--level", default="B-LT", help="PAdES level of the stock (B-B, B-LT)")
    parser.add_argument("--postgres", action="store_true", help="--against-main on PostgreSQL")
    parser.add_argument(
        "--against-main",
        type=int,
        metavar="N",
        help="only the import of N licenses against main (the issue 20 row)",
    )
    parser.add_argument(
        "--baseline",
        default=BASELINE_COMMIT,
        metavar="COMMIT",
        help=f"the commit --against-main runs beside ours (default {BASELINE_COMMIT}, "
        "the code before the import was rebuilt for issue 20)",
    )
    args = parser.parse_args()
    if args.against_main:
        with tempfile.TemporaryDirectory() as tmp:
            row = against_main(
                Path(tmp),
                args.against_main,
                PadesLevel(args.level),
                rounds=max(2, args.rounds),
                postgres=args.postgres,
                baseline=args.baseline,
            )
        print(f"{machine()}, {args.rounds} rounds\n")
        print(format_table([row]))
        return
    rows = run(args.rounds, PadesLevel(args.level))
    print(f"{machine()}, {args.rounds} rounds\n")
    print(format_table(rows))
    median = statistics.median([rows[1].ours.median_ms])
    print(f"\nduplicate push median {median:.2f} ms (target < 5 ms)")


if __name__ == "__main__":
    main()
