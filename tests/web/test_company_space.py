"""The portal's company space (法人空间) over HTTP, on a demo of its own: the demo's agent
陈晓燕 acts for 福州示例科技有限公司 within her scopes (licenses, copies, log) and is refused
outside them; its legal representative 王建国 designates and revokes agents from the portal;
an expired or revoked designation, and a stranger, are refused; every page names the company
and leads back to the personal space; the company's log names the person who acted."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.demo.samples import HOLDERS
from tests.helpers.scans import scan_jpeg
from tests.web.conftest import DemoData, csrf_of, login, prepare_demo_data

COMPANY, COMPANY_CODE = HOLDERS[2][0], HOLDERS[2][1]
REPRESENTATIVE, AGENT, STRANGER = 3, 4, 1
NOT_YOURS = "您不能代表该企业"
OUT_OF_SCOPE = "您作为经办人的授权范围不包括此事项"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoData:
    return prepare_demo_data(tmp_path_factory.mktemp("company-demo") / "demo")


@pytest.fixture(scope="module")
def client(demo: DemoData) -> Iterator[TestClient]:
    with TestClient(create_app(demo.settings("http://testserver"))) as c:
        yield c


def _space_id(client: TestClient) -> str:
    page = client.get("/me/companies")
    assert page.status_code == 200 and COMPANY in page.text, page.text
    found = re.search(r'href="/me/co/(co_[A-Za-z0-9_-]+)', page.text)
    assert found, page.text
    return found.group(1)


def _in_space(html: str) -> None:
    """Every page of the space names the company and leads back to the personal space."""
    assert "正在代表企业办理" in html and COMPANY in html
    assert 'href="/me">返回个人空间' in html
    # the company is named by its space's opaque id: its 统一社会信用代码 (also its 营业执照's
    # number, shown on that license) is in no link or form
    assert not [h for h in re.findall(r'(?:href|action)="([^"]*)"', html) if COMPANY_CODE in h]


def test_the_personal_space_leads_to_the_company_space(client: TestClient) -> None:
    client.cookies.clear()
    r = client.get("/me/companies", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/me/companies"
    login(client, AGENT)
    home = client.get("/me")
    assert 'href="/me/companies"' in home.text and "正在代表企业办理" not in home.text
    listed = client.get("/me/companies?lang=en").text
    assert "agent" in listed and "see and download licenses" in listed
    login(client, STRANGER)
    assert "您目前不是任何企业的法定代表人或有效经办人" in client.get("/me/companies").text


def test_agent_acts_within_scope_and_is_refused_outside(client: TestClient) -> None:
    login(client, AGENT)
    space = _space_id(client)
    base = f"/me/co/{space}"
    licenses = client.get(base)
    assert licenses.status_code == 200
    _in_space(licenses.text)
    license_id = licenses.text.split(f'href="{base}/licenses/', 1)[1].split("/", 1)[0]
    original = client.get(f"{base}/licenses/{license_id}/file")
    assert original.status_code == 200 and original.content[:4] in (b"%PDF", b"PK\x03\x04")

    form = client.get(f"{base}/licenses/{license_id}/copy")
    assert form.status_code == 200
    _in_space(form.text)
    body = {"purpose": "投标资格审查", "recipient": "招标代理", "case_no": "ZB-1", "days": "30"}
    forged = client.post(f"{base}/licenses/{license_id}/copy", data=body | {"csrf_token": "x" * 32})
    assert forged.status_code == 403
    made = client.post(
        f"{base}/licenses/{license_id}/copy", data=body | {"csrf_token": csrf_of(form.text)}
    )
    assert made.status_code == 201, made.text
    _in_space(made.text)
    copy_href = made.text.split(f'href="{base}/copies/', 1)[1].split('"', 1)[0]
    pdf = client.get(f"{base}/copies/{copy_href}")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")

    for page in ("consent", "materials", "agents"):
        refused = client.get(f"{base}/{page}")
        assert refused.status_code == 403, page
        assert "无权办理" in refused.text and 'href="/me"' in refused.text
    assert OUT_OF_SCOPE in client.get(f"{base}/consent").text
    token = csrf_of(licenses.text)
    grant = client.post(f"{base}/consent", data={"department": "1", "csrf_token": token})
    assert grant.status_code == 403

    log = client.get(f"{base}/log")
    assert log.status_code == 200
    _in_space(log.text)
    assert "陈晓燕" in log.text and "制作加注件" in log.text and "下载" in log.text


def test_a_stranger_is_refused(client: TestClient) -> None:
    login(client, AGENT)
    space = _space_id(client)
    login(client, STRANGER)
    for path in ("", "/log", "/consent", "/agents", "/materials"):
        refused = client.get(f"/me/co/{space}{path}")
        assert refused.status_code == 404 and NOT_YOURS in refused.text, path
    assert client.get("/me/co/co_nothing").status_code == 404


def test_representative_designates_and_revokes_agents(client: TestClient) -> None:
    login(client, REPRESENTATIVE)
    space = _space_id(client)
    base = f"/me/co/{space}"
    page = client.get(f"{base}/agents")
    assert page.status_code == 200 and "陈晓燕" in page.text
    _in_space(page.text)
    until = (dt.date.today() + dt.timedelta(days=10)).isoformat()
    form = {
        "name": HOLDERS[STRANGER][0],
        "id_number": HOLDERS[STRANGER][1],
        "scopes": ["consent", "materials"],
        "until": until,
    }
    forged = client.post(f"{base}/agents", data=form | {"csrf_token": "y" * 32})
    assert forged.status_code == 403
    bad = client.post(
        f"{base}/agents", data=form | {"until": "2001-01-01", "csrf_token": csrf_of(page.text)}
    )
    assert bad.status_code == 422 and "expires_at is in the past" in bad.text
    done = client.post(f"{base}/agents", data=form | {"csrf_token": csrf_of(page.text)})
    assert done.status_code == 200 and "已指定经办人" in done.text
    assert HOLDERS[STRANGER][1] not in done.text

    login(client, STRANGER)
    assert client.get(f"{base}/consent").status_code == 200
    assert client.get(f"{base}/materials").status_code == 200
    assert client.get(base).status_code == 403  # no licenses scope
    _expire_all(client, HOLDERS[STRANGER][1])
    expired = client.get(f"{base}/consent")
    assert expired.status_code == 404 and NOT_YOURS in expired.text

    login(client, REPRESENTATIVE)
    page = client.get(f"{base}/agents")
    agent_id = page.text.split(f'action="{base}/agents/', 1)[1].split("/", 1)[0]
    revoked = client.post(
        f"{base}/agents/{agent_id}/revoke", data={"csrf_token": csrf_of(page.text)}
    )
    assert revoked.status_code == 200 and "已撤销经办人" in revoked.text
    login(client, AGENT)
    assert client.get(base).status_code == 404
    assert COMPANY not in client.get("/me/companies").text


def test_representative_gives_consent_and_the_log_names_him(client: TestClient) -> None:
    login(client, REPRESENTATIVE)
    space = _space_id(client)
    base = f"/me/co/{space}"
    page = client.get(f"{base}/consent")
    assert page.status_code == 200
    _in_space(page.text)
    department = re.search(r'<option value="(\d+)">', page.text)
    assert department
    given = client.post(
        f"{base}/consent",
        data={"department": department.group(1), "days": "7", "csrf_token": csrf_of(page.text)},
    )
    assert given.status_code == 200 and "grant-" in given.text
    token = client.app.state.ctx.holders.mint_demo(HOLDERS[REPRESENTATIVE][1])  # type: ignore[attr-defined]
    log = client.get(
        "/v1/me/access-log", headers={"Authorization": f"Bearer {token}", "X-Acting-For": space}
    ).json()["entries"]
    grants = [e for e in log if e["action"] == "grant"]
    assert grants and grants[0]["acted_by"]["name"] == HOLDERS[REPRESENTATIVE][0]


def _expire_all(client: TestClient, person_id: str) -> None:
    """End the person's designations a second ago, as time passing would."""
    from sqlalchemy import update

    from vault.models import CompanyAgent
    from vault.services.holders import find_holder

    ctx = client.app.state.ctx  # type: ignore[attr-defined]
    with ctx.sessions() as session:
        person = find_holder(session=session, crypto=ctx.crypto, holder_id=person_id)
        assert person is not None
        past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        session.execute(
            update(CompanyAgent).where(CompanyAgent.agent_id == person.id).values(expires_at=past)
        )
        session.commit()


