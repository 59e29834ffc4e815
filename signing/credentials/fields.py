"""License field answers ("一张表"): the surface fields a department asked for, signed by
the vault's credential key as a compact JWS (``typ: license-fields+jwt``, ES256, via
``jwcrypto``) and checked offline against the trust bundle's ``credential_keys``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from jwcrypto import jwt

from signing.credentials.keys import CredentialKey, public_jwk
from signing.credentials.tokens import verified_jws
from signing.errors import CredentialError

__all__ = ["FIELDS_TYP", "FieldsAnswer", "read_fields_token", "sign_fields_token"]

FIELDS_TYP = "license-fields+jwt"


@dataclass(frozen=True)
class FieldsAnswer:
    """What a field answer says: which license, for whom and which case, and the values."""

    issuer: str
    license_id: str
    type_code: str
    department: str
    purpose: str
    case_no: str
    issued_at: dt.datetime
    fields: dict[str, str]
    status: str
    """The license's status (有效, 暂扣, 撤销, 注销, 吊销) when the answer was signed."""

    def claims(self) -> dict[str, Any]:
        return {
            "iss": self.issuer,
            "sub": self.license_id,
            "aud": self.department,
            "iat": int(self.issued_at.timestamp()),
            "license_type": self.type_code,
            "purpose": self.purpose,
            "case_no": self.case_no,
            "fields": dict(self.fields),
            "license_status": self.status,
        }


def sign_fields_token(*, key: CredentialKey, answer: FieldsAnswer) -> str:
    """The compact JWS of ``answer`` signed with the vault's credential key."""
    token = jwt.JWT(
        header={"alg": "ES256", "typ": FIELDS_TYP, "kid": key.kid},
        claims=answer.claims(),
    )
    token.make_signed_token(key.jwk)
    return str(token.serialize())


def _text(payload: Mapping[str, Any], claim: str) -> str:
    value = payload.get(claim)
    if not isinstance(value, str) or not value:
        raise CredentialError(f"the field answer has no {claim}")
    return value


def read_fields_token(text: str, *, trusted_keys: Sequence[Mapping[str, Any]]) -> FieldsAnswer:
    """Verify a field answer (typ, ES256 signature by a trusted credential key) and decode
    it; anything wrong raises :class:`CredentialError`."""

    def key_for(header: Mapping[str, Any]) -> Any:
        if header.get("typ") != FIELDS_TYP:
            raise CredentialError(f"typ is {header.get('typ')!r}, not {FIELDS_TYP!r}")
        for candidate in trusted_keys:
            if candidate.get("kid") == header.get("kid"):
                return public_jwk(dict(candidate))
        raise CredentialError("not signed by a trusted credential key (unknown kid)")

    _, payload = verified_jws(text, key_for)
    fields = payload.get("fields")
    if not isinstance(fields, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in fields.items()
    ):
        raise CredentialError("the field answer's fields are not an object of strings")
    issued = payload.get("iat")
    if not isinstance(issued, int) or isinstance(issued, bool):
        raise CredentialError("the field answer has no iat")
    return FieldsAnswer(
        issuer=_text(payload, "iss"),
        license_id=_text(payload, "sub"),
        type_code=_text(payload, "license_type"),
        department=_text(payload, "aud"),
        purpose=_text(payload, "purpose"),
        case_no=_text(payload, "case_no"),
        issued_at=dt.datetime.fromtimestamp(issued, dt.UTC),
        fields=dict(fields),
        status=_text(payload, "license_status"),
    )
