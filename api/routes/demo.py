"""Demo mode only: the vault as its own OpenID Connect provider for holders.

Mounted only when ``settings.mode`` is ``demo``; in production these paths do not exist (404).
``POST /demo/oidc/token`` mints a holder token for any valid ID number: it is the demo's
stand-in for the national 统一身份认证 login, and ``evault dev-token`` does the same offline.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from api.auth.holders import DEMO_AUDIENCE, demo_issuer
from api.auth.keys import demo_idp_key, jwk_of
from api.deps import CtxDep, limit_by_ip
from api.errors import problems
from schemas.identifiers import HolderId

__all__ = ["router"]

router = APIRouter(prefix="/demo/oidc", tags=["demo"], dependencies=[Depends(limit_by_ip)])


class DemoLogin(BaseModel):
    holder_id: HolderId = Field(description="公民身份号码 or 统一社会信用代码 to log in as")


class DemoToken(BaseModel):
    id_token: str
    token_type: str = "Bearer"  # noqa: S105
    audience: str = DEMO_AUDIENCE


@router.get("/.well-known/openid-configuration", summary="Demo OIDC discovery document")
def discovery(ctx: CtxDep) -> dict[str, Any]:
    issuer = demo_issuer(ctx.settings)
    base = ctx.settings.public_base_url.rstrip("/") + "/demo/oidc"
    return {
        "issuer": issuer,
        "jwks_uri": base + "/jwks.json",
        "token_endpoint": base + "/token",
        "id_token_signing_alg_values_supported": ["EdDSA"],
        "claims_supported": [ctx.settings.oidc_holder_claim],
    }


@router.get("/jwks.json", summary="Demo OIDC provider's public keys")
def jwks(ctx: CtxDep) -> dict[str, Any]:
    return {"keys": [jwk_of(demo_idp_key(ctx.settings))]}


@router.post(
    "/token",
    response_model=DemoToken,
    summary="Demo login: a holder token for an ID number (demo mode only)",
    responses=problems(422),
)
def token(body: DemoLogin, ctx: CtxDep) -> DemoToken:
    return DemoToken(id_token=ctx.holders.mint_demo(body.holder_id))
