"""The pages over HTTP without a browser: headers, cookies, CSRF, login, both languages.

Same demo data as the browser tests (``demo_data``), through Starlette's TestClient.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.pages.i18n import STRINGS
from api.pages.web import CSP
from tests.helpers.production import production_settings
from tests.web.conftest import DemoData, csrf_of, login

_csrf = csrf_of


@pytest.fixture(scope="module")
def client(demo_data: DemoData) -> Iterator[TestClient]:
    with TestClient(create_app(demo_data.settings("http://testserver"))) as c:
        yield c


_login = login


def test_pages_carry_a_strict_csp_and_no_referrer(client: TestClient) -> None:
    for path in ("/", "/verify", "/login", "/v/unknown-copy"):
        r = client.get(path)
        assert r.headers["content-security-policy"] == CSP, path
        assert "script-src" not in CSP and "default-src 'none'" in CSP
        assert r.headers["referrer-policy"] == "no-referrer"
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["x-content-type-options"] == "nosniff"
        assert "<script" not in r.text and "style=" not in r.text
    assert client.get("/v/unknown-copy").status_code == 404
    css = client.get("/static/evault.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")


def test_holder_pages_need_a_login_and_refuse_an_altered_session(client: TestClient) -> None:
    client.cookies.clear()
    for path in ("/me", "/me/consent", "/me/log", "/me/licenses/1/pdf"):
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 303, path
        assert r.headers["location"] == f"/login?next={path}"
    _login(client)
    sealed = client.cookies["evault_session"]
    assert client.get("/me", follow_redirects=False).status_code == 200
    flipped = sealed[:-3] + ("A" if sealed[-3] != "A" else "B") + sealed[-2:]
    # the same cookie, altered (not a second one beside it for another domain)
    domain = next(c.domain for c in client.cookies.jar if c.name == "evault_session")
    client.cookies.set("evault_session", flipped, domain=domain)
    assert client.get("/me", follow_redirects=False).status_code == 303


def test_session_and_csrf_cookies_are_httponly_and_samesite(client: TestClient) -> None:
    client.cookies.clear()
    r = client.get("/login")
    csrf_cookie = r.headers["set-cookie"]
    assert csrf_cookie.startswith("evault_csrf=")
    assert "HttpOnly" in csrf_cookie and "SameSite=strict" in csrf_cookie
    assert "Secure" not in csrf_cookie  # plain http on loopback
    r = client.post(
        "/login", data={"holder": "0", "csrf_token": _csrf(r.text)}, follow_redirects=False
    )
    session_cookie = r.headers["set-cookie"]
    assert session_cookie.startswith("evault_session=")
    assert "HttpOnly" in session_cookie and "SameSite=lax" in session_cookie
    assert "11010519491231002X" not in session_cookie  # sealed, not readable


def test_cookies_are_secure_with_host_prefix_over_https(demo_data: DemoData) -> None:
    app = create_app(demo_data.settings("https://evault.example.gov.cn"))
    with TestClient(app, base_url="https://testserver") as c:
        r = c.get("/login")
        assert r.headers["set-cookie"].startswith("__Host-evault_csrf=")
        assert "Secure" in r.headers["set-cookie"]
        assert r.headers["strict-transport-security"].startswith("max-age=")
        r = c.post(
            "/login", data={"holder": "1", "csrf_token": _csrf(r.text)}, follow_redirects=False
        )
        assert r.status_code == 303
        assert r.headers["set-cookie"].startswith("__Host-evault_session=")
        assert "Secure" in r.headers["set-cookie"]
        assert c.get("/me").status_code == 200


def test_forms_without_the_right_csrf_token_are_refused(client: TestClient) -> None:
    client.cookies.clear()
    client.get("/login")
    r = client.post("/login", data={"holder": "0"}, follow_redirects=False)
    assert r.status_code == 403 and "表单已过期" in r.text
    r = client.post("/login", data={"holder": "0", "csrf_token": "x" * 32})
    assert r.status_code == 403
    _login(client)
    token = _csrf(client.get("/me/consent").text)
    # a token from before the login (the anonymous double-submit cookie) is not the session's
    assert (
        client.post("/me/share-codes", data={"hours": "1", "csrf_token": "y" * 32}).status_code
        == 403
    )
    r = client.post(
        "/me/share-codes",
        data={"hours": "1", "csrf_token": token},
        headers={"Origin": "https://attacker.example"},
    )
    assert r.status_code == 403
    r = client.post("/me/share-codes", data={"hours": "1", "csrf_token": token})
    assert r.status_code == 201 and 'id="share-code"' in r.text
    assert 'href="/me/consent?lang=en"' in r.text  # the switch does not GET a POST-only URL
    r = client.post("/logout", data={"csrf_token": "nope"}, follow_redirects=False)
    assert r.status_code == 403
    r = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?notice=logout"
    assert client.get("/me", follow_redirects=False).status_code == 303


def test_every_page_renders_in_both_languages_without_the_id_number(
    client: TestClient, demo_data: DemoData
) -> None:
    _login(client, holder=0)
    citizen = demo_data.document["holders"][0]["holder_id"]
    for lang, marker in (("en", "My licenses"), ("zh", "我的证照")):
        own = _license_ids(client, demo_data, 0)[0]
        for path in ("/", "/verify", "/me", "/me/consent", "/me/log", f"/me/licenses/{own}/copy"):
            r = client.get(f"{path}?lang={lang}")
            assert r.status_code == 200, (path, r.text[:500])
            assert f'<html lang="{"en" if lang == "en" else "zh-CN"}">' in r.text
            assert marker in r.text
            assert citizen not in r.text
        # the choice is kept in a cookie
        r = client.get("/me")
        assert f'<html lang="{"en" if lang == "en" else "zh-CN"}">' in r.text


def test_strings_have_both_languages() -> None:
    for key, (zh, en) in STRINGS.items():
        assert zh.strip() and en.strip(), key


def _license_ids(client: TestClient, demo_data: DemoData, holder: int) -> list[str]:
    """The public ids of a demo holder's licenses (through the API, with its token)."""
    token = demo_data.document["holders"][holder]["token"]
    mine = client.get("/v1/me/licenses", headers={"Authorization": f"Bearer {token}"})
    return [lic["id"] for lic in mine.json()["licenses"]]


