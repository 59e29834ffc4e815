"""Wire models of the API (pydantic, pure): requests and responses of every route."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from api.agent_models import PersonOut
from schemas.identifiers import CREDIT_CODE_JSON_SCHEMA, HolderId, HolderIdType
from schemas.license import TYPE_CODE_PATTERN
from schemas.report import FileFormat, VerificationReport

__all__ = [
    "AccessLogEntry",
    "AccessLogPage",
    "CopyOut",
    "CopyRequest",
    "CopyStatusOut",
    "DepartmentOut",
    "GrantIn",
    "GrantOut",
    "HolderCopyRequest",
    "IntakeOut",
    "LicenseList",
    "LicenseOut",
    "SearchIn",
    "StatusChangeIn",
    "StatusChangeOut",
]

Purpose = Field(min_length=1, max_length=120, description="申请事由: why the license is used")
CaseNo = Field(min_length=1, max_length=100, description="办件编号: the application case")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class LicenseOut(BaseModel):
    """A license as its holder and authorized departments see it (holder ID masked)."""

    id: str = Field(description="the license's id: random, opaque (l_ and 22 characters)")
    identifier: str | None = Field(description="电子证照标识 (GB/T 36904) of the current version")
    version: int = Field(description="current version (版本号)")
    name: str = Field(description="证照名称")
    type_code: str = Field(description="证照类型代码")
    type_name: str
    number: str = Field(description="证照编号")
    issuer_name: str = Field(description="颁发机构")
    issuer_code: str = Field(description="颁发机构代码")
    issue_date: dt.date
    valid_from: dt.date | None
    valid_until: dt.date | None = Field(description="有效期截止; null: 长期")
    holder_name: str = Field(description="持证主体")
    holder_id_masked: str = Field(description="持证主体代码, masked")
    holder_id_type: HolderIdType
    status: str = Field(description="证照状态: 有效, 暂扣, 撤销, 注销, 吊销, 失效")
    status_en: str = Field(description="the status in English: valid, suspended, ...")
    sha256: str = Field(description="SHA-256 of the current version's sealed file")
    file_format: FileFormat = Field(
        description="the sealed file's format: PDF (PAdES seal) or OFD (GB/T 38540 SM2 seal)"
    )
    updated_at: dt.datetime


class LicenseList(BaseModel):
    licenses: list[LicenseOut]


class IntakeOut(BaseModel):
    """What a push did; ``created`` is false for an identical push."""

    created: bool
    license: LicenseOut
    identifier: str | None
    version: int
    findings: list[str] = Field(description="remarks that did not refuse the push")
    report: VerificationReport


#: The statuses an issuer may set: the Chinese value or the English name (either case);
#: 失效 is computed from 有效期截止, never set.
SettableStatus = Literal[
    "有效", "暂扣", "撤销", "注销", "吊销",
    "valid", "suspended", "withdrawn", "cancelled", "revoked",
    "VALID", "SUSPENDED", "WITHDRAWN", "CANCELLED", "REVOKED",
]  # fmt: skip


class StatusChangeIn(_Strict):
    status: SettableStatus = Field(description="有效, 暂扣, 撤销, 注销, 吊销 (or English)")
    reason: str = Field(min_length=1, max_length=500)


class StatusChangeOut(BaseModel):
    license_id: str
    from_status: str
    to_status: str
    reason: str
    changed_at: dt.datetime


class SearchIn(_Strict):
    """A department's search: the holder ID travels in the body, never in the URL."""

    holder_id: HolderId = Field(description="公民身份号码 or 统一社会信用代码")
    holder_id_type: HolderIdType | None = None
    type_code: str | None = Field(default=None, pattern=TYPE_CODE_PATTERN)
    purpose: str = Purpose
    case_no: str = CaseNo
    share_code: str | None = Field(
        default=None, max_length=20, description="a one-time share code the holder gave"
    )


class CopyRequest(_Strict):
    purpose: str = Purpose
    case_no: str = CaseNo
    valid_days: int | None = Field(default=None, ge=1, le=3660, description="default 30")


class HolderCopyRequest(_Strict):
    purpose: str = Purpose
    case_no: str | None = Field(default=None, max_length=100)
    recipient: str | None = Field(
        default=None, max_length=100, description="who the copy is for (default: 持证主体本人)"
    )
    valid_days: int | None = Field(default=None, ge=1, le=3660)


class CopyOut(BaseModel):
    id: str = Field(description="random copy id (128 bits)")
    license_id: str
    license_version: int
    purpose: str
    case_no: str | None
    made_at: dt.datetime
    expires_at: dt.datetime
    reused: bool = Field(description="true when an earlier copy for the same case was returned")
    verify_url: str = Field(description="public page the QR code points to")
    status_url: str
    download_url: str


class CopyStatusOut(BaseModel):
    """The online status of a certified copy (no login; holder ID masked)."""

    id: str
    state: Literal["valid", "expired", "license_invalid"]
    valid: bool
    reasons: list[str]
    made_at: dt.datetime
    expires_at: dt.datetime
    license_status: str
    superseded: bool
    license_name: str
    license_type_code: str
    license_type_name: str
    license_identifier: str | None
    license_version: int
    issuer_name: str
    holder_masked: str
    department_name: str | None
    purpose: str
    sha256: str = Field(description="SHA-256 of the copy's file, to compare with one in hand")


class DepartmentOut(BaseModel):
    id: int
    name: str
    credit_code: str


class GrantIn(_Strict):
    """Consent to a department (``kind=consent``) or a one-time share code."""

    kind: Literal["consent", "share_code"] = "consent"
    department_code: Annotated[str, WithJsonSchema(CREDIT_CODE_JSON_SCHEMA)] | None = Field(
        default=None, description="统一社会信用代码 of the using department (consent only)"
    )
    license_types: list[str] = Field(
        default_factory=list, max_length=50, description="证照类型代码; empty: all types"
    )
    purpose: str | None = Field(default=None, max_length=120)
    expires_at: dt.datetime | None = Field(
        default=None, description="default: 30 days (consent), 1 hour (share code)"
    )
    uses: int | None = Field(default=None, ge=1, le=1000, description="cases (办件); null: any")


class GrantOut(BaseModel):
    id: str
    kind: Literal["consent", "share_code"]
    department: DepartmentOut | None
    license_types: list[str]
    purpose: str | None
    uses_allowed: int | None
    uses: int
    created_at: dt.datetime
    expires_at: dt.datetime
    revoked_at: dt.datetime | None
    active: bool
    share_code: str | None = Field(
        default=None, description="the one-time code: shown only in the answer that creates it"
    )


class GrantList(BaseModel):
    grants: list[GrantOut]


class AccessLogEntry(BaseModel):
    at: dt.datetime
    actor: str = Field(description="department, holder")
    department: str | None
    action: str = Field(
        description="search, read, fields, download, copy, share_redeem, grant, ..."
    )
    outcome: Literal["allowed", "denied"]
    basis: str | None = Field(description="standing_permission, consent, share_code, owner")
    license_id: str | None
    copy_id: str | None
    material_id: str | None = Field(default=None, description="the material (电子材料), if any")
    purpose: str | None
    case_no: str | None
    log_index: int | None = Field(description="leaf index in the transparency log")
    acted_by: PersonOut | None = Field(
        default=None,
        description="the person (legal representative or agent) who acted for the company",
    )


class AccessLogPage(BaseModel):
    entries: list[AccessLogEntry]
    limit: int
    offset: int
