"""Every user's flow end to end over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from tests.api.conftest import HOLDER, OTHER_HOLDER, Api
from tests.vault.licenses import CITIZEN_TYPE

PROBLEM = "application/problem+json"
USE = {"purpose": "企业开办", "case_no": "FZ-2026-0001"}


def test_issuer_push_is_created_then_idempotent(api: Api) -> None:
    first = api.push(1)
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["created"] is True
    assert body["version"] == 1
    assert body["report"]["indication"] == "TOTAL_PASSED"
    assert body["license"]["holder_id_masked"] == "110105******0016"[:6] + "*" * 8 + HOLDER[-4:]
    assert HOLDER not in first.text
    again = api.push(1)
    assert again.status_code == 200
    assert again.json()["created"] is False
    assert again.json()["license"]["id"] == body["license"]["id"]


def test_push_conflict_is_409_problem(api: Api) -> None:
    assert api.push(1).status_code == 201
    # same license key (number of license 1) with other bytes and no change reason
    r = api.client.post(
        "/v1/licenses",
        headers=api.dept("market"),
        files={"pdf": ("x.pdf", _pdf(2), "application/pdf")},
        data={"metadata": _meta(1).model_dump_json()},
    )
    assert r.status_code == 409, r.text
    assert r.headers["content-type"] == PROBLEM
    problem = r.json()
    assert problem["type"] == "urn:evault:problem:conflict"
    assert problem["status"] == 409
    assert problem["request_id"] == r.headers["x-request-id"]


def test_push_with_a_seal_of_another_department_is_422_with_report(api: Api) -> None:
    from tests.helpers.pki import PUBLIC_SECURITY_DEPT
    from tests.vault.licenses import license_pdf

    r = api.client.post(
        "/v1/licenses",
        headers=api.dept("market"),
        files={"pdf": ("x.pdf", license_pdf(7, PUBLIC_SECURITY_DEPT), "application/pdf")},
        data={"metadata": _meta(7).model_dump_json()},
    )
    assert r.status_code == 422, r.text
    problem = r.json()
    assert problem["type"] == "urn:evault:problem:intake-refused"
    assert problem["reason"]
    assert "report" in problem and problem["report"]["signatures"]


def test_push_with_bad_metadata_is_422_without_echoing_the_holder_id(api: Api) -> None:
    bad = _meta(1).model_dump(mode="json")
    bad["holder_id"] = HOLDER[:-1] + ("0" if HOLDER[-1] != "0" else "1")
    import json

    r = api.client.post(
        "/v1/licenses",
        headers=api.dept("market"),
        files={"pdf": ("x.pdf", _pdf(1), "application/pdf")},
        data={"metadata": json.dumps(bad)},
    )
    assert r.status_code == 422
    assert r.headers["content-type"] == PROBLEM
    assert bad["holder_id"] not in r.text
    assert "check character" in r.json()["detail"]


def test_issuer_changes_status_and_only_its_own(api: Api) -> None:
    license_id = api.push(1).json()["license"]["id"]
    r = api.client.patch(
        f"/v1/licenses/{license_id}/status",
        headers=api.dept("police"),
        json={"status": "吊销", "reason": "not ours"},
    )
    assert r.status_code == 404  # another issuer's license is not there for police
    r = api.client.patch(
        f"/v1/licenses/{license_id}/status",
        headers=api.dept("market"),
        json={"status": "suspended", "reason": "检查中"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["to_status"] == "暂扣"
    r = api.client.patch(
        f"/v1/licenses/{license_id}/status",
        headers=api.dept("market"),
        json={"status": "失效", "reason": "x"},
    )
    assert r.status_code == 422  # 失效 is computed, never set: not a status one may send
    assert r.json()["type"] == "urn:evault:problem:invalid-request"
    assert r.json()["detail"].startswith("body.status: ")


def test_department_with_standing_permission_searches_reads(api: Api) -> None:
    license_id = api.push(1).json()["license"]["id"]
    r = api.client.post(
        "/v1/licenses/search", headers=api.dept("housing"), json={"holder_id": HOLDER, **USE}
    )
    assert r.status_code == 200, r.text
    assert [lic["id"] for lic in r.json()["licenses"]] == [license_id]
    r = api.client.get(f"/v1/licenses/{license_id}", headers=api.dept("housing"), params=USE)
    assert r.status_code == 200
    assert r.json()["type_code"] == CITIZEN_TYPE
    log = api.client.get("/v1/me/access-log", headers=api.holder()).json()["entries"]
    actions = [(e["action"], e["outcome"], e["basis"], e["case_no"]) for e in log]
    assert ("read", "allowed", "standing_permission", USE["case_no"]) in actions
    assert ("search", "allowed", "standing_permission", USE["case_no"]) in actions
    assert all(e["department"] == "福州市住房和城乡建设局" for e in log)
    assert all(e["log_index"] is not None for e in log)


def test_department_without_permission_gets_the_same_403_for_all(api: Api) -> None:
    license_id = api.push(1).json()["license"]["id"]
    known = api.client.post(
        "/v1/licenses/search", headers=api.dept("tax"), json={"holder_id": HOLDER, **USE}
    )
    unknown = api.client.post(
        "/v1/licenses/search", headers=api.dept("tax"), json={"holder_id": OTHER_HOLDER, **USE}
    )
    missing = api.client.get("/v1/licenses/l_999999", headers=api.dept("tax"), params=USE)
    existing = api.client.get(f"/v1/licenses/{license_id}", headers=api.dept("tax"), params=USE)
    for r in (known, unknown, missing, existing):
        assert r.status_code == 403, r.text
        assert r.json()["detail"] == known.json()["detail"]
    log = api.client.get("/v1/me/access-log", headers=api.holder()).json()["entries"]
    denied = [e for e in log if e["outcome"] == "denied"]
    assert {e["action"] for e in denied} == {"search", "read"}


def test_holder_consent_lets_a_department_in_until_revoked(api: Api) -> None:
    license_id = api.push(1).json()["license"]["id"]
    from tests.api.conftest import TAX_DEPT

    r = api.client.post(
        "/v1/me/grants",
        headers=api.holder(),
        json={"department_code": TAX_DEPT, "license_types": [CITIZEN_TYPE], "uses": 1},
    )
    assert r.status_code == 201, r.text
    grant = r.json()
    assert grant["active"] is True and grant["department"]["credit_code"] == TAX_DEPT
    r = api.client.post(
        "/v1/licenses/search", headers=api.dept("tax"), json={"holder_id": HOLDER, **USE}
    )
    assert r.status_code == 200, r.text
    log = api.client.get("/v1/me/access-log", headers=api.holder()).json()["entries"]
    assert (log[0]["action"], log[0]["basis"]) == ("search", "consent")
    r = api.client.get(f"/v1/licenses/{license_id}", headers=api.dept("tax"), params=USE)
    assert r.status_code == 200, r.text
    # one case only: another case is refused
    other_case = {**USE, "case_no": "FZ-2026-0002"}
    r = api.client.get(f"/v1/licenses/{license_id}", headers=api.dept("tax"), params=other_case)
    assert r.status_code == 403
    listed = api.client.get("/v1/me/grants", headers=api.holder()).json()["grants"]
    assert listed[0]["uses"] == 1
    r = api.client.delete(f"/v1/me/grants/{grant['id']}", headers=api.holder())
    assert r.status_code == 200 and r.json()["active"] is False
    r = api.client.get(f"/v1/licenses/{license_id}", headers=api.dept("tax"), params=USE)
    assert r.status_code == 403
    # another holder cannot see or revoke it
    r = api.client.delete(f"/v1/me/grants/{grant['id']}", headers=api.holder(OTHER_HOLDER))
    assert r.status_code == 404


def test_consent_names_a_using_department(api: Api) -> None:
    issuer_code = api.push(1).json()["license"]["issuer_code"]  # an issuer, not a user
    r = api.client.post(
        "/v1/me/grants", headers=api.holder(), json={"department_code": issuer_code}
    )
    assert r.status_code == 404, r.text
    assert r.json()["detail"] == "no using department with that 统一社会信用代码"
    r = api.client.post("/v1/me/grants", headers=api.holder(), json={"kind": "consent"})
    assert r.status_code == 422 and "department_code" in r.json()["detail"]
    assert api.client.get("/v1/me/grants", headers=api.holder()).json()["grants"] == []


def test_share_code_is_redeemed_once_for_one_case(api: Api) -> None:
    license_id = api.push(1).json()["license"]["id"]
    r = api.client.post("/v1/me/grants", headers=api.holder(), json={"kind": "share_code"})
    assert r.status_code == 201, r.text
    code = r.json()["share_code"]
    assert code and len(code) == 11
    assert (
        api.client.get("/v1/me/grants", headers=api.holder()).json()["grants"][0]["share_code"]
        is None
    )
    body = {"holder_id": HOLDER, "share_code": code.lower(), **USE}
    r = api.client.post("/v1/licenses/search", headers=api.dept("tax"), json=body)
    assert r.status_code == 200, r.text
    r = api.client.get(f"/v1/licenses/{license_id}", headers=api.dept("tax"), params=USE)
    assert r.status_code == 200
    # the code is spent: another case, or another department, gets nothing
    again = {**body, "case_no": "FZ-2026-0009"}
    assert (
        api.client.post("/v1/licenses/search", headers=api.dept("tax"), json=again).status_code
        == 403
    )
    r = api.client.post("/v1/licenses/search", headers=api.dept("audit"), json=body)
    assert r.status_code == 403  # audit has no licenses:use scope


def test_holder_sees_and_downloads_own_licenses_only(api: Api) -> None:
    from tests.vault.licenses import license_pdf

    license_id = api.push(1).json()["license"]["id"]
    mine = api.client.get("/v1/me/licenses", headers=api.holder()).json()["licenses"]
    assert [lic["id"] for lic in mine] == [license_id]
    assert api.client.get("/v1/me/licenses", headers=api.holder(OTHER_HOLDER)).json() == {
        "licenses": []
    }
    r = api.client.get(f"/v1/me/licenses/{license_id}/pdf", headers=api.holder())
    assert r.status_code == 200
    assert r.content == license_pdf(1)
    r = api.client.get(f"/v1/me/licenses/{license_id}/pdf", headers=api.holder(OTHER_HOLDER))
    assert r.status_code == 404


def _pdf(n: int) -> bytes:
    from tests.vault.licenses import license_pdf

    return license_pdf(n)


def _meta(n: int):  # type: ignore[no-untyped-def]
    from tests.vault.licenses import metadata

    return metadata(n)
