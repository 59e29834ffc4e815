"""The authorization matrix: role x route x own/other holder x with/without permission or
consent. Every forbidden cell is refused (401/403/404 as designed) and logged: department
refusals on holders' data as ``denied`` rows of the access log, every refusal as a line of
the request log."""

from __future__ import annotations

import logging
from collections.abc import Callable

import httpx
import pytest
from sqlalchemy import func, select

from tests.api.conftest import HOLDER, OTHER_HOLDER, TAX_DEPT, Api
from tests.vault.licenses import CITIZEN_TYPE
from vault.models import AccessEvent

USE = {"purpose": "审批", "case_no": "CASE-1"}
Call = Callable[[Api, dict[str, str], dict[str, int]], httpx.Response]


def _search(target: str) -> Call:
    def call(api: Api, headers: dict[str, str], ids: dict[str, int]) -> httpx.Response:
        holder = HOLDER if target == "own" else OTHER_HOLDER
        return api.client.post(
            "/v1/licenses/search", headers=headers, json={"holder_id": holder, **USE}
        )

    return call


def _read(target: str) -> Call:
    def call(api: Api, headers: dict[str, str], ids: dict[str, int]) -> httpx.Response:
        return api.client.get(f"/v1/licenses/{ids[target]}", headers=headers, params=USE)

    return call


def _copy(target: str) -> Call:
    def call(api: Api, headers: dict[str, str], ids: dict[str, int]) -> httpx.Response:
        return api.client.post(f"/v1/licenses/{ids[target]}/copies", headers=headers, json=USE)

    return call


def _status(target: str) -> Call:
    def call(api: Api, headers: dict[str, str], ids: dict[str, int]) -> httpx.Response:
        return api.client.patch(
            f"/v1/licenses/{ids[target]}/status",
            headers=headers,
            json={"status": "暂扣", "reason": "matrix"},
        )

    return call


def _me_pdf(target: str) -> Call:
    def call(api: Api, headers: dict[str, str], ids: dict[str, int]) -> httpx.Response:
        return api.client.get(f"/v1/me/licenses/{ids[target]}/pdf", headers=headers)

    return call


def _me_copy(target: str) -> Call:
    def call(api: Api, headers: dict[str, str], ids: dict[str, int]) -> httpx.Response:
        return api.client.post(
            f"/v1/me/licenses/{ids[target]}/copies", headers=headers, json={"purpose": "自用"}
        )

    return call


def _get(path: str) -> Call:
    def call(api: Api, headers: dict[str, str], ids: dict[str, int]) -> httpx.Response:
        return api.client.get(path, headers=headers)

    return call


def _push(api: Api, headers: dict[str, str], ids: dict[str, int]) -> httpx.Response:
    from tests.vault.licenses import license_pdf, metadata

    return api.client.post(
        "/v1/licenses",
        headers=headers,
        files={"pdf": ("x.pdf", license_pdf(9), "application/pdf")},
        data={"metadata": metadata(9).model_dump_json()},
    )


def _grant(api: Api, headers: dict[str, str], ids: dict[str, int]) -> httpx.Response:
    return api.client.post("/v1/me/grants", headers=headers, json={"department_code": TAX_DEPT})


# (role, route name, call, expected status, refusal must be in the access log)
CELLS: list[tuple[str, str, Call, int, bool]] = []


def cell(role: str, name: str, call: Call, status: int, audited: bool = False) -> None:
    CELLS.append((role, name, call, status, audited))


for who in ("anonymous", "holder"):
    for tgt in ("own", "other"):
        cell(who, f"search {tgt}", _search(tgt), 401)
        cell(who, f"read {tgt}", _read(tgt), 401)
        cell(who, f"copy {tgt}", _copy(tgt), 401)
        cell(who, f"status {tgt}", _status(tgt), 401)
    cell(who, "push", _push, 401)
    cell(who, "log entries", _get("/v1/log/entries?start=0&end=10"), 401)
    cell(who, "log checkpoint", _get("/v1/log/checkpoint"), 200)  # public (issue 17)
    cell(who, "tiles checkpoint", _get("/log/checkpoint"), 200)
    cell(who, "entry bundle", _get("/log/tile/entries/000"), 401)
for tgt in ("own", "other"):
    cell("anonymous", f"me pdf {tgt}", _me_pdf(tgt), 401)
    cell("anonymous", f"me copy {tgt}", _me_copy(tgt), 401)
cell("anonymous", "me licenses", _get("/v1/me/licenses"), 401)
cell("anonymous", "access log", _get("/v1/me/access-log"), 401)
cell("anonymous", "grant", _grant, 401)
# holders: their own only; another holder's license is "not found"
cell("holder", "me pdf own", _me_pdf("own"), 200)
cell("holder", "me pdf other", _me_pdf("other"), 404)
cell("holder", "me copy other", _me_copy("other"), 404)
cell("holder", "me licenses", _get("/v1/me/licenses"), 200)
cell("holder", "access log", _get("/v1/me/access-log"), 200)
# a department token is no holder token
for dept in ("housing", "tax", "market"):
    cell(dept, "me licenses", _get("/v1/me/licenses"), 401)
    cell(dept, "me pdf own", _me_pdf("own"), 401)
    cell(dept, "grant", _grant, 401)
