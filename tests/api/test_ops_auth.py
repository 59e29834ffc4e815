"""Operations, errors, limits and authentication of the API."""

from __future__ import annotations

import base64
import datetime as dt
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth.keys import jwk_of
from api.limits import RateLimiter
from tests.api.conftest import HOLDER, Api
from tests.helpers.production import production_settings
from vault.settings import load_settings

PROBLEM = "application/problem+json"


def test_health_ready_metrics(api_sqlite: Api) -> None:
    api = api_sqlite
    assert api.client.get("/healthz").json() == {"status": "ok"}
    ready = api.client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "database": True, "blob_store": True}
    api.client.get("/v1/licenses/1", params={"purpose": "x", "case_no": "y"})
    metrics = api.client.get("/metrics")
    assert metrics.status_code == 200
    assert (
        'evault_http_requests_total{method="GET",route="/v1/licenses/{license_id}",status="401"}'
        in (metrics.text)
    )


def test_request_id_is_echoed_or_made(api_sqlite: Api) -> None:
    api = api_sqlite
    r = api.client.get("/healthz", headers={"X-Request-ID": "req-12345678"})
    assert r.headers["x-request-id"] == "req-12345678"
    r = api.client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})
    assert r.headers["x-request-id"] != "bad id with spaces"
    assert len(r.headers["x-request-id"]) == 24


def test_unknown_route_is_a_problem(api_sqlite: Api) -> None:
    api = api_sqlite
    r = api.client.get("/v1/nothing-here")
    assert r.status_code == 404
    assert r.headers["content-type"] == PROBLEM
    assert r.json()["type"] == "urn:evault:problem:not-found"
    assert r.json()["request_id"] == r.headers["x-request-id"]


def _chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        n = min(size, total - sent)
        sent += n
        yield b"%" * n


def test_upload_limit_while_streaming(tmp_path: Path, api_sqlite: Api) -> None:
    api = api_sqlite
    settings = load_settings(
        mode="demo",
        data_dir=tmp_path / "small",
        database_url=str(api.ctx.engine.url.render_as_string(hide_password=False)),
        upload_limit_bytes=100_000,
    )
    vault = _vault_of(api)
    with TestClient(create_app(settings, vault=vault)) as client:
        # declared too large: refused before reading
        r = client.post(
            "/v1/verify",
            content=b"x" * 200_000,
            headers={"Content-Type": "application/octet-stream"},
        )
        assert r.status_code == 413
        assert r.headers["content-type"] == PROBLEM
        assert "100000 bytes" in r.json()["detail"]
        # chunked (no Content-Length): refused at the first byte over the limit
        r = client.post(
            "/v1/verify",
            content=_chunks(300_000),
            headers={"Content-Type": "multipart/form-data; boundary=xyz"},
        )
        assert r.status_code == 413
        assert r.json()["type"] == "urn:evault:problem:too-large"


def test_rate_limit_answers_429_with_retry_after(tmp_path: Path, api_sqlite: Api) -> None:
    api = api_sqlite
    settings = load_settings(
        mode="demo",
        data_dir=tmp_path / "limited",
        rate_limit_per_minute=60,
        rate_limit_burst=3,
    )
    with TestClient(create_app(settings, vault=_vault_of(api))) as client:
        codes = [client.get("/v1/copies/abc/status").status_code for _ in range(5)]
        assert codes[:3] == [404, 404, 404]
        assert codes[3:] == [429, 429]
        r = client.get("/v1/copies/abc/status")
        assert r.headers["retry-after"] == "1"
        assert r.json()["type"] == "urn:evault:problem:rate-limited"


