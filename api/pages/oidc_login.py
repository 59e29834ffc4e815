"""Holder login through the holders' OpenID Connect provider (统一身份认证): the redirect flow.

Authorization code flow with PKCE (S256), ``state`` and ``nonce``, spoken by Authlib's OAuth 2
client (the authorization URL with its PKCE challenge, the code exchange with the verifier
and the client's credentials). Configured by
``EVAULT_OIDC_ISSUER``, ``EVAULT_OIDC_JWKS_URL``, ``EVAULT_OIDC_CLIENT_ID`` (and
``EVAULT_OIDC_CLIENT_SECRET`` for a confidential client); the endpoints come from
``EVAULT_OIDC_AUTHORIZATION_URL`` / ``EVAULT_OIDC_TOKEN_URL`` or else from the provider's
discovery document. The redirect URI registered at the provider is
``<public_base_url>/login/callback``.

The ID token is verified exactly as the JSON API verifies holder tokens
(:meth:`api.auth.holders.HolderAuthenticator.authenticate`: signature by the provider's JWKS,
issuer, audience when configured, the holder-ID claim), and in addition its ``nonce`` and
that ``aud`` names our client id. The flow's secrets wait in a sealed, 10-minute cookie.
"""

from __future__ import annotations

import base64
import hmac
import json
import secrets
import time
import urllib.parse
from dataclasses import dataclass
from typing import Annotated, Any

import httpx2
import jwt
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.httpx_client import AsyncOAuth2Client
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from api.context import ApiContext
from api.deps import CtxDep, limit_by_ip
from api.errors import ApiError
from api.pages.web import redirect, render, safe_next, start_session
from vault.crypto import HolderDataError
from vault.settings import Settings

__all__ = ["configured", "router"]

router = APIRouter(include_in_schema=False, dependencies=[Depends(limit_by_ip)])
_PURPOSE = "web-oidc-flow"
_FLOW_SECONDS = 600
_TIMEOUT = 10


class LoginFailed(Exception):
    """The provider's answer could not be used (shown as a page, details not leaked)."""


@dataclass(frozen=True)
class Endpoints:
    authorization: str
    token: str


def configured(settings: Settings) -> bool:
    return bool(settings.oidc_client_id and settings.oidc_issuer and settings.oidc_jwks_url)


def _client(settings: Settings) -> AsyncOAuth2Client:
    secret = settings.oidc_client_secret
    return AsyncOAuth2Client(
        client_id=settings.oidc_client_id,
        client_secret=secret.get_secret_value() if secret is not None else None,
        # a confidential client sends its secret in the form, a public one only its id
        token_endpoint_auth_method="client_secret_post" if secret is not None else "none",
        scope="openid",
        redirect_uri=_redirect_uri(settings),
        code_challenge_method="S256",
        timeout=_TIMEOUT,
    )


def _check_url(url: str) -> str:
    if urllib.parse.urlsplit(url).scheme not in ("https", "http"):
        raise LoginFailed("the identity provider's endpoint is not an http(s) URL")
    return url


async def _discover(settings: Settings) -> dict[str, Any]:
    issuer = (settings.oidc_issuer or "").rstrip("/")
    url = _check_url(f"{issuer}/.well-known/openid-configuration")
    try:
        async with httpx2.AsyncClient(timeout=_TIMEOUT) as http:
            answer = await http.get(url)
            answer.raise_for_status()
            doc = answer.json()
    except (httpx2.HTTPError, ValueError) as exc:
        raise LoginFailed(f"the identity provider did not answer usefully: {exc}") from None
    if not isinstance(doc, dict):
        raise LoginFailed("the identity provider's answer is not a JSON object")
    return doc


async def _endpoints(ctx: ApiContext) -> Endpoints:
    settings = ctx.settings
    if ctx.oidc_endpoints is not None:
        return Endpoints(*ctx.oidc_endpoints)
    authorization, token = settings.oidc_authorization_url, settings.oidc_token_url
    if not authorization or not token:
        doc = await _discover(settings)
        authorization = authorization or str(doc.get("authorization_endpoint") or "")
        token = token or str(doc.get("token_endpoint") or "")
        if not authorization or not token:
            raise LoginFailed("the provider's discovery document names no endpoints")
    endpoints = Endpoints(_check_url(authorization), _check_url(token))
    ctx.oidc_endpoints = (endpoints.authorization, endpoints.token)
    return endpoints


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _redirect_uri(settings: Settings) -> str:
    return settings.public_base_url.rstrip("/") + "/login/callback"


