"""OFD licenses sealed with SM2 (GB/T 38540) over HTTP, on SQLite and PostgreSQL: intake with
the same rules as PDF (once only, versions, refusals with reasons), the holder's download,
the verify page and JSON, and a clear refusal of certified copies until OFD copies exist."""

from __future__ import annotations

import re
from typing import Any

from tests.api.conftest import HOLDER, OTHER_HOLDER, Api
from tests.helpers.ofd import license_ofd, ofd_parts, rebuild_ofd
from tests.helpers.pki import PUBLIC_SECURITY_DEPT
from tests.vault.licenses import POLICE_TYPE, license_pdf, metadata

PROBLEM = "application/problem+json"
OFD = "application/ofd"
USE = {"purpose": "企业开办", "case_no": "FZ-2026-0001"}


def _push(
    api: Api,
    data: bytes,
    n: int,
    *,
    issuer: str = "market",
    media_type: str = OFD,
    part: str = "file",
    **overrides: Any,
) -> Any:
    return api.client.post(
        "/v1/licenses",
        headers=api.dept(issuer),
        files={part: (f"license-{n}.ofd", data, media_type)},
        data={"metadata": metadata(n, **overrides).model_dump_json()},
    )


def _refused(r: Any, reason: str) -> dict[str, Any]:
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == PROBLEM
    problem: dict[str, Any] = r.json()
    assert problem["type"] == "urn:evault:problem:intake-refused"
    assert problem["reason"] == reason, problem
    return problem


def test_an_ofd_license_is_stored_once(api: Api) -> None:
    first = _push(api, license_ofd(1), 1)
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["created"] is True
    assert body["license"]["file_format"] == "OFD"
    assert body["report"]["file_format"] == "OFD"
    assert body["report"]["indication"] == "TOTAL_PASSED"
    seal = body["report"]["signatures"][0]
    assert seal["ofd_type"] == "Seal" and seal["signature_format"].startswith("SES_Signature V4")
    again = _push(api, license_ofd(1), 1, media_type="application/octet-stream", part="pdf")
    assert again.status_code == 200, again.text
    assert again.json()["created"] is False
    assert again.json()["license"]["id"] == body["license"]["id"]
    mine = api.client.get("/v1/me/licenses", headers=api.holder()).json()["licenses"]
    assert [(lic["id"], lic["file_format"]) for lic in mine] == [(body["license"]["id"], "OFD")]


def test_a_new_version_may_change_the_format(api: Api) -> None:
    assert api.push(3).status_code == 201  # version 1: a PDF
    r = _push(api, license_ofd(3), 3, version=2, change_reason="换发 OFD 版")
    assert r.status_code == 201, r.text
    assert r.json()["version"] == 2 and r.json()["license"]["file_format"] == "OFD"
    other = _push(api, license_ofd(4), 3)  # other bytes, same license, no change reason
    assert other.status_code == 409, other.text


def test_a_tampered_ofd_is_refused_with_its_reason(api: Api) -> None:
    parts = ofd_parts(license_ofd(5))
    page = "Doc_0/Pages/Page_0/Content.xml"
    parts[page] = parts[page].replace("张三".encode(), "李四".encode())
    problem = _refused(_push(api, rebuild_ofd(parts), 5), "modified_after_signing")
    assert problem["report"]["file_format"] == "OFD"
    assert any(page in r for r in problem["report"]["signatures"][0]["reasons"])
    assert api.client.get("/v1/me/licenses", headers=api.holder()).json() == {"licenses": []}


def test_an_ofd_whose_signed_value_was_altered_is_refused(api: Api) -> None:
    parts = ofd_parts(license_ofd(6))
    name = next(p for p in parts if p.endswith("SignedValue.dat"))
    value = bytearray(parts[name])
    value[-5] ^= 0x01  # inside the SM2 signature
    parts[name] = bytes(value)
    _refused(_push(api, rebuild_ofd(parts), 6), "signature_broken")


def test_an_ofd_sealed_by_another_department_is_refused(api: Api) -> None:
    sealed_by_police = license_ofd(7, PUBLIC_SECURITY_DEPT)
    problem = _refused(_push(api, sealed_by_police, 7), "signer_not_issuer")
    assert "福州市公安局" in problem["detail"] and "福州市市场监督管理局" in problem["detail"]
    # The police's own push of the same file, as the issuer of its own type, is stored: the
    # department is found by the 统一社会信用代码 in its SM2 seal certificate's subject.
    police = _push(
        api,
        sealed_by_police,
        7,
        issuer="police",
        type_code=POLICE_TYPE,
        name="居住证",
        issuer_name="福州市公安局",
        issuer_code=PUBLIC_SECURITY_DEPT,
    )
    assert police.status_code == 201, police.text


def test_the_declared_type_must_not_contradict_the_content(api: Api) -> None:
    declared_pdf = _push(api, license_ofd(8), 8, media_type="application/pdf")
    problem = _refused(declared_pdf, "format_mismatch")
    assert "OFD" in problem["detail"]
    _refused(_push(api, license_pdf(8), 8, media_type=OFD), "format_mismatch")
    _refused(_push(api, b"hello, not a license", 8, media_type="text/plain"), "unsupported_format")
    _refused(
        _push(api, b"GIF89a not a license", 8, media_type="application/octet-stream"),
        "unsupported_format",
    )


