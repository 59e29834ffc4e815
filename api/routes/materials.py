"""Materials (电子材料库): windows deposit, departments reuse, holders see and withdraw.

- ``materials:deposit`` (a receiving window): ``POST /v1/materials`` with the scan or PDF and
  the clerk's check; the vault seals it (收件核验) and stores it once.
- ``licenses:use`` (a using department, inside a case): ``POST /v1/materials/search`` and
  ``GET /v1/materials/{id}/pdf``, allowed by a standing permission for the material type or
  by the holder's consent, refused with one message that never says what exists.
- holders: ``/v1/me/materials`` (list, download, uses, withdrawal); a company's, with
  ``X-Acting-For``, for its legal representative or an agent with the ``materials`` scope.

Every decision is in the holder's access log and the transparency log; the vault services
called here authorize, act, log and commit.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Path, Query, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError

from api.acting import ActingFor, subject
from api.deps import CtxDep, HolderDep, LicenseIdPath, SessionDep, UserDep, WindowDep, limit_by_ip
from api.downloads import file_download
from api.errors import problems
from api.logsink import copy_proof_maker
from api.material_models import (
    CaseLicenseList,
    CaseLicenseOut,
    CaseReferenceIn,
    DepositIn,
    DepositOut,
    MaterialCopyOut,
    MaterialList,
    MaterialOut,
    MaterialSearchIn,
    MaterialTypeList,
    MaterialTypeOut,
    MaterialUseEntry,
    MaterialUsePage,
)
from api.models import CopyRequest, HolderCopyRequest
from vault.log.access_log import UseContext
from vault.services.case_licenses import CaseLicenseView, case_licenses, reference_license
from vault.services.copies import CopyPolicy, MadeCopy
from vault.services.material_catalog import list_material_types
from vault.services.material_copies import copy_material_for_department, copy_material_for_holder
from vault.services.material_use import (
    FetchedMaterial,
    fetch_material_for_department,
    holder_material_pdf,
    list_holder_materials,
    material_uses,
    search_materials_for_department,
    withdraw_material,
)
from vault.services.material_views import MaterialView, material_views
from vault.services.materials import DepositRequest, deposit_material
from vault.services.views import require_holder

__all__ = ["router"]

router = APIRouter(tags=["materials"])
_DEPT = problems(401, 403, 422, 429)
_HOLDER = problems(401, 403, 404, 422, 429)

MaterialIdPath = Annotated[
    str,
    Path(
        min_length=1,
        max_length=40,
        description="the material's id, as the API gave it (random, e.g. m_Hq3V0m1j9v8kP2aQx7tYbw)",
    ),
]
_PDF: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/pdf": {}}, "description": "the sealed material"}
}


def material_out(view: MaterialView) -> MaterialOut:
    return MaterialOut(
        id=view.id,
        type_code=view.type_code,
        type_name=view.type_name,
        media_type=view.media_type,
        state=view.state,
        usable_until=view.usable_until,
        department=view.department,
        clerk=view.clerk,
        checked_at=view.checked_at,
        purpose=view.purpose,
        case_no=view.case_no,
        sha256=view.sha256,
        source_sha256=view.source_sha256,
        deposited_at=view.deposited_at,
    )


def _pdf(fetched: FetchedMaterial) -> Response:
    return file_download(fetched.pdf, "application/pdf", f"{fetched.material.public_id}.pdf")


@router.get(
    "/v1/material-types",
    response_model=MaterialTypeList,
    summary="The material catalogue (材料目录)",
    responses=problems(429),
    dependencies=[Depends(limit_by_ip)],
)
def material_types(session: SessionDep) -> MaterialTypeList:
    return MaterialTypeList(
        material_types=[
            MaterialTypeOut(
                code=t.code,
                name=t.name,
                holder_kinds=t.holder_kinds,
                validity="period" if t.validity == "period" else "document",
                validity_months=t.validity_months,
            )
            for t in list_material_types(session=session)
        ]
    )


@router.post(
    "/v1/materials",
    status_code=201,
    response_model=DepositOut,
    summary="Deposit a holder's material checked against the original (multipart: file + "
    "metadata JSON); the vault seals it",
    responses={
        200: {"model": DepositOut, "description": "the same bytes again: the existing one"},
        **problems(401, 403, 404, 409, 413, 422, 429),
    },
)
def deposit(
    principal: WindowDep,
    ctx: CtxDep,
    session: SessionDep,
    file: Annotated[UploadFile, File(description="the scan (JPEG, PNG) or PDF")],
    metadata: Annotated[
        str,
        Form(
            min_length=2,
            description="DepositIn as a JSON object (holder, type, the clerk's check, case)",
            json_schema_extra={"contentMediaType": "application/json"},
        ),
    ],
) -> JSONResponse:
    try:
        meta = DepositIn.model_validate_json(metadata)
    except ValidationError as exc:
        errors = [{**e, "loc": ("body", "metadata", *e["loc"])} for e in exc.errors()]
        raise RequestValidationError(errors) from None
    request = DepositRequest(
        holder_id=meta.holder_id,
        holder_id_type=meta.holder_id_type,
        holder_name=meta.holder_name,
        type_code=meta.type_code,
        data=file.file.read(),
        clerk=meta.clerk,
        checked_at=meta.checked_at,
        use=UseContext(meta.purpose, meta.case_no),
        valid_until=meta.valid_until,
    )
    result = deposit_material(
        session=session,
        crypto=ctx.crypto,
        blobs=ctx.blobs,
        renderer=ctx.renderer.get,  # type: ignore[arg-type]
        department_id=principal.department_id,
        request=request,
        maker_name=ctx.settings.vault_name,
    )
    (view,) = material_views(session=session, materials=[result.material])
    body = DepositOut(created=result.created, material=material_out(view))
    return JSONResponse(body.model_dump(mode="json"), status_code=201 if result.created else 200)


@router.post(
    "/v1/materials/search",
    response_model=MaterialList,
    summary="Find a holder's usable materials this department may use in this case",
    responses=_DEPT,
)
def search(
    body: MaterialSearchIn, principal: UserDep, ctx: CtxDep, session: SessionDep
) -> MaterialList:
    found = search_materials_for_department(
        session=session,
        crypto=ctx.crypto,
        department_id=principal.department_id,
        holder_id=body.holder_id,
        holder_id_type=body.holder_id_type,
        use=UseContext(body.purpose, body.case_no),
        type_codes=body.type_codes,
    )
    return MaterialList(
        materials=[material_out(v) for v in material_views(session=session, materials=found)]
    )


@router.get(
    "/v1/materials/{material_id}/pdf",
    summary="Fetch one material (the vault-sealed PDF) within a case",
    response_class=Response,
    responses={**_PDF, **_DEPT},
)
def fetch(
    material_id: MaterialIdPath,
    purpose: Annotated[str, Query(min_length=1, max_length=120, description="申请事由")],
    case_no: Annotated[str, Query(min_length=1, max_length=100, description="办件编号")],
    principal: UserDep,
    ctx: CtxDep,
    session: SessionDep,
) -> Response:
    fetched = fetch_material_for_department(
        session=session,
        blobs=ctx.blobs,
        department_id=principal.department_id,
        public_id=material_id,
        use=UseContext(purpose, case_no),
    )
    return _pdf(fetched)


_SCOPE = "materials"


@router.get(
    "/v1/me/materials",
    response_model=MaterialList,
    summary="My materials (电子材料), every state (or a company's, with X-Acting-For)",
    responses=_HOLDER,
)
def my_materials(
    principal: HolderDep, ctx: CtxDep, session: SessionDep, acting: ActingFor = None
) -> MaterialList:
    with subject(session, ctx.crypto, principal, acting, _SCOPE, look="materials") as holder:
        pass
    if holder is None:
        return MaterialList(materials=[])
    found = list_holder_materials(session=session, holder=holder)
    return MaterialList(
        materials=[material_out(v) for v in material_views(session=session, materials=found)]
    )


@router.get(
    "/v1/me/materials/{material_id}/pdf",
    summary="Download one of my materials (the vault-sealed PDF)",
    response_class=Response,
    responses={**_PDF, **_HOLDER},
)
def my_material_pdf(
    material_id: MaterialIdPath,
    principal: HolderDep,
    ctx: CtxDep,
    session: SessionDep,
    acting: ActingFor = None,
) -> Response:
    with subject(session, ctx.crypto, principal, acting, _SCOPE) as holder:
        fetched = holder_material_pdf(
            session=session, blobs=ctx.blobs, holder=require_holder(holder), public_id=material_id
        )
    return _pdf(fetched)


@router.get(
    "/v1/me/materials/{material_id}/uses",
    response_model=MaterialUsePage,
    summary="Every use of one of my materials, newest first",
    responses=_HOLDER,
)
def my_material_uses(
    material_id: MaterialIdPath,
    principal: HolderDep,
    ctx: CtxDep,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    acting: ActingFor = None,
) -> MaterialUsePage:
    with subject(session, ctx.crypto, principal, acting, _SCOPE) as holder:
        uses = material_uses(
            session=session,
            holder=require_holder(holder),
            public_id=material_id,
            limit=limit,
            offset=offset,
        )
    entries = [
        MaterialUseEntry(
            at=use.event.at,
            actor=use.event.actor,
            department=use.department,
            action=use.event.action,
            outcome="denied" if use.event.outcome == "denied" else "allowed",
            basis=use.event.basis,
            reason=use.event.reason,
            purpose=use.event.purpose,
            case_no=use.event.case_no,
            log_index=use.event.log_index,
        )
        for use in uses
    ]
    return MaterialUsePage(entries=entries, limit=limit, offset=offset)


@router.post(
    "/v1/me/materials/{material_id}/withdrawal",
    response_model=MaterialOut,
    summary="Withdraw one of my materials: no department is served it any more",
    responses=_HOLDER,
)
def withdraw(
    material_id: MaterialIdPath,
    principal: HolderDep,
    ctx: CtxDep,
    session: SessionDep,
    acting: ActingFor = None,
) -> MaterialOut:
    with subject(session, ctx.crypto, principal, acting, _SCOPE) as holder:
        material = withdraw_material(
            session=session, holder=require_holder(holder), public_id=material_id
        )
    (view,) = material_views(session=session, materials=[material])
    return material_out(view)


def _copy_out(ctx: CtxDep, made: MadeCopy) -> JSONResponse:
    ctx.metrics.copies.labels(str(made.reused).lower()).inc()
    base = ctx.settings.public_base_url.rstrip("/")
    copy = made.copy
    body = MaterialCopyOut(
        id=copy.id,
        material_id=made.license_public_id,
        purpose=copy.purpose,
        case_no=copy.case_no,
        made_at=copy.made_at,
        expires_at=copy.expires_at,
        reused=made.reused,
        verify_url=f"{base}/v/{copy.id}",
        status_url=f"{base}/v1/copies/{copy.id}/status",
        download_url=f"{base}/v1/copies/{copy.id}/pdf",
    )
    return JSONResponse(body.model_dump(mode="json"), status_code=200 if made.reused else 201)


_COPY = {
    200: {"model": MaterialCopyOut, "description": "the same copy again (reused)"},
    **problems(409),
}


@router.post(
    "/v1/materials/{material_id}/copies",
    response_model=MaterialCopyOut,
    status_code=201,
    summary="Get a certified copy (加注件) of a material for this case",
    description="Allowed as fetching it is (usable, and a standing permission for its type or "
    "the holder's consent). The copy is the vault-sealed PDF of the deposit with the 加注 and "
    "QR code, sealed again; download it from `download_url`.",
    responses={**_COPY, **_DEPT},
)
def department_material_copy(
    material_id: MaterialIdPath,
    body: CopyRequest,
    principal: UserDep,
    ctx: CtxDep,
    session: SessionDep,
) -> JSONResponse:
    made = copy_material_for_department(
        session=session,
        blobs=ctx.blobs,
        renderer=ctx.renderer.get,
        policy=CopyPolicy.from_settings(ctx.settings),
        department_id=principal.department_id,
        public_id=material_id,
        use=UseContext(body.purpose, body.case_no),
        days=body.valid_days,
        log_proof=copy_proof_maker(ctx),
    )
    return _copy_out(ctx, made)


@router.post(
    "/v1/me/materials/{material_id}/copies",
    response_model=MaterialCopyOut,
    status_code=201,
    summary="Make a certified copy of one of my usable materials for a purpose I name",
    responses={**_COPY, **_HOLDER},
)
def my_material_copy(
    material_id: MaterialIdPath,
    body: HolderCopyRequest,
    principal: HolderDep,
    ctx: CtxDep,
    session: SessionDep,
    acting: ActingFor = None,
) -> JSONResponse:
    with subject(session, ctx.crypto, principal, acting, "copies") as holder:
        made = copy_material_for_holder(
            session=session,
            blobs=ctx.blobs,
            renderer=ctx.renderer.get,
            policy=CopyPolicy.from_settings(ctx.settings),
            holder=require_holder(holder),
            public_id=material_id,
            purpose=body.purpose,
            recipient=body.recipient,
            case_no=body.case_no,
            days=body.valid_days,
            log_proof=copy_proof_maker(ctx),
        )
    return _copy_out(ctx, made)


# Sealed licenses as materials of a case ------------------------------------------------------
def _case_license_out(view: CaseLicenseView) -> CaseLicenseOut:
    return CaseLicenseOut(
        id=view.id,
        license_id=view.license_id,
        license_version=view.license_version,
        sha256=view.sha256,
        type_code=view.type_code,
        type_name=view.type_name,
        purpose=view.purpose,
        case_no=view.case_no,
        referenced_at=view.referenced_at,
        log_index=view.log_index,
        created=view.created,
    )


@router.post(
    "/v1/licenses/{license_id}/case-references",
    response_model=CaseLicenseOut,
    status_code=201,
    summary="Reference a sealed license as a material of this department's case",
    description="Authorized as a read of the license (standing permission or the holder's "
    "consent; otherwise the same 403 as a read). Pins the current version and its file's "
    "SHA-256; logged (`case_reference`) in the holder's access log and the transparency log.",
    responses={
        200: {"model": CaseLicenseOut, "description": "already referenced in this case"},
        **_DEPT,
    },
)
def reference_in_case(
    license_id: LicenseIdPath,
    body: CaseReferenceIn,
    principal: UserDep,
    session: SessionDep,
) -> JSONResponse:
    view = reference_license(
        session=session,
        department_id=principal.department_id,
        public_id=license_id,
        use=UseContext(body.purpose, body.case_no),
    )
    out = _case_license_out(view)
    return JSONResponse(out.model_dump(mode="json"), status_code=201 if view.created else 200)


@router.get(
    "/v1/case-licenses",
    response_model=CaseLicenseList,
    summary="The licenses this department referenced in one of its cases",
    responses=_DEPT,
)
def licenses_of_case(
    case_no: Annotated[str, Query(min_length=1, max_length=100, description="办件编号")],
    principal: UserDep,
    session: SessionDep,
) -> CaseLicenseList:
    views = case_licenses(session=session, department_id=principal.department_id, case_no=case_no)
    return CaseLicenseList(case_no=case_no, licenses=[_case_license_out(v) for v in views])
