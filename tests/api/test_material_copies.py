"""Certified copies (加注件) of materials over HTTP: made by the license copies' machinery
from the sealed deposit (a JPEG scan's copy is its sealed deposit PDF with the 加注 and QR
code, sealed again), reused for the same case, in the holder's access log, checked online,
verified offline, and refused once the material is withdrawn."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from tests.api.conftest import OTHER_HOLDER, Api
from tests.api.test_materials import CASE_B, CASE_C, PROBLEM, _deposit, _setup
from tests.helpers.scans import scan_jpeg
from tests.vault.licenses import trust_bundle
from vault.cli import build_app


def _verify_offline(pdf: bytes, tmp_path: Path) -> str:
    """``evault verify`` of ``pdf`` with the trust bundle; its output (exit status 0)."""
    bundle = tmp_path / "bundle.json"
    bundle.write_bytes(trust_bundle().dump())
    sealed = tmp_path / "copy.pdf"
    sealed.write_bytes(pdf)
    result = CliRunner().invoke(build_app(), ["verify", str(sealed), "--trust", str(bundle)])
    assert result.exit_code == 0, result.output
    return result.output


def test_material_copies_like_license_copies(api: Api, tmp_path: Path) -> None:
    _setup(api)
    material = _deposit(api, scan_jpeg(5)).json()["material"]  # type: ignore[attr-defined]
    url = f"/v1/materials/{material['id']}/copies"
    made = api.client.post(url, headers=api.dept("housing"), json=CASE_B)
    assert made.status_code == 201, made.text
    copy = made.json()
    assert copy["material_id"] == material["id"] and copy["case_no"] == CASE_B["case_no"]
    again = api.client.post(url, headers=api.dept("housing"), json=CASE_B)
    assert again.status_code == 200 and again.json()["id"] == copy["id"]
    assert again.json()["reused"] is True
    refused = api.client.post(url, headers=api.dept("tax"), json=CASE_B)
    assert refused.status_code == 403 and refused.headers["content-type"] == PROBLEM

    pdf = api.client.get(f"/v1/copies/{copy['id']}/pdf", headers=api.dept("housing"))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    assert b"EvaultReceiptSeal" in pdf.content  # the deposit's seal, kept under the copy's
    assert "TOTAL_PASSED" in _verify_offline(pdf.content, tmp_path)

    status = api.client.get(f"/v1/copies/{copy['id']}/status").json()
    assert status["state"] == "valid" and status["license_type_name"] == "居民身份证"
    assert status["issuer_name"] == "福州市政务服务中心综合窗口"
    check = api.client.get(f"/v/{copy['id']}")
    assert check.status_code == 200 and "居民身份证" in check.text

    holder = api.holder()
    own = api.client.post(
        f"/v1/me/materials/{material['id']}/copies", headers=holder, json={"purpose": "自用"}
    )
    assert own.status_code == 201, own.text
    theirs = api.client.post(
        f"/v1/me/materials/{material['id']}/copies",
        headers=api.holder(OTHER_HOLDER),
        json={"purpose": "自用"},
    )
    assert theirs.status_code == 404
    log = api.client.get("/v1/me/access-log", headers=holder).json()["entries"]
    copies = [e for e in log if e["action"] == "copy" and e["outcome"] == "allowed"]
    denied = [e for e in log if e["action"] == "copy" and e["outcome"] == "denied"]
    assert [e["department"] for e in denied] == ["福州市税务局"]  # the refusal is logged too
    assert {e["copy_id"] for e in copies} == {copy["id"], own.json()["id"]}
    assert all(e["material_id"] == material["id"] and e["license_id"] is None for e in copies)

    w = api.client.post(f"/v1/me/materials/{material['id']}/withdrawal", headers=holder)
    assert w.status_code == 200
    after = api.client.get(f"/v1/copies/{copy['id']}/status").json()
    assert after["state"] == "license_invalid" and after["valid"] is False
    assert api.client.post(url, headers=api.dept("housing"), json=CASE_C).status_code == 403
    mine = api.client.post(
        f"/v1/me/materials/{material['id']}/copies", headers=holder, json={"purpose": "再次"}
    )
    assert mine.status_code == 409


def test_a_deposited_pdf_gets_its_box_on_a_blank_corner_or_a_refusal(
    api: Api, tmp_path: Path
) -> None:
    """A PDF printed in the bottom-right corner: the copy's box moves to a blank corner and
    the copy verifies. A PDF printed in every corner: the copy is refused, problem+json."""
    from tests.signing.test_copy_corner import _pdf

    _setup(api)
    corners = ("bottom-right", "bottom-left", "top-right", "top-left")
    printed = _deposit(api, _pdf(("bottom-right",))).json()["material"]  # type: ignore[attr-defined]
    made = api.client.post(
        f"/v1/materials/{printed['id']}/copies", headers=api.dept("housing"), json=CASE_B
    )
    assert made.status_code == 201, made.text
    pdf = api.client.get(f"/v1/copies/{made.json()['id']}/pdf", headers=api.dept("housing"))
    assert "TOTAL_PASSED" in _verify_offline(pdf.content, tmp_path)

    full = _deposit(api, _pdf(corners), holder_name="张三").json()["material"]  # type: ignore[attr-defined]
    refused = api.client.post(
        f"/v1/materials/{full['id']}/copies", headers=api.dept("housing"), json=CASE_C
    )
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == PROBLEM
    problem = refused.json()
    assert problem["type"].endswith("no-blank-space")
    assert problem["title"] == "The original has no blank space for the annotation"
    assert problem["detail"].startswith("the original has no blank space for the annotation")