def test_the_vaults_seal_is_loaded_at_start_not_by_the_first_copy(
    tmp_path: Path, api_sqlite: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Loading the seal (keys, certificates, font) takes a second or two; a worker does it
    in the background as it starts, so the first copy does not wait for it (and a load
    test's first seconds on a cold worker do not go by without one copy)."""
    import api.sealing

    built = threading.Event()

    class Renderer:
        def make(self, original: bytes, annotation: object) -> bytes:
            raise AssertionError("no copy is made here")

        def close(self) -> None:
            pass

    def build(_settings: object) -> Renderer:
        built.set()
        return Renderer()

    monkeypatch.setattr(api.sealing, "copy_renderer_from_settings", build)
    settings = load_settings(mode="demo", data_dir=tmp_path / "warm")
    with TestClient(create_app(settings, vault=_vault_of(api_sqlite))):
        assert built.wait(timeout=30), "the seal was not loaded at start"


def test_token_bucket_refills() -> None:
    limiter = RateLimiter(rate_per_minute=60, burst=2)
    limiter.check("k", now=0.0)
    limiter.check("k", now=0.0)
    with pytest.raises(Exception, match="rate limit exceeded"):
        limiter.check("k", now=0.5)
    limiter.check("k", now=1.01)
    limiter.check("other", now=1.01)


def _vault_of(api: Api) -> Any:
    from types import SimpleNamespace

    ctx = api.ctx
    return SimpleNamespace(
        engine=ctx.engine,
        sessions=ctx.sessions,
        blobs=ctx.blobs,
        crypto=ctx.crypto,
        verifier=ctx.verifier.get(),
    )


# --- OAuth client credentials --------------------------------------------------------


def test_client_credentials_flow(api_sqlite: Api) -> None:
    api = api_sqlite
    client_id, secret = api.credentials["housing"]
    r = api.client.post(
        "/v1/oauth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "Bearer" and body["scope"] == "licenses:use"
    assert r.headers["cache-control"] == "no-store"
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["dept"] == api.departments["housing"] and claims["sub"] == client_id
    # the token works
    r2 = api.client.post(
        "/v1/licenses/search",
        headers={"Authorization": f"Bearer {body['access_token']}"},
        json={"holder_id": HOLDER, "purpose": "p", "case_no": "c"},
    )
    assert r2.status_code == 403  # authenticated; nothing pushed yet
    # HTTP Basic works as well
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    r3 = api.client.post(
        "/v1/oauth/token",
        data={"grant_type": "client_credentials", "scope": "licenses:use"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert r3.status_code == 200


@pytest.mark.parametrize(
    ("form", "status", "error"),
    [
        ({"grant_type": "password"}, 400, "unsupported_grant_type"),
        ({"grant_type": "client_credentials", "client_secret": "wrong"}, 401, "invalid_client"),
        ({"grant_type": "client_credentials", "scope": "audit:read"}, 400, "invalid_scope"),
        ({"grant_type": "client_credentials", "scope": "everything"}, 400, "invalid_scope"),
    ],
)
def test_token_refusals(api_sqlite: Api, form: dict[str, str], status: int, error: str) -> None:
    api = api_sqlite
    client_id, secret = api.credentials["housing"]
    data = {"client_id": client_id, "client_secret": secret, **form}
    r = api.client.post("/v1/oauth/token", data=data)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM
    assert r.json()["error"] == error


def test_unknown_client_is_refused_like_a_wrong_secret(api_sqlite: Api) -> None:
    api = api_sqlite
    r = api.client.post(
        "/v1/oauth/token",
        data={"grant_type": "client_credentials", "client_id": "evc_nobody", "client_secret": "x"},
    )
    assert r.status_code == 401
    assert r.json()["detail"] == "invalid client credentials"


def test_forged_expired_and_wrong_scope_tokens(api_sqlite: Api) -> None:
    api = api_sqlite
    use = {"purpose": "p", "case_no": "c"}
    # alg=none
    none_token = jwt.encode({"sub": "x", "dept": 1}, key=None, algorithm="none")
    r = api.client.get(
        "/v1/licenses/1", params=use, headers={"Authorization": f"Bearer {none_token}"}
    )
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
    # expired
    tokens = api.ctx.tokens
    old_ttl = tokens.ttl_seconds
    tokens.ttl_seconds = -60
    expired = tokens.issue(client_id="x", department_id=1, scopes=frozenset({"licenses:use"}))
    tokens.ttl_seconds = old_ttl
    r = api.client.get(
        "/v1/licenses/1", params=use, headers={"Authorization": f"Bearer {expired.access_token}"}
    )
    assert r.status_code == 401 and r.json()["detail"] == "the access token has expired"
    # an issuer token on a using route
    r = api.client.get("/v1/licenses/1", params=use, headers=api.dept("market"))
    assert r.status_code == 403
    assert r.json()["type"] == "urn:evault:problem:insufficient-scope"
    # a holder token is not a department token
    r = api.client.get("/v1/licenses/1", params=use, headers=api.holder())
    assert r.status_code == 401


# --- Holders through an external OIDC provider (production mode) ---------------------


def _wrong_check(holder_id: str) -> str:
    return holder_id[:-1] + ("1" if holder_id[-1] != "1" else "2")


class _Jwks(BaseHTTPRequestHandler):
    body = b"{}"

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def oidc_provider() -> Iterator[tuple[str, ec.EllipticCurvePrivateKey]]:
    from jwt.algorithms import ECAlgorithm

    key = ec.generate_private_key(ec.SECP256R1())
    jwk = json.loads(ECAlgorithm.to_jwk(key.public_key()))
    jwk.update({"kid": "k1", "alg": "ES256", "use": "sig"})
    handler = type("H", (_Jwks,), {"body": json.dumps({"keys": [jwk]}).encode()})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/jwks.json", key
    finally:
        server.shutdown()


def test_production_holder_login_via_jwks_and_no_demo_routes(
    api_sqlite: Api, tmp_path: Path, oidc_provider: tuple[str, ec.EllipticCurvePrivateKey]
) -> None:
    api = api_sqlite
    jwks_url, key = oidc_provider
    settings = load_settings(
        **production_settings(tmp_path / "prod"),
        oidc_issuer="https://idp.example.gov.cn",
        oidc_jwks_url=jwks_url,
        oidc_audience="evault",
        oidc_holder_claim="id_card",
    )
    with TestClient(create_app(settings, vault=_vault_of(api))) as client:
        now = dt.datetime.now(dt.UTC)
        claims = {
            "iss": "https://idp.example.gov.cn",
            "aud": "evault",
            "id_card": HOLDER,
            "iat": now,
            "exp": now + dt.timedelta(minutes=5),
        }
        good = jwt.encode(claims, key, algorithm="ES256", headers={"kid": "k1"})
        r = client.get("/v1/me/licenses", headers={"Authorization": f"Bearer {good}"})
        assert r.status_code == 200, r.text
        wrong_aud = jwt.encode(
            {**claims, "aud": "other"}, key, algorithm="ES256", headers={"kid": "k1"}
        )
        r = client.get("/v1/me/licenses", headers={"Authorization": f"Bearer {wrong_aud}"})
        assert r.status_code == 401
        bad_id = jwt.encode(
            {**claims, "id_card": _wrong_check(HOLDER)},
            key,
            algorithm="ES256",
            headers={"kid": "k1"},
        )
        r = client.get("/v1/me/licenses", headers={"Authorization": f"Bearer {bad_id}"})
        assert r.status_code == 401 and HOLDER[:-1] not in r.text
        # the demo provider's tokens are refused, and its routes do not exist
        r = client.get("/v1/me/licenses", headers=api.holder())
        assert r.status_code == 401
        assert client.get("/demo/oidc/jwks.json").status_code == 404
        assert client.post("/demo/oidc/token", json={"holder_id": HOLDER}).status_code == 404


def test_demo_provider_serves_its_jwks_and_tokens(api_sqlite: Api) -> None:
    api = api_sqlite
    keys = api.client.get("/demo/oidc/jwks.json").json()["keys"]
    from api.auth.keys import demo_idp_key

    assert keys == [jwk_of(demo_idp_key(api.ctx.settings))]
    token = api.client.post("/demo/oidc/token", json={"holder_id": HOLDER}).json()["id_token"]
    r = api.client.get("/v1/me/licenses", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200
