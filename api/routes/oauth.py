"""``POST /v1/oauth/token``: OAuth 2.0 client credentials grant (RFC 6749 section 4.4).

Credentials come in the form body (``client_id``, ``client_secret``) or as HTTP Basic
(``Authorization: Basic base64(id:secret)``). Errors are problem+json carrying the RFC 6749
``error`` code as an extra member (``invalid_client``, ``invalid_scope``,
``unsupported_grant_type``, ``invalid_request``).
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form, Request, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.deps import CtxDep, limit_by_ip
from api.errors import ApiError, problems
from vault.errors import PermissionDenied
from vault.services.credentials import InvalidScope, authenticate_client

__all__ = ["router"]

router = APIRouter(tags=["auth"], dependencies=[Depends(limit_by_ip)])


class TokenResponse(BaseModel):
    access_token: str = Field(description="a JWT (EdDSA) to send as Authorization: Bearer")
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105
    expires_in: int = Field(description="seconds until it expires")
    scope: str = Field(description="the scopes granted, space-separated")


def _oauth_error(status: int, error: str, detail: str) -> ApiError:
    headers = {"Cache-Control": "no-store"}
    if status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="evault"'
    return ApiError(
        status, f"oauth-{error.replace('_', '-')}", error, detail, headers, {"error": error}
    )


def _basic(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise _oauth_error(401, "invalid_client", "malformed Basic credentials") from None
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise _oauth_error(401, "invalid_client", "malformed Basic credentials")
    return client_id, secret


@router.post(
    "/v1/oauth/token",
    response_model=TokenResponse,
    summary="Get a department access token (client credentials)",
    responses=problems(400, 401, 429),
)
async def token(
    request: Request,
    response: Response,
    ctx: CtxDep,
    grant_type: Annotated[str, Form(description="must be client_credentials")],
    client_id: Annotated[str | None, Form(max_length=100)] = None,
    client_secret: Annotated[str | None, Form(max_length=200)] = None,
    scope: Annotated[str | None, Form(max_length=200, description="space-separated")] = None,
) -> TokenResponse:
    if grant_type != "client_credentials":
        raise _oauth_error(400, "unsupported_grant_type", "grant_type must be client_credentials")
    basic = _basic(request)
    if basic is not None:
        client_id, client_secret = basic
    if not client_id or not client_secret:
        raise _oauth_error(401, "invalid_client", "client_id and client_secret are required")
    requested = scope.split() if scope else None

    def check() -> tuple[int, frozenset[str]]:
        with ctx.sessions() as session:
            client = authenticate_client(
                session=session,
                client_id=client_id,
                client_secret=client_secret,
                requested=requested,
            )
            return client.department_id, client.scopes

    try:
        department_id, scopes = await run_in_threadpool(check)
    except InvalidScope as exc:
        raise _oauth_error(400, "invalid_scope", str(exc)) from None
    except PermissionDenied:
        raise _oauth_error(401, "invalid_client", "invalid client credentials") from None
    issued = ctx.tokens.issue(client_id=client_id, department_id=department_id, scopes=scopes)
    request.scope.setdefault("state", {})["principal_label"] = f"client:{client_id}"
    response.headers["Cache-Control"] = "no-store"
    return TokenResponse(
        access_token=issued.access_token, expires_in=issued.expires_in, scope=issued.scope
    )
