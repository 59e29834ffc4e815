"""Wire models of structured license data ("一张表")."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from api.models import CaseNo, Purpose

__all__ = ["FIELD_NAME_PATTERN", "DeclaredFieldList", "DeclaredFieldOut", "FieldsIn", "FieldsOut"]

FIELD_NAME_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
FieldName = Annotated[str, StringConstraints(pattern=FIELD_NAME_PATTERN)]


class FieldsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    fields: list[FieldName] = Field(
        min_length=1, max_length=64, description="the surface fields needed, by name"
    )
    purpose: str = Purpose
    case_no: str = CaseNo


class FieldsOut(BaseModel):
    jws: str = Field(
        description="compact JWS (ES256, typ license-fields+jwt) signed by the vault's "
        "credential key: verify offline with `evault fields verify` and the trust bundle"
    )
    license_id: str
    license_type: str
    license_status: str = Field(description="the license's status when signed (有效 …)")
    fields: dict[str, str] = Field(
        description="the values asked for that the issuer pushed (also in the JWS)"
    )


class DeclaredFieldOut(BaseModel):
    name: str = Field(description="the field's name, as FieldsIn names it")
    label: str = Field(description="its label on the license (姓名, 出生日期 …)")
    kind: Literal["string", "date", "enum", "id_number"]
    max_length: int | None = None
    choices: list[str] = Field(description="an enum field's values (else empty)")
    required: bool = Field(description="every license of the type carries it")
    may_request: bool = Field(
        description="this department's field permission covers it: asking for a field "
        "without it is refused"
    )


class DeclaredFieldList(BaseModel):
    license_type: str
    fields: list[DeclaredFieldOut]
