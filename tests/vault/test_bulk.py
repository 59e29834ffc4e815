"""Bulk import: parallel verification, duplicates, refusals by reason, resume, ZIP, CLI."""

from __future__ import annotations

import csv
import datetime as dt
import functools
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import typer
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from schemas.report import VerificationReport
from tests.helpers.pki import PUBLIC_SECURITY_DEPT
from tests.vault.licenses import (
    HOLDER,
    Catalog,
    license_pdf,
    make_catalog,
    metadata,
    trust_bundle,
)
from vault.blobs import LocalBlobStore
from vault.bootstrap import build_verifier
from vault.cli import build_app
from vault.crypto import HolderCrypto
from vault.errors import BlobStoreError
from vault.models import ImportJournalEntry, LicenseVersion
from vault.services import catalog
from vault.services.bulk import (
    MANIFEST_FIELDS,
    ImportOutcome,
    ImportSummary,
    import_run_refusals,
    import_stock,
    list_import_runs,
    write_refusals,
)
from vault.services.intake import PdfVerifier
from vault.settings import load_settings

GOOD = 4
BAD_ID = HOLDER[:-1] + ("0" if HOLDER[-1] != "0" else "1")


def _row(name: str, n: int, **overrides: object) -> dict[str, str]:
    data = metadata(n).model_dump(mode="json") | {k: v for k, v in overrides.items()}
    row = {k: "" if v is None else str(v) for k, v in data.items() if k != "extra"}
    return {"file": name, **row, "extra": "{}"}


