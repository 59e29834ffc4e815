"""A sealed license referenced as a material of a department's case (办件材料): authorized
like a read, pinned to the version and file it was, recorded once per case, logged in the
holder's access log (and the transparency log), refused like a read."""

from __future__ import annotations

from tests.api.conftest import HOLDER, Api

CASE = {"purpose": "住房保障资格审核", "case_no": "ZF-2026-0007"}
PROBLEM = "application/problem+json"


def test_a_license_referenced_in_a_case(api: Api) -> None:
    pushed = api.push(51)
    assert pushed.status_code == 201, pushed.text
    license = pushed.json()["license"]
    url = f"/v1/licenses/{license['id']}/case-references"
    first = api.client.post(url, headers=api.dept("housing"), json=CASE)
    assert first.status_code == 201, first.text
    ref = first.json()
    assert ref["license_id"] == license["id"] and ref["sha256"] == license["sha256"]
    assert ref["license_version"] == license["version"] and ref["created"] is True
    assert isinstance(ref["log_index"], int)
    again = api.client.post(url, headers=api.dept("housing"), json=CASE)
    assert again.status_code == 200 and again.json()["id"] == ref["id"]
    assert again.json()["created"] is False

    refused = api.client.post(url, headers=api.dept("tax"), json=CASE)
    assert refused.status_code == 403 and refused.headers["content-type"] == PROBLEM
    unknown = api.client.post(
        "/v1/licenses/l_nothing/case-references", headers=api.dept("housing"), json=CASE
    )
    assert unknown.status_code == 403  # the same answer: nothing says what exists
    assert api.client.post(url, headers=api.holder(), json=CASE).status_code in (401, 403)

    listed = api.client.get(
        "/v1/case-licenses", headers=api.dept("housing"), params={"case_no": CASE["case_no"]}
    ).json()
    assert [r["id"] for r in listed["licenses"]] == [ref["id"]]
    others = api.client.get(
        "/v1/case-licenses", headers=api.dept("tax"), params={"case_no": CASE["case_no"]}
    ).json()
    assert others["licenses"] == []  # a department sees its own cases only

    log = api.client.get("/v1/me/access-log", headers=api.holder(HOLDER)).json()["entries"]
    refs = [e for e in log if e["action"] == "case_reference"]
    assert [(e["outcome"], e["department"]) for e in refs] == [
        ("denied", "福州市税务局"),
        ("allowed", "福州市住房和城乡建设局"),
        ("allowed", "福州市住房和城乡建设局"),
    ]
    assert all(e["case_no"] == CASE["case_no"] and e["license_id"] == license["id"] for e in refs)
