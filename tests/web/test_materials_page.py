"""The holder's materials page (我的材料) over HTTP, on a demo of its own: the demo's
deposited 身份证 scan is listed with its uses, downloads, and is withdrawn with a CSRF token."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from tests.web.conftest import DemoData, csrf_of, login, prepare_demo_data

HOLDER = "11010519491231002X"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoData:
    return prepare_demo_data(tmp_path_factory.mktemp("materials-demo") / "demo")


@pytest.fixture(scope="module")
def client(demo: DemoData) -> Iterator[TestClient]:
    with TestClient(create_app(demo.settings("http://testserver"))) as c:
        yield c


def test_demo_seeds_the_catalogue_and_a_sealed_id_card_scan(demo: DemoData) -> None:
    assert (demo.data_dir / "samples" / "id-card-scan.jpg").read_bytes().startswith(b"\xff\xd8")
    windows = [d for d in demo.document["departments"] if "materials:deposit" in d["scopes"]]
    assert [w["name"] for w in windows] == ["福州市政务服务中心综合窗口"]
    prepare_demo_data(demo.data_dir)  # a second run: the same scan is the same material
    with TestClient(create_app(demo.settings("http://testserver"))) as c:
        types = c.get("/v1/material-types").json()["material_types"]
        assert {t["code"] for t in types} == {"SFZ", "HKB", "YYZZFB"}
        token = c.app.state.ctx.holders.mint_demo(HOLDER)  # type: ignore[attr-defined]
        r = c.get("/v1/me/materials", headers={"Authorization": f"Bearer {token}"})
        mine = r.json()
        assert "materials" in mine, r.text
    assert [(m["type_code"], m["state"]) for m in mine["materials"]] == [("SFZ", "usable")]


def test_a_certified_copy_of_a_material_from_the_portal(client: TestClient) -> None:
    login(client)
    page = client.get("/me/materials?lang=zh")
    link = page.text.split('href="/me/materials/', 1)[1].split('"', 1)[0]
    material_id = link.removesuffix("/pdf")
    assert f'href="/me/materials/{material_id}/copy"' in page.text
    form = client.get(f"/me/materials/{material_id}/copy")
    assert form.status_code == 200 and f'action="/me/materials/{material_id}/copy"' in form.text
    body = {"purpose": "申请公租房", "recipient": "住建局", "days": "10"}
    forged = client.post(f"/me/materials/{material_id}/copy", data=body | {"csrf_token": "z" * 32})
    assert forged.status_code == 403
    made = client.post(
        f"/me/materials/{material_id}/copy", data=body | {"csrf_token": csrf_of(form.text)}
    )
    assert made.status_code == 201, made.text
    copy_id = made.text.split('href="/me/copies/', 1)[1].split("/", 1)[0]
    pdf = client.get(f"/me/copies/{copy_id}/pdf")
    assert pdf.status_code == 200 and b"EvaultCopySeal" in pdf.content
    assert "居民身份证" in client.get(f"/v/{copy_id}").text
    assert client.get("/me/materials/m_nothing/copy").status_code == 404


def test_materials_page_lists_downloads_and_withdraws(client: TestClient, tmp_path: Path) -> None:
    client.cookies.clear()
    r = client.get("/me/materials", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/me/materials"
    login(client)
    for lang in ("zh", "en"):
        page = client.get(f"/me/materials?lang={lang}")
        assert page.status_code == 200 and HOLDER not in page.text
        assert "居民身份证" in page.text
        assert ("可用" if lang == "zh" else "usable") in page.text
        assert ("收件存入材料" if lang == "zh" else "material deposited") in page.text
    page = client.get("/me/materials?lang=zh")
    link = page.text.split('href="/me/materials/', 1)[1].split('"', 1)[0]
    material_id = link.removesuffix("/pdf")
    pdf = client.get(f"/me/materials/{material_id}/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    assert b"EvaultReceiptSeal" in pdf.content

    refused = client.post(f"/me/materials/{material_id}/withdraw", data={"csrf_token": "x" * 32})
    assert refused.status_code == 403
    assert "已撤回" not in client.get("/me/materials").text
    done = client.post(
        f"/me/materials/{material_id}/withdraw",
        data={"csrf_token": csrf_of(page.text)},
        follow_redirects=True,
    )
    assert done.status_code == 200
    assert "已撤回：部门将无法再调用该材料。" in done.text and "撤回材料" in done.text
    other = client.post("/me/materials/m_nothing/withdraw", data={"csrf_token": csrf_of(page.text)})
    assert other.status_code == 404
