"""Using departments (``licenses:use``): search, read and copy holders' licenses in a case.

Every call carries ``purpose`` (申请事由) and ``case_no`` (办件编号). Access is allowed by a
standing permission for the license type or by the holder's consent; otherwise 403 with
one message that never says whether the holder or the license exists. Every decision is
in the holder's access log and the transparency log.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from api.deps import CtxDep, SessionDep, UserDep
from api.errors import problems
from api.logsink import append_to_log, copy_proof_maker
from api.models import CopyOut, CopyRequest, LicenseList, LicenseOut, SearchIn
from api.views import copy_out, license_out
from vault.models import Department
from vault.services.access import UseContext, authorize_department, search_for_department
from vault.services.copies import make_copy

__all__ = ["router"]

router = APIRouter(tags=["using departments"])
LicenseIdPath = Annotated[int, Path(ge=1, le=2**62, description="the vault's license id")]
_REFUSALS = problems(401, 403, 422, 429)


@router.post(
    "/v1/licenses/search",
    response_model=LicenseList,
    summary="Find a holder's licenses this department may use in this case",
    responses=_REFUSALS,
)
def search(body: SearchIn, principal: UserDep, ctx: CtxDep, session: SessionDep) -> LicenseList:
    found = search_for_department(
        session=session,
        crypto=ctx.crypto,
        department_id=principal.department_id,
        holder_id=body.holder_id,
        holder_id_type=body.holder_id_type,
        use=UseContext(body.purpose, body.case_no),
        type_code=body.type_code,
        share_code=body.share_code,
        append=append_to_log,
    )
    return LicenseList(licenses=[license_out(session, ctx.crypto, lic) for lic in found])


@router.get(
    "/v1/licenses/{license_id}",
    response_model=LicenseOut,
    summary="Read one license's metadata within a case",
    responses=_REFUSALS,
)
def get_license(
    license_id: LicenseIdPath,
    purpose: Annotated[str, Query(min_length=1, max_length=120, description="申请事由")],
    case_no: Annotated[str, Query(min_length=1, max_length=100, description="办件编号")],
    principal: UserDep,
    ctx: CtxDep,
    session: SessionDep,
) -> LicenseOut:
    license, _ = authorize_department(
        session=session,
        department_id=principal.department_id,
        license_id=license_id,
        use=UseContext(purpose, case_no),
        action="read",
        append=append_to_log,
    )
    return license_out(session, ctx.crypto, license)


@router.post(
    "/v1/licenses/{license_id}/copies",
    response_model=CopyOut,
    status_code=201,
    summary="Get a certified copy (加注件) for this case (the same one again within its validity)",
    responses={**_REFUSALS, **problems(409)},
)
def make_department_copy(
    license_id: LicenseIdPath,
    body: CopyRequest,
    principal: UserDep,
    ctx: CtxDep,
    session: SessionDep,
) -> CopyOut:
    # A sync route: FastAPI runs it in its threadpool, so the CPU-bound seal does not
    # block the event loop.
    settings = ctx.settings
    license, decision = authorize_department(
        session=session,
        department_id=principal.department_id,
        license_id=license_id,
        use=UseContext(body.purpose, body.case_no),
        action="copy",
        append=append_to_log,
        record_allowed=False,
    )
    department = session.get(Department, principal.department_id)
    made = make_copy(
        session=session,
        blobs=ctx.blobs,
        renderer=ctx.renderer.get(),
        license=license,
        requested_by="department",
        department_id=principal.department_id,
        recipient=department.name if department else principal.client_id,
        purpose=body.purpose,
        case_no=body.case_no,
        days=body.valid_days or settings.copy_default_days,
        max_days=settings.copy_max_days,
        maker_name=settings.vault_name,
        public_base_url=settings.public_base_url,
        basis=decision.basis,
        append=append_to_log,
        log_proof=copy_proof_maker(ctx),
    )
    ctx.metrics.copies.labels(str(made.reused).lower()).inc()
    return copy_out(made.copy, base_url=settings.public_base_url, reused=made.reused)
