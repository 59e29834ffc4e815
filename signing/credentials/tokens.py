"""The two other JWTs around a credential, signed and checked with ``jwcrypto``.

- The status list token (draft-ietf-oauth-status-list, ``typ: statuslist+jwt``): the
  issuer's signed status list, ``sub`` = the URI credentials name in ``status_list.uri``.
- The wallet's proof of possession (OpenID4VCI 1.0 Appendix F.1, ``typ:
  openid4vci-proof+jwt``): signed by the key the credential is to be bound to, carried in
  its ``jwk`` header, for the issuer as ``aud`` and with the issuer's ``nonce``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from jwcrypto import jws, jwt
from jwcrypto.common import JWException

from signing.credentials.keys import CredentialKey, public_jwk
from signing.credentials.status_list import StatusList
from signing.errors import CredentialError

__all__ = [
    "PROOF_TYP",
    "STATUS_LIST_TYP",
    "StatusListToken",
    "check_proof",
    "proof_nonce",
    "read_status_list_token",
    "sign_status_list_token",
    "verified_jws",
]

STATUS_LIST_TYP = "statuslist+jwt"
PROOF_TYP = "openid4vci-proof+jwt"
_SKEW = dt.timedelta(seconds=60)
_PROOF_MAX_AGE = dt.timedelta(minutes=5)
_MAX_JWT = 64 * 1024 * 1024


def _ts(moment: dt.datetime) -> int:
    return int(moment.timestamp())


def sign_status_list_token(
    *,
    key: CredentialKey,
    uri: str,
    issuer: str,
    status_list: StatusList,
    now: dt.datetime,
    ttl: int,
) -> str:
    """The signed status list token for the list at ``uri``, valid ``ttl`` seconds."""
    token = jwt.JWT(
        header={"alg": "ES256", "typ": STATUS_LIST_TYP, "kid": key.kid},
        claims={
            "iss": issuer,
            "sub": uri,
            "iat": _ts(now),
            "exp": _ts(now) + ttl,
            "ttl": ttl,
            "status_list": status_list.to_json(),
        },
    )
    token.make_signed_token(key.jwk)
    return str(token.serialize())


@dataclass(frozen=True)
class StatusListToken:
    """A verified status list token."""

    uri: str
    issued_at: dt.datetime
    expires_at: dt.datetime | None
    status_list: StatusList


def verified_jws(text: str, key_for: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    if len(text) > _MAX_JWT or text.count(".") != 2:
        raise CredentialError("not a compact JWS")
    token = jws.JWS()
    try:
        token.deserialize(text.strip())
        header: dict[str, Any] = dict(token.jose_header)
        token.verify(key_for(header), alg="ES256")
        payload = json.loads(token.payload)
    except (JWException, ValueError) as exc:
        raise CredentialError(f"signature does not verify: {exc}") from None
    if not isinstance(payload, dict):
        raise CredentialError("the JWT's payload is not a JSON object")
    return header, payload


def _time(payload: Mapping[str, Any], claim: str) -> dt.datetime | None:
    value = payload.get(claim)
    if value is None:
        return None
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise CredentialError(f"{claim} is not a NumericDate")
    return dt.datetime.fromtimestamp(value, dt.UTC)


def read_status_list_token(
    text: str, *, uri: str, trusted_keys: Sequence[Mapping[str, Any]], now: dt.datetime
) -> StatusListToken:
    """Verify a status list token for the list at ``uri`` (typ, signature by a trusted key,
    ``sub``, ``exp``) and decode its list; anything wrong raises :class:`CredentialError`."""

    def key_for(header: Mapping[str, Any]) -> Any:
        if header.get("typ") != STATUS_LIST_TYP:
            raise CredentialError(f"typ is {header.get('typ')!r}, not {STATUS_LIST_TYP!r}")
        for candidate in trusted_keys:
            if candidate.get("kid") == header.get("kid"):
                return public_jwk(dict(candidate))
        raise CredentialError("not signed by a trusted credential key (unknown kid)")

    _, payload = verified_jws(text, key_for)
    if payload.get("sub") != uri:
        raise CredentialError(f"the token is for {payload.get('sub')!r}, not {uri!r}")
    issued, expires = _time(payload, "iat"), _time(payload, "exp")
    if issued is None:
        raise CredentialError("the status list token has no iat")
    if expires is not None and now >= expires + _SKEW:
        raise CredentialError(f"the status list token expired at {expires.isoformat()}")
    return StatusListToken(
        uri=uri,
        issued_at=issued,
        expires_at=expires,
        status_list=StatusList.from_json(payload.get("status_list")),
    )


def check_proof(text: str, *, audience: str, nonce: str, now: dt.datetime) -> dict[str, Any]:
    """Check a wallet's ``openid4vci-proof+jwt`` (typ, ES256 over its own ``jwk`` header,
    ``aud``, ``nonce``, a recent ``iat``) and return that public JWK (without ``kid``)."""
    found: dict[str, Any] = {}

    def key_for(header: Mapping[str, Any]) -> Any:
        if header.get("typ") != PROOF_TYP:
            raise CredentialError(f"proof typ is {header.get('typ')!r}, not {PROOF_TYP!r}")
        if header.get("alg") != "ES256":
            raise CredentialError("the proof must be signed with ES256")
        if "kid" in header or "x5c" in header:
            raise CredentialError("the proof must carry its key as a jwk header (no kid, x5c)")
        key = public_jwk(header.get("jwk"))  # type: ignore[arg-type]
        found.update({k: header["jwk"][k] for k in ("kty", "crv", "x", "y")})
        return key

    _, payload = verified_jws(text, key_for)
    aud = payload.get("aud")
    if aud != audience and not (isinstance(aud, list) and audience in aud):
        raise CredentialError(f"the proof is for {aud!r}, not this issuer ({audience})")
    if payload.get("nonce") != nonce:
        raise CredentialError("the proof does not carry the nonce this issuer gave")
    iat = _time(payload, "iat")
    if iat is None or iat > now + _SKEW or now - iat > _PROOF_MAX_AGE:
        raise CredentialError("the proof's iat is missing, in the future, or over 5 minutes old")
    return found


def proof_nonce(text: str) -> str:
    """The ``nonce`` a proof JWT claims, read before its signature is checked (to find
    which nonce to check it against); :func:`check_proof` then verifies everything."""
    token = jws.JWS()
    try:
        token.deserialize(text.strip())
        payload = json.loads(token.objects["payload"])
    except (JWException, ValueError, KeyError) as exc:
        raise CredentialError(f"the proof is not a compact JWS: {exc}") from None
    nonce = payload.get("nonce") if isinstance(payload, dict) else None
    if not isinstance(nonce, str) or not nonce:
        raise CredentialError("the proof carries no nonce")
    return nonce
