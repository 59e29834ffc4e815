"""Certified copies over HTTP: make, reuse, download, verify offline, status page and JSON,
revocation, expiry, unknown ids, holders' own copies; the QR code leads to the live page."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from pathlib import Path

from tests.api.conftest import HOLDER, OTHER_HOLDER, Api
from tests.conftest import require_tool
from tests.vault.licenses import verifier
from vault.services.copies import copy_status

USE = {"purpose": "住房保障资格审核", "case_no": "ZJ-2026-000123"}


def test_department_copy_round_trip(api: Api, tmp_path: Path) -> None:
    license_id = api.push(1).json()["license"]["id"]
    r = api.client.post(f"/v1/licenses/{license_id}/copies", headers=api.dept("housing"), json=USE)
    assert r.status_code == 201, r.text
    copy = r.json()
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", copy["id"])  # 128 random bits
    assert copy["reused"] is False
    assert copy["verify_url"] == f"http://testserver/v/{copy['id']}"
    made = dt.datetime.fromisoformat(copy["made_at"])
    assert dt.datetime.fromisoformat(copy["expires_at"]) - made == dt.timedelta(days=30)

    pdf = api.client.get(f"/v1/copies/{copy['id']}/pdf", headers=api.dept("housing"))
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    from tests.vault.licenses import license_pdf

    assert pdf.content.startswith(license_pdf(1))  # the original, byte for byte, then the update
    report = verifier().verify(pdf.content)
    assert report.indication == "TOTAL_PASSED", report.reasons
    assert len(report.signatures) == 2
    assert all(s.intact and not s.modified_after_signing for s in report.signatures)

    status = api.client.get(f"/v1/copies/{copy['id']}/status").json()
    assert status["state"] == "valid" and status["valid"] is True
    assert status["holder_masked"] != HOLDER and status["holder_masked"].endswith(HOLDER[-4:])
    assert status["department_name"] == "福州市住房和城乡建设局"
    assert status["purpose"] == USE["purpose"]
    page = api.client.get(f"/v/{copy['id']}")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert HOLDER not in page.text

    # the same department, license, purpose and case: the same copy, 200 like an identical push
    answer = api.client.post(
        f"/v1/licenses/{license_id}/copies", headers=api.dept("housing"), json=USE
    )
    assert answer.status_code == 200, answer.text
    again = answer.json()
    assert again["id"] == copy["id"] and again["reused"] is True
    other_case = api.client.post(
        f"/v1/licenses/{license_id}/copies",
        headers=api.dept("housing"),
        json={**USE, "case_no": "ZJ-2026-000124"},
    ).json()
    assert other_case["id"] != copy["id"]

    # another department cannot download it; the holder can
    assert (
        api.client.get(f"/v1/copies/{copy['id']}/pdf", headers=api.dept("tax")).status_code == 404
    )
    assert api.client.get(f"/v1/copies/{copy['id']}/pdf", headers=api.holder()).status_code == 200
    other = api.client.get(f"/v1/copies/{copy['id']}/pdf", headers=api.holder(OTHER_HOLDER))
    assert other.status_code == 404

    log = api.client.get("/v1/me/access-log", headers=api.holder()).json()["entries"]
    copies = [e for e in log if e["action"] == "copy"]
    assert {e["copy_id"] for e in copies} == {copy["id"], other_case["id"]}
    assert all(e["basis"] == "standing_permission" for e in copies)

    # the QR code on the rendered copy leads to the live page
    _qr_leads_to_page(api, pdf.content, copy["verify_url"], tmp_path)


def _qr_leads_to_page(api: Api, pdf: bytes, url: str, tmp_path: Path) -> None:
    pdftoppm = require_tool("pdftoppm")
    import zxingcpp
    from PIL import Image

    (tmp_path / "copy.pdf").write_bytes(pdf)
    subprocess.run(
        [
            pdftoppm,
            "-r",
            "200",
            "-png",
            "-singlefile",
            str(tmp_path / "copy.pdf"),
            str(tmp_path / "page"),
        ],
        check=True,
        timeout=60,
    )
    results = zxingcpp.read_barcodes(Image.open(tmp_path / "page.png"))
    texts = [r.text for r in results]
    assert url in texts, texts
    path = url.removeprefix("http://testserver")
    assert api.client.get(path).status_code == 200


def test_revoked_license_turns_copies_invalid(api: Api) -> None:
    license_id = api.push(1).json()["license"]["id"]
    copy = api.client.post(
        f"/v1/licenses/{license_id}/copies", headers=api.dept("housing"), json=USE
    ).json()
    r = api.client.patch(
        f"/v1/licenses/{license_id}/status",
        headers=api.dept("market"),
        json={"status": "吊销", "reason": "违法经营"},
    )
    assert r.status_code == 200
    status = api.client.get(f"/v1/copies/{copy['id']}/status").json()
    assert status["state"] == "license_invalid" and status["valid"] is False
    assert status["license_status"] == "吊销"
    assert any("吊销" in reason for reason in status["reasons"])
    # and no new copy of a revoked license
    r = api.client.post(
        f"/v1/licenses/{license_id}/copies",
        headers=api.dept("housing"),
        json={**USE, "case_no": "other"},
    )
    assert r.status_code == 409
    assert "吊销" in r.json()["detail"]


def test_copy_expiry_and_limits(api: Api) -> None:
    license_id = api.push(1).json()["license"]["id"]
    r = api.client.post(
        f"/v1/licenses/{license_id}/copies",
        headers=api.dept("housing"),
        json={**USE, "valid_days": 91},
    )
    assert r.status_code == 422 and "1 to 90 days" in r.json()["detail"]
    copy = api.client.post(
        f"/v1/licenses/{license_id}/copies",
        headers=api.dept("housing"),
        json={**USE, "valid_days": 1},
    ).json()
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=2)
    with api.ctx.sessions() as session:
        view = copy_status(session=session, copy_id=copy["id"], now=later)
    assert view.state == "expired"
    assert any("已过有效期" in reason for reason in view.reasons)


def test_unknown_copy_is_plain_not_found(api: Api) -> None:
    for copy_id in ("AAAAAAAAAAAAAAAAAAAAAA", "x" * 60):
        r = api.client.get(f"/v1/copies/{copy_id}/status")
        assert r.status_code == 404
        assert r.json()["detail"] == "not found"
        assert api.client.get(f"/v/{copy_id}").status_code == 404


def test_holder_makes_its_own_copy(api: Api) -> None:
    license_id = api.push(1).json()["license"]["id"]
    r = api.client.post(
        f"/v1/me/licenses/{license_id}/copies",
        headers=api.holder(),
        json={"purpose": "办理贷款", "recipient": "某银行"},
    )
    assert r.status_code == 201, r.text
    copy = r.json()
    pdf = api.client.get(f"/v1/copies/{copy['id']}/pdf", headers=api.holder())
    assert pdf.status_code == 200
    assert verifier().verify(pdf.content).indication == "TOTAL_PASSED"
    assert (
        api.client.get(f"/v1/copies/{copy['id']}/pdf", headers=api.dept("housing")).status_code
        == 404
    )
    status = api.client.get(f"/v1/copies/{copy['id']}/status").json()
    assert status["department_name"] is None and status["state"] == "valid"


def test_consented_department_copy_is_logged_with_the_consent(api: Api) -> None:
    from tests.api.conftest import TAX_DEPT

    license_id = api.push(1).json()["license"]["id"]
    api.client.post("/v1/me/grants", headers=api.holder(), json={"department_code": TAX_DEPT})
    r = api.client.post(f"/v1/licenses/{license_id}/copies", headers=api.dept("tax"), json=USE)
    assert r.status_code == 201, r.text
    log = api.client.get("/v1/me/access-log", headers=api.holder()).json()["entries"]
    copy_rows = [e for e in log if e["action"] == "copy"]
    assert copy_rows[0]["basis"] == "consent" and copy_rows[0]["department"] == "福州市税务局"


def test_verify_and_trust_bundle_routes(api: Api) -> None:
    from tests.vault.licenses import license_pdf, trust_bundle

    r = api.client.post("/v1/verify", files={"file": ("l.pdf", license_pdf(3), "application/pdf")})
    assert r.status_code == 200
    assert r.json()["indication"] == "TOTAL_PASSED" and r.json()["file"] == "l.pdf"
    bad = api.client.post(
        "/v1/verify", files={"file": ("x.pdf", b"%PDF-1.7 nonsense", "application/pdf")}
    )
    assert bad.status_code == 200 and bad.json()["indication"] == "TOTAL_FAILED"
    bundle = api.client.get("/v1/trust-bundle")
    assert bundle.status_code == 200 and bundle.content == trust_bundle().dump()


def _embedded_log_proof(pdf: bytes) -> bytes:
    import io

    from pyhanko.pdf_utils.reader import PdfFileReader

    from signing.copies.appearance import LOG_PROOF_FILENAME

    reader = PdfFileReader(io.BytesIO(pdf))
    for ref in reader.xrefs.explicit_refs_in_revision(reader.xrefs.total_revisions - 1):
        obj = reader.get_object(ref)
        is_spec = isinstance(obj, dict) and obj.get("/Type") == "/Filespec"
        if is_spec and str(obj.get("/F")) == LOG_PROOF_FILENAME:
            return bytes(obj["/EF"]["/F"].get_object().data)
    raise AssertionError("no transparency-log proof in the copy")


def test_copy_carries_its_log_entry_and_inclusion_proof(api: Api, tmp_path: Path) -> None:
    from signing.transparency import CopyLogProof
    from vault.log.keys import load_log_key

    license_id = api.push(1).json()["license"]["id"]
    copy = api.client.post(
        f"/v1/licenses/{license_id}/copies", headers=api.dept("housing"), json=USE
    ).json()
    pdf = api.client.get(f"/v1/copies/{copy['id']}/pdf", headers=api.dept("housing")).content
    proof = CopyLogProof.from_json(_embedded_log_proof(pdf))
    log_key = load_log_key(api.ctx.settings)
    verified = proof.verify(log_key.verifier())
    _offline_cli_checks_the_log_proof(pdf, log_key.verifier().vkey(), tmp_path)
    assert verified.event.event_type == "access.copy"
    assert verified.event.payload["copy"] == copy["id"]
    assert HOLDER not in json_text(verified.event.payload)
    log = api.client.get("/v1/me/access-log", headers=api.holder()).json()["entries"]
    made = [e for e in log if e["copy_id"] == copy["id"] and e["action"] == "copy"]
    assert [e["log_index"] for e in made] == [proof.index]


def _offline_cli_checks_the_log_proof(pdf: bytes, vkey: str, tmp_path: Path) -> None:
    """`evault verify --log-key` checks the embedded proof with nothing but the public key."""
    import json

    from typer.testing import CliRunner

    from signing.transparency import LogSigner
    from tests.vault.licenses import trust_bundle
    from vault.cli import build_app

    bundle = tmp_path / "bundle.json"
    bundle.write_bytes(trust_bundle().dump())
    key = tmp_path / "log.pub"
    key.write_text(vkey)
    copy_file = tmp_path / "copy.pdf"
    copy_file.write_bytes(pdf)
    args = ["verify", str(copy_file), "--trust", str(bundle), "--log-key", str(key)]
    runner = CliRunner()
    ok = runner.invoke(build_app(), args)
    assert ok.exit_code == 0, ok.output
    assert "transparency log: verified: log entry" in ok.output
    data = json.loads(runner.invoke(build_app(), [*args, "--json"]).output)
    assert (
        data["log_proof"]["verified"] is True and data["log_proof"]["event_type"] == "access.copy"
    )

    other_key = tmp_path / "other.pub"
    other_key.write_text(LogSigner.generate("other").verifier().vkey())
    wrong = runner.invoke(build_app(), [*args[:-1], str(other_key)])
    assert wrong.exit_code == 1
    assert "transparency log: NOT verified" in wrong.output

    appended = tmp_path / "appended.pdf"
    appended.write_bytes(pdf + b"\n% appended after sealing\n")
    cut = runner.invoke(build_app(), ["verify", str(appended), "--log-key", str(key)])
    assert cut.exit_code == 1
    assert "no intact vault seal covers the whole file" in cut.output


def json_text(value: object) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)
