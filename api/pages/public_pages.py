"""Pages anyone may open: the home page, the verify page, a certified copy's check page.

The check page's route is ``GET /v/{copy_id}`` in :mod:`api.routes.public` (the copy's QR
code points there); it renders with :func:`copy_check_page` from here.
"""

from __future__ import annotations

import hashlib
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
from vault.services.copies import HeldFile, copy_status, held_file

__all__ = ["copy_check_page", "router"]

router = APIRouter(include_in_schema=False, dependencies=[Depends(limit_by_ip)])


@router.get("/", response_class=HTMLResponse)
def home(request: Request, ctx: CtxDep) -> HTMLResponse:
    return render(request, ctx, "home.html")


@router.get("/verify", response_class=HTMLResponse)
def verify_form(request: Request, ctx: CtxDep) -> HTMLResponse:
    return render(request, ctx, "verify.html", view=None, report_json=None, error=None, record=None)


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
            record=None,
        )
    name = file.filename if file is not None else None
    verifier = await run_in_threadpool(ctx.verifier.get)
    async_verify = getattr(verifier, "verify_async", None)
    if async_verify is not None:
        report: VerificationReport = await async_verify(data, file_name=name)
    else:
        report = await run_in_threadpool(verifier.verify, data, file_name=name)
    record = await run_in_threadpool(_vault_record, ctx, data)
    return render(
        request,
        ctx,
        "verify.html",
        back="/verify",
        view=report_view(report),
        report_json=report.model_dump_json(indent=2),
        error=None,
        record=record,
    )


def _vault_record(ctx: ApiContext, data: bytes) -> HeldFile | None:
    """The vault's current record of an uploaded file it holds (original or copy), or None."""
    from signing.copies.log_proof import read_copy_id

    sha256 = hashlib.sha256(data).hexdigest()
    copy_id = read_copy_id(data) if data.startswith((b"%PDF", b"PK\x03\x04")) else None
    with ctx.sessions() as session:
        return held_file(session=session, sha256=sha256, copy_id=copy_id)


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
        status_url=f"{base}/v1/copies/{view.id}/status",
        bundle_url=f"{base}/v1/trust-bundle",
    )
