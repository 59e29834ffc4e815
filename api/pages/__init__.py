"""Web pages for holders and for anyone checking a copy, served by the API's own app.

Server-rendered (Jinja2, ``api/templates/pages``), Chinese first with an English switch,
one local stylesheet (``api/static``), no script, no build step. :func:`install` adds them
to an app made by :func:`api.app.create_app`.

- ``/``: home; ``/verify``: upload a PDF and read its report in plain words.
- ``/login``: the OIDC redirect login (``/login/oidc``, ``/login/callback``) when configured;
  in demo mode also a form to choose a sample holder. ``/logout``.
- ``/me`` (my licenses), ``/me/consent`` (consent and share codes), ``/me/log`` (用证记录),
  ``/me/materials`` (我的材料: deposited materials, their uses, withdrawal).
- ``/me/companies`` and ``/me/co/{company_id}/...`` (法人空间: acting for a company as its
  legal representative or agent): :mod:`api.pages.company_space`, ``company_agents``.
- ``/v/{copy_id}`` (route in :mod:`api.routes.public`): a certified copy's check page.
- ``/me/licenses/{id}/wallet`` (a license into a wallet, QR), ``/credentials/check``
  (check a holder's SD-JWT presentation): :mod:`api.pages.wallet_pages`.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles

from api.context import ApiContext
from api.pages.web import CsrfFailed, LoginRequired, load_page_session, redirect, render

__all__ = ["install"]

STATIC = Path(__file__).resolve().parent.parent / "static"


def install(app: FastAPI, *, demo: bool) -> None:
    """Mount the pages, their stylesheet and their two error handlers on ``app``."""
    from api.pages import (
        company_agents,
        company_space,
        login,
        materials_page,
        oidc_login,
        portal,
        public_pages,
        wallet_pages,
    )

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    # Every page checks the holder's session first (see api.pages.web.load_page_session).
    session = [Depends(load_page_session)]
    app.include_router(public_pages.router, dependencies=session)
    app.include_router(login.router, dependencies=session)
    app.include_router(oidc_login.router, dependencies=session)
    if demo:
        app.include_router(login.demo_router, dependencies=session)
    app.include_router(portal.router, dependencies=session)
    app.include_router(wallet_pages.router, dependencies=session)
    app.include_router(materials_page.router, dependencies=session)
    app.include_router(company_space.router, dependencies=session)
    app.include_router(company_agents.router, dependencies=session)

    async def login_required(request: Request, exc: Exception) -> Response:
        ctx: ApiContext = request.app.state.ctx
        target = request.url.path if request.method == "GET" else "/me"
        return redirect(request, ctx, f"/login?next={target}")

    async def csrf_failed(request: Request, exc: Exception) -> Response:
        ctx: ApiContext = request.app.state.ctx
        return render(request, ctx, "error.html", status=403, key="error.csrf", detail="")

    app.add_exception_handler(LoginRequired, login_required)
    app.add_exception_handler(CsrfFailed, csrf_failed)
