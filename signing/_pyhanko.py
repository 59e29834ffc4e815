"""Internal adapters between cryptography objects and pyHanko / asn1crypto.

pyHanko's ``SimpleSigner`` re-parses its private key on every signature; :class:`KeyedSigner`
holds a parsed ``cryptography`` key instead, so a key is parsed once per process.
"""

from __future__ import annotations

from collections.abc import Iterable

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from pyhanko.sign.signers.pdf_cms import Signer
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

__all__ = ["KeyedSigner", "PrivateKey", "to_asn1", "to_asn1_all"]

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
"""Private keys a local key source can hold."""

_ECDSA_MAX_DER = {256: 72, 384: 104, 521: 139}


def to_asn1(certificate: x509.Certificate) -> asn1_x509.Certificate:
    """The asn1crypto form of a cryptography certificate (what pyHanko takes)."""
    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


def to_asn1_all(certificates: Iterable[x509.Certificate]) -> list[asn1_x509.Certificate]:
    return [to_asn1(c) for c in certificates]


class KeyedSigner(Signer):
    """A pyHanko ``Signer`` over an already parsed private key (ECDSA or RSA PKCS#1 v1.5)."""

    def __init__(
        self,
        *,
        private_key: PrivateKey,
        certificate: x509.Certificate,
        chain: Iterable[x509.Certificate],
        embed_roots: bool = True,
    ) -> None:
        registry = SimpleCertificateStore.from_certs(to_asn1_all(chain))
        super().__init__(
            signing_cert=to_asn1(certificate),
            cert_registry=registry,
            embed_roots=embed_roots,
        )
        self._private_key = private_key

    async def async_sign_raw(
        self, data: bytes, digest_algorithm: str, dry_run: bool = False
    ) -> bytes:
        key = self._private_key
        if dry_run:
            if isinstance(key, ec.EllipticCurvePrivateKey):
                return bytes(_ECDSA_MAX_DER.get(key.curve.key_size, 139))
            return bytes(key.key_size // 8)
        hash_algo = get_pyca_cryptography_hash(digest_algorithm)
        if isinstance(key, ec.EllipticCurvePrivateKey):
            return key.sign(data, ec.ECDSA(hash_algo))
        return key.sign(data, padding.PKCS1v15(), hash_algo)
