"""电子证照标识 (GB/T 36904): parse, check and build license identifiers.

Form: ``1.2.156.3005.2.<证照类型代码>.<颁发机构代码>.<流水号>.<版本号>.<校验位>``; the check
character is ISO/IEC 7064 MOD 37,36 over the segments after the root with the dots removed.

Some deployed systems compute the check character differently, so :func:`parse_license_id`
returns the identifier with a *finding* for a wrong check character instead of refusing it;
:meth:`LicenseId.parse` (strict) refuses it.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from schemas.errors import InvalidValue

__all__ = ["LICENSE_ID_ROOT", "LicenseId", "mod37_36_check_char", "parse_license_id"]

LICENSE_ID_ROOT = "1.2.156.3005.2"
_KIND = "电子证照标识"
_ALNUM36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_VALUE36 = {c: i for i, c in enumerate(_ALNUM36)}
_SEGMENT = re.compile(r"[0-9A-Z]+")


def mod37_36_check_char(data: str) -> str:
    """ISO/IEC 7064 MOD 37,36 (hybrid) check character over ``data`` (0-9, A-Z)."""
    m = 36
    p = m
    for c in data.upper():
        if c not in _VALUE36:
            raise InvalidValue(_KIND, "alphabet", f"character {c!r} is not 0-9 or A-Z")
        s = (p + _VALUE36[c]) % m or m
        p = (s * 2) % (m + 1)
    return _ALNUM36[(m + 1 - p) % m]


class LicenseId(NamedTuple):
    """A parsed 电子证照标识. ``check_ok`` is False when the check character is wrong."""

    type_code: str  # 证照类型代码
    issuer_code: str  # 颁发机构代码 (统一社会信用代码 of the issuer)
    serial: str  # 流水号
    version: str  # 版本号, 3 digits
    check: str  # 校验位 as written
    check_ok: bool

    @property
    def expected_check(self) -> str:
        return mod37_36_check_char(self.type_code + self.issuer_code + self.serial + self.version)

    @property
    def findings(self) -> tuple[str, ...]:
        if self.check_ok:
            return ()
        return (f"check character should be {self.expected_check} (ISO/IEC 7064 MOD 37,36)",)

    def __str__(self) -> str:
        return ".".join(
            (
                LICENSE_ID_ROOT,
                self.type_code,
                self.issuer_code,
                self.serial,
                self.version,
                self.check,
            )
        )

    @classmethod
    def build(
        cls, *, type_code: str, issuer_code: str, serial: str, version: int | str
    ) -> LicenseId:
        """Build an identifier with the check character computed."""
        ver = f"{int(version):03d}" if isinstance(version, int) else version
        body = ".".join((LICENSE_ID_ROOT, type_code, issuer_code, serial, ver))
        parsed = parse_license_id(body + ".0")
        return parsed._replace(check=parsed.expected_check, check_ok=True)

    @classmethod
    def parse(cls, value: str) -> LicenseId:
        """Strict parse: a wrong check character is refused."""
        parsed = parse_license_id(value)
        if not parsed.check_ok:
            raise InvalidValue(_KIND, "check", parsed.findings[0])
        return parsed


def parse_license_id(value: str) -> LicenseId:
    """Parse an identifier; structure errors raise, a wrong check character is a finding."""
    v = value.strip().upper()
    root = LICENSE_ID_ROOT + "."
    if not v.startswith(root):
        raise InvalidValue(_KIND, "root", f"must start with {LICENSE_ID_ROOT}")
    parts = v[len(root) :].split(".")
    if len(parts) != 5:
        raise InvalidValue(
            _KIND,
            "segments",
            "must have 5 segments after the root (type, issuer, serial, version, check), "
            f"got {len(parts)}",
        )
    type_code, issuer_code, serial, version, check = parts
    for name, seg in (
        ("证照类型代码", type_code),
        ("颁发机构代码", issuer_code),
        ("流水号", serial),
    ):
        if not _SEGMENT.fullmatch(seg):
            raise InvalidValue(_KIND, "alphabet", f"{name} must be digits and capital letters")
    if len(type_code) != 21:
        raise InvalidValue(
            _KIND, "type_code", f"证照类型代码 must be 21 characters, got {len(type_code)}"
        )
    if len(issuer_code) != 18:
        raise InvalidValue(
            _KIND, "issuer_code", f"颁发机构代码 must be 18 characters, got {len(issuer_code)}"
        )
    if not (len(version) == 3 and version.isdigit()):
        raise InvalidValue(_KIND, "version", "版本号 must be 3 digits")
    if len(check) != 1 or check not in _VALUE36:
        raise InvalidValue(_KIND, "check", "校验位 must be one character 0-9 or A-Z")
    expected = mod37_36_check_char(type_code + issuer_code + serial + version)
    return LicenseId(type_code, issuer_code, serial, version, check, check == expected)
