"""What the vault shows of its records, in the form the API answers them (pydantic, pure).

One definition each: the vault's queries (``vault.services.views``, ``copies.copy_status``)
build these views, the API's routes answer them as they are and its pages render them.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from schemas.identifiers import HolderIdType
from schemas.license import LicenseStatus
from schemas.report import FileFormat

__all__ = ["CopyState", "CopyStatusOut", "DepartmentOut", "GrantOut", "LicenseOut"]

#: A certified copy's state: usable, past its own expiry, or its license no longer usable.
CopyState = Literal["valid", "expired", "license_invalid"]


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


class CopyStatusOut(BaseModel):
    """The online status of a certified copy (no login; holder ID masked)."""

    id: str
    state: CopyState
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

    @property
    def license_status_english(self) -> str:
        """The license's status in English (``license_status`` is the Chinese value)."""
        return LicenseStatus(self.license_status).english


class DepartmentOut(BaseModel):
    id: int
    name: str
    credit_code: str


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
