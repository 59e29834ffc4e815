"""Holders (持证主体): their licenses, copies, consent and access log (用证记录).

A holder only ever sees its own: another holder's license or grant is "not found".
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from sqlalchemy.orm import Session

from api.acting import ActingFor, subject
from api.agent_models import PersonOut
from api.deps import CtxDep, HolderDep, LicenseIdPath, SessionDep
from api.errors import problems
from api.holder_desk import CopyOrder, holder_copy, original_file
from api.idempotency import IdempotencyKey, answer_once, copy_made, holder_caller
from api.models import (
    AccessLogEntry,
    AccessLogPage,
    CopyOut,
    DepartmentOut,
    GrantIn,
    GrantList,
    GrantOut,
    HolderCopyRequest,
    LicenseList,
)
from vault.errors import InvalidInput
from vault.services.access import access_log
from vault.services.agents import people
from vault.services.grants import create_grant, create_share_code, revoke_grant
from vault.services.holders import HolderView
from vault.services.views import (
    HolderRef,
    consent_department,
    consent_departments,
    grant_view,
    holder_grants,
    holder_licenses,
    require_holder,
)

__all__ = ["router"]

router = APIRouter(tags=["holders"])
_COMMON = problems(401, 403, 404, 422, 429)


@router.get(
    "/v1/me/licenses",
    response_model=LicenseList,
    summary="My licenses",
    responses=_COMMON,
)
def my_licenses(
    principal: HolderDep, ctx: CtxDep, session: SessionDep, acting: ActingFor = None
) -> LicenseList:
    with subject(session, ctx.crypto, principal, acting, "licenses", look="licenses") as holder:
        pass
    return LicenseList(licenses=holder_licenses(session, ctx.crypto, holder))


@router.get(
    "/v1/me/licenses/{license_id}/file",
    summary="Download my original e-certificate (the PDF or OFD file as the issuer sealed it)",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}, "application/ofd": {}}}, **_COMMON},
    description="The Content-Type (application/pdf or application/ofd) and the file name's "
    "extension in Content-Disposition follow the license's `file_format`. "
    "`/v1/me/licenses/{license_id}/pdf` is the same download under its first name.",
)
@router.get(
    "/v1/me/licenses/{license_id}/pdf",
    summary="Download my original e-certificate (the same as `/file`, PDF or OFD)",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}, "application/ofd": {}}}, **_COMMON},
)
def my_license_file(
    license_id: LicenseIdPath,
    principal: HolderDep,
    ctx: CtxDep,
    session: SessionDep,
    acting: ActingFor = None,
) -> Response:
    with subject(session, ctx.crypto, principal, acting, "licenses") as holder:
        return original_file(ctx, session, require_holder(holder), license_id)


@router.post(
    "/v1/me/licenses/{license_id}/copies",
    response_model=CopyOut,
    status_code=201,
    summary="Make a certified copy of my license for a purpose I name",
    responses={
        200: {"model": CopyOut, "description": "the same copy again (reused)"},
        **_COMMON,
        **problems(409),
    },
)
def my_copy(
    license_id: LicenseIdPath,
    body: HolderCopyRequest,
    principal: HolderDep,
    ctx: CtxDep,
    session: SessionDep,
    request: Request,
    idempotency_key: IdempotencyKey = None,
    acting: ActingFor = None,
) -> Response:
    def act(db: Session) -> tuple[int, CopyOut]:
        order = CopyOrder(body.purpose, body.recipient, body.case_no, body.valid_days)
        with subject(db, ctx.crypto, principal, acting, "copies") as holder:
            made = holder_copy(ctx, db, require_holder(holder), license_id, order)
        return copy_made(ctx, made)

    return answer_once(
        ctx,
        session,
        request,
        caller=holder_caller(ctx, principal),
        key=idempotency_key,
        body=_fingerprint(body.model_dump_json(), acting),
        act=act,
    )


@router.get(
    "/v1/departments",
    response_model=list[DepartmentOut],
    summary="Using departments a holder may grant consent to",
    tags=["holders"],
    responses=_COMMON,
)
def using_departments(principal: HolderDep, session: SessionDep) -> list[DepartmentOut]:
    return consent_departments(session)


@router.post(
    "/v1/me/grants",
    response_model=GrantOut,
    status_code=201,
    summary="Consent to a department, or create a one-time share code",
    responses=_COMMON,
)
def create_my_grant(
    body: GrantIn,
    principal: HolderDep,
    ctx: CtxDep,
    session: SessionDep,
    request: Request,
    idempotency_key: IdempotencyKey = None,
    acting: ActingFor = None,
) -> Response:
    def act(db: Session) -> tuple[int, GrantOut]:
        with subject(db, ctx.crypto, principal, acting, "consent") as holder:
            return 201, _create_grant(db, require_holder(holder), body)

    return answer_once(
        ctx,
        session,
        request,
        caller=holder_caller(ctx, principal),
        key=idempotency_key,
        body=_fingerprint(body.model_dump_json(), acting),
        act=act,
    )


def _fingerprint(body: str, acting: str | None) -> list[str]:
    """What an Idempotency-Key is bound to: the body, and the company acted for, if any."""
    return [body] if acting is None else [body, "acting-for:" + acting]


def _create_grant(session: Session, holder: HolderRef, body: GrantIn) -> GrantOut:
    now = dt.datetime.now(dt.UTC)
    code: str | None = None
    if body.kind == "share_code":
        if body.department_code is not None:
            raise InvalidInput("a share code names no department: any department may redeem it")
        expires = body.expires_at or now + dt.timedelta(hours=1)
        created = create_share_code(
            session=session,
            holder=holder,
            expires_at=_aware(expires),
            license_types=body.license_types,
            purpose=body.purpose,
            now=now,
        )
        grant, code = created.grant, created.code
    else:
        if body.department_code is None:
            raise InvalidInput("consent names a department: give department_code")
        department = consent_department(session, body.department_code)
        grant = create_grant(
            session=session,
            holder=holder,
            department_id=department.id,
            expires_at=_aware(body.expires_at or now + dt.timedelta(days=30)),
            license_types=body.license_types,
            purpose=body.purpose,
            uses=body.uses,
            now=now,
        )
    return grant_view(session, grant, share_code=code)


def _aware(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        raise InvalidInput("expires_at needs a time zone (e.g. 2026-01-31T18:00:00+08:00)")
    return moment


@router.get("/v1/me/grants", response_model=GrantList, summary="My grants", responses=_COMMON)
def my_grants(
    principal: HolderDep, ctx: CtxDep, session: SessionDep, acting: ActingFor = None
) -> GrantList:
    with subject(session, ctx.crypto, principal, acting, "consent", look="grants") as holder:
        pass
    return GrantList(grants=holder_grants(session, holder))


@router.delete(
    "/v1/me/grants/{grant_id}",
    response_model=GrantOut,
    summary="Revoke one of my grants",
    responses=_COMMON,
)
def delete_my_grant(
    grant_id: Annotated[str, Path(min_length=1, max_length=40)],
    principal: HolderDep,
    ctx: CtxDep,
    session: SessionDep,
    acting: ActingFor = None,
) -> GrantOut:
    with subject(session, ctx.crypto, principal, acting, "consent") as holder:
        grant = revoke_grant(
            session=session, holder_id=require_holder(holder).id, public_id=grant_id
        )
    return grant_view(session, grant)


@router.get(
    "/v1/me/access-log",
    response_model=AccessLogPage,
    summary="Every use of my licenses (用证记录), newest first",
    responses=_COMMON,
)
def my_access_log(
    principal: HolderDep,
    ctx: CtxDep,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    acting: ActingFor = None,
) -> AccessLogPage:
    with subject(session, ctx.crypto, principal, acting, "log", look="log") as holder:
        pass
    if holder is None:
        return AccessLogPage(entries=[], limit=limit, offset=offset)
    rows = access_log(session=session, holder_id=holder.id, limit=limit, offset=offset)
    persons = people(
        session=session, crypto=ctx.crypto, ids=(r.event.agent_id for r in rows if r.event.agent_id)
    )
    entries = [
        AccessLogEntry(
            at=line.event.at,
            actor=line.event.actor,
            department=line.department,
            action=line.event.action,
            outcome="denied" if line.event.outcome == "denied" else "allowed",
            basis=line.event.basis,
            license_id=line.license_public_id,
            copy_id=line.event.copy_id,
            material_id=line.material_public_id,
            purpose=line.event.purpose,
            case_no=line.event.case_no,
            log_index=line.event.log_index,
            acted_by=_person(persons, line.event.agent_id),
        )
        for line in rows
    ]
    return AccessLogPage(entries=entries, limit=limit, offset=offset)


def _person(persons: dict[int, HolderView], person_id: int | None) -> PersonOut | None:
    if person_id is None or person_id not in persons:
        return None
    view = persons[person_id]
    return PersonOut(masked_id=view.masked_id, name=view.name)
