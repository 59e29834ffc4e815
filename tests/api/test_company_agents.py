"""法人空间 over HTTP: a company's legal representative designates agents (经办人), who act
for the company within their scopes until the designation expires or is revoked; the
company's access log names both the company and the person; nobody else learns anything."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from tests.api.conftest import HOLDER, OTHER_HOLDER, Api
from tests.vault.licenses import COMPANY_HOLDER, COMPANY_TYPE, citizen_id
from vault.services.agents import set_representative

REPRESENTATIVE = HOLDER  # 张三, a citizen with licenses of his own
AGENT = OTHER_HOLDER
STRANGER = citizen_id(7)
COMPANY_NAME = "福州某某食品有限公司"
USE = {"purpose": "投标资格审查", "case_no": "ZB-2026-0042"}


def _company_license(api: Api, n: int) -> str:
    r = api.push(
        n,
        type_code=COMPANY_TYPE,
        holder_id=COMPANY_HOLDER,
        holder_id_type="001",
        holder_name=COMPANY_NAME,
    )
    assert r.status_code == 201, r.text
    return str(r.json()["license"]["id"])


def _space(api: Api) -> str:
    with api.ctx.sessions() as session:
        done = set_representative(
            session=session,
            crypto=api.ctx.crypto,
            company_code=COMPANY_HOLDER,
            person_id=REPRESENTATIVE,
            person_name="张三",
        )
        session.commit()
    assert COMPANY_HOLDER not in done.space_id
    return done.space_id


def _as(api: Api, person: str, space: str | None = None) -> dict[str, str]:
    headers = api.holder(person)
    if space is not None:
        headers["X-Acting-For"] = space
    return headers


def _designate(api: Api, space: str, scopes: list[str], **extra: Any) -> Any:
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(days=30)
    body = {"id_number": AGENT, "name": "李四", "scopes": scopes, "expires_at": expires.isoformat()}
    return api.client.post(
        f"/v1/me/companies/{space}/agents", headers=_as(api, REPRESENTATIVE), json=body | extra
    )


def _expire(api: Api, agent_id: str) -> None:
    from sqlalchemy import update

    from vault.models import CompanyAgent

    with api.ctx.sessions() as session:
        past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        session.execute(
            update(CompanyAgent).where(CompanyAgent.public_id == agent_id).values(expires_at=past)
        )
        session.commit()


def test_agent_acts_within_scope_and_the_log_names_both(api: Api) -> None:
    license_id = _company_license(api, 31)
    api.push(32)  # the representative's own license stays his own
    space = _space(api)

    companies = api.client.get("/v1/me/companies", headers=_as(api, REPRESENTATIVE)).json()
    assert companies["companies"][0]["company_id"] == space
    assert companies["companies"][0]["role"] == "representative"
    assert COMPANY_HOLDER not in str(companies)

    made = _designate(api, space, ["licenses", "log"])
    assert made.status_code == 201, made.text
    agent = made.json()
    assert agent["status"] == "active" and agent["person"]["name"] == "李四"
    assert AGENT not in made.text

    mine = api.client.get("/v1/me/companies", headers=_as(api, AGENT)).json()["companies"]
    assert [(c["company_id"], c["role"], c["scopes"]) for c in mine] == [
        (space, "agent", ["licenses", "log"])
    ]
    listed = api.client.get("/v1/me/licenses", headers=_as(api, AGENT, space)).json()
    assert [lic["id"] for lic in listed["licenses"]] == [license_id]
    own = api.client.get("/v1/me/licenses", headers=_as(api, AGENT)).json()
    assert own["licenses"] == []  # without the header: the person, not the company
    pdf = api.client.get(f"/v1/me/licenses/{license_id}/file", headers=_as(api, AGENT, space))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")

    # outside its scopes: 403 problem+json, and the company's log shows the attempt
    copy = api.client.post(
        f"/v1/me/licenses/{license_id}/copies", headers=_as(api, AGENT, space), json=USE
    )
    assert copy.status_code == 403, copy.text
    assert copy.headers["content-type"].startswith("application/problem+json")
    grants = api.client.get("/v1/me/grants", headers=_as(api, AGENT, space))
    assert grants.status_code == 403
    manage = api.client.get(f"/v1/me/companies/{space}/agents", headers=_as(api, AGENT))
    assert manage.status_code == 403

    log = api.client.get("/v1/me/access-log", headers=_as(api, AGENT, space)).json()["entries"]
    download = next(e for e in log if e["action"] == "download")
    assert download["license_id"] == license_id
    assert download["acted_by"] == {"masked_id": agent["person"]["masked_id"], "name": "李四"}
    denied = [e for e in log if e["outcome"] == "denied"]
    assert {e["acted_by"]["name"] for e in denied} == {"李四"} and len(denied) == 3
    assert any(e["action"] == "agent_designate" and e["acted_by"]["name"] == "张三" for e in log)
    # the representative reads the same log; the agent's own log is empty
    rep_log = api.client.get("/v1/me/access-log", headers=_as(api, REPRESENTATIVE, space))
    assert any(e["action"] == "download" for e in rep_log.json()["entries"])
    assert api.client.get("/v1/me/access-log", headers=_as(api, AGENT)).json()["entries"] == []

    # the transparency log's leaf of the download names the company and the person (row ids)
    _leaf_names_both(api, download["log_index"])


def _leaf_names_both(api: Api, index: int) -> None:
    import json

    from sqlalchemy import select

    from vault.models import AccessEvent, LogEntry

    with api.ctx.sessions() as session:
        entry = session.scalars(select(LogEntry).where(LogEntry.idx == index)).one()
        payload = json.loads(entry.payload)
        event = session.get(AccessEvent, payload["access_event"])
        assert event is not None and event.agent_id is not None
        assert payload["holder"] == event.holder_id and payload["agent"] == event.agent_id
        assert payload["holder"] != payload["agent"]


def test_copies_and_consent_within_scope(api: Api) -> None:
    license_id = _company_license(api, 33)
    space = _space(api)
    assert _designate(api, space, ["copies", "consent"]).status_code == 201
    copy = api.client.post(
        f"/v1/me/licenses/{license_id}/copies", headers=_as(api, AGENT, space), json=USE
    )
    assert copy.status_code == 201, copy.text
    copy_id = copy.json()["id"]
    pdf = api.client.get(f"/v1/copies/{copy_id}/pdf", headers=_as(api, AGENT, space))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    as_self = api.client.get(f"/v1/copies/{copy_id}/pdf", headers=_as(api, AGENT))
    assert as_self.status_code == 404  # not the person's own copy
    grant = api.client.post(
        "/v1/me/grants",
        headers=_as(api, AGENT, space),
        json={"kind": "share_code", "purpose": "投标"},
    )
    assert grant.status_code == 201, grant.text
    revoked = api.client.delete(
        f"/v1/me/grants/{grant.json()['id']}", headers=_as(api, AGENT, space)
    )
    assert revoked.status_code == 200, revoked.text
    log = api.client.get("/v1/me/access-log", headers=_as(api, REPRESENTATIVE, space))
    actions = {e["action"] for e in log.json()["entries"] if e["acted_by"]}
    assert {"copy", "download", "grant", "grant_revoke"} <= actions
    listed = api.client.get("/v1/me/licenses", headers=_as(api, AGENT, space))
    assert listed.status_code == 403  # "licenses" was not given


@pytest.mark.parametrize("end", ["expiry", "revocation"])
def test_expired_or_revoked_agent_gets_what_a_stranger_gets(api: Api, end: str) -> None:
    license_id = _company_license(api, 34)
    space = _space(api)
    agent_id = _designate(api, space, ["licenses"]).json()["agent_id"]
    ok = api.client.get("/v1/me/licenses", headers=_as(api, AGENT, space))
    assert ok.status_code == 200
    if end == "expiry":
        _expire(api, agent_id)
    else:
        gone = api.client.delete(
            f"/v1/me/companies/{space}/agents/{agent_id}", headers=_as(api, REPRESENTATIVE)
        )
        assert gone.status_code == 200 and gone.json()["status"] == "revoked"
    assert api.client.get("/v1/me/companies", headers=_as(api, AGENT)).json()["companies"] == []

    refused = api.client.get(f"/v1/me/licenses/{license_id}/file", headers=_as(api, AGENT, space))
    stranger = api.client.get(
        f"/v1/me/licenses/{license_id}/file", headers=_as(api, STRANGER, space)
    )
    nowhere = api.client.get(
        f"/v1/me/licenses/{license_id}/file", headers=_as(api, AGENT, "co_doesnotexist")
    )
    assert refused.status_code == stranger.status_code == nowhere.status_code == 404
    assert refused.json()["detail"] == stranger.json()["detail"] == nowhere.json()["detail"]
    agents = api.client.get(
        f"/v1/me/companies/{space}/agents", headers=_as(api, REPRESENTATIVE)
    ).json()["agents"]
    assert [a["status"] for a in agents] == ["expired" if end == "expiry" else "revoked"]


def test_a_person_who_is_not_an_agent_gets_nothing(api: Api) -> None:
    _company_license(api, 35)
    space = _space(api)
    for path in ("/v1/me/licenses", "/v1/me/grants", "/v1/me/access-log"):
        theirs = api.client.get(path, headers=_as(api, STRANGER, space))
        none = api.client.get(path, headers=_as(api, STRANGER, "co_doesnotexist"))
        assert theirs.status_code == none.status_code == 404, theirs.text
        assert theirs.json()["detail"] == none.json()["detail"]
    # the company itself, and an agent-to-be, cannot manage agents
    for who in (COMPANY_HOLDER, AGENT):
        r = api.client.get(f"/v1/me/companies/{space}/agents", headers=_as(api, who))
        assert r.status_code == 404


def test_bad_designations_are_refused(api_sqlite: Api) -> None:
    api = api_sqlite
    _company_license(api, 36)
    space = _space(api)
    past = (dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).isoformat()
    assert _designate(api, space, ["licenses"], expires_at=past).status_code == 422
    assert _designate(api, space, ["everything"]).status_code == 422
    assert _designate(api, space, []).status_code == 422
    assert _designate(api, space, ["licenses"], id_number=COMPANY_HOLDER).status_code == 422
    self_ = _designate(api, space, ["licenses"], id_number=REPRESENTATIVE)
    assert self_.status_code == 422 and "representative" in self_.json()["detail"]
    naive = dt.datetime.now() + dt.timedelta(days=1)
    assert _designate(api, space, ["licenses"], expires_at=naive.isoformat()).status_code == 422
    other = api.client.delete(
        f"/v1/me/companies/{space}/agents/ag_unknown", headers=_as(api, REPRESENTATIVE)
    )
    assert other.status_code == 404


def test_operator_records_the_representative_from_stdin(
    api_sqlite: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from vault.cli import build_app

    api = api_sqlite
    for name in ("EVAULT_CONFIG",):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("EVAULT_MODE", "demo")
    monkeypatch.setenv("EVAULT_DATA_DIR", str(api.ctx.settings.data_dir))
    monkeypatch.setenv("EVAULT_DATABASE_URL", api.ctx.settings.database_url)
    runner = CliRunner()
    args = ["holders", "set-representative", "--name", "张三"]

    missing = runner.invoke(build_app(), args, input=f"{COMPANY_HOLDER}\n{REPRESENTATIVE}\n")
    assert missing.exit_code == 1 and "no company" in missing.output  # no license of it yet
    _company_license(api, 37)
    bad = runner.invoke(build_app(), args, input=f"{COMPANY_HOLDER}\n110105194912310021\n")
    assert bad.exit_code == 1 and "公民身份号码" in bad.output, bad.output
    empty = runner.invoke(build_app(), args, input="")
    assert empty.exit_code == 2

    done = runner.invoke(build_app(), args, input=f"{COMPANY_HOLDER}\n{REPRESENTATIVE}\n")
    assert done.exit_code == 0, done.output
    assert COMPANY_HOLDER not in done.output and REPRESENTATIVE not in done.output
    listed = api.client.get("/v1/me/companies", headers=_as(api, REPRESENTATIVE)).json()
    [company] = listed["companies"]
    assert company["role"] == "representative" and company["company_id"] in done.output
    assert company["name"] == COMPANY_NAME


def test_materials_acting_for_the_company(api: Api) -> None:
    """A window deposits the company's 营业执照副本 scan; its representative and an agent with
    the ``materials`` scope see, download and withdraw it; without the scope: 403."""
    from tests.api.test_materials import WINDOW_DEPT
    from tests.helpers.scans import scan_jpeg
    from vault.services import catalog
    from vault.services.credentials import set_scopes
    from vault.services.material_catalog import add_material_type

    _company_license(api, 41)
    space = _space(api)
    with api.ctx.sessions() as session:
        window = catalog.create_department(
            session=session, name="综合窗口", credit_code=WINDOW_DEPT, user=True
        )
        set_scopes(session=session, department_id=window.id, scopes=["materials:deposit"])
        add_material_type(
            session=session, code="YYZZFB", name="营业执照副本", holder_kinds=["001"],
            validity_months=6,
        )  # fmt: skip
        session.commit()
        window_id = window.id
    token = api.ctx.tokens.issue(
        client_id="w", department_id=window_id, scopes=frozenset({"materials:deposit"})
    ).access_token
    now = dt.datetime.now(dt.UTC)
    meta = {
        "holder_id": COMPANY_HOLDER, "holder_id_type": "001", "holder_name": COMPANY_NAME,
        "type_code": "YYZZFB", "clerk": "王小明",
        "checked_at": (now - dt.timedelta(minutes=1)).isoformat(), **USE,
    }  # fmt: skip
    deposited = api.client.post(
        "/v1/materials",
        headers={"Authorization": f"Bearer {token}"},
        files={"file": ("scan.jpg", scan_jpeg(), "image/jpeg")},
        data={"metadata": json.dumps(meta)},
    )
    assert deposited.status_code == 201, deposited.text
    material_id = deposited.json()["material"]["id"]
    mine = api.client.get("/v1/me/materials", headers=_as(api, REPRESENTATIVE))
    assert mine.json()["materials"] == []  # his own space holds none
    listed = api.client.get("/v1/me/materials", headers=_as(api, REPRESENTATIVE, space))
    assert [m["id"] for m in listed.json()["materials"]] == [material_id]

    assert _designate(api, space, ["licenses"]).status_code == 201
    refused = api.client.get("/v1/me/materials", headers=_as(api, AGENT, space))
    assert refused.status_code == 403, refused.text
    assert _designate(api, space, ["materials"]).status_code == 201
    agent = _as(api, AGENT, space)
    seen = api.client.get("/v1/me/materials", headers=agent)
    assert [m["id"] for m in seen.json()["materials"]] == [material_id]
    pdf = api.client.get(f"/v1/me/materials/{material_id}/pdf", headers=agent)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    withdrawn = api.client.post(f"/v1/me/materials/{material_id}/withdrawal", headers=agent)
    assert withdrawn.status_code == 200 and withdrawn.json()["state"] == "withdrawn"
    uses = api.client.get(f"/v1/me/materials/{material_id}/uses", headers=agent).json()
    assert [e["action"] for e in uses["entries"]][:2] == ["material_withdraw", "download"]
    log = api.client.get("/v1/me/access-log", headers=_as(api, REPRESENTATIVE, space)).json()
    by_agent = {e["action"] for e in log["entries"] if (e["acted_by"] or {}).get("name") == "李四"}
    assert {"material_list", "download", "material_withdraw"} <= by_agent
