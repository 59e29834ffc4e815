"""Structured license data ("一张表"): a using department (``licenses:use``) gets only the
surface fields it asks for, inside a case, as data signed by the vault."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from api.deps import CtxDep, LicenseIdPath, SessionDep, UserDep
from api.errors import problems
from api.field_models import DeclaredFieldList, DeclaredFieldOut, FieldsIn, FieldsOut
from api.wallet import credential_key, issuer_url
from vault.services.access import UseContext
from vault.services.field_catalog import fields_for_department
from vault.services.license_fields import read_fields_for_department

__all__ = ["router"]

router = APIRouter(tags=["using departments"])


@router.post(
    "/v1/licenses/{license_id}/fields",
    response_model=FieldsOut,
    summary="Get only the named surface fields (照面信息) of a license, signed by the vault",
    description="The license must be open to the department (standing permission or "
    "consent) and each field named must be covered by its field permission for the "
    "license's type; otherwise 403 naming the fields not covered, and nothing is returned. "
    "Answers and refusals are in the holder's access log and the transparency log.",
    responses=problems(401, 403, 404, 422, 429),
)
def get_fields(
    license_id: LicenseIdPath,
    body: FieldsIn,
    principal: UserDep,
    ctx: CtxDep,
    session: SessionDep,
) -> FieldsOut:
    key = credential_key(ctx)
    signed = read_fields_for_department(
        session=session,
        crypto=ctx.crypto,
        key=key,
        issuer=issuer_url(ctx),
        department_id=principal.department_id,
        public_id=license_id,
        use=UseContext(body.purpose, body.case_no),
        names=body.fields,
    )
    return FieldsOut(
        jws=signed.token,
        license_id=signed.answer.license_id,
        license_type=signed.answer.type_code,
        license_status=signed.answer.status,
        fields=signed.answer.fields,
    )


@router.get(
    "/v1/license-types/{type_code}/fields",
    response_model=DeclaredFieldList,
    summary="The surface fields a license type declares, and which this department may ask for",
    responses=problems(401, 403, 404, 422, 429),
)
def declared_fields(
    type_code: Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.-]+$")],
    principal: UserDep,
    session: SessionDep,
) -> DeclaredFieldList:
    declared = fields_for_department(
        session=session, department_id=principal.department_id, type_code=type_code
    )
    return DeclaredFieldList(
        license_type=type_code,
        fields=[
            DeclaredFieldOut(
                name=f.name,
                label=f.label,
                kind=f.kind,
                max_length=f.max_length,
                choices=list(f.choices),
                required=f.required,
                may_request=f.may_request,
            )
            for f in declared
        ],
    )