def make_stock(folder: Path) -> Path:
    """A folder of PDFs and its manifest; returns the manifest's path."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(GOOD):
        name = f"good/{i}.pdf"
        (folder / "good").mkdir(exist_ok=True)
        (folder / name).write_bytes(license_pdf(500 + i))
        rows.append(_row(name, 500 + i))
    (folder / "copy-of-0.pdf").write_bytes(license_pdf(500))  # same bytes as good/0.pdf
    rows.append(_row("copy-of-0.pdf", 500))
    (folder / "foreign-seal.pdf").write_bytes(license_pdf(600, PUBLIC_SECURITY_DEPT))
    rows.append(_row("foreign-seal.pdf", 600))
    (folder / "bad-id.pdf").write_bytes(license_pdf(601))
    rows.append(_row("bad-id.pdf", 601) | {"holder_id": BAD_ID})
    (folder / "unlisted.pdf").write_bytes(license_pdf(602))
    manifest = folder.parent / f"{folder.name}-manifest.csv"
    with manifest.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=MANIFEST_FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    return manifest


@pytest.fixture
def bundle_path(tmp_path: Path) -> Path:
    path = tmp_path / "trust-bundle.json"
    path.write_bytes(trust_bundle().dump())
    return path


class _CountingVerifier:
    def __init__(self, inner: PdfVerifier, seen: list[str]) -> None:
        self._inner, self._seen = inner, seen

    def verify(
        self, data: bytes, *, at: dt.datetime | None = None, file_name: str | None = None
    ) -> VerificationReport:
        self._seen.append(file_name or "?")
        return self._inner.verify(data, at=at, file_name=file_name)


def _counting(factory: Callable[[], PdfVerifier], seen: list[str]) -> Callable[[], PdfVerifier]:
    """A verifier factory (in-process: workers=1) that notes each file it verifies."""
    return lambda: _CountingVerifier(factory(), seen)


def _importer(
    sessions: sessionmaker[Session],
    blobs: LocalBlobStore,
    crypto: HolderCrypto,
    factory: Callable[[], PdfVerifier],
    source: Path,
    manifest: Path | None,
) -> Callable[..., ImportSummary]:
    """``import_stock`` of this stock, one process; keywords override."""
    return functools.partial(
        import_stock,
        sessions=sessions,
        blobs=blobs,
        crypto=crypto,
        verifier_factory=factory,
        source=source,
        manifest=manifest,
        workers=1,
    )


@dataclass(frozen=True)
class _Stock:
    catalog: Catalog
    folder: Path
    manifest: Path
    factory: Callable[[], PdfVerifier]


@pytest.fixture
def stock(sessions: sessionmaker[Session], tmp_path: Path, bundle_path: Path) -> _Stock:
    """The catalog in the database, the stock folder and its manifest, a verifier factory."""
    with sessions() as s:
        cat = make_catalog(s)
    folder = tmp_path / "stock"
    manifest = make_stock(folder)
    factory = functools.partial(build_verifier, load_settings(trust_bundle=bundle_path))
    return _Stock(cat, folder, manifest, factory)


def _versions(sessions: sessionmaker[Session]) -> int:
    with sessions() as s:
        return s.scalar(select(func.count()).select_from(LicenseVersion)) or 0


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # worker start-up is slow
def test_parallel_import_then_rerun(
    sessions: sessionmaker[Session],
    blobs: LocalBlobStore,
    crypto: HolderCrypto,
    tmp_path: Path,
    stock: _Stock,
) -> None:
    factory = stock.factory
    run = _importer(sessions, blobs, crypto, factory, stock.folder, stock.manifest)
    seen: list[ImportOutcome] = []
    summary = run(workers=2, on_outcome=seen.append)
    assert (summary.total, summary.ingested, summary.duplicates) == (8, GOOD, 1)
    assert dict(summary.refused) == {"signer_not_issuer": 1, "bad_metadata": 1, "no_metadata": 1}
    assert len(seen) == 8
    assert _versions(sessions) == GOOD
    by_name = {o.name: o for o in summary.refusals}
    assert by_name["unlisted.pdf"].message == "the manifest has no row for this file"
    bad = by_name["bad-id.pdf"].message or ""
    assert bad == f"metadata: Value error, 公民身份号码: check character should be {HOLDER[-1]}"
    assert BAD_ID not in bad and HOLDER not in bad

    out = write_refusals(summary, tmp_path / "refusals.csv")
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert sorted(r["reason"] for r in rows) == ["bad_metadata", "no_metadata", "signer_not_issuer"]

    verified: list[str] = []
    again = run(verifier_factory=_counting(factory, verified))
    # Every file was settled by the first run: nothing is verified again.
    assert verified == []
    assert (again.ingested, again.duplicates, again.refused_total) == (0, 0, 3)
    assert (again.settled_before, again.settled_refused) == (8, 3)
    assert {o.settled_in for o in again.refusals} == {summary.run_id}
    assert _versions(sessions) == GOOD
    # With workers, a run that has nothing to verify builds no verifier and starts no
    # process (it used to start both before reading the journal).
    third = run(workers=2, verifier_factory=_no_verifier)
    assert (third.settled_before, third.ingested) == (8, 0)


def _no_verifier() -> PdfVerifier:
    raise AssertionError("a verifier was built for a run with nothing to verify")


def test_interrupted_import_resumes_without_loss_or_duplicates(
    sessions: sessionmaker[Session],
    blobs: LocalBlobStore,
    crypto: HolderCrypto,
    tmp_path: Path,
    stock: _Stock,
) -> None:
    manifest, factory = stock.manifest, stock.factory
    archive = tmp_path / "stock.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted((tmp_path / "stock").rglob("*.pdf")):
            zf.write(path, path.relative_to(tmp_path / "stock").as_posix())

    seen: list[ImportOutcome] = []

    def stop_after_two(outcome: ImportOutcome) -> None:
        seen.append(outcome)
        if len(seen) == 2:
            raise KeyboardInterrupt

    run = _importer(sessions, blobs, crypto, factory, archive, manifest)
    with pytest.raises(KeyboardInterrupt):
        run(on_outcome=stop_after_two)
    # In name order: bad-id.pdf (refused), copy-of-0.pdf (ingested), then the interrupt.
    assert [(o.name, o.status) for o in seen] == [
        ("bad-id.pdf", "refused"),
        ("copy-of-0.pdf", "ingested"),
    ], seen
    partial = _versions(sessions)
    assert partial == 1
    with sessions() as s:
        (first,) = list_import_runs(session=s)
        assert (first.state, first.files, first.ingested, first.refused) == ("interrupted", 2, 1, 1)
        assert first.finished_at is not None
        assert s.scalar(select(func.count()).select_from(ImportJournalEntry)) == 2
    summary = run()
    assert summary.ingested == GOOD - partial
    # bad-id.pdf and copy-of-0.pdf were settled by the first run, and so was good/0.pdf
    # (the same bytes as copy-of-0.pdf).
    assert (summary.duplicates, summary.settled_before) == (0, 3)
    assert _versions(sessions) == GOOD
    with sessions() as s:
        assert [r.state for r in list_import_runs(session=s)] == ["finished", "interrupted"]


def test_journal_settles_refusals_until_asked_or_inputs_change(
    sessions: sessionmaker[Session],
    blobs: LocalBlobStore,
    crypto: HolderCrypto,
    stock: _Stock,
) -> None:
    manifest, factory = stock.manifest, stock.factory
    importer = _importer(sessions, blobs, crypto, factory, stock.folder, manifest)
    trust = trust_bundle().fingerprint

    def run(**options: object) -> tuple[list[str], ImportSummary]:
        seen: list[str] = []
        options.setdefault("trust_fingerprint", trust)
        summary = importer(verifier_factory=_counting(factory, seen), **options)
        assert summary.total == 8
        return sorted(seen), summary

    seen, first = run()
    # copy-of-0.pdf comes first in name order: good/0.pdf is its duplicate.
    assert seen == ["copy-of-0.pdf", "foreign-seal.pdf", *(f"good/{i}.pdf" for i in (1, 2, 3))]
    assert run()[0] == []  # settled

    # Asked: every refused file is decided anew; only the foreign seal needs verifying.
    seen, retried = run(retry_refused=True)
    assert seen == ["foreign-seal.pdf"]
    assert (retried.refused_total, retried.settled_refused, retried.settled_before) == (3, 0, 5)
    assert run()[0] == []

    # Another trust bundle, another catalog: the refusal is verified again, once.
    assert run(trust_fingerprint="sha256:" + "0" * 64)[0] == ["foreign-seal.pdf"]
    assert run(trust_fingerprint="sha256:" + "0" * 64)[0] == []
    assert run()[0] == ["foreign-seal.pdf"]
    with sessions() as s:
        catalog.create_license_type(
            session=s,
            code="11100000000013338W041",
            name="新类型",
            holder_kind="111",
            issuer_department_ids=[stock.catalog.market],
        )
        s.commit()
    seen, after_catalog = run()
    assert seen == ["foreign-seal.pdf"]
    assert after_catalog.settled_refused == 0  # every refusal was decided anew (cheaply)
    assert run()[0] == []

    # Corrected metadata: the file is taken again and now ingested.
    rows = list(csv.DictReader(manifest.open(encoding="utf-8")))
    for row in rows:
        if row["file"] == "bad-id.pdf":
            row["holder_id"] = HOLDER
    with manifest.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=MANIFEST_FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    seen, fixed = run()
    assert seen == ["bad-id.pdf"]
    assert (fixed.ingested, fixed.refused_total) == (1, 2)
    assert _versions(sessions) == GOOD + 1

    _assert_runs_listed(sessions, first, fixed)


def _assert_runs_listed(
    sessions: sessionmaker[Session], first: ImportSummary, fixed: ImportSummary
) -> None:
    """The ten runs of the journal test, newest first; the first run's refusals."""
    with sessions() as s:
        runs = list_import_runs(session=s)
        assert len(runs) == 10 and {r.state for r in runs} == {"finished"}
        assert runs[0].id == fixed.run_id and runs[-1].id == first.run_id
        assert [r.retry_refused for r in runs].count(True) == 1
        run_row, refused = import_run_refusals(session=s, run_id=first.run_id or 0)
        assert (run_row.files, run_row.ingested, run_row.duplicates, run_row.refused) == (
            8,
            4,
            1,
            3,
        )
        assert sorted((o.name, o.reason) for o in refused) == [
            ("bad-id.pdf", "bad_metadata"),
            ("foreign-seal.pdf", "signer_not_issuer"),
            ("unlisted.pdf", "no_metadata"),
        ]
        assert all(HOLDER not in (o.message or "") for o in refused)
        # The journal keeps keyed digests of the metadata, never a holder ID.
        digests = s.scalars(select(ImportJournalEntry.metadata_digest)).all()
        assert all(d is None or (len(d) == 64 and HOLDER not in d) for d in digests)


