"""License metadata after GB/T 36903, and license status values."""

from __future__ import annotations

import datetime as dt
import enum
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from schemas.identifiers import CreditCode, HolderIdType, parse_holder_id
from schemas.license_id import parse_license_id

__all__ = ["TYPE_CODE_PATTERN", "LicenseMetadata", "LicenseStatus"]

#: 证照类型代码: 21 characters, digits and capital letters (GB/T 36904).
TYPE_CODE_PATTERN = r"^[0-9A-Z]{21}$"


class LicenseStatus(enum.StrEnum):
    """证照状态."""

    VALID = "有效"
    SUSPENDED = "暂扣"
    WITHDRAWN = "撤销"
    CANCELLED = "注销"
    REVOKED = "吊销"
    EXPIRED = "失效"

    @property
    def english(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, value: str) -> LicenseStatus:
        """Accept the Chinese value or the English name (valid, suspended, ...)."""
        for member in cls:
            if value in (member.value, member.name, member.name.lower()):
                return member
        allowed = ", ".join(f"{m.value} ({m.name.lower()})" for m in cls)
        raise ValueError(f"证照状态 {value!r} is not one of {allowed}")


class LicenseMetadata(BaseModel):
    """What an issuing department says about a license it pushes (GB/T 36903 core fields).

    The holder ID is checked by its own algorithm; ``license_identifier`` (证照标识) is
    checked for structure and a wrong check character is kept as a finding, not refused.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200, description="证照名称")
    type_code: str = Field(pattern=TYPE_CODE_PATTERN, description="证照类型代码")
    number: str = Field(min_length=1, max_length=100, description="证照编号")
    license_identifier: str | None = Field(default=None, description="证照标识 (GB/T 36904)")
    issuer_name: str = Field(min_length=1, max_length=200, description="颁发机构")
    issuer_code: CreditCode = Field(description="颁发机构代码 (统一社会信用代码)")
    issue_date: dt.date = Field(description="颁发日期")
    holder_name: str = Field(min_length=1, max_length=200, description="持证主体")
    holder_id: str = Field(description="持证主体代码", repr=False)
    holder_id_type: HolderIdType = Field(description="持证主体代码类型代码: 111 or 001")
    valid_from: dt.date | None = Field(default=None, description="有效期起始日期")
    valid_until: dt.date | None = Field(default=None, description="有效期截止日期; None: 长期")
    version: int = Field(default=1, ge=1, le=999, description="版本号")
    change_reason: str | None = Field(
        default=None,
        max_length=200,
        description="变更/换证: set when this supersedes an earlier version",
    )
    extra: dict[str, Any] = Field(
        default_factory=dict, description="typed fields of the license type"
    )

    @field_validator("number")
    @classmethod
    def _number_printable(cls, v: str) -> str:
        if not v.isprintable() or re.search(r"[\x00-\x1f]", v):
            raise ValueError("证照编号 must be printable text")
        return v

    @model_validator(mode="after")
    def _cross_checks(self) -> LicenseMetadata:
        parsed = parse_holder_id(self.holder_id, self.holder_id_type)
        object.__setattr__(self, "holder_id", parsed)
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            raise ValueError("有效期截止 is before 有效期起始")
        if self.license_identifier is not None:
            lid = parse_license_id(self.license_identifier)
            if lid.type_code != self.type_code:
                raise ValueError("证照标识's 证照类型代码 differs from type_code")
            if lid.issuer_code != self.issuer_code:
                raise ValueError("证照标识's 颁发机构代码 differs from issuer_code")
            if int(lid.version) != self.version:
                raise ValueError("证照标识's 版本号 differs from version")
        return self

    @property
    def identifier_findings(self) -> tuple[str, ...]:
        if self.license_identifier is None:
            return ()
        return parse_license_id(self.license_identifier).findings
