"""Long-term archive renewal (issue 14): ``evault ltv renew`` renews stored licenses whose
latest timestamp stops proving within the margin, keeps the old file, and the vault serves
the renewed bytes, which still verify."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

from sqlalchemy import select

from signing.archive import archive_horizon, renew_archive
from signing.seal import PadesLevel
from tests.api.conftest import Api
from tests.api.restored import cli_env, restored_client, run_cli
from tests.helpers.pki import (
    MARKET_DEPT,
    demo_pki,
    embedded_tsa,
    sample_pdf,
    sealed_with_short_tsa,
    sealer,
    short_lived_tsa,
)
from tests.vault.licenses import HOLDER, metadata, verifier
from vault.blobs import LocalBlobStore
from vault.models import ArchiveRenewal, LogEntry
from vault.services.archive import renew_archives_and_commit
from vault.services.gc import collect_garbage

MARGIN = dt.timedelta(days=90)


def _push(api: Api, n: int, pdf: bytes) -> str:
    r = api.client.post(
        "/v1/licenses",
        headers=api.dept("market"),
        files={"pdf": (f"license-{n}.pdf", pdf, "application/pdf")},
        data={"metadata": metadata(n).model_dump_json()},
    )
    assert r.status_code == 201, r.text
    license_id: str = r.json()["license"]["id"]
    return license_id


def _renew(pdf: bytes) -> bytes:
    return renew_archive(pdf, timestamper=embedded_tsa(), crls=demo_pki().crls())


def _run(api: Api, renew: Any = _renew) -> Any:
    with api.ctx.sessions() as session:
        return renew_archives_and_commit(
            session=session, blobs=api.ctx.blobs, renew=renew, verifier=verifier(), margin=MARGIN
        )


def _download(api: Api, license_id: str) -> bytes:
    r = api.client.get(f"/v1/me/licenses/{license_id}/pdf", headers=api.holder())
    assert r.status_code == 200, r.text
    return r.content


def test_due_licenses_are_renewed_once_and_served(api: Api) -> None:
    short = sealed_with_short_tsa(sample_pdf("license No. 1"), days=30)
    due = _push(api, 1, short)
    _push(api, 2, sealer(MARKET_DEPT).seal(sample_pdf("license No. 2"), level=PadesLevel.B_LTA))
    _push(api, 3, sealer(MARKET_DEPT).seal(sample_pdf("license No. 3"), level=PadesLevel.B_B))

    report = _run(api)
    assert report.renewed == [f"{due} v1"]
    assert (report.scanned, report.not_due, report.not_timestamped) == (3, 1, 1)
    assert report.failed == []
    assert HOLDER not in repr(report)

    served = _download(api, due)
    assert served != short and served.startswith(short)  # the issuer's bytes, then renewals
    assert verifier().verify(served).indication == "TOTAL_PASSED"
    assert archive_horizon(served).document_timestamps == 2
    with api.ctx.sessions() as session:
        row = session.scalars(select(ArchiveRenewal)).one()
        assert row.sequence == 1 and row.horizon_before < row.horizon_after
        assert api.ctx.blobs.get(row.previous_sha256) == short  # the old file is kept
        gc = collect_garbage(session=session, blobs=api.ctx.blobs, grace=dt.timedelta(0))
        assert gc.removed == ()
        events = session.scalars(
            select(LogEntry).where(LogEntry.event_type == "license.archive_renewed")
        ).all()
        assert len(events) == 1 and HOLDER.encode() not in events[0].payload

    again = _run(api)  # idempotent
    assert again.renewed == [] and again.not_due == 2
    assert _download(api, due) == served


def test_a_renewal_that_does_not_help_or_does_not_verify_is_not_stored(api: Api) -> None:
    short = sealed_with_short_tsa(sample_pdf("license No. 4"), days=30)
    due = _push(api, 4, short)

    def short_again(pdf: bytes) -> bytes:
        return renew_archive(pdf, timestamper=short_lived_tsa(60), crls=demo_pki().crls())

    report = _run(api, short_again)
    assert report.renewed == []
    assert report.failed == [
        (f"{due} v1", "the new timestamp's certificate expires within the margin")
    ]

    def tampered(pdf: bytes) -> bytes:
        renewed = _renew(pdf)
        return renewed.replace(b"license No. 4", b"license No. 5")

    report = _run(api, tampered)
    assert report.renewed == [] and report.failed[0][1].startswith(
        "the renewed file does not verify"
    )
    with api.ctx.sessions() as session:
        assert session.scalars(select(ArchiveRenewal)).all() == []
    assert _download(api, due) == short
    assert _run(api).renewed == [f"{due} v1"]  # resumable: the next run renews it


def test_cli_renews_with_the_demo_tsa(api_sqlite: Api, tmp_path: Any) -> None:
    """``evault ltv renew`` in demo mode: the demo PKI's TSA, the vault's trust bundle."""
    import json

    from typer.testing import CliRunner

    from vault.cli import build_app

    data = tmp_path / "data"
    settings = api_sqlite.ctx.settings
    settings.demo_pki_password_file.parent.mkdir(parents=True, exist_ok=True)
    settings.demo_pki_password_file.write_text("cli-test\n")
    demo_pki().save(settings.demo_pki_dir, "cli-test")
    due = _push(api_sqlite, 6, sealed_with_short_tsa(sample_pdf("license No. 6"), days=30))
    env = {
        "EVAULT_MODE": "demo",
        "EVAULT_DATA_DIR": str(data),
        "EVAULT_DATABASE_URL": f"sqlite:///{tmp_path / 'evault.db'}",
        "EVAULT_PUBLIC_BASE_URL": "http://testserver",
    }
    runner = CliRunner()
    result = runner.invoke(build_app(), ["ltv", "renew", "--json"], env=env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["renewed"] == [f"{due} v1"]
    result = runner.invoke(build_app(), ["ltv", "renew"], env=env)
    assert result.exit_code == 0, result.output
    assert (
        "1 files: 0 renewed, 1 not due, 0 without a timestamp, 0 not PDF, 0 failed" in result.output
    )
    assert verifier().verify(_download(api_sqlite, due)).indication == "TOTAL_PASSED"


def test_two_runs_at_once_renew_a_file_once(api: Api) -> None:
    """While one run waits for its timestamp (holding no database lock), another run renews
    the same file: the first stores nothing and says so."""
    due = _push(api, 7, sealed_with_short_tsa(sample_pdf("license No. 7"), days=30))
    inner: list[Any] = []

    def racing(pdf: bytes) -> bytes:
        if not inner:
            inner.append(_run(api))  # the other run, complete, in its own session
        return _renew(pdf)

    outer = _run(api, racing)
    assert inner[0].renewed == [f"{due} v1"]
    assert outer.renewed == [] and outer.skipped_concurrent == 1
    with api.ctx.sessions() as session:
        assert len(session.scalars(select(ArchiveRenewal)).all()) == 1


def test_renewals_survive_backup_and_restore(api_sqlite: Api, tmp_path: Any) -> None:
    """The renewed file and the one before it are both in a backup; the restored vault
    serves the renewed bytes."""
    short = sealed_with_short_tsa(sample_pdf("license No. 8"), days=30)
    due = _push(api_sqlite, 8, short)
    assert _run(api_sqlite).renewed == [f"{due} v1"]
    served = _download(api_sqlite, due)
    source = cli_env(tmp_path, f"sqlite:///{tmp_path / 'evault.db'}")
    code, out = run_cli(source, "backup", str(tmp_path / "bk"))
    assert code == 0, out
    url, blob_dir = f"sqlite:///{tmp_path / 'restored' / 'evault.db'}", tmp_path / "rb"
    code, out = run_cli(cli_env(tmp_path, url, blob_dir), "restore", str(tmp_path / "bk"))
    assert code == 0, out
    with restored_client(tmp_path, url, blob_dir) as restored:
        holder = {"Authorization": f"Bearer {restored.ctx.holders.mint_demo(HOLDER)}"}
        r = restored.client.get(f"/v1/me/licenses/{due}/pdf", headers=holder)
        assert r.status_code == 200 and r.content == served
        assert restored.ctx.blobs.get(hashlib.sha256(short).hexdigest()) == short


class _AsIfOfd(LocalBlobStore):
    """The vault's blob folder, answering for one blob with the bytes of an OFD (a zip)."""

    def __init__(self, root: Path, sha256: str) -> None:
        super().__init__(root)
        self._ofd = sha256

    def get(self, sha256: str) -> bytes:
        return b"PK\x03\x04 an OFD package" if sha256 == self._ofd else super().get(sha256)


def test_files_in_other_formats_are_left_alone(api_sqlite: Api) -> None:
    pdf = sealed_with_short_tsa(sample_pdf("license No. 9"), days=30)
    _push(api_sqlite, 9, pdf)
    store = api_sqlite.ctx.blobs
    assert isinstance(store, LocalBlobStore)
    with api_sqlite.ctx.sessions() as session:
        report = renew_archives_and_commit(
            session=session,
            blobs=_AsIfOfd(store.root, hashlib.sha256(pdf).hexdigest()),
            renew=_renew,
            verifier=verifier(),
            margin=MARGIN,
        )
    assert (report.not_pdf, report.renewed, report.failed) == (1, [], [])
