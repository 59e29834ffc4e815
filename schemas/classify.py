"""Tell what an identifier is and whether it is valid: the engine of ``evault id check``."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from schemas.errors import InvalidValue
from schemas.identifiers import CitizenId, CreditCode, mask
from schemas.license_id import LICENSE_ID_ROOT, parse_license_id

__all__ = ["IdCheck", "classify_identifier"]


class IdCheck(BaseModel):
    """The verdict on one value. ``value`` is masked when it is a holder ID."""

    model_config = ConfigDict(frozen=True)

    value: str
    kind: str | None  # 公民身份号码, 统一社会信用代码, 电子证照标识, or None if unrecognised
    valid: bool
    reasons: list[str]


def classify_identifier(raw: str) -> IdCheck:
    """Classify ``raw`` by shape, then check it by its own algorithm."""
    value = raw.strip().upper()
    if value.startswith(LICENSE_ID_ROOT[:6]):
        try:
            lid = parse_license_id(value)
        except InvalidValue as exc:
            return IdCheck(value=value, kind=exc.kind, valid=False, reasons=[exc.message])
        return IdCheck(
            value=value, kind="电子证照标识", valid=lid.check_ok, reasons=list(lid.findings)
        )
    if len(value) == 18 and value[:17].isdigit():
        # Digits only: a 公民身份号码 shape, unless it happens to be a valid 统一社会信用代码.
        try:
            CitizenId.parse(value)
            return IdCheck(value=mask(value), kind=CitizenId.kind, valid=True, reasons=[])
        except InvalidValue as citizen_error:
            try:
                CreditCode.parse(value)
                return IdCheck(value=mask(value), kind=CreditCode.kind, valid=True, reasons=[])
            except InvalidValue:
                return IdCheck(
                    value=mask(value),
                    kind=CitizenId.kind,
                    valid=False,
                    reasons=[citizen_error.message],
                )
    if len(value) == 18:
        try:
            CreditCode.parse(value)
            return IdCheck(value=mask(value), kind=CreditCode.kind, valid=True, reasons=[])
        except InvalidValue as exc:
            return IdCheck(
                value=mask(value), kind=CreditCode.kind, valid=False, reasons=[exc.message]
            )
    return IdCheck(
        value=mask(value),
        kind=None,
        valid=False,
        reasons=[
            f"not recognised: {len(value)} characters; a 公民身份号码 or 统一社会信用代码 has 18, "
            f"an 电子证照标识 starts with {LICENSE_ID_ROOT}"
        ],
    )
