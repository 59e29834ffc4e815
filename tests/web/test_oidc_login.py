"""The redirect login against an OpenID Connect provider on loopback (a real HTTP server).

The provider here is small but does what a real one does: discovery, an authorization
endpoint that redirects back with a code, a token endpoint that checks the PKCE verifier
and the client secret and returns an ES256 ID token, and its JWKS.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import secrets
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient

from api.app import create_app
from tests.helpers.production import production_settings
from tests.web.conftest import DemoData

CLIENT_ID = "evault-web"
CLIENT_SECRET = "s3cr3t-" + "x" * 32
HOLDER_NAME = "张三"


@dataclass
class Provider:
    base: str
    key: ec.EllipticCurvePrivateKey
    holder_id: str = ""
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    nonce_override: str | None = None
    seen_secret: list[str] = field(default_factory=list)
    seen_verifier: list[str] = field(default_factory=list)


def _token_answer(provider: Provider, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
    """The token endpoint's status and JSON for ``form``: an ID token for a code it gave
    out, with the PKCE verifier, redirect URI and client secret that go with it."""
    asked = provider.codes.pop(form.get("code", ""), None)
    verifier = form.get("code_verifier", "")
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    provider.seen_secret.append(form.get("client_secret", ""))
    provider.seen_verifier.append(verifier)
    if (
        asked is None
        or challenge != asked["code_challenge"]
        or form.get("redirect_uri") != asked["redirect_uri"]
        or form.get("client_secret") != CLIENT_SECRET
    ):
        return 400, {"error": "invalid_grant"}
    now = dt.datetime.now(dt.UTC)
    claims = {
        "iss": provider.base,
        "aud": CLIENT_ID,
        "sub": "u-1",
        "id_number": provider.holder_id,
        "name": HOLDER_NAME,
        "nonce": provider.nonce_override or asked["nonce"],
        "iat": now,
        "exp": now + dt.timedelta(minutes=5),
    }
    token = jwt.encode(claims, provider.key, algorithm="ES256", headers={"kid": "k1"})
    return 200, {"id_token": token, "token_type": "Bearer"}


def _handler(provider: Provider) -> type[BaseHTTPRequestHandler]:
    from jwt.algorithms import ECAlgorithm

    jwk = json.loads(ECAlgorithm.to_jwk(provider.key.public_key()))
    jwk.update({"kid": "k1", "alg": "ES256", "use": "sig"})

    class Handler(BaseHTTPRequestHandler):
        def _json(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            url = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(url.query))
            if url.path == "/.well-known/openid-configuration":
                self._json(
                    200,
                    {
                        "issuer": provider.base,
                        "authorization_endpoint": provider.base + "/authorize",
                        "token_endpoint": provider.base + "/token",
                        "jwks_uri": provider.base + "/jwks.json",
                    },
                )
            elif url.path == "/jwks.json":
                self._json(200, {"keys": [jwk]})
            elif url.path == "/authorize":
                assert query["client_id"] == CLIENT_ID
                assert query["response_type"] == "code"
                assert query["code_challenge_method"] == "S256"
                code = secrets.token_urlsafe(16)
                provider.codes[code] = query
                target = (
                    query["redirect_uri"]
                    + "?"
                    + urllib.parse.urlencode({"code": code, "state": query["state"]})
                )
                self.send_response(302)
                self.send_header("Location", target)
                self.end_headers()
            else:
                self._json(404, {})

        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
            self._json(*_token_answer(provider, form))

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def provider(demo_data: DemoData) -> Iterator[Provider]:
    server = HTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    state = Provider(
        f"http://127.0.0.1:{server.server_port}", ec.generate_private_key(ec.SECP256R1())
    )
    state.holder_id = demo_data.document["holders"][0]["holder_id"]
    server.RequestHandlerClass = _handler(state)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()


@pytest.fixture
def production(demo_data: DemoData, provider: Provider, tmp_path: Path) -> Iterator[TestClient]:
    from vault.bootstrap import open_vault

    demo = open_vault(demo_data.settings("http://testserver"))
    vault: Any = SimpleNamespace(
        engine=demo.engine,
        sessions=demo.sessions,
        blobs=demo.blobs,
        crypto=demo.crypto,
        verifier=demo.verifier,
    )
    settings = demo_data.settings(
        "http://testserver",
        **production_settings(
            tmp_path,
            holder_key=demo.crypto.holder_key.hex(),
            blind_index_key=demo.crypto.blind_index_key.hex(),
        ),
        oidc_issuer=provider.base,
        oidc_jwks_url=provider.base + "/jwks.json",
        oidc_audience=CLIENT_ID,
        oidc_client_id=CLIENT_ID,
        oidc_client_secret=CLIENT_SECRET,
    )
    try:
        with TestClient(create_app(settings, vault=vault)) as client:
            yield client
    finally:
        demo.close()


def _to_provider_and_back(client: TestClient, next_path: str = "/me/log") -> httpx.Response:
    page = client.get("/login")
    assert 'href="/login/oidc?next=/me"' in page.text and 'action="/login"' not in page.text
    start = client.get(f"/login/oidc?next={next_path}", follow_redirects=False)
    assert start.status_code == 302
    location = start.headers["location"]
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))
    assert query["redirect_uri"] == "http://testserver/login/callback"
    assert query["scope"] == "openid" and query["state"] and query["nonce"]
    assert "HttpOnly" in start.headers["set-cookie"]
    back = httpx.get(location, follow_redirects=False, timeout=10)
    assert back.status_code == 302
    callback = urllib.parse.urlsplit(back.headers["location"])
    return client.get(f"{callback.path}?{callback.query}", follow_redirects=False)


def test_redirect_login_with_pkce_state_and_nonce(
    production: TestClient, provider: Provider
) -> None:
    done = _to_provider_and_back(production)
    assert done.status_code == 303, done.text
    # RFC 7636 4.1: a verifier of 43 to 128 characters (the first client sent 32)
    assert [43 <= len(v) <= 128 for v in provider.seen_verifier] == [True]
    assert done.headers["location"] == "/me/log"
    me = production.get("/me")
    assert me.status_code == 200
    assert f"<strong>{HOLDER_NAME}</strong>" in me.text and "居住证" in me.text


def test_a_callback_without_its_flow_or_with_a_wrong_state_is_refused(
    production: TestClient, provider: Provider
) -> None:
    r = production.get("/login/callback?code=abc&state=xyz", follow_redirects=False)
    assert r.status_code == 401 and "登录未完成" in r.text
    start = production.get("/login/oidc", follow_redirects=False)
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(start.headers["location"]).query))
    r = production.get(f"/login/callback?code=abc&state={query['state']}x")
    assert r.status_code == 401
    assert production.get("/me", follow_redirects=False).status_code == 303


def test_an_id_token_with_another_nonce_is_refused(
    production: TestClient, provider: Provider
) -> None:
    provider.nonce_override = "replayed-nonce"
    r = _to_provider_and_back(production)
    assert r.status_code == 401
    assert provider.seen_secret == [CLIENT_SECRET]
    assert production.get("/me", follow_redirects=False).status_code == 303
