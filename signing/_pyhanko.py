"""Internal adapters between cryptography objects and pyHanko / asn1crypto.

pyHanko's ``SimpleSigner`` re-parses its private key on every signature; :class:`KeyedSigner`
holds a parsed ``cryptography`` key instead, so a key is parsed once per process.

For the common case (a PAdES signature with SHA-256) :class:`KeyedSigner` also writes the
CMS ``SignedData`` itself from parts encoded once (certificates, signer identifier, ESS
signing-certificate-v2 attribute): asn1crypto deep-copies and re-serialises certificates
each time they are put into a new structure, which was most of the cost of a seal. The
result has the same content as pyHanko's (content-type, message-digest and
signing-certificate-v2 signed attributes; an optional signature timestamp token), and
every other case is left to pyHanko.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from asn1crypto import algos, cms, core
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from pyhanko.sign.general import as_signing_certificate_v2, simple_cms_attribute
from pyhanko.sign.signers.pdf_cms import Signer
from pyhanko.sign.timestamps.api import TimeStamper
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

from signing.der import (
    der_attribute,
    der_oid,
    der_tlv,
    signed_data_content_info,
    signer_info,
)

__all__ = [
    "KeyedSigner",
    "PrivateKey",
    "to_asn1",
    "to_asn1_all",
]

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
"""Private keys a local key source can hold."""

_ECDSA_MAX_DER = {256: 72, 384: 104, 521: 139}


_SHA256 = bytes(algos.DigestAlgorithm({"algorithm": "sha256"}).dump())
_ECDSA_SHA256 = bytes(algos.SignedDigestAlgorithm({"algorithm": "sha256_ecdsa"}).dump())
_RSA_PKCS1 = bytes(algos.SignedDigestAlgorithm({"algorithm": "rsassa_pkcs1v15"}).dump())
_DATA_CONTENT = der_tlv(0x30, der_oid("1.2.840.113549.1.7.1"))
_MESSAGE_DIGEST_OID = der_oid("1.2.840.113549.1.9.4")
_SIGNATURE_TIMESTAMP_OID = der_oid("1.2.840.113549.1.9.16.2.14")
_CONTENT_TYPE_DATA = bytes(simple_cms_attribute("content_type", "data").dump())


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
        # The parts of every PAdES CMS that do not change, encoded once.
        leaf = to_asn1(certificate)
        embedded = [certificate, *(c for c in chain if embed_roots or c.subject != c.issuer)]
        self._certificates = tuple(c.public_bytes(serialization.Encoding.DER) for c in embedded)
        self._sid = bytes(
            cms.IssuerAndSerialNumber(
                {"issuer": leaf.issuer, "serial_number": leaf.serial_number}
            ).dump()
        )
        self._ess_attribute = bytes(
            simple_cms_attribute("signing_certificate_v2", as_signing_certificate_v2(leaf)).dump()
        )
        self._signature_algorithm = (
            _ECDSA_SHA256 if isinstance(private_key, ec.EllipticCurvePrivateKey) else _RSA_PKCS1
        )

    async def async_sign(
        self,
        data_digest: bytes,
        digest_algorithm: str,
        dry_run: bool = False,
        use_pades: bool = False,
        timestamper: TimeStamper | None = None,
        signed_attr_settings: Any = None,
        is_pdf_sig: bool = True,
        encap_content_info: Any = None,
    ) -> cms.ContentInfo:
        plain_pades = (
            use_pades
            and is_pdf_sig
            and encap_content_info is None
            and digest_algorithm == "sha256"
            and self.signed_attr_prov_spec is None
            and self.unsigned_attr_prov_spec is None
            and not self.attribute_certs
            and (
                signed_attr_settings is None
                or (
                    signed_attr_settings.adobe_revinfo_attr is None
                    and signed_attr_settings.cades_signed_attrs is None
                )
            )
        )
        if not plain_pades:
            result: cms.ContentInfo = await super().async_sign(
                data_digest,
                digest_algorithm,
                dry_run=dry_run,
                use_pades=use_pades,
                timestamper=timestamper,
                signed_attr_settings=signed_attr_settings,
                is_pdf_sig=is_pdf_sig,
                encap_content_info=encap_content_info,
            )
            return result
        digest_attribute = der_attribute(
            _MESSAGE_DIGEST_OID, bytes(core.OctetString(data_digest).dump())
        )
        signed_attrs = b"".join(sorted([_CONTENT_TYPE_DATA, digest_attribute, self._ess_attribute]))
        signature = await self.async_sign_raw(
            der_tlv(0x31, signed_attrs), digest_algorithm, dry_run=dry_run
        )
        unsigned = b""
        if timestamper is not None:
            if dry_run:
                token = await timestamper.async_dummy_response(digest_algorithm)
            else:
                token = await timestamper.async_timestamp(
                    hashlib.sha256(signature).digest(), digest_algorithm
                )
            unsigned = der_attribute(_SIGNATURE_TIMESTAMP_OID, bytes(token.dump()))
        info: cms.ContentInfo = cms.ContentInfo.load(
            signed_data_content_info(
                version=1,
                digest_algorithm=_SHA256,
                encap_content_info=_DATA_CONTENT,
                certificates=self._certificates,
                signer=signer_info(
                    sid=self._sid,
                    digest_algorithm=_SHA256,
                    signed_attrs=signed_attrs,
                    signature_algorithm=self._signature_algorithm,
                    signature=signature,
                    unsigned_attrs=unsigned,
                ),
            )
        )
        return info

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
