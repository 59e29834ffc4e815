"""Holder login and logout for the pages.

Demo mode only: a form to log in as one of the sample holders of ``evault demo``. It mints
a token with the demo identity provider and authenticates it exactly as the API does
(:meth:`api.auth.holders.HolderAuthenticator.authenticate`); outside demo mode the form and
its POST route do not exist. With an OIDC provider configured the page offers the redirect
login of :mod:`api.pages.oidc_login`; with neither, it says that login is not configured.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import CtxDep, limit_by_ip
from api.pages.oidc_login import configured
from api.pages.web import (
    check_csrf,
    clear_session,
    redirect,
    render,
    safe_next,
    start_session,
)
from schemas.identifiers import mask

__all__ = ["demo_router", "router"]

router = APIRouter(include_in_schema=False, dependencies=[Depends(limit_by_ip)])
demo_router = APIRouter(include_in_schema=False, dependencies=[Depends(limit_by_ip)])


def _sample_holders() -> list[tuple[int, str, str]]:
    from api.demo.samples import HOLDERS

    return [(i, name, mask(hid)) for i, (name, hid, _kind) in enumerate(HOLDERS)]


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, ctx: CtxDep, next: str | None = None) -> HTMLResponse:
    holders = _sample_holders() if ctx.settings.is_demo else []
    return render(
        request,
        ctx,
        "login.html",
        oidc=configured(ctx.settings),
        holders=holders,
        next=safe_next(next),
        error=None,
        notice=request.query_params.get("notice"),
    )


@demo_router.post("/login")
async def demo_login(
    request: Request,
    ctx: CtxDep,
    holder: Annotated[int, Form(ge=0, le=99)],
    csrf_token: Annotated[str | None, Form()] = None,
    next: Annotated[str | None, Form()] = None,
) -> Response:
    from api.demo.samples import HOLDERS

    check_csrf(request, ctx, csrf_token)
    if holder >= len(HOLDERS):
        return render(
            request,
            ctx,
            "login.html",
            status=422,
            back="/login",
            oidc=False,
            holders=_sample_holders(),
            next=safe_next(next),
            error="login.holder",
            notice=None,
        )
    name, holder_id, _kind = HOLDERS[holder]
    principal = await ctx.holders.authenticate(ctx.holders.mint_demo(holder_id))
    response: Response = redirect(request, ctx, safe_next(next))
    await start_session(
        request,
        ctx,
        response,
        holder_id=principal.holder_id,
        holder_id_type=principal.holder_id_type,
        name=name,
    )
    return response


@router.post("/logout")
def logout(
    request: Request, ctx: CtxDep, csrf_token: Annotated[str | None, Form()] = None
) -> RedirectResponse:
    check_csrf(request, ctx, csrf_token)
    response = redirect(request, ctx, "/login?notice=logout")
    clear_session(request, ctx, response)
    return response
