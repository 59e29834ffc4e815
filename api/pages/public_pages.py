"""Pages anyone may open: the home page, the verify page, a certified copy's check page.

The check page's route is ``GET /v/{copy_id}`` in :mod:`api.routes.public` (the copy's QR
code points there); it renders with :func:`copy_check_page` from here.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from api.context import ApiContext
from api.deps import CtxDep, limit_by_ip
from api.pages.report_view import report_view
from api.pages.web import check_csrf, render
from schemas.report import VerificationReport
from vault.errors import NotFound
from vault.services.copies import copy_status

__all__ = ["copy_check_page", "router"]

router = APIRouter(include_in_schema=False, dependencies=[Depends(limit_by_ip)])


@router.get("/", response_class=HTMLResponse)
def home(request: Request, ctx: CtxDep) -> HTMLResponse:
    return render(request, ctx, "home.html")


@router.get("/verify", response_class=HTMLResponse)
def verify_form(request: Request, ctx: CtxDep) -> HTMLResponse:
    return render(request, ctx, "verify.html", view=None, report_json=None, error=None)


@router.post("/verify", response_class=HTMLResponse)
async def verify_upload(
    request: Request,
    ctx: CtxDep,
    file: Annotated[UploadFile | None, File()] = None,
    csrf_token: Annotated[str | None, Form()] = None,
) -> HTMLResponse:
    check_csrf(request, ctx, csrf_token)
    data = await file.read() if file is not None else b""
    if not data:
        return render(
            request,
            ctx,
            "verify.html",
            status=422,
            back="/verify",
            view=None,
            report_json=None,
            error="empty",
        )
    name = file.filename if file is not None else None
    verifier = await run_in_threadpool(ctx.verifier.get)
    async_verify = getattr(verifier, "verify_async", None)
    if async_verify is not None:
        report: VerificationReport = await async_verify(data, file_name=name)
    else:
        report = await run_in_threadpool(verifier.verify, data, file_name=name)
    return render(
        request,
        ctx,
        "verify.html",
        back="/verify",
        view=report_view(report),
        report_json=report.model_dump_json(indent=2),
        error=None,
    )


def copy_check_page(
    request: Request, ctx: ApiContext, session: Session, copy_id: str
) -> HTMLResponse:
    """The page a copy's QR code opens: its state, what it is, how to verify it offline."""
    try:
        view = copy_status(session=session, copy_id=copy_id)
    except NotFound:
        return render(request, ctx, "copy_not_found.html", status=404)
    base = ctx.settings.public_base_url.rstrip("/")
    return render(
        request,
        ctx,
        "copy_check.html",
        view=view,
        status_url=f"{base}/v1/copies/{view.copy_id}/status",
        bundle_url=f"{base}/v1/trust-bundle",
    )
