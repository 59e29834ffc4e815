"""The portal's company space (法人空间): a person acts for a company they represent.

``/me/companies`` lists the companies the signed-in person is the legal representative or
a live agent of; ``/me/co/{company_id}/...`` (the space's opaque ``co_`` id, never the
统一社会信用代码) are the company's licenses, copies, consent, materials and access log,
rendered with the personal pages' templates under that prefix, the company named on every
page with a way back to ``/me``. Each request asks :func:`vault.services.agents.act_as`
whether the person may act for the company with the page's scope, now: out of scope,
expired or revoked is a refusal page (403 or 404), and the company's log shows the attempt.
Every action runs inside :func:`acting_person`, so its access-log row names both the
company and the person, as the JSON API's ``X-Acting-For`` does. Agents (经办人) are
managed by the legal representative in :mod:`api.pages.company_agents`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from api.context import ApiContext
from api.deps import CtxDep, LicenseIdPath, SessionDep, limit_by_ip
from api.downloads import copy_download
from api.holder_desk import CopyOrder, holder_copy, original_file
from api.pages.portal import LoginDep, _day, _error, _int
from api.pages.web import PageSession, check_csrf, redirect, render
from api.views import copy_out
from schemas.errors import SchemaError
from vault.errors import InvalidInput, NotFound, PermissionDenied, VaultError
from vault.log.access_log import acting_person
from vault.services.access import access_log
from vault.services.agents import (
    REPRESENTATIVE,
    Acting,
    Look,
    act_as,
    my_companies,
    people,
    record_look,
)
from vault.services.company_space import CompanyHere, company_here
from vault.services.copies import COPYABLE_FORMATS, copy_pdf
from vault.services.grants import (
    MAX_GRANT_DAYS,
    MAX_SHARE_CODE_HOURS,
    create_grant,
    create_share_code,
    revoke_grant,
)
from vault.services.holders import find_holder
from vault.services.views import (
    all_departments,
    consent_departments,
    holder_grants,
    holder_license_view,
    holder_licenses,
)

__all__ = ["CompanyIdPath", "Space", "in_company", "router"]

router = APIRouter(prefix="/me", include_in_schema=False, dependencies=[Depends(limit_by_ip)])
CompanyIdPath = Annotated[str, Path(min_length=1, max_length=40)]
_LOG_PAGE = 50
_CST = dt.timezone(dt.timedelta(hours=8))


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Space:
    """One request in a company's space: who acts, for which company, and how to render."""

    def __init__(self, request: Request, ctx: ApiContext, who: PageSession, acting: Acting) -> None:
        self.request, self.ctx, self.who, self.acting = request, ctx, who, acting
        self.here: CompanyHere = company_here(crypto=ctx.crypto, acting=acting)

    @property
    def company_id(self) -> int:
        return self.acting.company.id

    def page(self, template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
        return render(
            self.request,
            self.ctx,
            template,
            status=status,
            session=self.who,
            company=self.here,
            me=self.here.prefix,
            back=self.here.prefix,
            **context,
        )

    def done(self, where: str) -> Response:
        return redirect(self.request, self.ctx, self.here.prefix + where)


def _refused(
    request: Request, ctx: ApiContext, who: PageSession, scope: str, exc: VaultError
) -> HTMLResponse:
    if isinstance(exc, PermissionDenied):
        status = 403
        key = "co.refused.representative" if scope == REPRESENTATIVE else "co.refused.scope"
    else:
        status, key = 404, "co.refused.none"
    return render(request, ctx, "co_refused.html", status=status, session=who, key=key)


def in_company(
    request: Request,
    ctx: ApiContext,
    session: Session,
    who: PageSession,
    company_id: str,
    scope: str,
    act: Callable[[Space], Response],
    *,
    look: Look | None = None,
) -> Response:
    """Run ``act`` for the company ``company_id`` if ``who`` may act for it with ``scope``.

    Refusals to act are pages of their own; what ``act`` raises is shown as the portal
    shows any refusal, after rolling back what it began.
    """
    try:
        acting = act_as(
            session=session,
            crypto=ctx.crypto,
            holder_id=who.holder_id,
            id_type=who.holder_id_type,
            space_public_id=company_id,
            scope=scope,
        )
    except (NotFound, PermissionDenied) as exc:
        session.commit()  # the refusal's log row (written when the company once trusted them)
        return _refused(request, ctx, who, scope, exc)
    try:
        with acting_person(acting.person.id):
            if look is not None:
                record_look(session=session, acting=acting, what=look)
            return act(Space(request, ctx, who, acting))
    except SchemaError as exc:
        return _error(request, ctx, session, who, InvalidInput(str(exc)))
    except VaultError as exc:
        return _error(request, ctx, session, who, exc)


# The companies I act for -----------------------------------------------------------------
@router.get("/companies", response_class=HTMLResponse)
def companies(request: Request, who: LoginDep, ctx: CtxDep, session: SessionDep) -> HTMLResponse:
    person = find_holder(
        session=session, crypto=ctx.crypto, holder_id=who.holder_id, id_type=who.holder_id_type
    )
    roles = my_companies(session=session, crypto=ctx.crypto, person=person)
    return render(request, ctx, "co_list.html", session=who, roles=roles)


# The company's licenses --------------------------------------------------------------------
@router.get("/co/{company_id}", response_model=None)
def company_licenses(
    company_id: CompanyIdPath, request: Request, who: LoginDep, ctx: CtxDep, session: SessionDep
) -> Response:
    def act(space: Space) -> Response:
        licenses = holder_licenses(session, ctx.crypto, space.acting.company)
        copyable = COPYABLE_FORMATS if "copies" in space.here.scopes else ()
        return space.page("licenses.html", licenses=licenses, copyable=copyable)

    return in_company(request, ctx, session, who, company_id, "licenses", act, look="licenses")


@router.get("/co/{company_id}/licenses/{license_id}/file", response_model=None)
@router.get("/co/{company_id}/licenses/{license_id}/pdf", response_model=None)
def company_license_file(
    company_id: CompanyIdPath,
    license_id: LicenseIdPath,
    request: Request,
    who: LoginDep,
    ctx: CtxDep,
    session: SessionDep,
) -> Response:
    def act(space: Space) -> Response:
        return original_file(ctx, session, space.acting.company, license_id)

    return in_company(request, ctx, session, who, company_id, "licenses", act)


# Certified copies ---------------------------------------------------------------------------
@router.get("/co/{company_id}/licenses/{license_id}/copy", response_model=None)
def company_copy_form(
    company_id: CompanyIdPath,
    license_id: LicenseIdPath,
    request: Request,
    who: LoginDep,
    ctx: CtxDep,
    session: SessionDep,
) -> Response:
    def act(space: Space) -> Response:
        license = holder_license_view(session, ctx.crypto, space.acting.company, license_id)
        return space.page(
            "copy_form.html",
            license=license,
            default_days=ctx.settings.copy_default_days,
            max_days=ctx.settings.copy_max_days,
            error=None,
        )

    return in_company(request, ctx, session, who, company_id, "copies", act)


@router.post("/co/{company_id}/licenses/{license_id}/copy", response_model=None)
def company_copy(
    company_id: CompanyIdPath,
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
) -> Response:
    check_csrf(request, ctx, csrf_token)
    order = CopyOrder(purpose, recipient, case_no, days)

    def act(space: Space) -> Response:
        company = space.acting.company
        made = holder_copy(ctx, session, company, license_id, order)
        ctx.metrics.copies.labels(str(made.reused).lower()).inc()
        return space.page(
            "copy_made.html",
            status=200 if made.reused else 201,
            copy=copy_out(made, base_url=ctx.settings.public_base_url),
            reused=made.reused,
            license=holder_license_view(session, ctx.crypto, company, license_id),
            check_href=f"/v/{made.copy.id}",
        )

    return in_company(request, ctx, session, who, company_id, "copies", act)


@router.get("/co/{company_id}/copies/{copy_id}/pdf", response_model=None)
def company_copy_pdf(
    company_id: CompanyIdPath,
    copy_id: Annotated[str, Path(min_length=1, max_length=64)],
    request: Request,
    who: LoginDep,
    ctx: CtxDep,
    session: SessionDep,
) -> Response:
    def act(space: Space) -> Response:
        _, data = copy_pdf(
            session=session, blobs=ctx.blobs, copy_id=copy_id, holder_id=space.company_id
        )
        return copy_download(copy_id, data)

    return in_company(request, ctx, session, who, company_id, "copies", act)


# Consent and share codes --------------------------------------------------------------------
def _consent_page(
    space: Space, session: Session, *, status: int = 200, **extra: Any
) -> HTMLResponse:
    company = space.acting.company
    licenses = holder_licenses(session, space.ctx.crypto, company)
    types = sorted({(lic.type_code, lic.type_name) for lic in licenses}, key=lambda kv: kv[1])
    context: dict[str, Any] = {"notice": None, "share_code": None, **extra}
    return space.page(
        "consent.html",
        status=status,
        departments=consent_departments(session),
        types=types,
        grants=holder_grants(session, company),
        now=_now(),
        max_days=MAX_GRANT_DAYS,
        max_hours=MAX_SHARE_CODE_HOURS,
        **context,
    )


@router.get("/co/{company_id}/consent", response_model=None)
def company_consent(
    company_id: CompanyIdPath, request: Request, who: LoginDep, ctx: CtxDep, session: SessionDep
) -> Response:
    notice = request.query_params.get("done")

    def act(space: Space) -> Response:
        return _consent_page(
            space, session, notice=notice if notice in ("grant", "revoke") else None
        )

    return in_company(request, ctx, session, who, company_id, "consent", act, look="grants")


@router.post("/co/{company_id}/consent", response_model=None)
def company_give_consent(
    company_id: CompanyIdPath,
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

    def act(space: Space) -> Response:
        now = _now()
        if uses.strip() and not uses.strip().isdigit():
            raise InvalidInput("the number of cases must be a whole number")
        create_grant(
            session=session,
            holder=space.acting.company,
            department_id=department,
            expires_at=now + dt.timedelta(days=days),
            license_types=types or [],
            purpose=purpose or None,
            uses=int(uses) if uses.strip() else None,
            now=now,
        )
        return space.done("/consent?done=grant")

    return in_company(request, ctx, session, who, company_id, "consent", act)


@router.post("/co/{company_id}/share-codes", response_model=None)
def company_share_code(
    company_id: CompanyIdPath,
    request: Request,
    who: LoginDep,
    ctx: CtxDep,
    session: SessionDep,
    types: Annotated[list[str] | None, Form()] = None,
    hours: Annotated[int, Form(ge=1, le=MAX_SHARE_CODE_HOURS)] = 1,
    csrf_token: Annotated[str | None, Form()] = None,
) -> Response:
    check_csrf(request, ctx, csrf_token)

    def act(space: Space) -> Response:
        now = _now()
        created = create_share_code(
            session=session,
            holder=space.acting.company,
            expires_at=now + dt.timedelta(hours=hours),
            license_types=types or [],
            now=now,
        )
        return _consent_page(
            space,
            session,
            status=201,
            share_code=created.code,
            share_expires=created.grant.expires_at,
        )

    return in_company(request, ctx, session, who, company_id, "consent", act)


@router.post("/co/{company_id}/consent/{grant_id}/revoke", response_model=None)
def company_revoke_consent(
    company_id: CompanyIdPath,
    grant_id: Annotated[str, Path(min_length=1, max_length=40)],
    request: Request,
    who: LoginDep,
    ctx: CtxDep,
    session: SessionDep,
    csrf_token: Annotated[str | None, Form()] = None,
) -> Response:
    check_csrf(request, ctx, csrf_token)

    def act(space: Space) -> Response:
        revoke_grant(session=session, holder_id=space.company_id, public_id=grant_id)
        return space.done("/consent?done=revoke")

    return in_company(request, ctx, session, who, company_id, "consent", act)


# The company's access log -------------------------------------------------------------------
@router.get("/co/{company_id}/log", response_model=None)
def company_log(
    company_id: CompanyIdPath,
    request: Request,
    who: LoginDep,
    ctx: CtxDep,
    session: SessionDep,
    license: Annotated[str | None, Query(max_length=40)] = None,
    department: Annotated[str | None, Query(max_length=20)] = None,
    date_from: Annotated[str | None, Query(alias="from", max_length=10)] = None,
    date_to: Annotated[str | None, Query(alias="to", max_length=10)] = None,
    page: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> Response:
    def act(space: Space) -> Response:
        records = holder_licenses(session, ctx.crypto, space.acting.company)
        names = {r.id: f"{r.type_name} {r.number}" for r in records}
        error: str | None = None
        try:
            license_id = license if license in names else None
            department_id = _int(department)
            start, end = _day(date_from), _day(date_to)
        except InvalidInput:
            error, license_id, department_id, start, end = "log.bad_date", None, None, None, None
        rows = access_log(
            session=session,
            holder_id=space.company_id,
            limit=_LOG_PAGE + 1,
            offset=page * _LOG_PAGE,
            license_public_id=license_id,
            department_id=department_id,
            since=dt.datetime.combine(start, dt.time(), _CST) if start else None,
            until=dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), _CST) if end else None,
        )
        filters = {
            "license": license_id,
            "department": department_id,
            "from": start.isoformat() if start else "",
            "to": end.isoformat() if end else "",
        }
        query = "&".join(
            f"{k}={v}" for k, v in {**filters, "page": page + 1}.items() if v not in (None, "")
        )
        persons = people(
            session=session,
            crypto=ctx.crypto,
            ids=(r.event.agent_id for r in rows if r.event.agent_id),
        )
        return space.page(
            "log.html",
            status=422 if error else 200,
            entries=rows[:_LOG_PAGE],
            more_href=f"{space.here.prefix}/log?{query}" if len(rows) > _LOG_PAGE else None,
            license_names=names,
            licenses=records,
            departments=all_departments(session),
            filters=filters,
            error=error,
            persons=persons,
        )

    return in_company(request, ctx, session, who, company_id, "log", act, look="log")
