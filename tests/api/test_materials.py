"""电子材料库 over HTTP, on SQLite and PostgreSQL: a window deposits a 身份证 scan in case A; a
second department finds and fetches it in case B with no upload by the holder; the holder
sees both uses; after the holder withdraws it case C is refused; an expired material is not
served; the deposit's seal verifies offline with ``evault verify``."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from typer.testing import CliRunner

from tests.api.conftest import HOLDER, OTHER_HOLDER, Api
from tests.helpers.scans import scan_jpeg
from tests.vault.licenses import trust_bundle
from vault.cli import build_app
from vault.models import Material
from vault.services import catalog
from vault.services.credentials import set_scopes
from vault.services.material_catalog import add_material_type, grant_material_permission

PROBLEM = "application/problem+json"
WINDOW_DEPT = "11350100MB0000078Y"
CASE_A = {"purpose": "企业开办", "case_no": "A-2026-0001"}
CASE_B = {"purpose": "住房保障资格审核", "case_no": "B-2026-0002"}
CASE_C = {"purpose": "住房保障资格审核", "case_no": "C-2026-0003"}
NOW = dt.datetime.now(dt.UTC)


def _setup(api: Api) -> None:
    """A window (materials:deposit), the catalogue, and housing's permission for 身份证."""
    with api.ctx.sessions() as session:
        window = catalog.create_department(
            session=session, name="福州市政务服务中心综合窗口", credit_code=WINDOW_DEPT, user=True
        )
        set_scopes(session=session, department_id=window.id, scopes=["materials:deposit"])
        add_material_type(
            session=session,
            code="SFZ",
            name="居民身份证",
            holder_kinds=["111"],
            validity_months=None,
        )
        add_material_type(
            session=session, code="HKB", name="居民户口簿", holder_kinds=["111"], validity_months=6
        )
        grant_material_permission(
            session=session, department_id=api.departments["housing"], code="SFZ"
        )
        session.commit()
        api.departments["window"] = window.id
    api.tokens["window"] = api.ctx.tokens.issue(
        client_id="test-window",
        department_id=api.departments["window"],
        scopes=frozenset({"materials:deposit"}),
    ).access_token


def _deposit(api: Api, data: bytes, **overrides: object) -> object:
    meta = {
        "holder_id": HOLDER,
        "holder_name": "张三",
        "type_code": "SFZ",
        "clerk": "王小明",
        "checked_at": (NOW - dt.timedelta(minutes=2)).isoformat(),
        "valid_until": (NOW + dt.timedelta(days=3650)).date().isoformat(),
        **CASE_A,
        **overrides,
    }
    return api.client.post(
        "/v1/materials",
        headers=api.dept("window"),
        files={"file": ("scan.jpg", data, "image/jpeg")},
        data={"metadata": json.dumps(meta)},
    )


def _search(api: Api, department: str, case: dict[str, str]) -> object:
    body = {"holder_id": HOLDER, "type_codes": ["SFZ"], **case}
    return api.client.post("/v1/materials/search", headers=api.dept(department), json=body)


def test_done_when_deposit_reuse_uses_withdraw_verify(api: Api, tmp_path: Path) -> None:
    _setup(api)
    r = _deposit(api, scan_jpeg())
    assert r.status_code == 201, r.text  # type: ignore[attr-defined]
    material = r.json()["material"]  # type: ignore[attr-defined]
    assert HOLDER not in r.text  # type: ignore[attr-defined]
    assert material["state"] == "usable" and material["clerk"] == "王小明"
    assert material["case_no"] == CASE_A["case_no"]
    again = _deposit(api, scan_jpeg(), case_no="A-2026-0099")
    assert again.status_code == 200 and again.json()["material"]["id"] == material["id"]  # type: ignore[attr-defined]

    # case B: a second department finds and fetches it; the holder uploads nothing
    found = _search(api, "housing", CASE_B)
    assert found.status_code == 200, found.text  # type: ignore[attr-defined]
    assert [m["id"] for m in found.json()["materials"]] == [material["id"]]  # type: ignore[attr-defined]
    pdf = api.client.get(
        f"/v1/materials/{material['id']}/pdf", headers=api.dept("housing"), params=CASE_B
    )
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    import hashlib

    assert hashlib.sha256(pdf.content).hexdigest() == material["sha256"]

    # the seal verifies offline with nothing but the file and the trust bundle
    bundle = tmp_path / "bundle.json"
    bundle.write_bytes(trust_bundle().dump())
    sealed = tmp_path / "material.pdf"
    sealed.write_bytes(pdf.content)
    result = CliRunner().invoke(build_app(), ["verify", str(sealed), "--trust", str(bundle)])
    assert result.exit_code == 0, result.output
    assert "TOTAL_PASSED" in result.output and "EvaultReceiptSeal" in result.output

    # a department without permission or consent: refused like anything that does not exist
    refused = _search(api, "tax", CASE_B)
    assert refused.status_code == 403 and refused.headers["content-type"] == PROBLEM  # type: ignore[attr-defined]

    # the holder sees the material and both uses (case A's deposit, case B's search and read)
    holder = api.holder()
    mine = api.client.get("/v1/me/materials", headers=holder).json()["materials"]
    assert [m["id"] for m in mine] == [material["id"]]
    uses = api.client.get(f"/v1/me/materials/{material['id']}/uses", headers=holder).json()
    seen = [(e["action"], e["case_no"], e["department"]) for e in reversed(uses["entries"])]
    assert seen == [
        ("material_deposit", CASE_A["case_no"], "福州市政务服务中心综合窗口"),
        ("material_read", CASE_B["case_no"], "福州市住房和城乡建设局"),
    ]
    log = api.client.get("/v1/me/access-log", headers=holder).json()["entries"]
    assert {"material_search", "material_read", "material_deposit"} <= {e["action"] for e in log}
    reads = [e for e in log if e["action"] == "material_read"]
    assert reads and all(e["material_id"] == material["id"] for e in reads)
    other = api.client.get(
        f"/v1/me/materials/{material['id']}/uses", headers=api.holder(OTHER_HOLDER)
    )
    assert other.status_code == 404

    # withdrawn: case C is refused
    w = api.client.post(f"/v1/me/materials/{material['id']}/withdrawal", headers=holder)
    assert w.status_code == 200 and w.json()["state"] == "withdrawn"
    assert _search(api, "housing", CASE_C).status_code == 403  # type: ignore[attr-defined]
    c = api.client.get(
        f"/v1/materials/{material['id']}/pdf", headers=api.dept("housing"), params=CASE_C
    )
    assert c.status_code == 403 and c.headers["content-type"] == PROBLEM
    # the holder still has its own copy
    own = api.client.get(f"/v1/me/materials/{material['id']}/pdf", headers=holder)
    assert own.status_code == 200 and own.content == pdf.content


