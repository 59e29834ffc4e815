"""``evault recheck`` from the command line: exit 0 when today's rules take every stored
license, 1 with a line per refused one, 2 (one line) for bad options."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from tests.api.conftest import Api
from tests.api.restored import run_cli
from tests.vault.licenses import license_pdf, metadata, trust_bundle
from vault.blobs import LocalBlobStore
from vault.models import License, LicenseVersion


def _push(api: Api, n: int) -> str:
    r = api.client.post(
        "/v1/licenses",
        headers=api.dept("market"),
        files={"pdf": (f"license-{n}.pdf", license_pdf(n), "application/pdf")},
        data={"metadata": metadata(n).model_dump_json()},
    )
    assert r.status_code == 201, r.text
    license_id: str = r.json()["license"]["id"]
    return license_id


def test_recheck_lists_what_todays_rules_refuse(api_sqlite: Api, tmp_path: Path) -> None:
    first, second = _push(api_sqlite, 1), _push(api_sqlite, 2)
    settings = api_sqlite.ctx.settings
    blobs = api_sqlite.ctx.blobs
    assert isinstance(blobs, LocalBlobStore)
    bundle = tmp_path / "bundle.json"
    bundle.write_bytes(trust_bundle().dump())
    env = {
        "EVAULT_MODE": "demo",
        "EVAULT_DATA_DIR": str(settings.data_dir),
        "EVAULT_DATABASE_URL": str(settings.database_url),
        "EVAULT_BLOB_DIR": str(blobs.root),
        "EVAULT_TRUST_BUNDLE": str(bundle),
        "EVAULT_PUBLIC_BASE_URL": "http://testserver",
    }
    code, out = run_cli(env, "recheck", "--json")
    assert code == 0, out
    assert json.loads(out) == {"checked": 2, "refused": []}

    with api_sqlite.ctx.sessions() as session:  # the second license's blob goes missing
        sha = session.scalars(
            select(LicenseVersion.blob_sha256)
            .join(License, License.id == LicenseVersion.license_id)
            .where(License.public_id == second)
        ).one()
    api_sqlite.ctx.blobs.delete(sha)
    code, out = run_cli(env, "recheck")
    assert code == 1, out
    assert f"{second} v1 PDF: blob_unreadable" in out
    assert first not in out
    assert "2 licenses checked, 1 refused by today's rules" in out

    code, out = run_cli(env, "recheck", "--format", "docx")
    assert code == 2
    assert out.strip() == "evault: --format must be PDF or OFD, not 'docx'"
