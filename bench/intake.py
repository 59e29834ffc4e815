"""Intake: bulk-import throughput (2 worker processes) vs a naive sequential loop, the rerun
of a bulk import with refusals (journal vs verifying the refused files again), and the cost
of a duplicate push vs verifying the PDF.

    .venv/bin/python -m bench.intake [--rounds N] [--level B-LT]

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
import csv
import functools
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

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
        batched = _batched(root, manifest, factory, count, rounds=max(2, rounds // 10))
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
        dup,
        *([dup_pg] if dup_pg is not None else []),
        rerun,
        ofd,
    ]


#: Licenses in the projection of the batched import's row (Fuzhou's stock, issue 20).
PROJECTED = 12_000_000


def _batched(
    root: Path, manifest: Path, factory: VerifierFactory, count: int, *, rounds: int
) -> Row:
    """The bulk import with batched writes against one commit per file (the path before
    batches, ``write_batch=1``), 2 processes each, alternating which goes first, each into
    a fresh vault. CPU is the parent's and its (reaped) workers', per license."""
    walls: dict[int, list[float]] = {WRITE_BATCH: [], 1: []}
    cpus: dict[int, list[float]] = {WRITE_BATCH: [], 1: []}
    parent: dict[int, list[float]] = {WRITE_BATCH: [], 1: []}
    for r in range(rounds):
        for batch in (WRITE_BATCH, 1) if r % 2 == 0 else (1, WRITE_BATCH):
            bulk = _bulk_importer(root / f"batch-{batch}-{r}", root / "stock", manifest, factory)
            before, started = os.times(), time.perf_counter()
            summary = bulk(write_batch=batch)
            wall, after = time.perf_counter() - started, os.times()
            assert summary.ingested == count, summary
            cpu = sum(after[:4]) - sum(before[:4])  # user+sys, this process and children
            walls[batch].append(wall * 1000 / count)
            cpus[batch].append(cpu * 1000 / count)
            parent[batch].append((sum(after[:2]) - sum(before[:2])) * 1000 / count)
    ours, base = statistics.median(walls[WRITE_BATCH]), statistics.median(walls[1])
    rate = 1000 / ours
    load = os.getloadavg()[0]
    return Row(
        f"bulk import of {count} B-LT licenses, per license, writes batched by {WRITE_BATCH} "
        "(2 processes)",
        Stats(ours, max(walls[WRITE_BATCH]), rounds),
        "one commit per file (write_batch=1, the path before batches)",
        Stats(base, max(walls[1]), rounds),
        target=(
            f">= 4x (issue 20): {rate:.1f} licenses/s vs {1000 / base:.1f}; CPU "
            f"{statistics.median(cpus[WRITE_BATCH]):.1f} vs {statistics.median(cpus[1]):.1f} "
            f"ms/license (writer process {statistics.median(parent[WRITE_BATCH]):.1f} vs "
            f"{statistics.median(parent[1]):.1f}); {PROJECTED / rate / 86400:.1f} days for 12M; "
            f"load {load:.1f}"
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
    args = parser.parse_args()
    rows = run(args.rounds, PadesLevel(args.level))
    print(f"{machine()}, {args.rounds} rounds\n")
    print(format_table(rows))
    median = statistics.median([rows[1].ours.median_ms])
    print(f"\nduplicate push median {median:.2f} ms (target < 5 ms)")


if __name__ == "__main__":
    main()
