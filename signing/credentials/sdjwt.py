"""SD-JWT VCs (RFC 9901 + the SD-JWT VC draft): issue one, verify a presentation.

The SD-JWT mechanics are the IETF reference implementation's (``sd-jwt``, on ``jwcrypto``
for JOSE). It was written for the drafts; against RFC 9901 its verifier lacks some checks,
which :func:`verify_presentation` adds (see ``tests/signing/test_sd_jwt_rfc9901.py``):

- a Disclosure that no digest references is rejected (RFC 9901 7.1 step 5; the library
  ignores it);
- a Disclosure naming ``_sd`` or ``...`` is rejected (7.1 step 3.c.ii);
- the Key Binding JWT's ``iat`` must be recent and not in the future (7.3 step 5.b; the
  library does not read it), and a presentation without one is refused here (every
  credential of this vault is key-bound);
- the credential's ``exp``/``nbf`` (7.1 step 4, left as a TODO in the library);
- the issuer JWT's ``typ`` is ``dc+sd-jwt`` (SD-JWT VC) and its key is one of the trusted
  credential keys, found by ``kid``.

The answer is a :class:`PresentationCheck` (data), never an exception for a presentation that
does not verify; :class:`~signing.errors.CredentialError` is for bad arguments.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from jwcrypto import jwk, jws
from jwcrypto.common import JWException
from sd_jwt.common import SDObj
from sd_jwt.issuer import SDJWTIssuer
from sd_jwt.verifier import SDJWTVerifier

from signing.credentials.keys import CredentialKey, public_jwk
from signing.errors import CredentialError

__all__ = [
    "KB_MAX_AGE",
    "SD_JWT_VC_TYP",
    "PresentationCheck",
    "StatusReference",
    "issue_sd_jwt_vc",
    "verify_presentation",
]

SD_JWT_VC_TYP = "dc+sd-jwt"
_ACCEPTED_TYP = (SD_JWT_VC_TYP, "vc+sd-jwt")  # vc+sd-jwt: the SD-JWT VC drafts before -06
#: How old a Key Binding JWT may be (its ``iat``), and how far in the future (clock skew).
KB_MAX_AGE = dt.timedelta(minutes=5)
_SKEW = dt.timedelta(seconds=60)
_MAX_PRESENTATION = 256 * 1024
_ALWAYS_VISIBLE = frozenset({"_sd", "_sd_alg"})


@dataclass(frozen=True)
class StatusReference:
    """``status.status_list`` of a credential: where its status is and at which index."""

    idx: int
    uri: str


@dataclass(frozen=True)
class PresentationCheck:
    """What a verifier learns from a presentation (before the status list is consulted)."""

    valid: bool
    """The issuer signature, the Disclosures and the Key Binding JWT all verify."""
    problems: tuple[str, ...] = ()
    """Why not valid (empty when valid)."""
    disclosed: dict[str, Any] = field(default_factory=dict)
    """The selectively disclosable claims the holder disclosed, by name, and nothing else."""
    issuer: str | None = None
    vct: str | None = None
    issued_at: dt.datetime | None = None
    expires_at: dt.datetime | None = None
    status: StatusReference | None = None
    holder_key_thumbprint: str | None = None


def _b64hash(text: str) -> str:
    digest = hashlib.sha256(text.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def issue_sd_jwt_vc(
    *,
    key: CredentialKey,
    clear: Mapping[str, Any],
    disclosable: Mapping[str, Any],
    holder_jwk: Mapping[str, Any],
) -> str:
    """An SD-JWT VC (compact, ending in ``~``): ``clear`` claims in the issuer-signed JWT,
    each of ``disclosable`` as its own Disclosure, bound to ``holder_jwk`` (``cnf.jwk``),
    with decoy digests so the number of claims does not show."""
    holder = public_jwk(dict(holder_jwk))
    overlap = set(clear) & set(disclosable)
    if overlap:
        raise CredentialError(f"claims both clear and disclosable: {sorted(overlap)}")
    claims: dict[Any, Any] = dict(clear)
    claims.update({SDObj(name): value for name, value in disclosable.items()})
    issuer = SDJWTIssuer(
        claims,
        key.jwk,
        holder_key=holder,
        sign_alg="ES256",
        add_decoy_claims=True,
        extra_header_parameters={"typ": SD_JWT_VC_TYP, "kid": key.kid},
    )
    return str(issuer.sd_jwt_issuance)


class _Refused(Exception):
    """One reason a presentation does not verify (becomes a problem in the verdict)."""


def _when(value: Any, claim: str) -> dt.datetime | None:
    if value is None:
        return None
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise _Refused(f"{claim} is not a NumericDate")
    return dt.datetime.fromtimestamp(value, dt.UTC)


def _issuer_key(header: Mapping[str, Any], trusted: Sequence[Mapping[str, Any]]) -> jwk.JWK:
    if header.get("typ") not in _ACCEPTED_TYP:
        raise _Refused(f"the credential's typ is {header.get('typ')!r}, not {SD_JWT_VC_TYP!r}")
    if header.get("alg") != "ES256":
        raise _Refused(f"the credential is signed with {header.get('alg')!r}, not ES256")
    for candidate in trusted:
        if candidate.get("kid") == header.get("kid"):
            return public_jwk(dict(candidate))
    raise _Refused("the credential is not signed by a trusted credential key (unknown kid)")


def _referenced_digests(node: Any, decoded: Mapping[str, Any], found: set[str]) -> None:
    """Every digest reachable from ``node``, following disclosed values recursively."""
    if isinstance(node, dict):
        for digest in node.get("_sd", []) if isinstance(node.get("_sd"), list) else []:
            if isinstance(digest, str):
                found.add(digest)
                if digest in decoded:
                    _referenced_digests(decoded[digest][-1], decoded, found)
        if len(node) == 1 and isinstance(node.get("..."), str):
            found.add(node["..."])
            if node["..."] in decoded:
                _referenced_digests(decoded[node["..."]][-1], decoded, found)
        for name, value in node.items():
            if name not in ("_sd", "..."):
                _referenced_digests(value, decoded, found)
    elif isinstance(node, list):
        for item in node:
            _referenced_digests(item, decoded, found)


def _check_disclosures(verifier: Any) -> None:
    decoded: Mapping[str, Any] = verifier._hash_to_decoded_disclosure
    for value in decoded.values():
        if not isinstance(value, list) or len(value) not in (2, 3):
            raise _Refused("a Disclosure is not a JSON array of 2 or 3 elements")
        if len(value) == 3 and (not isinstance(value[1], str) or value[1] in ("_sd", "...")):
            raise _Refused(f"a Disclosure names the reserved claim {value[1]!r}")
    found: set[str] = set()
    _referenced_digests(verifier._sd_jwt_payload, decoded, found)
    stray = [d for d in decoded if d not in found]
    if stray:
        raise _Refused(f"{len(stray)} Disclosure(s) are not referenced by the credential")


def _key_binding(kb_jwt: str, cnf: Any, now: dt.datetime) -> str:
    """Check the KB-JWT's ``iat`` (the library checked signature, typ, aud, nonce, sd_hash);
    return the holder key's RFC 7638 thumbprint."""
    if not isinstance(cnf, dict) or not isinstance(cnf.get("jwk"), dict):
        raise _Refused("the credential is not bound to a key (no cnf.jwk)")
    holder = public_jwk(cnf["jwk"])
    token = jws.JWS()
    token.deserialize(kb_jwt)
    token.verify(holder, alg="ES256")
    payload = json.loads(token.payload)
    iat = _when(payload.get("iat"), "the Key Binding JWT's iat")
    if iat is None:
        raise _Refused("the Key Binding JWT has no iat")
    if iat > now + _SKEW:
        raise _Refused("the Key Binding JWT was made in the future (iat)")
    if now - iat > KB_MAX_AGE:
        raise _Refused(
            f"the Key Binding JWT is older than {int(KB_MAX_AGE.total_seconds())} s (iat)"
        )
    return str(holder.thumbprint())


