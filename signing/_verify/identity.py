"""Who signed: the signer certificate's subject, fingerprint and unified social credit
code, as the reports of both PDF and OFD signatures show them."""

from __future__ import annotations

import hashlib
import re
from typing import Any, TypedDict

from signing._verify.lru import Lru

__all__ = ["SignerFields", "credit_code", "fingerprint", "signer_fields", "subject_string"]

_CREDIT_RE = re.compile(r"[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}")

# Where a credit code is most likely to be (ETSI organizationIdentifier first).
_ATTRIBUTE_ORDER = {
    "organization_identifier": 0,
    "2.5.4.97": 0,
    "serial_number": 1,
    "organization_name": 2,
}


def credit_code(subject: Any) -> str | None:
    """The first valid unified social credit code (GB 32100) in an asn1crypto ``Name``,
    looking in the attributes most likely to hold it first; None when none checks."""
    from schemas.errors import SchemaError
    from schemas.identifiers import CreditCode

    try:
        pairs = [(k, str(v)) for k, v in subject.native.items()]
    except Exception:
        return None
    pairs.sort(key=lambda kv: _ATTRIBUTE_ORDER.get(kv[0], 3))
    for _, value in pairs:
        for cand in _CREDIT_RE.findall(value.upper()):
            try:
                return str(CreditCode.parse(cand))
            except SchemaError:
                continue
    return None


def subject_string(cert: Any) -> str | None:
    """The certificate's subject as an RFC 4514 string (asn1crypto's human-friendly form
    when cryptography cannot load it)."""
    if cert is None:
        return None
    try:
        import warnings

        from cryptography import x509

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return x509.load_der_x509_certificate(cert.dump()).subject.rfc4514_string()
    except Exception:
        try:
            return str(cert.subject.human_friendly)
        except Exception:
            return None


def fingerprint(cert: Any) -> str | None:
    """SHA-256 of the certificate's DER, in hex."""
    return hashlib.sha256(cert.dump()).hexdigest() if cert is not None else None


class SignerFields(TypedDict):
    """The signer's part of a :class:`schemas.report.SignatureReport`."""

    signer_subject: str | None
    signer_fingerprint: str | None
    signer_credit_code: str | None


def signer_fields(cert: Any) -> SignerFields:
    """The report's signer fields for ``cert`` (all None when there is no certificate);
    remembered per certificate, since the same seals sign thousands of documents."""
    if cert is None:
        return SignerFields(signer_subject=None, signer_fingerprint=None, signer_credit_code=None)
    key = cert.dump()
    hit = _fields_cache.get(key)
    if hit is not None:
        return SignerFields(**hit)
    found = SignerFields(
        signer_subject=subject_string(cert),
        signer_fingerprint=fingerprint(cert),
        signer_credit_code=credit_code(cert.subject),
    )
    _fields_cache.put(key, found)
    return SignerFields(**found)


_fields_cache: Lru[bytes, SignerFields] = Lru(1024)
