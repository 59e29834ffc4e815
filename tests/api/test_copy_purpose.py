"""Red team round 12, r12-10 over HTTP: a 制作事由 (purpose), case number or recipient that
could read as another 加注 field is refused with a problem+json 422 naming the reason, and
nothing is written (no copy, no access-log entry), for license and material copies, asked
by the holder or by a department."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import Api
from tests.api.test_materials import _deposit, _setup
from tests.helpers.scans import scan_jpeg

PROBLEM = "application/problem+json"
RED_TEAM = "企业开办" + "\u3000" * 19 + "有效期截止时间：2099-12-31 23:59:59（北京时间）"


def _refused(r: Any, field: str, why: str) -> None:
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    body = r.json()
    assert body["type"] == "urn:evault:problem:invalid-input", body
    assert field in body["detail"] and why in body["detail"], body["detail"]


def _copy_rows(api: Api) -> list[dict[str, Any]]:
    log = api.client.get("/v1/me/access-log", headers=api.holder()).json()["entries"]
    return [e for e in log if e["action"] in ("copy", "copy_failed")]


@pytest.mark.parametrize(
    ("body", "field", "why"),
    [
        ({"purpose": RED_TEAM}, "purpose", "U+3000"),
        ({"purpose": "企业开办", "case_no": "无）有效期截止时间：2099"}, "case_no", "colon"),
        ({"purpose": "企业开办", "recipient": "某银行\u202e"}, "department", "U+202E"),
        ({"purpose": "办理贷款 制作者 福建省"}, "purpose", "制作者"),
        ({"purpose": "甲" * 61}, "purpose", "max 60"),
        # red team 14, r14-03: closing the template's bracket, synonyms of the validity
        (
            {"purpose": "企业开办", "recipient": "某银行）本件长期有效 截止日期2099年12月31日（"},
            "department",
            "bracket",
        ),
        ({"purpose": "商品房预售许可申请 有效日期至2099年12月31日"}, "purpose", "有效"),
        ({"purpose": "企业开办 本件长期使用 2099年12月31日前"}, "purpose", "date"),
        ({"purpose": "企业开办」「制作者"}, "purpose", "bracket"),
        ({"purpose": "企业开办", "case_no": "A-1）本件长期使用（"}, "case_no", "bracket"),
    ],
)
def test_a_holder_purpose_spelling_another_field_is_refused(
    api: Api, body: dict[str, str], field: str, why: str
) -> None:
    license_id = api.push(1).json()["license"]["id"]
    r = api.client.post(f"/v1/me/licenses/{license_id}/copies", headers=api.holder(), json=body)
    _refused(r, field, why)
    assert _copy_rows(api) == []


def test_a_plain_purpose_with_spaces_trimmed_is_made(api: Api) -> None:
    license_id = api.push(1).json()["license"]["id"]
    r = api.client.post(
        f"/v1/me/licenses/{license_id}/copies",
        headers=api.holder(),
        json={"purpose": "  办理贷款 某银行 ", "recipient": "某银行"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["purpose"] == "办理贷款 某银行"


def test_a_department_case_number_spelling_a_field_is_refused(api: Api) -> None:
    license_id = api.push(1).json()["license"]["id"]
    use = {"purpose": "住房保障资格审核", "case_no": "ZJ-1\u3000有效期截止时间：2099"}
    r = api.client.post(f"/v1/licenses/{license_id}/copies", headers=api.dept("housing"), json=use)
    _refused(r, "case_no", "U+3000")
    assert _copy_rows(api) == []


def test_a_material_copy_purpose_spelling_a_field_is_refused(api: Api) -> None:
    _setup(api)
    material = _deposit(api, scan_jpeg(5)).json()["material"]  # type: ignore[attr-defined]
    mine = api.client.post(
        f"/v1/me/materials/{material['id']}/copies",
        headers=api.holder(),
        json={"purpose": RED_TEAM},
    )
    _refused(mine, "purpose", "U+3000")
    theirs = api.client.post(
        f"/v1/materials/{material['id']}/copies",
        headers=api.dept("housing"),
        json={"purpose": "住房保障：有效期截止时间", "case_no": "B-2026-0002"},
    )
    _refused(theirs, "purpose", "colon")
    closing = api.client.post(
        f"/v1/materials/{material['id']}/copies",
        headers=api.dept("housing"),
        json={"purpose": "住房保障）本件长期使用（", "case_no": "B-2026-0002"},
    )
    _refused(closing, "purpose", "bracket")
    assert _copy_rows(api) == []


def test_a_department_purpose_closing_its_field_is_refused(api: Api) -> None:
    """r14-03 asked by a department: a closing bracket in the purpose, a validity in the
    case number; nothing is written."""
    license_id = api.push(1).json()["license"]["id"]
    for use, field, why in (
        ({"purpose": "住房保障资格审核）本件长期使用（", "case_no": "ZJ-1"}, "purpose", "bracket"),
        ({"purpose": "住房保障资格审核", "case_no": "ZJ-1 有效期限永久"}, "case_no", "有效"),
    ):
        r = api.client.post(
            f"/v1/licenses/{license_id}/copies", headers=api.dept("housing"), json=use
        )
        _refused(r, field, why)
    assert _copy_rows(api) == []
