"""The vault's credential key: ES256 (ECDSA P-256 with SHA-256), its own key.

It signs SD-JWT VCs and status list tokens and nothing else (not the seal, not the log,
not API tokens). Its public half is published as a JWK in the issuer's JWKS
(``/.well-known/jwt-vc-issuer``) and in the trust bundle (``credential_keys``). The key ID
is the RFC 7638 thumbprint of the public JWK.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwcrypto import jwk

from signing.errors import CredentialError, KeySourceError

__all__ = ["CredentialKey", "public_jwk"]


def public_jwk(value: dict[str, Any]) -> jwk.JWK:
    """A P-256 public key from a JWK object; anything else raises :class:`CredentialError`."""
    if not isinstance(value, dict):
        raise CredentialError("a JWK must be a JSON object")
    if value.get("kty") != "EC" or value.get("crv") != "P-256":
        raise CredentialError("only P-256 EC keys (ES256) are accepted")
    if "d" in value:
        raise CredentialError("a public JWK must not carry the private key (d)")
    try:
        key = jwk.JWK(**{k: value[k] for k in ("kty", "crv", "x", "y")})
    except (KeyError, ValueError, TypeError, jwk.InvalidJWKValue) as exc:
        raise CredentialError(f"not a usable P-256 JWK: {exc}") from None
    return key


@dataclass(frozen=True)
class CredentialKey:
    """The private ES256 key and its JWK forms."""

    private: ec.EllipticCurvePrivateKey = field(repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.private.curve, ec.SECP256R1):
            raise KeySourceError("the credential key must be an EC P-256 key (ES256)")

    @classmethod
    def generate(cls) -> CredentialKey:
        return cls(ec.generate_private_key(ec.SECP256R1()))

    @classmethod
    def from_pem(cls, data: bytes) -> CredentialKey:
        """Load an unencrypted PEM (PKCS#8 or SEC 1) P-256 private key."""
        try:
            key = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
            raise KeySourceError(f"not an unencrypted PEM private key: {exc}") from None
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise KeySourceError("the credential key must be an EC P-256 key (ES256)")
        return cls(key)

    def private_pem(self) -> bytes:
        return self.private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    @property
    def jwk(self) -> jwk.JWK:
        """The private key as a jwcrypto JWK (what the SD-JWT issuer signs with)."""
        key = jwk.JWK.from_pyca(self.private)
        key.update({"kid": self.kid})
        return key

    @property
    def kid(self) -> str:
        return str(jwk.JWK.from_pyca(self.private.public_key()).thumbprint())

    def public_jwk(self) -> dict[str, Any]:
        """The public JWK as published (``kid``, ``alg: ES256``, ``use: sig``)."""
        value: dict[str, Any] = jwk.JWK.from_pyca(self.private.public_key()).export_public(
            as_dict=True
        )
        return {**value, "kid": self.kid, "alg": "ES256", "use": "sig"}
