"""Holder authentication: an OpenID Connect ID/access token that names the holder's ID number.

Production: the provider is configured by ``settings.oidc_issuer`` and ``settings.oidc_jwks_url``
(the national or provincial 统一身份认证); its keys are fetched and cached with
:class:`jwt.PyJWKClient`; ``aud`` must be ``settings.oidc_audience`` when that is set; the
claim ``settings.oidc_holder_claim`` (default ``id_number``) carries the 公民身份号码 or
统一社会信用代码, which is validated by its check algorithm.

Demo mode only: the vault is its own provider (issuer ``https://demo-oidc.evault.invalid``, key in
the data directory, JWKS at ``/demo/oidc/jwks.json``); ``evault dev-token --holder ID`` and the
demo login mint tokens. Outside demo mode none of that exists.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from starlette.concurrency import run_in_threadpool

from api.auth.keys import demo_idp_key, key_id
from api.errors import Unauthorized
from schemas.errors import InvalidValue
from schemas.identifiers import HolderIdType, mask, parse_holder_id
from vault.settings import Settings

__all__ = ["DEMO_AUDIENCE", "HolderAuthenticator", "HolderPrincipal", "demo_issuer"]

DEMO_AUDIENCE = "evault"
_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"]


#: The demo provider's ``iss``: fixed, so tokens from ``evault dev-token`` work whatever
#: host and port the demo serves on.
DEMO_ISSUER = "https://demo-oidc.evault.invalid"


def demo_issuer(settings: Settings) -> str:
    return DEMO_ISSUER


@dataclass(frozen=True)
class HolderPrincipal:
    """A citizen or company, authenticated by its provider's token. ``holder_id`` is secret."""

    holder_id: str = field(repr=False)
    holder_id_type: HolderIdType

    @property
    def masked(self) -> str:
        return mask(self.holder_id)

    @property
    def label(self) -> str:
        return "holder"


def _holder_from_claims(claims: dict[str, Any], claim: str) -> HolderPrincipal:
    value = claims.get(claim)
    if not isinstance(value, str):
        raise Unauthorized(f"the token has no {claim} claim")
    try:
        parsed = parse_holder_id(value)
    except InvalidValue:
        raise Unauthorized(f"the token's {claim} claim is not a valid holder ID") from None
    return HolderPrincipal(str(parsed), parsed.id_type)


class HolderAuthenticator:
    """Verifies holder tokens from the configured provider and, in demo mode, the demo one."""

    def __init__(self, settings: Settings) -> None:
        self.claim = settings.oidc_holder_claim
        self._jwks: jwt.PyJWKClient | None = None
        self._issuer = settings.oidc_issuer
        self._audience = settings.oidc_audience
        if settings.oidc_jwks_url:
            self._jwks = jwt.PyJWKClient(settings.oidc_jwks_url, cache_keys=True, lifespan=300)
        self._demo_key: Ed25519PrivateKey | None = None
        self._demo_issuer = demo_issuer(settings)
        if settings.is_demo:
            self._demo_key = demo_idp_key(settings)

    @property
    def configured(self) -> bool:
        return self._jwks is not None or self._demo_key is not None

    def mint_demo(self, holder_id: str, *, ttl_seconds: int = 12 * 3600) -> str:
        """A demo ID token for ``holder_id`` (demo mode only)."""
        if self._demo_key is None:
            raise Unauthorized("the demo identity provider exists only in demo mode")
        now = dt.datetime.now(dt.UTC)
        claims = {
            "iss": self._demo_issuer,
            "aud": DEMO_AUDIENCE,
            "sub": secrets.token_hex(8),
            self.claim: holder_id,
            "iat": now,
            "exp": now + dt.timedelta(seconds=ttl_seconds),
        }
        return jwt.encode(
            claims, self._demo_key, algorithm="EdDSA", headers={"kid": key_id(self._demo_key)}
        )

    async def authenticate(self, token: str) -> HolderPrincipal:
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise Unauthorized("the holder token is not a JWT") from None
        if self._demo_key is not None and unverified.get("iss") == self._demo_issuer:
            claims = self._decode(
                token, self._demo_key.public_key(), ["EdDSA"], self._demo_issuer, DEMO_AUDIENCE
            )
            return _holder_from_claims(claims, self.claim)
        if self._jwks is None:
            raise Unauthorized("holder login is not configured on this vault")
        jwks = self._jwks
        try:
            signing_key = await run_in_threadpool(jwks.get_signing_key_from_jwt, token)
        except jwt.PyJWKClientError:
            raise Unauthorized("the holder token's key is not known to the provider") from None
        except jwt.PyJWTError:
            raise Unauthorized("the holder token is not valid") from None
        alg = header.get("alg")
        if alg not in _ALGORITHMS:
            raise Unauthorized("the holder token's algorithm is not accepted")
        claims = self._decode(token, signing_key.key, [alg], self._issuer, self._audience)
        return _holder_from_claims(claims, self.claim)

    @staticmethod
    def _decode(
        token: str, key: Any, algorithms: list[str], issuer: str | None, audience: str | None
    ) -> dict[str, Any]:
        options: Any = {"require": ["exp", "iat"], "verify_aud": audience is not None}
        try:
            return jwt.decode(
                token,
                key,
                algorithms=algorithms,
                issuer=issuer,
                audience=audience,
                options=options,
                leeway=30,
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("the holder token has expired") from None
        except jwt.PyJWTError:
            raise Unauthorized("the holder token is not valid") from None
