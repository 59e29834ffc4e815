"""SD-JWT credentials for holders' wallets: OpenID4VCI 1.0 (pre-authorized code flow), the
SD-JWT VC and status list documents, and the verifier endpoint.

- ``POST /v1/me/licenses/{id}/credential-offer`` (holder token): an offer for a wallet.
- ``/.well-known/openid-credential-issuer``, ``/.well-known/oauth-authorization-server``,
  ``/.well-known/jwt-vc-issuer``, ``/credentials/types/license``: metadata.
- ``POST /oid4vci/token``, ``POST /oid4vci/nonce``, ``POST /oid4vci/credential``: the
  wallet's side. Errors are problem+json with the OAuth / OpenID4VCI ``error`` member.
- ``GET /credentials/status/{n}``: a status list token (``application/statuslist+jwt``).
- ``POST /v1/credentials/verify``: check a presentation (anyone, rate limited).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from api.deps import CtxDep, HolderDep, LicenseIdPath, SessionDep, limit_by_ip
from api.errors import ApiError, problems
from api.wallet import (
    PRE_AUTH_GRANT,
    credential_key,
    issuer_metadata,
    issuer_url,
    offer_out,
    type_metadata,
    verify_online,
)
from api.wallet_models import (
    CredentialOfferIn,
    CredentialOfferOut,
    PresentationIn,
    PresentationOut,
)
from vault.services.holders import known_holder
from vault.services.status_lists import status_list_token
from vault.services.wallet import (
    CredentialRequestRefused,
    create_offer,
    issue_credential,
    new_nonce,
    redeem_code,
)

__all__ = ["router"]

router = APIRouter(tags=["credentials"], dependencies=[Depends(limit_by_ip)])
_NO_STORE = {"Cache-Control": "no-store"}


def _refused(exc: CredentialRequestRefused) -> ApiError:
    """A wallet's request refused: problem+json whose ``error`` is the OAuth 2.0 /
    OpenID4VCI code (``invalid_grant``, ``invalid_proof``, ``invalid_nonce``...)."""
    extra = {"error": exc.error}
    if exc.error == "invalid_token":
        headers = {**_NO_STORE, "WWW-Authenticate": f'Bearer error="{exc.error}"'}
        return ApiError(401, "oid4vci-unauthorized", exc.error, str(exc), headers, extra)
    return ApiError(400, "oid4vci-refused", exc.error, str(exc), dict(_NO_STORE), extra)


@router.post(
    "/v1/me/licenses/{license_id}/credential-offer",
    status_code=201,
    response_model=CredentialOfferOut,
    summary="Offer one of my licenses to my wallet (SD-JWT VC, OpenID4VCI)",
    responses=problems(401, 404, 409, 422, 429),
)
def offer_to_wallet(
    license_id: LicenseIdPath,
    principal: HolderDep,
    ctx: CtxDep,
    session: SessionDep,
    body: CredentialOfferIn | None = None,
) -> CredentialOfferOut:
    credential_key(ctx)
    holder = known_holder(
        session=session,
        crypto=ctx.crypto,
        holder_id=principal.holder_id,
        id_type=principal.holder_id_type,
    )
    offer = create_offer(
        session=session,
        holder=holder,
        public_id=license_id,
        tx_code=(body or CredentialOfferIn()).tx_code,
    )
    return offer_out(ctx, offer)


@router.get("/.well-known/openid-credential-issuer", summary="Credential issuer metadata")
def credential_issuer_metadata(ctx: CtxDep) -> dict[str, Any]:
    return issuer_metadata(ctx)


@router.get("/.well-known/oauth-authorization-server", summary="Authorization server metadata")
def authorization_server_metadata(ctx: CtxDep) -> dict[str, Any]:
    base = issuer_url(ctx)
    credential_key(ctx)
    return {
        "issuer": base,
        "token_endpoint": f"{base}/oid4vci/token",
        "grant_types_supported": [PRE_AUTH_GRANT],
        "pre-authorized_grant_anonymous_access_supported": True,
        "response_types_supported": [],
    }


@router.get("/.well-known/jwt-vc-issuer", summary="SD-JWT VC issuer metadata (its JWKS)")
def jwt_vc_issuer(ctx: CtxDep) -> dict[str, Any]:
    return {"issuer": issuer_url(ctx), "jwks": {"keys": [credential_key(ctx).public_jwk()]}}


@router.get("/credentials/types/license", summary="SD-JWT VC type metadata of a license")
def license_type_metadata(ctx: CtxDep) -> dict[str, Any]:
    return type_metadata(ctx)


@router.post(
    "/oid4vci/token",
    summary="Token endpoint (pre-authorized code grant)",
    responses=problems(400, 404, 422, 429),
)
def token(
    ctx: CtxDep,
    session: SessionDep,
    grant_type: Annotated[str, Form(min_length=1, max_length=100)],
    pre_authorized_code: Annotated[
        str, Form(alias="pre-authorized_code", min_length=1, max_length=200)
    ],
    tx_code: Annotated[str | None, Form(max_length=20)] = None,
) -> JSONResponse:
    credential_key(ctx)
    if grant_type != PRE_AUTH_GRANT:
        raise _refused(CredentialRequestRefused("unsupported_grant_type", f"use {PRE_AUTH_GRANT}"))
    try:
        redeemed = redeem_code(session=session, code=pre_authorized_code, tx_code=tx_code)
    except CredentialRequestRefused as exc:
        session.commit()  # a wrong tx_code is counted
        raise _refused(exc) from None
    body = {
        "access_token": redeemed.access_token,
        "token_type": "Bearer",
        "expires_in": redeemed.expires_in,
    }
    return JSONResponse(body, headers=_NO_STORE)


@router.post(
    "/oid4vci/nonce",
    summary="Nonce endpoint (a c_nonce for the proof)",
    responses=problems(404, 429),
)
def nonce(ctx: CtxDep, session: SessionDep) -> JSONResponse:
    credential_key(ctx)
    return JSONResponse({"c_nonce": new_nonce(session=session)}, headers=_NO_STORE)


class _Proof(BaseModel):
    model_config = ConfigDict(extra="allow")
    proof_type: str
    jwt: str = Field(max_length=16384)


class CredentialRequest(BaseModel):
    """OpenID4VCI 1.0 ``proofs: {"jwt": [...]}``; the drafts' single ``proof`` also works."""

    model_config = ConfigDict(extra="allow")
    credential_configuration_id: str | None = None
    proofs: dict[str, list[str]] | None = None
    proof: _Proof | None = None

    def the_proof(self) -> str:
        if self.proofs is not None:
            jwts = self.proofs.get("jwt") or []
            if len(self.proofs) != 1 or len(jwts) != 1:
                raise CredentialRequestRefused("invalid_proof", "send exactly one jwt proof")
            return jwts[0]
        if self.proof is not None and self.proof.proof_type == "jwt":
            return self.proof.jwt
        raise CredentialRequestRefused("invalid_proof", "a jwt proof of possession is required")