class _FailingBlobs(LocalBlobStore):
    """A blob store whose second write fails (a full disk)."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.writes = 0

    def put(self, data: bytes) -> str:
        self.writes += 1
        if self.writes == 2:
            raise BlobStoreError("disk full")
        return super().put(data)


def test_a_failed_write_stores_nothing_and_journals_nothing_for_its_file(
    sessions: sessionmaker[Session], crypto: HolderCrypto, tmp_path: Path, bundle_path: Path
) -> None:
    with sessions() as s:
        make_catalog(s)
    manifest = make_stock(tmp_path / "stock")
    factory = functools.partial(build_verifier, load_settings(trust_bundle=bundle_path))
    run = _importer(
        sessions, _FailingBlobs(tmp_path / "blobs"), crypto, factory, tmp_path / "stock", manifest
    )
    with pytest.raises(BlobStoreError, match="disk full"):
        run()
    # bad-id (refused), copy-of-0 (stored: the first write), foreign-seal (refused after
    # verification), good/0 (duplicate), then good/1's blob write fails: no license and no
    # journal entry for it.
    stored = _versions(sessions)
    with sessions() as s:
        entries = {e.name: e.outcome for e in s.scalars(select(ImportJournalEntry))}
        (interrupted,) = list_import_runs(session=s)
    assert interrupted.state == "interrupted"
    assert "good/1.pdf" not in entries
    assert sum(1 for o in entries.values() if o == "ingested") == stored == 1
    summary = run(blobs=LocalBlobStore(tmp_path / "blobs"))
    assert summary.ingested == GOOD - 1
    assert _versions(sessions) == GOOD


def test_cli_db_upgrade_catalog_import_gc(
    tmp_path: Path, bundle_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, runner = _cli_with_catalog(tmp_path, bundle_path, monkeypatch)
    _cli_import_then_rerun(app, runner, tmp_path)
    _cli_import_history(app, runner, tmp_path)
    _cli_gc(app, runner)


def _cli_with_catalog(
    tmp_path: Path, bundle_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[typer.Typer, CliRunner]:
    """The CLI on a fresh SQLite vault (``db upgrade``), the test catalog in it."""
    db = tmp_path / "cli.db"
    for key, value in {
        "EVAULT_MODE": "production",
        "EVAULT_DATA_DIR": str(tmp_path / "data"),
        "EVAULT_DATABASE_URL": f"sqlite:///{db}",
        "EVAULT_TRUST_BUNDLE": str(bundle_path),
        "EVAULT_HOLDER_KEY": bytes(range(32)).hex(),
        "EVAULT_BLIND_INDEX_KEY": bytes(range(1, 33)).hex(),
    }.items():
        monkeypatch.setenv(key, value)
    app = build_app()
    runner = CliRunner()
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "database at revision" in result.output
    assert runner.invoke(app, ["db", "check"]).exit_code == 0

    from vault.db import make_engine, make_session_factory

    engine = make_engine(f"sqlite:///{db}")
    with make_session_factory(engine)() as s:
        make_catalog(s)
    engine.dispose()
    listed = runner.invoke(app, ["catalog", "list"])
    assert "type 11100000000013338W011 食品经营许可证 holder 111" in listed.output
    return app, runner


def _cli_import_then_rerun(app: typer.Typer, runner: CliRunner, tmp_path: Path) -> None:
    """``evault import``, its rerun (every file settled) and a rerun with --retry-refused."""
    manifest = make_stock(tmp_path / "stock")
    refusals = tmp_path / "refused.csv"
    result = runner.invoke(
        app,
        [
            "import",
            str(tmp_path / "stock"),
            "--manifest",
            str(manifest),
            "--workers",
            "1",
            "--refusals",
            str(refusals),
        ],
    )
    assert result.exit_code == 1  # some files were refused
    assert "8 files in" in result.output
    assert f"{GOOD} ingested, 1 duplicates, 3 refused" in result.output
    assert "refused signer_not_issuer: 1" in result.output
    assert HOLDER not in result.output and HOLDER not in refusals.read_text(encoding="utf-8")

    # The rerun takes every file as settled; the refusals CSV names the run that refused.
    args = ["import", str(tmp_path / "stock"), "--manifest", str(manifest), "--workers", "1"]
    result = runner.invoke(app, [*args, "--refusals", str(refusals)])
    assert result.exit_code == 1, result.output
    assert result.stdout.startswith("run 2: 8 files in")
    assert "0 ingested, 0 duplicates, 3 refused" in result.output
    assert "8 settled by earlier runs, not verified again (3 of them refused" in result.output
    rows = list(csv.DictReader(refusals.open(encoding="utf-8")))
    assert {(r["reason"], r["run"]) for r in rows} == {
        ("bad_metadata", "1"),
        ("no_metadata", "1"),
        ("signer_not_issuer", "1"),
    }
    result = runner.invoke(app, [*args, "--refusals", str(refusals), "--retry-refused", "--json"])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert (data["run"], data["settled_before"], data["settled_refused"]) == (3, 5, 0)


def _cli_import_history(app: typer.Typer, runner: CliRunner, tmp_path: Path) -> None:
    """``evault import --runs`` and ``--run N`` after the three runs."""
    result = runner.invoke(app, ["import", "--runs"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [line.split()[:3] for line in lines] == [
        ["run", "3", "finished"],
        ["run", "2", "finished"],
        ["run", "1", "finished"],
    ]
    assert lines[0].endswith(
        "0 ingested, 0 duplicates, 3 refused, 5 settled before (--retry-refused)"
    )
    assert lines[1].endswith("0 ingested, 0 duplicates, 0 refused, 8 settled before")
    result = runner.invoke(app, ["import", "--run", "1"])
    assert result.exit_code == 0, result.output
    assert f"{GOOD} ingested, 1 duplicates, 3 refused, 0 settled before" in result.output
    assert "  foreign-seal.pdf: signer_not_issuer: signature " in result.output
    assert HOLDER not in result.output
    result = runner.invoke(app, ["import", "--run", "1", "--json"])
    assert sorted(r["file"] for r in json.loads(result.stdout)["refusals"]) == [
        "bad-id.pdf",
        "foreign-seal.pdf",
        "unlisted.pdf",
    ]
    result = runner.invoke(app, ["import", "--run", "99"])
    assert (result.exit_code, result.output.strip()) == (1, "evault: there is no import run 99")
    result = runner.invoke(app, ["import", "--runs", str(tmp_path / "stock")])
    assert result.exit_code == 2


def _cli_gc(app: typer.Typer, runner: CliRunner) -> None:
    """``evault gc``: every blob the imports stored is referenced."""
    result = runner.invoke(app, ["gc", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert f"{GOOD} blobs: {GOOD} referenced, 0 within the grace period, 0 would remove" in (
        result.output
    )
    result = runner.invoke(app, ["gc", "--json"])
    assert result.exit_code == 0, result.output
    done = json.loads(result.stdout)
    assert (done["removed"], done["web_sessions_removed"], done["idempotent_answers_removed"]) == (
        [],
        0,
        0,
    )


def test_cli_import_without_a_folder_fails_in_one_line() -> None:
    result = CliRunner().invoke(build_app(), ["import"])
    assert result.exit_code == 2
    assert result.output.strip() == (
        "evault: give a folder or a ZIP file to import (or --runs, --run N)"
    )


def test_cli_import_of_a_missing_folder_fails_in_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(build_app(), ["import", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert result.output.strip() == f"evault: {tmp_path / 'nope'} does not exist"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_import_takes_ofd_files_with_their_sidecars(
    sessions: sessionmaker[Session],
    blobs: LocalBlobStore,
    crypto: HolderCrypto,
    tmp_path: Path,
    stock: _Stock,
) -> None:
    from tests.helpers.ofd import license_ofd, ofd_parts, rebuild_ofd

    folder = tmp_path / "ofd-stock"
    folder.mkdir()
    tampered = ofd_parts(license_ofd(701))
    page = "Doc_0/Pages/Page_0/Content.xml"
    tampered[page] = tampered[page].replace("张三".encode(), "王五".encode())
    files = {
        "a-good.ofd": (license_ofd(700), 700),
        "b-same-bytes.OFD": (license_ofd(700), 700),
        "c-tampered.ofd": (rebuild_ofd(tampered), 701),
        "d-named-pdf.pdf": (license_ofd(702), 702),
        "e-foreign-seal.ofd": (license_ofd(703, PUBLIC_SECURITY_DEPT), 703),
    }
    for name, (data, n) in files.items():
        (folder / name).write_bytes(data)
        sidecar = (folder / name).with_suffix(".json")
        sidecar.write_text(metadata(n).model_dump_json(), encoding="utf-8")
    run = _importer(sessions, blobs, crypto, stock.factory, folder, None)
    summary = run()
    assert (summary.total, summary.ingested, summary.duplicates) == (5, 1, 1)
    assert dict(summary.refused) == {
        "modified_after_signing": 1,
        "format_mismatch": 1,
        "signer_not_issuer": 1,
    }
    by_name = {o.name: o for o in summary.refusals}
    assert "declared PDF" in (by_name["d-named-pdf.pdf"].message or "")
    with sessions() as s:
        formats = s.scalars(select(LicenseVersion.file_format)).all()
    assert formats == ["OFD"]
