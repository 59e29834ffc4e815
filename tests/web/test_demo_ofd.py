"""The demo's OFD licenses: sealed with SM2 by their issuing departments, taken in through the
real intake, listed and downloaded by their holder as OFD, verified offline with the demo's
trust bundle (``evault verify --trust``), and a second demo run reuses the same SM2 PKI."""

from __future__ import annotations

import json
import re
from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from api.demo.prepare import prepare_demo
from schemas.report import FileFormat, Indication
from signing.ofd import verify_ofd
from signing.trust import TrustBundle
from tests.web.conftest import DemoData, login, prepare_demo_data
from vault.cli import build_app
from vault.settings import Settings

COMPANY = "91350100M000100Y43"


def _holder_token(demo: DemoData, holder_id: str) -> str:
    return str(next(h for h in demo.document["holders"] if h["holder_id"] == holder_id)["token"])


def test_demo_issues_ofd_licenses_that_verify_offline(demo_data: DemoData, tmp_path: Path) -> None:
    kinds = {t["name"]: t["file_format"] for t in demo_data.document["license_types"]}
    assert kinds == {
        "营业执照": "PDF",
        "食品经营许可证": "OFD",
        "居住证": "PDF",
        "不动产权证书": "OFD",
    }
    headers = {"Authorization": f"Bearer {_holder_token(demo_data, COMPANY)}"}
    with TestClient(create_app(demo_data.settings("http://testserver"))) as client:
        mine = client.get("/v1/me/licenses", headers=headers).json()["licenses"]
        food = next(lic for lic in mine if lic["name"] == "食品经营许可证")
        assert food["file_format"] == "OFD"
        r = client.get(f"/v1/me/licenses/{food['id']}/file", headers=headers)
    assert r.status_code == 200 and r.headers["content-type"] == "application/ofd"
    assert r.headers["content-disposition"].endswith('.ofd"')
    data = r.content

    bundle = TrustBundle.load(demo_data.data_dir / "trust-bundle.json")
    report = verify_ofd(data, trust=bundle)
    assert report.file_format is FileFormat.OFD
    assert report.indication is Indication.TOTAL_PASSED, report.reasons
    seal = report.signatures[0]
    assert seal.signer_credit_code == food["issuer_code"]
    assert seal.seal_name == "福州市市场监督管理局电子印章"

    path = tmp_path / "food.ofd"
    path.write_bytes(data)
    bundle_path = demo_data.data_dir / "trust-bundle.json"
    run = CliRunner().invoke(
        build_app(), ["verify", str(path), "--trust", str(bundle_path), "--json"]
    )
    assert run.exit_code == 0, run.output
    assert json.loads(run.output)["indication"] == "TOTAL_PASSED"


def test_a_second_demo_run_keeps_the_sm2_pki_and_bundle(demo_data: DemoData) -> None:
    bundle = (demo_data.data_dir / "trust-bundle.json").read_bytes()
    pki = (demo_data.data_dir / "pki" / "sm2-pki.json").read_bytes()
    assert b"PRIVATE" not in pki.upper() and b'"key' not in pki
    # the same address as the first run: the log's origin (a key name in the bundle) is it
    prepare_demo(demo_data.settings(Settings.model_fields["public_base_url"].default))
    assert (demo_data.data_dir / "trust-bundle.json").read_bytes() == bundle
    assert (demo_data.data_dir / "pki" / "sm2-pki.json").read_bytes() == pki