def _secure(request: Request, ctx: ApiContext) -> bool:
    return request.url.scheme == "https" or ctx.settings.public_base_url.startswith("https://")


def _cookie_name(request: Request, ctx: ApiContext) -> str:
    return "__Host-evault_oidc" if _secure(request, ctx) else "evault_oidc"


def _failed(request: Request, ctx: ApiContext) -> Response:
    return render(request, ctx, "error.html", status=401, key="login.failed", detail="")


@router.get("/login/oidc")
async def start(request: Request, ctx: CtxDep, next: str | None = None) -> Response:
    """Send the browser to the provider, with state, nonce and a PKCE challenge."""
    settings = ctx.settings
    if not configured(settings):
        return render(request, ctx, "error.html", status=404, key="login.unavailable", detail="")
    try:
        endpoints = await _endpoints(ctx)
    except LoginFailed:
        return _failed(request, ctx)
    state, nonce, verifier = (secrets.token_urlsafe(48) for _ in range(3))
    flow = json.dumps(
        {
            "s": state,
            "n": nonce,
            "v": verifier,
            "x": safe_next(next),
            "e": time.time() + _FLOW_SECONDS,
        }
    )
    async with _client(settings) as client:
        url, _state = client.create_authorization_url(
            endpoints.authorization, state=state, code_verifier=verifier, nonce=nonce
        )
    response = redirect(request, ctx, url)
    response.status_code = 302
    sealed = ctx.crypto.encrypt(flow, purpose=_PURPOSE)
    response.set_cookie(
        _cookie_name(request, ctx),
        _b64(sealed),
        max_age=_FLOW_SECONDS,
        path="/",
        secure=_secure(request, ctx),
        httponly=True,
        samesite="lax",  # sent on the provider's top-level redirect back
    )
    return response


def _flow(request: Request, ctx: ApiContext) -> dict[str, Any] | None:
    raw = request.cookies.get(_cookie_name(request, ctx))
    if not raw:
        return None
    try:
        sealed = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
        flow = json.loads(ctx.crypto.decrypt(sealed, purpose=_PURPOSE))
    except (ValueError, HolderDataError):
        return None
    if not isinstance(flow, dict) or float(flow.get("e", 0)) < time.time():
        return None
    return flow


async def _exchange(ctx: ApiContext, code: str, verifier: str) -> str:
    token_url = (await _endpoints(ctx)).token
    try:
        async with _client(ctx.settings) as client:
            answer = await client.fetch_token(
                token_url,
                grant_type="authorization_code",
                code=code,
                code_verifier=verifier,
                headers={"Accept": "application/json"},
            )
    except (AuthlibBaseError, httpx2.HTTPError, ValueError) as exc:
        raise LoginFailed(f"the identity provider did not answer usefully: {exc}") from None
    token = answer.get("id_token")
    if not isinstance(token, str):
        raise LoginFailed("the token endpoint returned no id_token")
    return token


@router.get("/login/callback")
async def callback(
    request: Request,
    ctx: CtxDep,
    code: Annotated[str | None, Query(max_length=2048)] = None,
    state: Annotated[str | None, Query(max_length=512)] = None,
) -> Response:
    """The provider sends the browser back here with a code; exchange it and log in."""
    flow = _flow(request, ctx)
    if (
        not configured(ctx.settings)
        or flow is None
        or not code
        or not state
        or not hmac.compare_digest(state, str(flow.get("s", "")))
    ):
        return _failed(request, ctx)
    try:
        id_token = await _exchange(ctx, code, str(flow["v"]))
        principal = await ctx.holders.authenticate(id_token)
        claims = jwt.decode(id_token, options={"verify_signature": False})
    except (LoginFailed, ApiError, jwt.PyJWTError):
        return _failed(request, ctx)
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if ctx.settings.oidc_client_id not in audiences or not hmac.compare_digest(
        str(claims.get("nonce", "")), str(flow.get("n", ""))
    ):
        return _failed(request, ctx)
    name = claims.get("name")
    response = redirect(request, ctx, str(flow.get("x") or "/me"))
    await start_session(
        request,
        ctx,
        response,
        holder_id=principal.holder_id,
        holder_id_type=principal.holder_id_type,
        name=name if isinstance(name, str) and name.strip() else principal.masked,
    )
    response.delete_cookie(
        _cookie_name(request, ctx), path="/", secure=_secure(request, ctx), httponly=True
    )
    return response
