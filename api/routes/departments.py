"""Using departments (``licenses:use``): search, read and copy holders' licenses in a case.

Every call carries ``purpose`` (申请事由) and ``case_no`` (办件编号). Access is allowed by a
standing permission for the license type or by the holder's consent; otherwise 403 with
one message that never says whether the holder or the license exists. Every decision is
in the holder's access log and the transparency log: the vault services called here
authorize, act, log and commit; these routes only read the request and write the answer.

The read routes are the hot path: each runs all its database work in one worker-thread
call (on a pooled connection, or in a session of its own when the holder's grants must be
read; the service commits) and writes the JSON of the model it built itself, so the answer
is not validated a second time on the way out.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from api.context import ApiContext
from api.deps import CtxDep, LicenseIdPath, SessionDep, UserDep
from api.errors import problems
from api.idempotency import IdempotencyKey, answer_once, copy_made, department_caller
from api.logsink import copy_proof_maker
from api.models import CopyOut, CopyRequest, LicenseList, LicenseOut, SearchIn
from vault.services.access import UseContext, read_license_pooled, search_pooled
from vault.services.copies import CopyPolicy, copy_for_department
from vault.services.views import record_view

__all__ = ["router"]

router = APIRouter(tags=["using departments"])
_REFUSALS = problems(401, 403, 422, 429)


def json_response(body: bytes) -> Response:
    """The answer of the read routes: their JSON as it was written."""
    return Response(body, media_type="application/json")


async def search_json(ctx: ApiContext, *, department_id: int, body: SearchIn) -> bytes:
    """``POST /v1/licenses/search`` once the caller is admitted: the licenses of the
    holder this department may use in the case (authorized and logged), as JSON."""

    def work() -> bytes:
        # No session unless the read cannot decide alone (see search_pooled).
        found = search_pooled(
            engine=ctx.engine,
            sessions=ctx.sessions,
            crypto=ctx.crypto,
            department_id=department_id,
            holder_id=body.holder_id,
            holder_id_type=body.holder_id_type,
            use=UseContext(body.purpose, body.case_no),
            type_code=body.type_code,
            share_code=body.share_code,
        )
        licenses = [record_view(ctx.crypto, record) for record in found]
        return LicenseList(licenses=licenses).model_dump_json().encode("utf-8")

    return await run_in_threadpool(work)


async def license_json(
    ctx: ApiContext, *, department_id: int, license_id: str, purpose: str, case_no: str
) -> bytes:
    """``GET /v1/licenses/{license_id}`` once the caller is admitted: the license read
    (authorized and logged), as JSON."""

    def work() -> bytes:
        # No session unless the holder's grants must be read (see read_license_pooled).
        record = read_license_pooled(
            engine=ctx.engine,
            sessions=ctx.sessions,
            department_id=department_id,
            public_id=license_id,
            use=UseContext(purpose, case_no),
        )
        return record_view(ctx.crypto, record).model_dump_json().encode("utf-8")

    return await run_in_threadpool(work)


@router.post(
    "/v1/licenses/search",
    response_model=LicenseList,
    summary="Find a holder's licenses this department may use in this case",
    responses=_REFUSALS,
)
async def search(body: SearchIn, principal: UserDep, ctx: CtxDep) -> Response:
    return json_response(await search_json(ctx, department_id=principal.department_id, body=body))


@router.get(
    "/v1/licenses/{license_id}",
    response_model=LicenseOut,
    summary="Read one license's metadata within a case",
    responses=_REFUSALS,
)
async def get_license(
    license_id: LicenseIdPath,
    purpose: Annotated[str, Query(min_length=1, max_length=120, description="申请事由")],
    case_no: Annotated[str, Query(min_length=1, max_length=100, description="办件编号")],
    principal: UserDep,
    ctx: CtxDep,
) -> Response:
    return json_response(
        await license_json(
            ctx,
            department_id=principal.department_id,
            license_id=license_id,
            purpose=purpose,
            case_no=case_no,
        )
    )


@router.post(
    "/v1/licenses/{license_id}/copies",
    response_model=CopyOut,
    status_code=201,
    summary="Get a certified copy (加注件) for this case (the same one again within its validity)",
    responses={
        200: {"model": CopyOut, "description": "the same copy again (reused)"},
        **_REFUSALS,
        **problems(409),
    },
)
def make_department_copy(
    license_id: LicenseIdPath,
    body: CopyRequest,
    principal: UserDep,
    ctx: CtxDep,
    session: SessionDep,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    # A sync route: FastAPI runs it in its threadpool, so the CPU-bound seal does not
    # block the event loop.
    def act(db: Session) -> tuple[int, CopyOut]:
        made = copy_for_department(
            session=db,
            blobs=ctx.blobs,
            renderer=ctx.renderer.get,
            policy=CopyPolicy.from_settings(ctx.settings),
            department_id=principal.department_id,
            public_id=license_id,
            use=UseContext(body.purpose, body.case_no),
            days=body.valid_days,
            log_proof=copy_proof_maker(ctx),
        )
        return copy_made(ctx, made)

    return answer_once(
        ctx,
        session,
        request,
        caller=department_caller(principal),
        key=idempotency_key,
        body=[body.model_dump_json()],
        act=act,
    )
