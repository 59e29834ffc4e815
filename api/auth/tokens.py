"""Department access tokens (OAuth 2.0 client credentials -> a short-lived JWT).

Claims: ``iss`` "evault", ``aud`` "evault-api", ``sub`` the client id, ``dept`` the
department's id in the vault, ``scope`` space-separated, ``iat``/``exp`` (lifetime
``settings.token_ttl_seconds``, 15 minutes by default), ``jti``. Signed with Ed25519
(``alg: EdDSA``, header ``typ: at+jwt`` as in RFC 9068). The verifier accepts only that
algorithm, so an ``alg: none`` or HS256-with-the-public-key token is refused.

A verified token is remembered (per process, until its ``exp``, at most
:data:`VERIFIED_CACHE_SIZE` of them): a department's system sends the same token with
every call, and its signature need not be checked again each time.
"""

from __future__ import annotations

import datetime as dt
import secrets
import time
from dataclasses import dataclass

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from api.auth.keys import key_id
from api.errors import Unauthorized

__all__ = [
    "AUDIENCE",
    "ISSUER",
    "SCOPES",
    "DepartmentPrincipal",
    "DepartmentTokens",
]

ISSUER = "evault"
AUDIENCE = "evault-api"
#: How many verified tokens each process remembers.
VERIFIED_CACHE_SIZE = 4096
#: Every scope a department may hold.
SCOPES = ("licenses:issue", "licenses:use", "audit:read", "materials:deposit")


@dataclass(frozen=True)
class DepartmentPrincipal:
    """A department's system, authenticated by its access token."""

    client_id: str
    department_id: int
    scopes: frozenset[str]

    @property
    def label(self) -> str:
        return f"client:{self.client_id}"


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int
    scope: str


class DepartmentTokens:
    """Issues and verifies department access tokens with one key."""

    def __init__(self, key: Ed25519PrivateKey, *, ttl_seconds: int) -> None:
        self._key = key
        self._public = key.public_key()
        self._kid = key_id(key)
        self.ttl_seconds = ttl_seconds
        self._verified: dict[str, tuple[DepartmentPrincipal, float]] = {}

    def issue(self, *, client_id: str, department_id: int, scopes: frozenset[str]) -> IssuedToken:
        now = dt.datetime.now(dt.UTC)
        scope = " ".join(sorted(scopes))
        claims = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": client_id,
            "dept": department_id,
            "scope": scope,
            "iat": now,
            "nbf": now,
            "exp": now + dt.timedelta(seconds=self.ttl_seconds),
            "jti": secrets.token_urlsafe(12),
        }
        token = jwt.encode(
            claims, self._key, algorithm="EdDSA", headers={"typ": "at+jwt", "kid": self._kid}
        )
        return IssuedToken(token, self.ttl_seconds, scope)

    def verify(self, token: str) -> DepartmentPrincipal:
        known = self._verified.get(token)
        if known is not None and time.time() < known[1]:
            return known[0]
        principal, expires = self._verify(token)
        if len(self._verified) >= VERIFIED_CACHE_SIZE:
            self._verified.clear()
        self._verified[token] = (principal, expires)
        return principal

    def _verify(self, token: str) -> tuple[DepartmentPrincipal, float]:
        try:
            claims = jwt.decode(
                token,
                self._public,
                algorithms=["EdDSA"],
                audience=AUDIENCE,
                issuer=ISSUER,
                options={"require": ["exp", "iat", "sub", "aud", "iss"]},
                leeway=5,
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("the access token has expired") from None
        except jwt.PyJWTError:
            raise Unauthorized("the access token is not valid") from None
        dept = claims.get("dept")
        scope = claims.get("scope", "")
        if not isinstance(dept, int) or not isinstance(scope, str):
            raise Unauthorized("the access token is not a department token")
        principal = DepartmentPrincipal(
            client_id=str(claims["sub"]),
            department_id=dept,
            scopes=frozenset(s for s in scope.split() if s in SCOPES),
        )
        return principal, float(claims["exp"])