def test_a_push_names_exactly_one_file(api: Api) -> None:
    r = api.client.post(
        "/v1/licenses",
        headers=api.dept("market"),
        files={
            "file": ("a.ofd", license_ofd(9), OFD),
            "pdf": ("b.pdf", license_pdf(9), "application/pdf"),
        },
        data={"metadata": metadata(9).model_dump_json()},
    )
    assert r.status_code == 422 and r.headers["content-type"] == PROBLEM
    assert "exactly one part" in r.text
    r = api.client.post(
        "/v1/licenses", headers=api.dept("market"), data={"metadata": metadata(9).model_dump_json()}
    )
    assert r.status_code == 422 and "exactly one part" in r.text


def test_the_holder_downloads_the_ofd_as_ofd(api: Api) -> None:
    license_id = _push(api, license_ofd(10), 10).json()["license"]["id"]
    for path in ("file", "pdf"):
        r = api.client.get(f"/v1/me/licenses/{license_id}/{path}", headers=api.holder())
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == OFD
        assert r.headers["content-disposition"] == (
            f'attachment; filename="license-{license_id}.ofd"'
        )
        assert r.content == license_ofd(10)
    r = api.client.get(f"/v1/me/licenses/{license_id}/file", headers=api.holder(OTHER_HOLDER))
    assert r.status_code == 404
    pdf_id = api.push(11).json()["license"]["id"]
    r = api.client.get(f"/v1/me/licenses/{pdf_id}/file", headers=api.holder())
    assert r.headers["content-type"] == "application/pdf"
    assert r.headers["content-disposition"].endswith('.pdf"')


def test_a_copy_of_an_ofd_license_is_an_ofd_with_both_seals(api: Api) -> None:
    """A department's and a holder's copy of an OFD license: made (201), downloaded as
    OFD, both seals pass with the vault's trust bundle, the QR page and status work."""
    from signing.copies.log_proof import read_copy_id
    from signing.ofd import verify_ofd
    from tests.vault.licenses import trust_bundle

    license_id = _push(api, license_ofd(12), 12).json()["license"]["id"]
    r = api.client.post(f"/v1/licenses/{license_id}/copies", headers=api.dept("housing"), json=USE)
    assert r.status_code == 201, r.text
    copy = r.json()
    r = api.client.get(f"/v1/copies/{copy['id']}/pdf", headers=api.dept("housing"))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == OFD
    assert r.headers["content-disposition"] == f'attachment; filename="copy-{copy["id"]}.ofd"'
    report = verify_ofd(r.content, trust=trust_bundle())
    assert report.indication.value == "TOTAL_PASSED", report.reasons
    assert [s.seal_name for s in report.signatures] == [
        "福州市市场监督管理局电子印章",
        "evault 电子证照库电子印章",
    ]
    assert read_copy_id(r.content) == copy["id"]
    status = api.client.get(f"/v1/copies/{copy['id']}/status").json()
    assert status["state"] == "valid", status
    assert api.client.get(f"/v/{copy['id']}").status_code == 200
    r = api.client.post(
        f"/v1/me/licenses/{license_id}/copies", headers=api.holder(), json={"purpose": "自用"}
    )
    assert r.status_code == 201, r.text
    assert HOLDER not in r.text


def test_the_verify_json_and_page_take_ofd(api: Api) -> None:
    r = api.client.post("/v1/verify", files={"file": ("x.ofd", license_ofd(13), OFD)})
    assert r.status_code == 200, r.text
    assert r.json()["file_format"] == "OFD" and r.json()["indication"] == "TOTAL_PASSED"
    page = api.client.get("/verify")
    assert 'accept="application/pdf,.pdf,application/ofd,.ofd"' in page.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    r = api.client.post(
        "/verify",
        files={"file": ("license.ofd", license_ofd(13), OFD)},
        data={"csrf_token": token[1]},
        headers={"Accept-Language": "zh-CN"},
    )
    assert r.status_code == 200, r.text
    assert "通过：所有签章完好、可信且有效" in r.text
    assert "OFD 电子签章" in r.text and "福州市市场监督管理局电子印章" in r.text
    parts = ofd_parts(license_ofd(13))
    page_path = "Doc_0/Pages/Page_0/Content.xml"
    parts[page_path] = parts[page_path].replace("张三".encode(), "李四".encode())
    r = api.client.post(
        "/verify",
        files={"file": ("license.ofd", rebuild_ofd(parts), OFD)},
        data={"csrf_token": token[1]},
        headers={"Accept-Language": "zh-CN"},
    )
    assert "未通过：文件被篡改或签章无效" in r.text
    assert f"签章后被改动：{page_path}" in r.text


def test_an_unsealed_or_untrusted_ofd_is_refused(api: Api) -> None:
    import datetime as dt

    from signing.ofd.pki import Sm2DemoPKI
    from signing.ofd.sealer import OfdSealer
    from signing.ofd.writer import sample_ofd
    from tests.helpers.pki import MARKET_DEPT

    body = sample_ofd("食品经营许可证", ["许可证编号：JY00000014", "经营者名称：张三"])
    problem = _refused(_push(api, body, 14), "unsigned")
    assert problem["detail"] == "the OFD carries no signature"
    # The market's name and code, but a root the vault's trust bundle does not hold.
    name = "福州市市场监督管理局"
    rogue = Sm2DemoPKI.build(seed=b"not the trusted one", departments=[(name, MARKET_DEPT)])
    forged = OfdSealer(rogue.signers[name], rogue.seal_for(name)).seal_ofd(
        body, at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    )
    problem = _refused(_push(api, forged, 14), "untrusted_chain")
    assert problem["report"]["signatures"][0]["signer_credit_code"] == MARKET_DEPT
