"""Holder identifiers: 公民身份号码 (GB 11643-1999) and 统一社会信用代码 (GB 32100-2015).

A 统一社会信用代码 embeds the holder's 组织机构代码 (GB 11714) in characters 9-17, whose
last character is a check of its own; GB 32100 requires both checks to hold.

Each is a ``str`` subclass that can only be built valid: ``CitizenId.parse(value)`` and
``CreditCode.parse(value)`` raise :class:`schemas.errors.InvalidValue` naming the rule that
failed. ``HolderId`` is the pydantic field type that accepts either, and :func:`mask` shows
a holder ID the way it may be displayed (110105********002X).
"""

from __future__ import annotations

import datetime as _dt
import enum
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, GetCoreSchemaHandler, WithJsonSchema
from pydantic_core import core_schema

from schemas.errors import InvalidValue

__all__ = [
    "CREDIT_CODE_ALPHABET",
    "CREDIT_CODE_JSON_SCHEMA",
    "HOLDER_ID_JSON_SCHEMA",
    "CitizenId",
    "CreditCode",
    "HolderId",
    "HolderIdType",
    "citizen_id_check_char",
    "credit_code_check_char",
    "mask",
    "organization_code_check_char",
    "parse_holder_id",
]

# GB 11643-1999: weights 2^(17-i) mod 11 and the check table indexed by sum mod 11.
_CITIZEN_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
_CITIZEN_CHECK = "10X98765432"

# GB 32100-2015: 31 characters (no I, O, Z, S, V), weights 3^i mod 31.
CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_VALUE = {c: i for i, c in enumerate(CREDIT_CODE_ALPHABET)}
_CREDIT_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))

# GB 11714-1997: 8 body characters (digits, or letters A-Z worth 10-35) and a check.
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_VALUE = {c: int(c) if c.isdigit() else ord(c) - ord("A") + 10 for c in _CREDIT_VALUE}


class HolderIdType(enum.StrEnum):
    """持证主体代码类型代码 (GB/T 36903)."""

    CITIZEN_ID = "111"  # 公民身份号码
    CREDIT_CODE = "001"  # 统一社会信用代码

    @property
    def label(self) -> str:
        return "公民身份号码" if self is HolderIdType.CITIZEN_ID else "统一社会信用代码"