def test_a_holder_cannot_reach_another_holders_license(
    client: TestClient, demo_data: DemoData
) -> None:
    own, others = _license_ids(client, demo_data, 0), _license_ids(client, demo_data, 2)
    _login(client, holder=0)  # 张三 owns one license; the company others
    r = client.get(f"/me/licenses/{others[0]}/pdf")
    assert r.status_code == 404 and "未找到" in r.text
    r = client.get(f"/me/licenses/{others[0]}/copy")
    assert r.status_code == 404
    for row_id in ("1", "2", "3"):  # row ids open nothing
        assert client.get(f"/me/licenses/{row_id}/pdf").status_code == 404
    r = client.get(f"/me/licenses/{own[0]}/pdf")
    assert r.status_code == 200 and r.content.startswith(b"%PDF-")


def test_invalid_form_input_is_shown_not_raised(client: TestClient) -> None:
    _login(client, holder=0)
    token = _csrf(client.get("/me/consent").text)
    r = client.post(
        "/me/consent",
        data={"department": "999999", "days": "5", "csrf_token": token},
    )
    assert r.status_code == 404 and "no using department" in r.text
    r = client.post(
        "/me/consent",
        data={"department": "1", "days": "5", "uses": "abc", "csrf_token": token},
    )
    assert r.status_code == 422 and "whole number" in r.text
    r = client.get("/me/log?from=2026-13-45")
    assert r.status_code == 422 and "YYYY-MM-DD" in r.text


def test_outside_demo_mode_there_is_no_demo_login(demo_data: DemoData, tmp_path: Path) -> None:
    from types import SimpleNamespace

    from vault.bootstrap import open_vault

    demo = open_vault(demo_data.settings("http://testserver"))
    vault: Any = SimpleNamespace(
        engine=demo.engine,
        sessions=demo.sessions,
        blobs=demo.blobs,
        crypto=demo.crypto,
        verifier=demo.verifier,
    )
    production = demo_data.settings("http://testserver", **production_settings(tmp_path))
    try:
        with TestClient(create_app(production, vault=vault)) as c:
            r = c.get("/login")
            assert r.status_code == 200
            assert 'action="/login"' not in r.text and "尚未配置持证人登录" in r.text
            token = _csrf(c.get("/verify").text)
            r = c.post("/login", data={"holder": "0", "csrf_token": token})
            assert r.status_code == 405
            assert "set-cookie" not in r.headers
    finally:
        demo.close()
