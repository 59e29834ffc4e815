"""The holder portal: my licenses, downloads, certified copies, consent, access log (用证记录).

Every rule lives in the vault services the JSON API calls (``vault.services.access``,
``grants``, ``copies``); these routes only read forms, call them, and render. A refusal or
invalid input is shown on the page, never as a traceback; nothing half-written is kept.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from api.context import ApiContext
from api.deps import CtxDep, LicenseIdPath, SessionDep, limit_by_ip
from api.downloads import copy_download
from api.holder_desk import CopyOrder, holder_copy, original_file
from api.pages.web import PageSession, check_csrf, redirect, render, require_login
from api.views import copy_out
from vault.errors import (
    BlobIntegrityError,
    BlobNotFound,
    BlobStoreError,
    ConflictError,
    InvalidInput,
    NotFound,
    VaultError,
)
from vault.services.access import access_log
from vault.services.copies import COPYABLE_FORMATS, copy_pdf
from vault.services.grants import (
    MAX_GRANT_DAYS,
    MAX_SHARE_CODE_HOURS,
    create_grant,
    create_share_code,
    revoke_grant,
)
from vault.services.holders import find_holder, known_holder
from vault.services.views import (
    HolderRef,
    all_departments,
    consent_departments,
    holder_grants,
    holder_license_view,
    holder_licenses,
)

__all__ = ["router"]

router = APIRouter(prefix="/me", include_in_schema=False, dependencies=[Depends(limit_by_ip)])
_LOG_PAGE = 50
_CST = dt.timezone(dt.timedelta(hours=8))
log = logging.getLogger("evault.pages")


def _login(request: Request, ctx: CtxDep) -> PageSession:
    return require_login(request, ctx)


LoginDep = Annotated[PageSession, Depends(_login)]


def _holder(session: Session, ctx: ApiContext, who: PageSession) -> HolderRef | None:
    return find_holder(
        session=session, crypto=ctx.crypto, holder_id=who.holder_id, id_type=who.holder_id_type
    )


def _known_holder(session: Session, ctx: ApiContext, who: PageSession) -> HolderRef:
    return known_holder(
        session=session, crypto=ctx.crypto, holder_id=who.holder_id, id_type=who.holder_id_type
    )


def _error(
    request: Request, ctx: ApiContext, session: Session, who: PageSession, exc: VaultError
) -> HTMLResponse:
    """A refusal as a page (after rolling back anything the request began)."""
    session.rollback()
    if isinstance(exc, BlobStoreError):  # a fault of ours: its message names where blobs live
        log.error("page %s failed: %s", request.url.path, exc)
        lost = isinstance(exc, BlobNotFound | BlobIntegrityError)  # unlike unreachable: 500
        return render(
            request,
            ctx,
            "error.html",
            status=500 if lost else 503,
            session=who,
            key="error.storage",
            detail="",
        )
    if isinstance(exc, NotFound):
        status, key = 404, "error.not_found"
    elif isinstance(exc, ConflictError):
        status, key = 409, "error.conflict"
    else:
        status, key = 422, "error.invalid"
    return render(request, ctx, "error.html", status=status, session=who, key=key, detail=str(exc))


# My licenses ----------------------------------------------------------------------------
@router.get("", response_class=HTMLResponse)
def my_licenses(request: Request, who: LoginDep, ctx: CtxDep, session: SessionDep) -> HTMLResponse:
    licenses = holder_licenses(session, ctx.crypto, _holder(session, ctx, who))
    return render(
        request, ctx, "licenses.html", session=who, licenses=licenses, copyable=COPYABLE_FORMATS
    )


@router.get("/licenses/{license_id}/file", response_model=None)
@router.get("/licenses/{license_id}/pdf", response_model=None)
def download_original(
    license_id: LicenseIdPath, request: Request, who: LoginDep, ctx: CtxDep, session: SessionDep
) -> Response:
    try:
        return original_file(ctx, session, _known_holder(session, ctx, who), license_id)
    except VaultError as exc:
        return _error(request, ctx, session, who, exc)


# Certified copies -------------------------------------------------------------------------
@router.get("/licenses/{license_id}/copy", response_class=HTMLResponse)
def copy_form(
    license_id: LicenseIdPath, request: Request, who: LoginDep, ctx: CtxDep, session: SessionDep
) -> HTMLResponse:
    try:
        holder = _known_holder(session, ctx, who)
        license = holder_license_view(session, ctx.crypto, holder, license_id)
    except VaultError as exc:
        return _error(request, ctx, session, who, exc)
    return render(
        request,
        ctx,
        "copy_form.html",
        session=who,
        license=license,
        default_days=ctx.settings.copy_default_days,
        max_days=ctx.settings.copy_max_days,
        error=None,
    )


@router.post("/licenses/{license_id}/copy", response_class=HTMLResponse)
def make_my_copy(
    license_id: LicenseIdPath,
    request: Request,
    who: LoginDep,
    ctx: CtxDep,
    session: SessionDep,
    purpose: Annotated[str, Form(max_length=120)] = "",
    recipient: Annotated[str, Form(max_length=120)] = "",
    case_no: Annotated[str, Form(max_length=100)] = "",
    days: Annotated[int, Form(ge=1, le=3650)] = 30,
    csrf_token: Annotated[str | None, Form()] = None,
) -> HTMLResponse:
    check_csrf(request, ctx, csrf_token)
    try:
        holder = _known_holder(session, ctx, who)
        order = CopyOrder(purpose, recipient, case_no, days)
        made = holder_copy(ctx, session, holder, license_id, order)
        license = holder_license_view(session, ctx.crypto, holder, license_id)
    except VaultError as exc:
        return _error(request, ctx, session, who, exc)
    ctx.metrics.copies.labels(str(made.reused).lower()).inc()
    copy = copy_out(made, base_url=ctx.settings.public_base_url)
    return render(
        request,
        ctx,
        "copy_made.html",
        status=201 if not made.reused else 200,
        back="/me",
        session=who,
        copy=copy,
        reused=made.reused,
        license=license,
        check_href=f"/v/{copy.id}",
    )


@router.get("/copies/{copy_id}/pdf", response_model=None)
def download_copy(
    copy_id: Annotated[str, Path(min_length=1, max_length=64)],
    request: Request,
    who: LoginDep,
    ctx: CtxDep,
    session: SessionDep,
) -> Response:
    try:
        holder = _known_holder(session, ctx, who)
        _, data = copy_pdf(
            session=session,
            blobs=ctx.blobs,
            copy_id=copy_id,
            holder_id=holder.id,
        )
    except VaultError as exc:
        return _error(request, ctx, session, who, exc)
    return copy_download(copy_id, data)


# Consent and share codes --------------------------------------------------------------------
def _consent_context(session: Session, ctx: ApiContext, holder: HolderRef | None) -> dict[str, Any]:
    types = {lic.type_code: lic.type_name for lic in holder_licenses(session, ctx.crypto, holder)}
    return {
        "departments": consent_departments(session),
        "types": sorted(types.items(), key=lambda kv: kv[1]),
        "grants": holder_grants(session, holder),
        "now": dt.datetime.now(dt.UTC),
        "max_days": MAX_GRANT_DAYS,
        "max_hours": MAX_SHARE_CODE_HOURS,
    }


@router.get("/consent", response_class=HTMLResponse)
def consent_page(request: Request, who: LoginDep, ctx: CtxDep, session: SessionDep) -> HTMLResponse:
    holder = _holder(session, ctx, who)
    notice = request.query_params.get("done")
    return render(
        request,
        ctx,
        "consent.html",
        session=who,
        notice=notice if notice in ("grant", "revoke") else None,
        share_code=None,
        **_consent_context(session, ctx, holder),
    )


@router.post("/consent", response_model=None)
def give_consent(
    request: Request,
    who: LoginDep,
    ctx: CtxDep,
    session: SessionDep,
    department: Annotated[int, Form(ge=1, le=2**62)],
    types: Annotated[list[str] | None, Form()] = None,
    purpose: Annotated[str, Form(max_length=200)] = "",
    days: Annotated[int, Form(ge=1, le=MAX_GRANT_DAYS)] = 30,
    uses: Annotated[str, Form(max_length=6)] = "",
    csrf_token: Annotated[str | None, Form()] = None,
) -> Response:
    check_csrf(request, ctx, csrf_token)
    now = dt.datetime.now(dt.UTC)
    try:
        holder = _known_holder(session, ctx, who)
        if uses.strip() and not uses.strip().isdigit():
            raise InvalidInput("the number of cases must be a whole number")
        create_grant(
            session=session,
            holder=holder,
            department_id=department,
            expires_at=now + dt.timedelta(days=days),
            license_types=types or [],
            purpose=purpose or None,
            uses=int(uses) if uses.strip() else None,
            now=now,
        )
    except VaultError as exc:
        return _error(request, ctx, session, who, exc)
    return redirect(request, ctx, "/me/consent?done=grant")


@router.post("/share-codes", response_class=HTMLResponse)
def new_share_code(
    request: Request,
    who: LoginDep,
    ctx: CtxDep,
    session: SessionDep,
    types: Annotated[list[str] | None, Form()] = None,
    hours: Annotated[int, Form(ge=1, le=MAX_SHARE_CODE_HOURS)] = 1,
    csrf_token: Annotated[str | None, Form()] = None,
) -> HTMLResponse:
    check_csrf(request, ctx, csrf_token)
    now = dt.datetime.now(dt.UTC)
    try:
        holder = _known_holder(session, ctx, who)
        created = create_share_code(
            session=session,
            holder=holder,
            expires_at=now + dt.timedelta(hours=hours),
            license_types=types or [],
            now=now,
        )
    except VaultError as exc:
        return _error(request, ctx, session, who, exc)
    return render(
        request,
        ctx,
        "consent.html",
        status=201,
        back="/me/consent",
        session=who,
        notice=None,
        share_code=created.code,
        share_expires=created.grant.expires_at,
        **_consent_context(session, ctx, holder),
    )


@router.post("/consent/{grant_id}/revoke", response_model=None)
def revoke(
    grant_id: Annotated[str, Path(min_length=1, max_length=40)],
    request: Request,
    who: LoginDep,
    ctx: CtxDep,
    session: SessionDep,
    csrf_token: Annotated[str | None, Form()] = None,
) -> Response:
    check_csrf(request, ctx, csrf_token)
    try:
        holder = _known_holder(session, ctx, who)
        revoke_grant(session=session, holder_id=holder.id, public_id=grant_id)
    except VaultError as exc:
        return _error(request, ctx, session, who, exc)
    return redirect(request, ctx, "/me/consent?done=revoke")


# Access log --------------------------------------------------------------------------------
def _day(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidInput("dates must be YYYY-MM-DD") from None


def _int(value: str | None) -> int | None:
    if not value:
        return None
    if not value.isdigit() or len(value) > 18:
        raise InvalidInput("not a number")
    return int(value)


@router.get("/log", response_class=HTMLResponse)
def my_access_log(
    request: Request,
    who: LoginDep,
    ctx: CtxDep,
    session: SessionDep,
    license: Annotated[str | None, Query(max_length=40)] = None,
    department: Annotated[str | None, Query(max_length=20)] = None,
    date_from: Annotated[str | None, Query(alias="from", max_length=10)] = None,
    date_to: Annotated[str | None, Query(alias="to", max_length=10)] = None,
    page: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> HTMLResponse:
    holder = _holder(session, ctx, who)
    licenses = holder_licenses(session, ctx.crypto, holder)
    names = {lic.id: f"{lic.type_name} {lic.number}" for lic in licenses}
    departments = all_departments(session)
    error: str | None = None
    try:
        # only one of the holder's own licenses filters (anything else: no filter)
        license_id = license if license in names else None
        department_id = _int(department)
        start, end = _day(date_from), _day(date_to)
    except InvalidInput:
        error = "log.bad_date"
        license_id = department_id = None
        start = end = None
    since = dt.datetime.combine(start, dt.time(), _CST) if start else None
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), _CST) if end else None
    rows = (
        access_log(
            session=session,
            holder_id=holder.id,
            limit=_LOG_PAGE + 1,
            offset=page * _LOG_PAGE,
            license_public_id=license_id,
            department_id=department_id,
            since=since,
            until=until,
        )
        if holder is not None
        else []
    )
    filters = {
        "license": license_id,
        "department": department_id,
        "from": start.isoformat() if start else "",
        "to": end.isoformat() if end else "",
    }
    more_query = "&".join(
        f"{k}={v}" for k, v in {**filters, "page": page + 1}.items() if v not in (None, "")
    )
    return render(
        request,
        ctx,
        "log.html",
        status=422 if error else 200,
        session=who,
        entries=rows[:_LOG_PAGE],
        more_href=f"/me/log?{more_query}" if len(rows) > _LOG_PAGE else None,
        license_names=names,
        licenses=licenses,
        departments=departments,
        filters=filters,
        error=error,
    )
