"""Public routes (no login): verify a PDF or OFD file, the trust bundle, a copy's status.

``GET /v/{copy_id}`` is the page a copy's QR code opens; ``GET /v1/copies/{copy_id}/status``
is the same as JSON. An unknown copy id is a plain 404, with no hint whether it ever existed.
``GET /v1/copies/{copy_id}/pdf`` needs a login: the department the copy was made for, or the
license's holder.
"""

from __future__ import annotations

from pathlib import Path as FilePath
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Path, Query, Request, Response, UploadFile
from fastapi.responses import HTMLResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from api.acting import ActingFor
from api.context import ApiContext
from api.deps import CtxDep, SessionDep, limit_by_ip
from api.downloads import copy_download, file_download
from api.errors import ApiError, Unauthorized, problems
from api.models import CopyStatusOut
from api.pages.web import load_page_session
from schemas.report import VerificationReport
from vault.errors import ConfigError, NotFound, PermissionDenied
from vault.log.access_log import acting_person
from vault.services.agents import act_for_company
from vault.services.copies import copy_pdf, copy_status
from vault.services.holders import find_holder

__all__ = ["router"]

router = APIRouter(tags=["public"], dependencies=[Depends(limit_by_ip)])
CopyIdPath = Annotated[
    str, Path(min_length=1, max_length=64, description="the copy id from its QR code")
]
_bearer = HTTPBearer(
    scheme_name="DepartmentOrHolder",
    description="a department access token or a holder token",
    auto_error=False,
)


@router.post(
    "/v1/verify",
    response_model=VerificationReport,
    summary="Verify the seals of a PDF or an OFD file (the same report as `evault verify --json`)",
    responses=problems(413, 422, 429),
)
async def verify(
    ctx: CtxDep,
    file: Annotated[UploadFile, File(description="the PDF or OFD file to verify")],
) -> VerificationReport:
    data = await file.read()
    verifier = await run_in_threadpool(ctx.verifier.get)
    async_verify = getattr(verifier, "verify_async", None)
    if async_verify is not None:
        report: VerificationReport = await async_verify(data, file_name=file.filename)
    else:
        report = await run_in_threadpool(verifier.verify, data, file_name=file.filename)
    return report


def _trust_bundle_path(ctx: ApiContext) -> FilePath:
    path = ctx.settings.resolved_trust_bundle
    if path is None or not path.is_file():
        raise ConfigError("no trust bundle configured")
    return path


@router.get(
    "/v1/trust-bundle",
    summary="The trust bundle auditors pin for offline verification",
    response_class=Response,
    responses={200: {"content": {"application/json": {}}}},
)
def trust_bundle(ctx: CtxDep) -> Response:
    data = _trust_bundle_path(ctx).read_bytes()
    return file_download(data, "application/json", "evault-trust-bundle.json", private=False)


@router.get(
    "/v1/copies/{copy_id}/status",
    response_model=CopyStatusOut,
    summary="Is this certified copy genuine and still valid?",
    responses=problems(404, 429),
)
def status_json(copy_id: CopyIdPath, session: SessionDep) -> CopyStatusOut:
    return copy_status(session=session, copy_id=copy_id)


@router.get(
    "/v/{copy_id}",
    dependencies=[Depends(load_page_session)],  # a page: the session is checked first
    response_class=HTMLResponse,
    summary="The page a copy's QR code opens (Chinese first, no login)",
    responses={404: {"content": {"text/html": {}}, "description": "unknown copy"}},
)
def status_page(
    copy_id: CopyIdPath,
    request: Request,
    ctx: CtxDep,
    session: SessionDep,
    lang: Annotated[
        Literal["zh", "en"] | None, Query(description="the page's language (kept in a cookie)")
    ] = None,
) -> HTMLResponse:
    from api.pages.public_pages import copy_check_page

    return copy_check_page(request, ctx, session, copy_id)


@router.get(
    "/v1/copies/{copy_id}/pdf",
    summary="Download a certified copy (the department it was made for, or the holder)",
    response_class=Response,
    responses={
        200: {"content": {"application/pdf": {}, "application/ofd": {}}},
        **problems(401, 403, 404, 422, 429),
    },
    description="A copy has its license's format: PDF, or OFD for an OFD license "
    "(`application/ofd`, a `.ofd` file name). A person acting for a company sends "
    "`X-Acting-For` and needs the scope `copies`.",
)
async def copy_file(
    copy_id: CopyIdPath,
    request: Request,
    ctx: CtxDep,
    credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),
    acting: ActingFor = None,
) -> Response:
    if credentials is None:
        raise Unauthorized("a department or holder token is required", error="invalid_request")
    department_id: int | None = None
    holder_key: tuple[str, str] | None = None
    try:
        principal = ctx.tokens.verify(credentials.credentials)
    except ApiError:
        holder = await ctx.holders.authenticate(credentials.credentials)
        holder_key = (holder.holder_id, holder.holder_id_type.value)
        request.scope.setdefault("state", {})["principal_label"] = holder.label
    else:
        if "licenses:use" not in principal.scopes:
            raise NotFound("not found")
        if acting is not None:
            raise PermissionDenied("X-Acting-For is for a person acting for a company")
        department_id = principal.department_id
        request.scope.setdefault("state", {})["principal_label"] = principal.label

    def fetch() -> bytes:
        with ctx.sessions() as session:
            holder_row_id = person_id = None
            if holder_key is not None:
                row = find_holder(
                    session=session,
                    crypto=ctx.crypto,
                    holder_id=holder_key[0],
                    id_type=holder_key[1],
                )
                if acting is not None:  # a person acting for a company (法人空间)
                    try:
                        act = act_for_company(
                            session=session, person=row, space_public_id=acting, scope="copies"
                        )
                    except (NotFound, PermissionDenied):
                        session.commit()  # the refusal's log row
                        raise
                    row, person_id = act.company, act.person.id
                if row is None:
                    raise NotFound("not found")
                holder_row_id = row.id
            with acting_person(person_id):
                _, data = copy_pdf(
                    session=session,
                    blobs=ctx.blobs,
                    copy_id=copy_id,
                    department_id=department_id,
                    holder_id=holder_row_id,
                )
            session.commit()
            return data

    data = await run_in_threadpool(fetch)
    return copy_download(copy_id, data)
