"""Wire models of structured license data ("一张表")."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from api.models import CaseNo, Purpose

__all__ = ["FIELD_NAME_PATTERN", "FieldsIn", "FieldsOut"]

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