def test_representative_sees_copies_and_withdraws_company_materials(
    client: TestClient, demo: DemoData
) -> None:
    window = next(d for d in demo.document["departments"] if "materials:deposit" in d["scopes"])
    token = client.post(
        "/v1/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": window["client_id"],
            "client_secret": window["client_secret"],
        },
    ).json()["access_token"]
    meta = {
        "holder_id": COMPANY_CODE, "holder_id_type": "001", "holder_name": COMPANY,
        "type_code": "YYZZFB", "clerk": "林晓",
        "checked_at": (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)).isoformat(),
        "purpose": "企业变更登记", "case_no": "BG-2026-0001",
    }  # fmt: skip
    deposited = client.post(
        "/v1/materials",
        headers={"Authorization": f"Bearer {token}"},
        files={"file": ("licence.jpg", scan_jpeg(9), "image/jpeg")},
        data={"metadata": json.dumps(meta)},
    )
    assert deposited.status_code == 201, deposited.text
    material_id = deposited.json()["material"]["id"]

    login(client, REPRESENTATIVE)
    base = f"/me/co/{_space_id(client)}"
    page = client.get(f"{base}/materials")
    assert page.status_code == 200 and "营业执照副本" in page.text
    _in_space(page.text)
    form = client.get(f"{base}/materials/{material_id}/copy")
    assert form.status_code == 200 and f'action="{base}/materials/{material_id}/copy"' in form.text
    made = client.post(
        f"{base}/materials/{material_id}/copy",
        data={"purpose": "银行开户", "days": "5", "csrf_token": csrf_of(form.text)},
    )
    assert made.status_code == 201, made.text
    copy_id = made.text.split(f'href="{base}/copies/', 1)[1].split("/", 1)[0]
    assert client.get(f"{base}/copies/{copy_id}/pdf").content.startswith(b"%PDF-")
    done = client.post(
        f"{base}/materials/{material_id}/withdraw", data={"csrf_token": csrf_of(page.text)}
    )
    assert done.status_code == 200 and "已撤回" in done.text
    log = client.get(f"{base}/log").text
    assert "制作加注件" in log and "撤回材料" in log and HOLDERS[REPRESENTATIVE][0] in log
