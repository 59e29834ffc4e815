"""Issuing departments (``licenses:issue``): push sealed licenses, change their status."""

from __future__ import annotations

import hashlib
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from api.deps import CtxDep, IssuerDep, LicenseIdPath, SessionDep
from api.errors import problems
from api.field_push import check_pushed_fields, parse_field_values
from api.idempotency import IdempotencyKey, answer_once, department_caller
from api.models import IntakeOut, StatusChangeIn, StatusChangeOut
from schemas.license import LicenseMetadata
from vault.services.intake import ingest
from vault.services.license_fields import store_values
from vault.services.lifecycle import change_status
from vault.services.views import license_view

__all__ = ["router"]

router = APIRouter(tags=["issuers"])


_MetadataPart = Annotated[
    str,
    Form(
        min_length=2,
        description="LicenseMetadata as a JSON object (GB/T 36903 fields)",
        json_schema_extra={"contentMediaType": "application/json"},
    ),
]
_FilePart = Annotated[
    UploadFile | None,
    File(description="the license file (PDF or OFD) sealed by the issuer"),
]
_PdfPart = Annotated[UploadFile | None, File(description="the same as `file` (its first name)")]
_FieldsPart = Annotated[
    str | None,
    Form(
        description="the license's surface fields (照面信息) as a JSON object of "
        "strings, checked against the fields its type declares (optional)",
        json_schema_extra={"contentMediaType": "application/json"},
    ),
]


@router.post(
    "/v1/licenses",
    status_code=201,
    response_model=IntakeOut,
    summary="Push a sealed license (multipart: the PDF or OFD file + metadata JSON)",
    description="The sealed file goes in the part `file` (or `pdf`, its first name): a PDF "
    "sealed PAdES or an OFD sealed per GB/T 38540 (SM2). The bytes decide the format; a "
    "part's Content-Type that names the other format (application/pdf on an OFD file) is "
    "refused as `format_mismatch`, a file that is neither as `unsupported_format`.",
    responses={
        200: {"model": IntakeOut, "description": "identical push: the existing record"},
        **problems(401, 403, 409, 413, 422, 429),
    },
)
def push_license(
    principal: IssuerDep,
    ctx: CtxDep,
    session: SessionDep,
    request: Request,
    metadata: _MetadataPart,
    file: _FilePart = None,
    pdf: _PdfPart = None,
    fields: _FieldsPart = None,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    upload = _one_file(file, pdf)
    values = parse_field_values(fields)
    try:
        meta = LicenseMetadata.model_validate_json(metadata)
    except ValidationError as exc:
        errors = [{**e, "loc": ("body", "metadata", *e["loc"])} for e in exc.errors()]
        raise RequestValidationError(errors) from None
    data = upload.file.read()

    def act(db: Session) -> tuple[int, IntakeOut]:
        if values is not None:
            check_pushed_fields(db, meta.type_code, values)
        result = ingest(
            session=db,
            blobs=ctx.blobs,
            verifier=ctx.verifier.get(),
            crypto=ctx.crypto,
            metadata=meta,
            pdf=data,
            pushed_by_department_id=principal.department_id,
            file_name=upload.filename,
            require_revocation=ctx.settings.intake_require_revocation,
            declared_type=upload.content_type,
        )
        if values is not None:
            store_values(session=db, crypto=ctx.crypto, license=result.license, values=values)
            db.commit()
        body = IntakeOut(
            created=result.created,
            license=license_view(db, ctx.crypto, result.license),
            identifier=result.version.license_identifier,
            version=result.version.version,
            findings=list(result.findings),
            report=result.report,
        )
        return 201 if result.created else 200, body

    return answer_once(
        ctx,
        session,
        request,
        caller=department_caller(principal),
        key=idempotency_key,
        body=[hashlib.sha256(data).hexdigest(), upload.filename or "", metadata, fields or ""],
        act=act,
    )


def _one_file(file: UploadFile | None, pdf: UploadFile | None) -> UploadFile:
    """The one sealed file of a push (part ``file`` or ``pdf``); 422 for none or both."""
    if (file is None) == (pdf is None):
        why = "both parts file and pdf were sent" if file else "no part file (or pdf) was sent"
        raise RequestValidationError(
            [
                {
                    "type": "missing" if file is None else "value_error",
                    "loc": ("body", "file"),
                    "msg": f"send the sealed license in exactly one part: {why}",
                    "input": None,
                }
            ]
        )
    chosen = file or pdf
    assert chosen is not None
    return chosen


@router.patch(
    "/v1/licenses/{license_id}/status",
    response_model=StatusChangeOut,
    summary="Change a license's status (暂扣, 撤销, 注销, 吊销, or back to 有效) with a reason",
    responses=problems(401, 403, 404, 409, 422, 429),
    description="Only the license's issuer may change it: to any other department the "
    "license does not exist (404, the same answer as for an unknown id).",
)
def patch_status(
    license_id: LicenseIdPath,
    body: StatusChangeIn,
    principal: IssuerDep,
    session: SessionDep,
) -> StatusChangeOut:
    change = change_status(
        session=session,
        public_id=license_id,
        to=body.status,
        reason=body.reason,
        by_department_id=principal.department_id,
        actor=principal.label,
    )
    return StatusChangeOut(
        license_id=license_id,
        from_status=change.from_status,
        to_status=change.to_status,
        reason=change.reason,
        changed_at=change.changed_at,
    )