# issuers and auditors lack licenses:use
for dept in ("market", "police", "audit"):
    for tgt in ("own", "other"):
        cell(dept, f"search {tgt}", _search(tgt), 403)
        cell(dept, f"read {tgt}", _read(tgt), 403)
        cell(dept, f"copy {tgt}", _copy(tgt), 403)
# users and auditors cannot push or change status
for dept in ("housing", "tax", "audit"):
    cell(dept, "push", _push, 403)
    cell(dept, "status own", _status("own"), 403)
for dept in ("market", "police", "housing", "tax"):
    cell(dept, "log entries", _get("/v1/log/entries?start=0&end=10"), 403)
    cell(dept, "entry bundle", _get("/log/tile/entries/000"), 403)
cell("audit", "log entries", _get("/v1/log/entries?start=0&end=10"), 200)
# only the issuing department changes a status: to others the license is not there (404)
cell("police", "status own", _status("own"), 404)
# standing permission (housing, CITIZEN_TYPE): both holders
for tgt in ("own", "other"):
    cell("housing", f"search {tgt}", _search(tgt), 200)
    cell("housing", f"read {tgt}", _read(tgt), 200)
cell("housing", "copy own", _copy("own"), 201)
# no permission, no consent (tax): refused and logged
for tgt in ("own", "other"):
    cell("tax", f"search {tgt}", _search(tgt), 403, audited=True)
    cell("tax", f"read {tgt}", _read(tgt), 403, audited=True)
    cell("tax", f"copy {tgt}", _copy(tgt), 403, audited=True)
# consent of the own holder only (tax+consent): own allowed, other refused and logged
cell("tax+consent", "search own", _search("own"), 200)
cell("tax+consent", "read own", _read("own"), 200)
cell("tax+consent", "copy own", _copy("own"), 201)
cell("tax+consent", "search other", _search("other"), 403, audited=True)
cell("tax+consent", "read other", _read("other"), 403, audited=True)
cell("tax+consent", "copy other", _copy("other"), 403, audited=True)
# a license that does not exist: the same refusal
cell(
    "tax",
    "read missing",
    lambda api, h, ids: api.client.get("/v1/licenses/987654", headers=h, params=USE),
    403,
    True,
)


def _headers(api: Api, role: str) -> dict[str, str]:
    if role == "anonymous":
        return {}
    if role == "holder":
        return api.holder(HOLDER)
    if role == "tax+consent":
        return api.dept("tax")
    return api.dept(role)


def _denied_count(api: Api) -> int:
    with api.ctx.sessions() as session:
        return int(
            session.scalar(
                select(func.count()).select_from(AccessEvent).where(AccessEvent.outcome == "denied")
            )
            or 0
        )


def test_authorization_matrix(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    own = api.push(1).json()["license"]["id"]
    other = api.push(2, holder_id=OTHER_HOLDER, holder_name="李四").json()["license"]["id"]
    ids = {"own": own, "other": other}
    failures: list[str] = []
    consent_given = False
    caplog.set_level(logging.INFO, logger="evault.access")
    for role, name, call, expected, audited in CELLS:
        if role == "tax+consent" and not consent_given:
            r = api.client.post(
                "/v1/me/grants",
                headers=api.holder(HOLDER),
                json={"department_code": TAX_DEPT, "license_types": [CITIZEN_TYPE]},
            )
            assert r.status_code == 201, r.text
            consent_given = True
        before = _denied_count(api)
        caplog.clear()
        r = call(api, _headers(api, role), ids)
        where = f"{role} / {name}"
        if r.status_code != expected:
            failures.append(f"{where}: {r.status_code} (expected {expected}) {r.text[:200]}")
            continue
        if expected >= 400:
            if r.headers.get("content-type") != "application/problem+json":
                failures.append(f"{where}: refusal is not problem+json")
            if HOLDER in r.text or OTHER_HOLDER in r.text:
                failures.append(f"{where}: refusal shows a holder ID")
            lines = [rec for rec in caplog.records if getattr(rec, "status", None) == expected]
            if not lines:
                failures.append(f"{where}: refusal not in the request log")
        if audited and _denied_count(api) != before + 1:
            failures.append(f"{where}: refusal not in the access log")
    assert not failures, "\n".join(failures)
    # the holder sees the refusals that concern it
    entries = api.client.get("/v1/me/access-log", headers=api.holder(HOLDER)).json()["entries"]
    assert any(e["outcome"] == "denied" and e["department"] == "福州市税务局" for e in entries)
