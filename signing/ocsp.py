"""OCSP responses for a seal's chain, from the responders its certificates name (AIA).

:func:`fetch_ocsp` asks the certificate's OCSP responders (``authorityInfoAccess``,
``id-ad-ocsp``, ``http`` URIs) with pyhanko-certvalidator's OCSP client (a nonce in each
request, checked in the answer) and keeps the response only when it is the right one:
``successful``, about this certificate (serial number and issuer hashes), signed by the
issuer or by a responder certificate the issuer issued for OCSP signing, and current
(``thisUpdate`` not in the future, ``nextUpdate`` not passed). A certificate the responder
calls ``revoked`` is kept as such (:attr:`FetchedOcsp.revoked`): the sealer refuses it; one
it calls ``unknown`` is an error.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as _dt
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID

from signing.errors import RevocationDataError

__all__ = ["FetchedOcsp", "fetch_ocsp", "ocsp_urls", "says_revoked"]

_CLOCK_SKEW = _dt.timedelta(minutes=5)
_T = TypeVar("_T")


@dataclass(frozen=True)
class FetchedOcsp:
    """One OCSP response as received."""

    url: str
    """The responder that gave it (from the certificate's AIA)."""
    der: bytes
    """The whole OCSPResponse (DER), as a B-LT seal embeds it."""
    this_update: _dt.datetime
    next_update: _dt.datetime | None
    revoked: bool
    """The responder says the certificate is revoked."""


def ocsp_urls(certificate: x509.Certificate) -> tuple[str, ...]:
    """The ``http``/``https`` OCSP responders the certificate's AIA names, in order."""
    try:
        aia = certificate.extensions.get_extension_for_class(x509.AuthorityInformationAccess)
    except x509.ExtensionNotFound:
        return ()
    urls = [
        d.access_location.value
        for d in aia.value
        if d.access_method == AuthorityInformationAccessOID.OCSP
        and isinstance(d.access_location, x509.UniformResourceIdentifier)
        and d.access_location.value.lower().startswith(("http://", "https://"))
    ]
    return tuple(dict.fromkeys(urls))


def _name(certificate: x509.Certificate) -> str:
    return certificate.subject.rfc4514_string()


def _run(coroutine: Coroutine[Any, Any, _T]) -> _T:
    """Run ``coroutine`` to its end from synchronous code, inside an event loop or not."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with concurrent.futures.ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, coroutine).result()


def _ask(certificate: x509.Certificate, issuer: x509.Certificate, timeout: float) -> bytes:
    """One round trip to the responders (the first good answer), DER of the response."""
    from pyhanko_certvalidator.authority import AuthorityWithCert
    from pyhanko_certvalidator.errors import OCSPFetchError, OCSPValidationError
    from pyhanko_certvalidator.fetchers.requests_fetchers.ocsp_client import RequestsOCSPFetcher

    fetcher = RequestsOCSPFetcher(user_agent="evault", per_request_timeout=timeout)
    subject = asn1_x509.Certificate.load(certificate.public_bytes(Encoding.DER))
    authority = AuthorityWithCert(asn1_x509.Certificate.load(issuer.public_bytes(Encoding.DER)))
    try:
        response = _run(fetcher.fetch(subject, authority))
    except (OCSPFetchError, OCSPValidationError) as exc:
        cause = f" ({exc.__cause__})" if exc.__cause__ else ""
        raise RevocationDataError(f"OCSP for {_name(certificate)}: {exc}{cause}") from None
    der: bytes = response.dump()
    return der


def _verify_signature(key: Any, response: ocsp.OCSPResponse) -> None:
    data, signature, algorithm = (
        response.tbs_response_bytes,
        response.signature,
        response.signature_hash_algorithm,
    )
    if isinstance(key, ec.EllipticCurvePublicKey) and algorithm is not None:
        key.verify(signature, data, ec.ECDSA(algorithm))
    elif isinstance(key, rsa.RSAPublicKey) and algorithm is not None:
        key.verify(signature, data, padding.PKCS1v15(), algorithm)
    elif isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
        key.verify(signature, data)
    else:
        raise InvalidSignature


def _signer(response: ocsp.OCSPResponse, issuer: x509.Certificate) -> x509.Certificate:
    """The issuer itself, or a delegated responder certificate it issued for OCSP signing."""
    for candidate in response.certificates:
        try:
            candidate.verify_directly_issued_by(issuer)
            eku = candidate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        except (ValueError, TypeError, InvalidSignature, x509.ExtensionNotFound):
            continue
        if ExtendedKeyUsageOID.OCSP_SIGNING in eku:
            return candidate
    return issuer


def _about(single: ocsp.OCSPSingleResponse, certificate: x509.Certificate, issuer: Any) -> bool:
    if single.serial_number != certificate.serial_number:
        return False
    algorithm = single.hash_algorithm.name  # sha1 or sha256 (pyhanko-certvalidator's CertID)
    key_hash = getattr(issuer.public_key, algorithm, None)
    name_hash = getattr(issuer.subject, algorithm, None)
    return single.issuer_key_hash == key_hash and single.issuer_name_hash == name_hash


def _checked(
    url: str, der: bytes, certificate: x509.Certificate, issuer: x509.Certificate, now: _dt.datetime
) -> FetchedOcsp:
    who = _name(certificate)
    try:
        response = ocsp.load_der_ocsp_response(der)
        singles = list(response.responses)
    except ValueError:
        raise RevocationDataError(f"{url}: not an OCSP response") from None
    issuer_asn1 = asn1_x509.Certificate.load(issuer.public_bytes(Encoding.DER))
    single = next((s for s in singles if _about(s, certificate, issuer_asn1)), None)
    if single is None:
        raise RevocationDataError(f"{url}: the OCSP response is not about {who}")
    try:
        _verify_signature(_signer(response, issuer).public_key(), response)
    except InvalidSignature:
        raise RevocationDataError(
            f"{url}: the OCSP response is not signed by {_name(issuer)} or its responder"
        ) from None
    this_update, next_update = single.this_update_utc, single.next_update_utc
    if this_update > now + _CLOCK_SKEW:
        raise RevocationDataError(f"{url}: the OCSP response is not valid before {this_update}")
    if next_update is not None and next_update <= now:
        raise RevocationDataError(f"{url}: the OCSP response expired at {next_update}")
    if single.certificate_status is ocsp.OCSPCertStatus.UNKNOWN:
        raise RevocationDataError(f"{url}: the responder does not know {who}")
    revoked = single.certificate_status is ocsp.OCSPCertStatus.REVOKED
    return FetchedOcsp(url, der, this_update, next_update, revoked)


def fetch_ocsp(
    certificate: x509.Certificate,
    issuer: x509.Certificate,
    *,
    timeout: float,
    now: _dt.datetime,
) -> FetchedOcsp:
    """A checked OCSP response about ``certificate`` from its responders (see the module's
    docstring); :class:`RevocationDataError` naming the reason when none is good."""
    urls = ocsp_urls(certificate)
    if not urls:
        raise RevocationDataError(f"{_name(certificate)} names no http(s) OCSP responder")
    der = _ask(certificate, issuer, timeout)
    return _checked(urls[0] if len(urls) == 1 else " or ".join(urls), der, certificate, issuer, now)


def says_revoked(der: bytes, certificate: x509.Certificate, issuer: x509.Certificate) -> bool:
    """Whether the OCSP response ``der`` calls ``certificate`` (issued by ``issuer``) revoked."""
    try:
        singles = list(ocsp.load_der_ocsp_response(der).responses)
    except ValueError:
        return False
    issuer_asn1 = asn1_x509.Certificate.load(issuer.public_bytes(Encoding.DER))
    return any(
        s.certificate_status is ocsp.OCSPCertStatus.REVOKED and _about(s, certificate, issuer_asn1)
        for s in singles
    )