def test_the_portal_shows_and_downloads_ofd_licenses(demo_data: DemoData) -> None:
    with TestClient(create_app(demo_data.settings("http://testserver"))) as client:
        login(client, holder=2)  # the company: its 食品经营许可证 is an OFD
        page = client.get("/me", headers={"Accept-Language": "zh-CN"})
        assert page.status_code == 200
        cards = re.findall(
            r'<li class="card license" id="license-([^"]+)">(.*?)</li>', page.text, re.S
        )
        formats = {
            ("食品经营许可证" in body, "OFD（SM2 电子签章，GB/T 38540）" in body)
            for _, body in cards
        }
        assert formats == {(True, True), (False, False)}, page.text
        food = next(lid for lid, body in cards if "食品经营许可证" in body)
        assert f'href="/me/licenses/{food}/file"' in page.text and "下载原件（OFD）" in page.text
        # OFD licenses have certified copies too (vault.services.copies.COPYABLE_FORMATS).
        assert all("/copy" in body for _, body in cards)
        r = client.get(f"/me/licenses/{food}/file")
    assert r.status_code == 200 and r.headers["content-type"] == "application/ofd"
    assert r.headers["content-disposition"] == f'attachment; filename="license-{food}.ofd"'
    assert r.content.startswith(b"PK\x03\x04")


def test_a_demo_made_before_ofd_gets_its_sm2_pki_and_bundle(tmp_path: Path) -> None:
    """A data directory of an evault demo without OFD (no SM2 PKI, a PDF-only bundle): the
    next run adds the SM2 PKI and its root to the bundle, and the OFD licenses verify."""
    demo = prepare_demo_data(tmp_path / "demo")
    bundle_path = demo.data_dir / "trust-bundle.json"
    sm2_file = demo.data_dir / "pki" / "sm2-pki.json"
    full = TrustBundle.load(bundle_path)
    pdf_only = TrustBundle.from_certificates(
        roots=full.roots[:1], intermediates=full.intermediates[:1], vault_seal=full.vault_seal
    )
    bundle_path.write_bytes(pdf_only.dump())
    sm2_file.unlink()

    prepare_demo(demo.settings("http://testserver"))
    again = TrustBundle.load(bundle_path)
    assert len(again.roots) == 2 and again.crls and sm2_file.is_file()
    headers = {"Authorization": f"Bearer {_holder_token(demo, COMPANY)}"}
    with TestClient(create_app(demo.settings("http://testserver"))) as client:
        mine = client.get("/v1/me/licenses", headers=headers).json()["licenses"]
        food = next(lic for lic in mine if lic["file_format"] == "OFD")
        data = client.get(f"/v1/me/licenses/{food['id']}/file", headers=headers).content
    assert verify_ofd(data, trust=again).indication is Indication.TOTAL_PASSED


def test_the_demo_copies_an_ofd_license_with_its_sm2_seal(demo_data: DemoData) -> None:
    """The demo vault's OFD seal is a signer of the demo's SM2 PKI: a holder's copy of an
    OFD license verifies offline with the demo's trust bundle, both seals passed."""
    headers = {"Authorization": f"Bearer {_holder_token(demo_data, COMPANY)}"}
    with TestClient(create_app(demo_data.settings("http://testserver"))) as client:
        mine = client.get("/v1/me/licenses", headers=headers).json()["licenses"]
        food = next(lic for lic in mine if lic["file_format"] == "OFD")
        made = client.post(
            f"/v1/me/licenses/{food['id']}/copies", headers=headers, json={"purpose": "自用"}
        )
        assert made.status_code in (200, 201), made.text
        r = client.get(f"/v1/copies/{made.json()['id']}/pdf", headers=headers)
        login(client, holder=2)  # the company, in the portal
        page = client.get(f"/me/copies/{made.json()['id']}/pdf")
    assert page.status_code == 200 and page.headers["content-type"] == "application/ofd"
    assert page.headers["content-disposition"].endswith('.ofd"') and page.content == r.content
    assert r.status_code == 200 and r.headers["content-type"] == "application/ofd"
    report = verify_ofd(r.content, trust=TrustBundle.load(demo_data.data_dir / "trust-bundle.json"))
    assert report.indication is Indication.TOTAL_PASSED, report.reasons
    assert report.signatures[1].seal_name == "evault 电子证照库电子印章"
