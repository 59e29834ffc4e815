"""The portal's materials pages (我的材料 / 企业材料): deposits, each use, withdrawal.

``/me/materials`` are the signed-in person's own; ``/me/co/{company_id}/materials`` a
company's, for its legal representative or an agent with the ``materials`` scope (see
:mod:`api.pages.company_space`: the company is named on the page and every action records
the person too). The rules are the vault's (:mod:`vault.services.material_use`); this
module reads the form, calls them and renders ``pages/materials.html`` (strings ``mat.*``
in :mod:`api.pages.i18n`) from ready views (:mod:`vault.services.material_views`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, Response

from api.deps import CtxDep, SessionDep, limit_by_ip
from api.downloads import file_download
from api.pages.company_space import CompanyIdPath, Space, in_company
from api.pages.portal import LoginDep, _error, _holder, _known_holder
from api.pages.web import check_csrf, redirect, render
from vault.errors import VaultError
from vault.services.material_use import FetchedMaterial, holder_material_pdf, withdraw_material
from vault.services.material_views import material_cards

__all__ = ["router"]

router = APIRouter(prefix="/me", include_in_schema=False, dependencies=[Depends(limit_by_ip)])
MaterialId = Annotated[str, Path(min_length=1, max_length=40)]


def _done(request: Request) -> str | None:
    return "mat.done.withdraw" if request.query_params.get("done") == "withdraw" else None


def _pdf(fetched: FetchedMaterial) -> Response:
    return file_download(fetched.pdf, "application/pdf", f"{fetched.material.public_id}.pdf")


# My materials -------------------------------------------------------------------------------
@router.get("/materials", response_class=HTMLResponse)
def my_materials(request: Request, who: LoginDep, ctx: CtxDep, session: SessionDep) -> HTMLResponse:
    cards = material_cards(session=session, holder=_holder(session, ctx, who))
    return render(request, ctx, "materials.html", session=who, cards=cards, done=_done(request))


@router.get("/materials/{material_id}/pdf", response_model=None)
def download(
    material_id: MaterialId, request: Request, who: LoginDep, ctx: CtxDep, session: SessionDep
) -> Response:
    try:
        holder = _known_holder(session, ctx, who)
        fetched = holder_material_pdf(
            session=session, blobs=ctx.blobs, holder=holder, public_id=material_id
        )
    except VaultError as exc:
        return _error(request, ctx, session, who, exc)
    return _pdf(fetched)


@router.post("/materials/{material_id}/withdraw", response_model=None)
def withdraw(
    material_id: MaterialId,
    request: Request,
    who: LoginDep,
    ctx: CtxDep,
    session: SessionDep,
    csrf_token: Annotated[str | None, Form()] = None,
) -> Response:
    check_csrf(request, ctx, csrf_token)
    try:
        holder = _known_holder(session, ctx, who)
        withdraw_material(session=session, holder=holder, public_id=material_id)
    except VaultError as exc:
        return _error(request, ctx, session, who, exc)
    return redirect(request, ctx, "/me/materials?done=withdraw")


# A company's materials (法人空间) ---------------------------------------------------------------
@router.get("/co/{company_id}/materials", response_model=None)
def company_materials(
    company_id: CompanyIdPath, request: Request, who: LoginDep, ctx: CtxDep, session: SessionDep
) -> Response:
    def act(space: Space) -> Response:
        cards = material_cards(session=session, holder=space.acting.company)
        return space.page("materials.html", cards=cards, done=_done(request))

    return in_company(request, ctx, session, who, company_id, "materials", act, look="materials")


@router.get("/co/{company_id}/materials/{material_id}/pdf", response_model=None)
def company_material_pdf(
    company_id: CompanyIdPath,
    material_id: MaterialId,
    request: Request,
    who: LoginDep,
    ctx: CtxDep,
    session: SessionDep,
) -> Response:
    def act(space: Space) -> Response:
        return _pdf(
            holder_material_pdf(
                session=session, blobs=ctx.blobs, holder=space.acting.company, public_id=material_id
            )
        )

    return in_company(request, ctx, session, who, company_id, "materials", act)


@router.post("/co/{company_id}/materials/{material_id}/withdraw", response_model=None)
def company_withdraw(
    company_id: CompanyIdPath,
    material_id: MaterialId,
    request: Request,
    who: LoginDep,
    ctx: CtxDep,
    session: SessionDep,
    csrf_token: Annotated[str | None, Form()] = None,
) -> Response:
    check_csrf(request, ctx, csrf_token)

    def act(space: Space) -> Response:
        withdraw_material(session=session, holder=space.acting.company, public_id=material_id)
        return space.done("/materials?done=withdraw")

    return in_company(request, ctx, session, who, company_id, "materials", act)