def _bearer(request: Request) -> str:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise _refused(CredentialRequestRefused("invalid_token", "an access token is required"))
    return value.strip()


@router.post(
    "/oid4vci/credential",
    summary="Credential endpoint (SD-JWT VC, key-bound)",
    responses=problems(400, 401, 404, 422, 429),
)
def credential(
    request: Request, body: CredentialRequest, ctx: CtxDep, session: SessionDep
) -> JSONResponse:
    key = credential_key(ctx)
    access_token = _bearer(request)
    try:
        if body.credential_configuration_id not in (None, "evault_license"):
            raise CredentialRequestRefused(
                "unknown_credential_configuration", "this issuer offers evault_license only"
            )
        issued = issue_credential(
            session=session,
            key=key,
            crypto=ctx.crypto,
            access_token=access_token,
            proof=body.the_proof(),
            issuer_url=issuer_url(ctx),
        )
    except CredentialRequestRefused as exc:
        session.commit()  # a nonce offered with a bad proof stays used
        raise _refused(exc) from None
    return JSONResponse({"credentials": [{"credential": issued}]}, headers=_NO_STORE)


@router.get(
    "/credentials/status/{number}",
    summary="A status list token (draft-ietf-oauth-status-list)",
    response_class=Response,
    responses={200: {"content": {"application/statuslist+jwt": {}}}, **problems(404)},
)
def status_list(
    number: Annotated[int, Path(ge=1, le=1_000_000)], ctx: CtxDep, session: SessionDep
) -> Response:
    token = status_list_token(
        session=session,
        key=credential_key(ctx),
        number=number,
        issuer_url=issuer_url(ctx),
        now=dt.datetime.now(dt.UTC),
    )
    return Response(
        token, media_type="application/statuslist+jwt", headers={"Cache-Control": "max-age=60"}
    )


@router.post(
    "/v1/credentials/verify",
    response_model=PresentationOut,
    summary="Check a holder's presentation (SD-JWT + key binding) and its status",
    responses=problems(404, 422, 429),
)
def verify_credential(body: PresentationIn, ctx: CtxDep, session: SessionDep) -> PresentationOut:
    verdict = verify_online(
        ctx, session, presentation=body.presentation, nonce=body.nonce, audience=body.audience
    )
    return PresentationOut(**verdict.to_json())
