"""Pages for SD-JWT credentials: a holder puts a license into a wallet (a QR code the
wallet scans), and anyone checks a presentation a holder showed them.

- ``/me/licenses/{id}/wallet``: the offer form, then the QR code, the
  ``openid-credential-offer://`` link and the transaction code (logged in; CSRF).
- ``/credentials/check``: paste a presentation, the nonce and the audience you gave the
  holder; see exactly what was disclosed and whether it is valid and not revoked.

The rules are the API's (:mod:`api.routes.wallet`, :mod:`vault.services.wallet`).
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from api.deps import CtxDep, LicenseIdPath, SessionDep, limit_by_ip
from api.errors import ApiError
from api.pages.web import PageSession, check_csrf, render, require_login
from api.wallet import FIELDS, credential_key, offer_out, verify_online
from signing.qr import QUIET_ZONE, qr_matrix
from vault.errors import NotFound, VaultError
from vault.services.holders import known_holder
from vault.services.views import holder_license_view
from vault.services.wallet import create_offer

__all__ = ["qr_svg", "router"]

router = APIRouter(include_in_schema=False, dependencies=[Depends(limit_by_ip)])


def qr_svg(text: str) -> Markup:
    """``text`` as a QR code in inline SVG (one path; no script, no style attribute)."""
    matrix = qr_matrix(text)
    side = matrix.size + 2 * QUIET_ZONE
    runs = [
        f"M{x + QUIET_ZONE} {y + QUIET_ZONE}h{length}v1h-{length}z"
        for y, x, length in matrix.runs()
    ]
    return Markup(  # noqa: S704 - numbers only, built here
        f'<svg class="qr" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {side} {side}" '
        f'role="img" aria-label="QR"><rect width="{side}" height="{side}" fill="#fff"/>'
        f'<path fill="#000" d="{"".join(runs)}"/></svg>'
    )


def _login(request: Request, ctx: CtxDep) -> PageSession:
    return require_login(request, ctx)


LoginDep = Annotated[PageSession, Depends(_login)]


def _refused(request: Request, ctx: CtxDep, who: PageSession, exc: Exception) -> HTMLResponse:
    """Not configured or not the holder's license: 404; a license that cannot be: 409."""
    status, key = (409, "error.conflict")
    if isinstance(exc, ApiError | NotFound):
        status, key = 404, "error.not_found"
    return render(request, ctx, "error.html", status=status, session=who, key=key, detail=str(exc))


@router.get("/me/licenses/{license_id}/wallet", response_class=HTMLResponse)
def wallet_form(
    license_id: LicenseIdPath, request: Request, who: LoginDep, ctx: CtxDep, session: SessionDep
) -> HTMLResponse:
    try:
        credential_key(ctx)
        holder = known_holder(
            session=session, crypto=ctx.crypto, holder_id=who.holder_id, id_type=who.holder_id_type
        )
        license = holder_license_view(session, ctx.crypto, holder, license_id)
    except (VaultError, ApiError) as exc:
        return _refused(request, ctx, who, exc)
    return render(
        request, ctx, "wallet_form.html", session=who, license=license, fields=FIELDS, offer=None
    )


@router.post("/me/licenses/{license_id}/wallet", response_class=HTMLResponse)
def wallet_offer(
    license_id: LicenseIdPath,
    request: Request,
    who: LoginDep,
    ctx: CtxDep,
    session: SessionDep,
    tx_code: Annotated[str | None, Form(max_length=5)] = None,
    csrf_token: Annotated[str | None, Form()] = None,
) -> HTMLResponse:
    check_csrf(request, ctx, csrf_token)
    try:
        credential_key(ctx)
        holder = known_holder(
            session=session, crypto=ctx.crypto, holder_id=who.holder_id, id_type=who.holder_id_type
        )
        offer = create_offer(
            session=session, holder=holder, public_id=license_id, tx_code=tx_code == "on"
        )
        license = holder_license_view(session, ctx.crypto, holder, license_id)
    except (VaultError, ApiError) as exc:
        session.rollback()
        return _refused(request, ctx, who, exc)
    out = offer_out(ctx, offer)
    return render(
        request,
        ctx,
        "wallet_form.html",
        status=201,
        back=f"/me/licenses/{license_id}/wallet",
        session=who,
        license=license,
        fields=FIELDS,
        offer=out,
        qr=qr_svg(out.offer_link),
    )


@router.get("/credentials/check", response_class=HTMLResponse)
def check_form(request: Request, ctx: CtxDep) -> HTMLResponse:
    return render(
        request,
        ctx,
        "credential_check.html",
        verdict=None,
        missing=False,
        nonce=secrets.token_urlsafe(12),
        audience=f"{ctx.settings.public_base_url.rstrip('/')}/credentials/check",
        fields=FIELDS,
    )


@router.post("/credentials/check", response_class=HTMLResponse)
def check_presentation(
    request: Request,
    ctx: CtxDep,
    session: SessionDep,
    presentation: Annotated[str, Form(max_length=262144)] = "",
    nonce: Annotated[str, Form(max_length=200)] = "",
    audience: Annotated[str, Form(max_length=500)] = "",
    csrf_token: Annotated[str | None, Form()] = None,
) -> HTMLResponse:
    check_csrf(request, ctx, csrf_token)
    verdict = None
    if presentation.strip() and nonce.strip() and audience.strip():
        try:
            verdict = verify_online(
                ctx, session, presentation=presentation, nonce=nonce, audience=audience
            ).to_json()
        except ApiError as exc:
            return render(
                request, ctx, "error.html", status=404, key="error.not_found", detail=str(exc)
            )
    return render(
        request,
        ctx,
        "credential_check.html",
        status=200 if verdict is not None else 422,
        back="/credentials/check",
        verdict=verdict,
        missing=verdict is None,
        nonce=nonce,
        audience=audience,
        fields=FIELDS,
    )
