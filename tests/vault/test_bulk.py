"""Bulk import: parallel verification, duplicates, refusals by reason, resume, ZIP, CLI."""

from __future__ import annotations

import csv
import functools
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from tests.helpers.pki import PUBLIC_SECURITY_DEPT
from tests.vault.licenses import HOLDER, license_pdf, make_catalog, metadata, trust_bundle
from vault.blobs import LocalBlobStore
from vault.bootstrap import build_verifier
from vault.cli import build_app
from vault.crypto import HolderCrypto
from vault.models import LicenseVersion
from vault.services.bulk import MANIFEST_FIELDS, ImportOutcome, import_stock, write_refusals
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


def _versions(sessions: sessionmaker[Session]) -> int:
    with sessions() as s:
        return s.scalar(select(func.count()).select_from(LicenseVersion)) or 0


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # worker start-up is slow
def test_parallel_import_then_rerun(
    sessions: sessionmaker[Session],
    blobs: LocalBlobStore,
    crypto: HolderCrypto,
    tmp_path: Path,
    bundle_path: Path,
) -> None:
    with sessions() as s:
        make_catalog(s)
    manifest = make_stock(tmp_path / "stock")
    factory = functools.partial(build_verifier, load_settings(trust_bundle=bundle_path))
    seen: list[ImportOutcome] = []
    summary = import_stock(
        sessions=sessions,
        blobs=blobs,
        crypto=crypto,
        verifier_factory=factory,
        source=tmp_path / "stock",
        manifest=manifest,
        workers=2,
        on_outcome=seen.append,
    )
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

    again = import_stock(
        sessions=sessions,
        blobs=blobs,
        crypto=crypto,
        verifier_factory=factory,
        source=tmp_path / "stock",
        manifest=manifest,
        workers=1,
    )
    assert (again.ingested, again.duplicates, again.refused_total) == (0, GOOD + 1, 3)
    assert _versions(sessions) == GOOD


def test_interrupted_import_resumes_without_loss_or_duplicates(
    sessions: sessionmaker[Session],
    blobs: LocalBlobStore,
    crypto: HolderCrypto,
    tmp_path: Path,
    bundle_path: Path,
) -> None:
    with sessions() as s:
        make_catalog(s)
    manifest = make_stock(tmp_path / "stock")
    factory = functools.partial(build_verifier, load_settings(trust_bundle=bundle_path))
    archive = tmp_path / "stock.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted((tmp_path / "stock").rglob("*.pdf")):
            zf.write(path, path.relative_to(tmp_path / "stock").as_posix())

    seen: list[ImportOutcome] = []

    def stop_after_two(outcome: ImportOutcome) -> None:
        seen.append(outcome)
        if len(seen) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        import_stock(
            sessions=sessions,
            blobs=blobs,
            crypto=crypto,
            verifier_factory=factory,
            source=archive,
            manifest=manifest,
            workers=1,
            on_outcome=stop_after_two,
        )
    # In name order: bad-id.pdf (refused), copy-of-0.pdf (ingested), then the interrupt.
    assert [(o.name, o.status) for o in seen] == [
        ("bad-id.pdf", "refused"),
        ("copy-of-0.pdf", "ingested"),
    ], seen
    partial = _versions(sessions)
    assert partial == 1
    summary = import_stock(
        sessions=sessions,
        blobs=blobs,
        crypto=crypto,
        verifier_factory=factory,
        source=archive,
        manifest=manifest,
        workers=1,
    )
    assert summary.ingested == GOOD - partial
    assert summary.duplicates == partial + 1
    assert _versions(sessions) == GOOD


def test_cli_db_upgrade_catalog_import_gc(
    tmp_path: Path, bundle_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
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

    result = runner.invoke(app, ["gc", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert f"{GOOD} blobs: {GOOD} referenced, 0 within the grace period, 0 would remove" in (
        result.output
    )


def test_cli_import_of_a_missing_folder_fails_in_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(build_app(), ["import", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert result.output.strip() == f"evault: {tmp_path / 'nope'} does not exist"
