"""The demo's structured license data (一张表): its 居住证 samples carry their surface fields,
住房和城乡建设局 gets the name, sex and birth date it may read, signed, verifiable offline with
the demo's trust bundle, and is refused the address."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from tests.web.conftest import DemoData
from vault.cli import build_app

HOLDER = "11010519491231002X"
USE = {"purpose": "公租房资格审核", "case_no": "DEMO-2026-0001"}


def _token(client: TestClient, demo: DemoData, name_part: str) -> str:
    dept = next(d for d in demo.document["departments"] if name_part in d["name"])
    r = client.post(
        "/v1/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": dept["client_id"],
            "client_secret": dept["client_secret"],
        },
    )
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


def test_the_demo_department_reads_permitted_fields(demo_data: DemoData, tmp_path: Path) -> None:
    with TestClient(create_app(demo_data.settings("http://testserver"))) as client:
        headers = {"Authorization": f"Bearer {_token(client, demo_data, '住房和城乡建设局')}"}
        found = client.post(
            "/v1/licenses/search", headers=headers, json={"holder_id": HOLDER, **USE}
        )
        assert found.status_code == 200, found.text
        residence = next(lic for lic in found.json()["licenses"] if lic["name"] == "居住证")
        url = f"/v1/licenses/{residence['id']}/fields"
        asked = {"fields": ["holder_name", "sex", "birth_date"], **USE}
        r = client.post(url, headers=headers, json=asked)
        refused = client.post(url, headers=headers, json={**asked, "fields": ["address"]})
    assert r.status_code == 200, r.text
    assert r.json()["fields"] == {"holder_name": "张三", "sex": "女", "birth_date": "1949-12-31"}
    assert refused.status_code == 403 and "address" in refused.json()["detail"]
    assert "五四路" not in refused.text
    (tmp_path / "answer.jws").write_text(r.json()["jws"])
    bundle = demo_data.data_dir / "trust-bundle.json"
    args = ["fields", "verify", str(tmp_path / "answer.jws"), "--trust", str(bundle), "--json"]
    result = CliRunner().invoke(build_app(), args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["fields"]["birth_date"] == "1949-12-31"