def test_expired_material_is_not_served(api: Api) -> None:
    _setup(api)
    material = _deposit(api, scan_jpeg(3)).json()["material"]  # type: ignore[attr-defined]
    with api.ctx.sessions() as session:
        row = session.query(Material).filter_by(public_id=material["id"]).one()
        row.usable_until = (NOW - dt.timedelta(days=1)).date()
        session.commit()
    assert _search(api, "housing", CASE_B).status_code == 403  # type: ignore[attr-defined]
    r = api.client.get(
        f"/v1/materials/{material['id']}/pdf", headers=api.dept("housing"), params=CASE_B
    )
    assert r.status_code == 403
    mine = api.client.get("/v1/me/materials", headers=api.holder()).json()["materials"]
    assert mine[0]["state"] == "expired"


def test_deposit_refusals_are_problems(api: Api) -> None:
    _setup(api)
    bad = _deposit(api, b"GIF89a" + b"\x00" * 32)
    assert bad.status_code == 422 and bad.headers["content-type"] == PROBLEM  # type: ignore[attr-defined]
    assert "not a JPEG or PNG image nor a PDF" in bad.json()["detail"]  # type: ignore[attr-defined]
    unknown = _deposit(api, scan_jpeg(), type_code="NOPE")
    assert unknown.status_code == 404  # type: ignore[attr-defined]
    naive = _deposit(api, scan_jpeg(), checked_at="2026-12-01T09:00:00")
    assert naive.status_code == 422  # type: ignore[attr-defined]
    # a using department cannot deposit, a window cannot search
    as_user = api.client.post(
        "/v1/materials",
        headers=api.dept("housing"),
        files={"file": ("s.jpg", scan_jpeg(), "image/jpeg")},
        data={"metadata": "{}"},
    )
    assert as_user.status_code == 403
    assert _search(api, "window", CASE_B).status_code == 403  # type: ignore[attr-defined]
    types = api.client.get("/v1/material-types").json()["material_types"]
    assert [(t["code"], t["validity"], t["validity_months"]) for t in types] == [
        ("HKB", "period", 6),
        ("SFZ", "document", None),
    ]


def test_who_may_call_what(api: Api) -> None:
    _setup(api)
    material = _deposit(api, scan_jpeg(5)).json()["material"]  # type: ignore[attr-defined]
    pdf = f"/v1/materials/{material['id']}/pdf"
    body = {"holder_id": HOLDER, **CASE_B}
    # no token, or a holder's token, on a department's route: 401
    assert api.client.post("/v1/materials/search", json=body).status_code == 401
    assert api.client.get(pdf, params=CASE_B, headers=api.holder()).status_code == 401
    # an issuer (no licenses:use) may not reuse; a window may not fetch
    assert api.client.get(pdf, params=CASE_B, headers=api.dept("market")).status_code == 403
    assert api.client.get(pdf, params=CASE_B, headers=api.dept("window")).status_code == 403
    # another holder: every route of the material is "not found"
    other = api.holder(OTHER_HOLDER)
    for method, path in (
        ("GET", f"/v1/me/materials/{material['id']}/pdf"),
        ("GET", f"/v1/me/materials/{material['id']}/uses"),
        ("POST", f"/v1/me/materials/{material['id']}/withdrawal"),
    ):
        r = api.client.request(method, path, headers=other)
        assert r.status_code == 404 and r.headers["content-type"] == PROBLEM, path
    assert api.client.get("/v1/me/materials", headers=other).json() == {"materials": []}
    mine = api.client.get("/v1/me/materials", headers=api.holder()).json()["materials"]
    assert mine[0]["state"] == "usable"  # nothing the other holder did changed it
