"""Wire models of the materials routes (电子材料库): deposit, reuse, the holder's view."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from api.models import CaseNo, Purpose
from schemas.identifiers import HolderId, HolderIdType

__all__ = [
    "CaseLicenseList",
    "CaseLicenseOut",
    "CaseReferenceIn",
    "DepositIn",
    "DepositOut",
    "MaterialCopyOut",
    "MaterialList",
    "MaterialOut",
    "MaterialSearchIn",
    "MaterialTypeList",
    "MaterialTypeOut",
    "MaterialUseEntry",
    "MaterialUsePage",
]

MaterialCode = Field(pattern=r"^[0-9A-Za-z._-]{1,40}$", description="材料目录 code")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class MaterialTypeOut(BaseModel):
    code: str = Field(description="材料目录 code")
    name: str = Field(description="材料名称")
    holder_kinds: list[Literal["111", "001"]] = Field(
        description="持证主体代码类型代码 it applies to: 111 persons, 001 companies"
    )
    validity: Literal["document", "period"] = Field(
        description="document: usable until the date given with each deposit; "
        "period: for validity_months after the clerk's check"
    )
    validity_months: int | None


class MaterialTypeList(BaseModel):
    material_types: list[MaterialTypeOut]


class DepositIn(_Strict):
    """The ``metadata`` part of a deposit: whose material, which type, and the clerk's check."""

    holder_id: HolderId
    holder_id_type: HolderIdType | None = None
    holder_name: str = Field(min_length=1, max_length=100, description="持证主体 name")
    type_code: str = MaterialCode
    clerk: str = Field(
        min_length=1, max_length=100, description="who checked it against the original (核验人)"
    )
    checked_at: AwareDatetime = Field(description="when it was checked (与原件核对一致)")
    purpose: str = Purpose
    case_no: str = CaseNo
    valid_until: dt.date | None = Field(
        default=None,
        description="the document's own expiry (e.g. a 身份证's 有效期限): required for types "
        "usable until the document's date",
    )


class MaterialOut(BaseModel):
    """A material as its holder and authorized departments see it."""

    id: str = Field(description="the material's id: random, opaque (m_ and 22 characters)")
    type_code: str
    type_name: str
    media_type: Literal["image/jpeg", "image/png", "application/pdf"] = Field(
        description="what the window handed in (the vault serves it sealed, as a PDF)"
    )
    state: Literal["usable", "expired", "superseded", "withdrawn"]
    usable_until: dt.date = Field(description="last day (in China) it may be used")
    department: str = Field(description="the receiving department (窗口) that checked it")
    clerk: str = Field(description="核验人")
    checked_at: dt.datetime
    purpose: str
    case_no: str = Field(description="the case it was deposited in")
    sha256: str = Field(description="SHA-256 of the sealed PDF the vault serves")
    source_sha256: str = Field(description="SHA-256 of the bytes the window handed in")
    deposited_at: dt.datetime


class DepositOut(BaseModel):
    created: bool = Field(description="false: the same bytes were deposited before")
    material: MaterialOut


class MaterialList(BaseModel):
    materials: list[MaterialOut]


class MaterialSearchIn(_Strict):
    holder_id: HolderId
    holder_id_type: HolderIdType | None = None
    purpose: str = Purpose
    case_no: str = CaseNo
    type_codes: list[str] = Field(
        default_factory=list, max_length=50, description="material codes needed; empty: any"
    )


class MaterialUseEntry(BaseModel):
    at: dt.datetime
    actor: str = Field(description="department, holder")
    department: str | None
    action: str = Field(
        description="material_deposit, material_search, material_read, material_withdraw, download"
    )
    outcome: Literal["allowed", "denied"]
    basis: str | None
    reason: str | None
    purpose: str | None
    case_no: str | None
    log_index: int | None = Field(description="leaf index in the transparency log")


class MaterialUsePage(BaseModel):
    entries: list[MaterialUseEntry]
    limit: int
    offset: int


class MaterialCopyOut(BaseModel):
    """A certified copy (加注件) of a material: the sealed deposit with the 加注 and QR code."""

    id: str = Field(description="random copy id (128 bits)")
    material_id: str
    purpose: str
    case_no: str | None
    made_at: dt.datetime
    expires_at: dt.datetime
    reused: bool = Field(description="true when an earlier copy for the same case was returned")
    verify_url: str = Field(description="public page the QR code points to")
    status_url: str
    download_url: str


class CaseLicenseOut(BaseModel):
    """A sealed license referenced as a material of the department's case (办件材料)."""

    id: str = Field(description="the reference's id (cl_...)")
    license_id: str
    license_version: int = Field(description="the version referenced: later ones do not change it")
    sha256: str = Field(description="SHA-256 of that version's sealed file")
    type_code: str
    type_name: str
    purpose: str
    case_no: str
    referenced_at: dt.datetime
    log_index: int | None = Field(description="the transparency-log leaf that recorded it")
    created: bool = Field(description="false: the same version was referenced in this case")


class CaseLicenseList(BaseModel):
    case_no: str
    licenses: list[CaseLicenseOut]


class CaseReferenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    purpose: str = Purpose
    case_no: str = CaseNo