def _status(payload: Mapping[str, Any]) -> StatusReference | None:
    status = payload.get("status")
    if status is None:
        return None
    ref = status.get("status_list") if isinstance(status, dict) else None
    if not isinstance(ref, dict):
        raise _Refused("status has no status_list")
    idx, uri = ref.get("idx"), ref.get("uri")
    if not isinstance(idx, int) or isinstance(idx, bool) or idx < 0 or not isinstance(uri, str):
        raise _Refused("status.status_list needs a non-negative integer idx and a string uri")
    return StatusReference(idx=idx, uri=uri)


def verify_presentation(
    presentation: str,
    *,
    trusted_keys: Sequence[Mapping[str, Any]],
    audience: str,
    nonce: str,
    now: dt.datetime,
) -> PresentationCheck:
    """Verify an SD-JWT+KB presentation for a verifier known as ``audience`` that gave
    ``nonce``; ``trusted_keys``: the credential keys' public JWKs (with ``kid``)."""
    if not audience or not nonce:
        raise CredentialError("a presentation is verified for an audience and a nonce")
    try:
        return _verify(presentation.strip(), trusted_keys, audience, nonce, now)
    except _Refused as exc:
        return PresentationCheck(valid=False, problems=(str(exc),))
    except CredentialError as exc:
        return PresentationCheck(valid=False, problems=(str(exc),))
    except (JWException, ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
        # The reference implementation raises these for anything it refuses (bad signature,
        # wrong aud/nonce/sd_hash, duplicate digests, malformed parts).
        return PresentationCheck(valid=False, problems=(f"{type(exc).__name__}: {exc}",))


def _verify(
    text: str,
    trusted: Sequence[Mapping[str, Any]],
    audience: str,
    nonce: str,
    now: dt.datetime,
) -> PresentationCheck:
    if len(text) > _MAX_PRESENTATION or not text.isascii():
        raise _Refused("not an SD-JWT presentation (too long, or not ASCII)")
    parts = text.split("~")
    if len(parts) < 2 or parts[0].count(".") != 2:
        raise _Refused("not an SD-JWT presentation (compact form: JWT~disclosures~KB-JWT)")
    if not parts[-1]:
        raise _Refused("the presentation has no Key Binding JWT")
    issuer_jws = jws.JWS()
    issuer_jws.deserialize(parts[0])
    key = _issuer_key(issuer_jws.jose_header, trusted)
    verifier = SDJWTVerifier(
        text, lambda _iss, _header: key, expected_aud=audience, expected_nonce=nonce
    )
    _check_disclosures(verifier)
    signed: dict[str, Any] = verifier._sd_jwt_payload
    thumbprint = _key_binding(parts[-1], signed.get("cnf"), now)
    claims = verifier.get_verified_payload()
    expires, not_before = _when(signed.get("exp"), "exp"), _when(signed.get("nbf"), "nbf")
    if expires is not None and now >= expires + _SKEW:
        raise _Refused(f"the credential expired at {expires.isoformat()}")
    if not_before is not None and now + _SKEW < not_before:
        raise _Refused(f"the credential is not valid before {not_before.isoformat()}")
    clear = {name for name in signed if name not in _ALWAYS_VISIBLE}
    return PresentationCheck(
        valid=True,
        disclosed={name: value for name, value in claims.items() if name not in clear},
        issuer=signed.get("iss") if isinstance(signed.get("iss"), str) else None,
        vct=signed.get("vct") if isinstance(signed.get("vct"), str) else None,
        issued_at=_when(signed.get("iat"), "iat"),
        expires_at=expires,
        status=_status(signed),
        holder_key_thumbprint=thumbprint,
    )
