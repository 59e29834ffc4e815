"""The holder portal's materials page (我的材料): what windows deposited, each use, withdrawal.

The rules are the vault's (:mod:`vault.services.material_use`); this module reads the form,
calls them and renders ``pages/materials.html`` (strings ``mat.*`` in :mod:`api.pages.i18n`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, Response

from api.deps import CtxDep, SessionDep, limit_by_ip
from api.downloads import file_download
from api.pages.portal import LoginDep, _error, _holder, _known_holder
from api.pages.web import check_csrf, redirect, render
from vault.db.base import utcnow
from vault.errors import VaultError
from vault.services.material_use import (
    holder_material_pdf,
    list_holder_materials,
    material_state,
    material_uses,
    withdraw_material,
)

__all__ = ["router"]

router = APIRouter(
    prefix="/me/materials", include_in_schema=False, dependencies=[Depends(limit_by_ip)]
)
MaterialId = Annotated[str, Path(min_length=1, max_length=40)]


@router.get("", response_class=HTMLResponse)
def my_materials(request: Request, who: LoginDep, ctx: CtxDep, session: SessionDep) -> HTMLResponse:
    holder = _holder(session, ctx, who)
    now = utcnow()
    cards = []
    for material in list_holder_materials(session=session, holder=holder) if holder else []:
        assert holder is not None
        uses = material_uses(session=session, holder=holder, public_id=material.public_id)
        cards.append(
            {
                "material": material,
                "state": material_state(material, now=now),
                "uses": uses,
            }
        )
    done = request.query_params.get("done")
    return render(
        request,
        ctx,
        "materials.html",
        session=who,
        cards=cards,
        done="mat.done.withdraw" if done == "withdraw" else None,
    )


@router.get("/{material_id}/pdf", response_model=None)
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
    return file_download(fetched.pdf, "application/pdf", f"{fetched.material.public_id}.pdf")


@router.post("/{material_id}/withdraw", response_model=None)
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