def citizen_id_check_char(first17: str) -> str:
    """The GB 11643-1999 check character (ISO 7064 MOD 11-2) for 17 digits."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise InvalidValue("公民身份号码", "format", "the body must be 17 digits")
    total = sum(int(d) * w for d, w in zip(first17, _CITIZEN_WEIGHTS, strict=True))
    return _CITIZEN_CHECK[total % 11]


def credit_code_check_char(first17: str) -> str:
    """The GB 32100-2015 check character for the first 17 characters."""
    if len(first17) != 17 or any(c not in _CREDIT_VALUE for c in first17):
        raise InvalidValue(
            "统一社会信用代码",
            "alphabet",
            "the body must be 17 characters of " + CREDIT_CODE_ALPHABET,
        )
    total = sum(_CREDIT_VALUE[c] * w for c, w in zip(first17, _CREDIT_WEIGHTS, strict=True))
    return CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def organization_code_check_char(body8: str) -> str:
    """The GB 11714 check character of an 8-character 组织机构代码 body.

    C9 = 11 - (Σ value·weight mod 11) with weights 3 7 9 10 5 8 4 2; 10 is written X and
    11 is written 0.
    """
    if len(body8) != 8 or any(c not in _ORG_VALUE for c in body8):
        raise InvalidValue(
            "组织机构代码", "format", "the body must be 8 characters of " + CREDIT_CODE_ALPHABET
        )
    check = 11 - sum(_ORG_VALUE[c] * w for c, w in zip(body8, _ORG_WEIGHTS, strict=True)) % 11
    return {10: "X", 11: "0"}.get(check, str(check))


class _ValidatedStr(str):
    """A ``str`` that can only exist valid; pydantic validates through ``parse``."""

    kind: ClassVar[str]
    id_type: ClassVar[HolderIdType]

    @classmethod
    def parse(cls, value: str) -> _ValidatedStr:  # pragma: no cover - overridden
        raise NotImplementedError

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(
            cls.parse,
            core_schema.str_schema(strip_whitespace=True),
            serialization=core_schema.plain_serializer_function_ser_schema(str),
        )

    def masked(self) -> str:
        return mask(self)

    def __repr__(self) -> str:
        # Never show the clear number in a repr (it ends up in logs and tracebacks).
        return f"{type(self).__name__}({self.masked()!r})"


class CitizenId(_ValidatedStr):
    """公民身份号码 (GB 11643-1999): 6-digit address code, birth date, sequence, check."""

    kind = "公民身份号码"
    id_type = HolderIdType.CITIZEN_ID

    @classmethod
    def parse(cls, value: str) -> CitizenId:
        v = value.strip().upper()
        if len(v) != 18:
            raise InvalidValue(cls.kind, "length", f"must be 18 characters, got {len(v)}")
        body, check = v[:17], v[17]
        if not body.isascii() or not body.isdigit():
            raise InvalidValue(cls.kind, "format", "the first 17 characters must be digits")
        if check not in "0123456789X":
            raise InvalidValue(cls.kind, "format", "the last character must be a digit or X")
        if body[0] == "0":
            raise InvalidValue(cls.kind, "address", "the address code cannot start with 0")
        try:
            born = _dt.date(int(body[6:10]), int(body[10:12]), int(body[12:14]))
        except ValueError:
            raise InvalidValue(
                cls.kind, "birth_date", "characters 7-14 are not a real date of birth"
            ) from None
        if born.year < 1850 or born > _dt.date.today():
            raise InvalidValue(cls.kind, "birth_date", "the date of birth is out of range")
        expected = citizen_id_check_char(body)
        if check != expected:
            raise InvalidValue(cls.kind, "check", f"check character should be {expected}")
        return cls(v)

    @property
    def birth_date(self) -> _dt.date:
        return _dt.date(int(self[6:10]), int(self[10:12]), int(self[12:14]))


class CreditCode(_ValidatedStr):
    """统一社会信用代码 (GB 32100-2015): 18 characters of a 31-character alphabet.

    Characters 9-17 are the 组织机构代码 (GB 11714) with its own check character (17th).
    """

    kind = "统一社会信用代码"
    id_type = HolderIdType.CREDIT_CODE

    @classmethod
    def parse(cls, value: str) -> CreditCode:
        v = value.strip().upper()
        if len(v) != 18:
            raise InvalidValue(cls.kind, "length", f"must be 18 characters, got {len(v)}")
        bad = sorted({c for c in v if c not in _CREDIT_VALUE})
        if bad:
            raise InvalidValue(
                cls.kind,
                "alphabet",
                f"characters {''.join(bad)!r} are not allowed (alphabet {CREDIT_CODE_ALPHABET})",
            )
        if not v[2:8].isdigit():
            raise InvalidValue(
                cls.kind, "division", "characters 3-8 must be an administrative division code"
            )
        expected = credit_code_check_char(v[:17])
        if v[17] != expected:
            raise InvalidValue(cls.kind, "check", f"check character should be {expected}")
        org_check = organization_code_check_char(v[8:16])
        if v[16] != org_check:
            raise InvalidValue(
                cls.kind,
                "organization_code",
                "the embedded organization code (characters 9-17, GB 11714) fails its check: "
                f"character 17 should be {org_check}",
            )
        return cls(v)


def parse_holder_id(
    value: str, id_type: HolderIdType | str | None = None
) -> CitizenId | CreditCode:
    """Parse a holder ID of the given type, or guess the type from its shape.

    An 18-character value whose first 17 characters are digits is read as a 公民身份号码
    when it has a valid check under GB 11643, otherwise as a 统一社会信用代码.
    """
    if id_type is not None:
        kind = HolderIdType(id_type)
        return (
            CitizenId.parse(value) if kind is HolderIdType.CITIZEN_ID else CreditCode.parse(value)
        )
    v = value.strip().upper()
    if v[:17].isdigit() and len(v) == 18:
        try:
            return CitizenId.parse(v)
        except InvalidValue as citizen_error:
            try:
                return CreditCode.parse(v)
            except InvalidValue:
                raise citizen_error from None
    return CreditCode.parse(v)


def mask(value: str) -> str:
    """Mask a holder ID for display: first 6 and last 4 kept (110105********002X)."""
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def _parse_any(value: str) -> str:
    return parse_holder_id(value)


#: The JSON Schema of a holder ID: the shape a schema can say (18 letters or digits, spaces
#: around and lowercase allowed, as parsing normalizes them); ``format: holder-id`` names
#: the check algorithms it cannot (GB 11643, GB 32100 with GB 11714).
HOLDER_ID_JSON_SCHEMA = {
    "type": "string",
    "format": "holder-id",
    "pattern": r"^\s*[0-9A-Za-z]{18}\s*$",
    "description": "公民身份号码 (GB 11643) or 统一社会信用代码 (GB 32100), check characters right",
}

#: The JSON Schema of a 统一社会信用代码 given as a plain string (``format: credit-code``).
CREDIT_CODE_JSON_SCHEMA = {
    "type": "string",
    "format": "credit-code",
    "pattern": r"^\s*[0-9A-Za-z]{18}\s*$",
    "description": "统一社会信用代码 (GB 32100, with the GB 11714 check of characters 9-17)",
}

#: A pydantic field type: a valid 公民身份号码 or 统一社会信用代码 (the instance is one of them).
HolderId = Annotated[str, AfterValidator(_parse_any), WithJsonSchema(HOLDER_ID_JSON_SCHEMA)]
