"""Wire models of the API (pydantic, pure): requests and responses of every route."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from api.agent_models import PersonOut
from schemas.identifiers import CREDIT_CODE_JSON_SCHEMA, HolderId, HolderIdType
from schemas.license import TYPE_CODE_PATTERN
from schemas.report import VerificationReport
from schemas.views import CopyStatusOut, DepartmentOut, GrantOut, LicenseOut

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
