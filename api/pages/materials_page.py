"""The portal's materials pages (我的材料 / 企业材料): deposits, each use, withdrawal.

``/me/materials`` are the signed-in person's own; ``/me/co/{company_id}/materials`` a
company's, for its legal representative or an agent with the ``materials`` scope (see
:mod:`api.pages.company_space`: the company is named on the page and every action records
the person too). The rules are the vault's (:mod:`vault.services.material_use`); this
module reads the form, calls them and renders ``pages/materials.html`` (strings ``mat.*``
in :mod:`api.pages.i18n`) from ready views (:mod:`vault.services.material_views`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from api.context import ApiContext
from api.deps import CtxDep, SessionDep, limit_by_ip
from api.downloads import file_download
from api.logsink import copy_proof_maker
from api.pages.company_space import CompanyIdPath, Space, in_company
from api.pages.portal import LoginDep, _error, _holder, _known_holder
from api.pages.web import PageSession, check_csrf, redirect, render
from vault.errors import VaultError
from vault.services.copies import CopyPolicy
from vault.services.material_copies import copy_material_for_holder
from vault.services.material_use import (
    FetchedMaterial,
    holder_material,
    holder_material_pdf,
    withdraw_material,
)
from vault.services.material_views import material_cards, material_views
from vault.services.views import HolderRef

__all__ = ["router"]

router = APIRouter(prefix="/me", include_in_schema=False, dependencies=[Depends(limit_by_ip)])
MaterialId = Annotated[str, Path(min_length=1, max_length=40)]


def _done(request: Request) -> str | None:
    return "mat.done.withdraw" if request.query_params.get("done") == "withdraw" else None


class CopyForm:
    """The certified-copy form's fields (制作事由, 出具对象, 办件编号, 有效天数)."""

    def __init__(
        self,
        purpose: Annotated[str, Form(max_length=120)] = "",
        recipient: Annotated[str, Form(max_length=120)] = "",
        case_no: Annotated[str, Form(max_length=100)] = "",
        days: Annotated[int, Form(ge=1, le=3650)] = 30,
        csrf_token: Annotated[str | None, Form()] = None,
    ) -> None:
        self.purpose, self.recipient, self.case_no = purpose, recipient, case_no
        self.days, self.csrf_token = days, csrf_token


CopyFormDep = Annotated[CopyForm, Depends()]


def _shown(session: Session, holder: HolderRef, material_id: str, prefix: str) -> dict[str, str]:
    """The material as the copy pages name it (the form posts to its own address)."""
    material = holder_material(session=session, holder=holder, public_id=material_id)
    (view,) = material_views(session=session, materials=[material])
    return {
        "id": view.id,
        "name": view.type_name,
        "number": view.id,
        "action": f"{prefix}/materials/{view.id}/copy",
    }


def _copy_form_page(
    page: Callable[..., HTMLResponse], ctx: ApiContext, shown: dict[str, str]
) -> HTMLResponse:
    return page(
        "copy_form.html",
        license=shown,
        form_action=shown["action"],
        default_days=ctx.settings.copy_default_days,
        max_days=ctx.settings.copy_max_days,
        error=None,
    )


def _copy_made_page(
    page: Callable[..., HTMLResponse],
    session: Session,
    ctx: ApiContext,
    holder: HolderRef,
    material_id: str,
    form: CopyForm,
    prefix: str,
) -> HTMLResponse:
    made = copy_material_for_holder(
        session=session,
        blobs=ctx.blobs,
        renderer=ctx.renderer.get,
        policy=CopyPolicy.from_settings(ctx.settings),
        holder=holder,
        public_id=material_id,
        purpose=form.purpose,
        recipient=form.recipient,
        case_no=form.case_no,
        days=form.days,
        log_proof=copy_proof_maker(ctx),
    )
    ctx.metrics.copies.labels(str(made.reused).lower()).inc()
    return page(
        "copy_made.html",
        status=200 if made.reused else 201,
        copy=made.copy,
        reused=made.reused,
        license=_shown(session, holder, material_id, prefix),
        check_href=f"/v/{made.copy.id}",
    )


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


@router.get("/materials/{material_id}/copy", response_model=None)
def copy_form(
    material_id: MaterialId, request: Request, who: LoginDep, ctx: CtxDep, session: SessionDep
) -> Response:
    try:
        holder = _known_holder(session, ctx, who)
        shown = _shown(session, holder, material_id, "/me")
    except VaultError as exc:
        return _error(request, ctx, session, who, exc)
    return _copy_form_page(_mine(request, ctx, who), ctx, shown)


@router.post("/materials/{material_id}/copy", response_model=None)
def make_copy(
    material_id: MaterialId,
    request: Request,
    who: LoginDep,
    ctx: CtxDep,
    session: SessionDep,
    form: CopyFormDep,
) -> Response:
    check_csrf(request, ctx, form.csrf_token)
    page = _mine(request, ctx, who, back="/me/materials")
    try:
        holder = _known_holder(session, ctx, who)
        return _copy_made_page(page, session, ctx, holder, material_id, form, "/me")
    except VaultError as exc:
        return _error(request, ctx, session, who, exc)


def _mine(
    request: Request, ctx: ApiContext, who: PageSession, *, back: str = "/me/materials"
) -> Callable[..., HTMLResponse]:
    def page(template: str, **context: Any) -> HTMLResponse:
        return render(request, ctx, template, session=who, back=back, **context)

    return page


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


@router.get("/co/{company_id}/materials/{material_id}/copy", response_model=None)
def company_copy_form(
    company_id: CompanyIdPath,
    material_id: MaterialId,
    request: Request,
    who: LoginDep,
    ctx: CtxDep,
    session: SessionDep,
) -> Response:
    def act(space: Space) -> Response:
        shown = _shown(session, space.acting.company, material_id, space.here.prefix)
        return _copy_form_page(space.page, ctx, shown)

    return in_company(request, ctx, session, who, company_id, "copies", act)


@router.post("/co/{company_id}/materials/{material_id}/copy", response_model=None)
def company_make_copy(
    company_id: CompanyIdPath,
    material_id: MaterialId,
    request: Request,
    who: LoginDep,
    ctx: CtxDep,
    session: SessionDep,
    form: CopyFormDep,
) -> Response:
    check_csrf(request, ctx, form.csrf_token)

    def act(space: Space) -> Response:
        company, prefix = space.acting.company, space.here.prefix
        return _copy_made_page(space.page, session, ctx, company, material_id, form, prefix)

    return in_company(request, ctx, session, who, company_id, "copies", act)
