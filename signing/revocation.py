"""Revocation data for a seal's chain, fetched from the URLs its certificates name.

A B-LT seal embeds CRLs covering the seal certificate and the CAs above it. Given those
certificates, :func:`fetch_crls` reads each one's CRL distribution points (``http`` and
``https`` URIs), downloads the CRL and keeps it only when it is the right one: issued by
the certificate's issuer, signed by that issuer's key, and current (``thisUpdate`` not in
the future, ``nextUpdate`` not passed). Self-signed roots need none.

:class:`CrlRefresher` keeps a :class:`signing.seal.Sealer`'s CRLs current: fetched once
when it is built (a failure there raises: a sealer that cannot obtain its validation data
must not start), then again when due (:meth:`FetchedCrls.refresh_at`: when a quarter of the
shortest validity is left, and at least daily), from the thread that seals next. A failed
refresh keeps the CRLs in hand while they are valid and tries again after
:data:`RETRY_AFTER`; once they expire the sealer refuses B-LT itself. A fresh CRL that
revokes a certificate of the chain stops sealing at once.

:func:`fetch_revocation` covers each certificate by OCSP where it names a responder
(:mod:`signing.ocsp`; a CRL when the responder fails and the certificate names a
distribution point) and by its CRL otherwise; the refresher uses it for the seal's chain
and, when given, the TSA's (a TSA certificate that cannot be covered is logged and left
out: the seal's own chain is what must be covered). OCSP responses count like CRLs for when
to refresh (their ``nextUpdate``), and one saying ``revoked`` stops sealing the same way.
"""

from __future__ import annotations

import concurrent.futures
import datetime as _dt
import logging
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.serialization import Encoding

from signing.errors import RevocationDataError, SealingError, SealUnavailable, SigningError
from signing.ocsp import FetchedOcsp, fetch_ocsp, ocsp_urls
from signing.seal import Sealer

__all__ = [
    "FETCH_TIMEOUT",
    "MAX_AGE",
    "RETRY_AFTER",
    "CrlRefresher",
    "FetchedCrl",
    "FetchedCrls",
    "crl_urls",
    "fetch_crls",
    "fetch_revocation",
    "tsa_chain",
]

FETCH_TIMEOUT = 10.0
"""Seconds one CRL download may take."""
MAX_AGE = _dt.timedelta(days=1)
"""CRLs are fetched again at least this often (CAs usually publish daily)."""
RETRY_AFTER = _dt.timedelta(minutes=1)
"""After a failed refresh, the next try waits this long (the CRLs in hand serve meanwhile
while they are valid)."""
_MAX_CRL_BYTES = 32 * 1024 * 1024
_CLOCK_SKEW = _dt.timedelta(minutes=5)

_log = logging.getLogger("evault.revocation")


@dataclass(frozen=True)
class FetchedCrl:
    """One CRL as downloaded."""

    url: str
    """Where it came from (a CRL distribution point)."""
    der: bytes
    """The CRL (DER)."""
    this_update: _dt.datetime
    next_update: _dt.datetime | None


@dataclass(frozen=True)
class FetchedCrls:
    """The CRLs covering a chain, and when they were fetched."""

    crls: tuple[FetchedCrl, ...]
    fetched_at: _dt.datetime
    ocsps: tuple[FetchedOcsp, ...] = ()
    """OCSP responses (:func:`fetch_revocation`), for certificates that name a responder."""

    @property
    def ders(self) -> tuple[bytes, ...]:
        return tuple(c.der for c in self.crls)

    @property
    def ocsp_ders(self) -> tuple[bytes, ...]:
        return tuple(o.der for o in self.ocsps)

    @property
    def expires(self) -> _dt.datetime | None:
        """The earliest ``nextUpdate`` (None: no CRL or OCSP response names one)."""
        items: tuple[FetchedCrl | FetchedOcsp, ...] = (*self.crls, *self.ocsps)
        known = [c.next_update for c in items if c.next_update is not None]
        return min(known) if known else None

    @property
    def refresh_at(self) -> _dt.datetime:
        """When to fetch again: a quarter of the shortest validity before it ends, at most
        :data:`MAX_AGE` after this fetch."""
        moments = [self.fetched_at + MAX_AGE]
        items: tuple[FetchedCrl | FetchedOcsp, ...] = (*self.crls, *self.ocsps)
        for crl in items:
            if crl.next_update is not None:
                moments.append(crl.next_update - (crl.next_update - crl.this_update) / 4)
        return min(moments)


def crl_urls(certificate: x509.Certificate) -> tuple[str, ...]:
    """The ``http``/``https`` URIs of the certificate's CRL distribution points, in order."""
    try:
        points = certificate.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    except x509.ExtensionNotFound:
        return ()
    urls: list[str] = []
    for point in points:
        for name in point.full_name or ():
            if isinstance(name, x509.UniformResourceIdentifier) and name.value.lower().startswith(
                ("http://", "https://")
            ):
                urls.append(name.value)
    return tuple(dict.fromkeys(urls))


def _name(certificate: x509.Certificate) -> str:
    return certificate.subject.rfc4514_string()


def _download(url: str, timeout: float) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": "evault"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            data: bytes = response.read(_MAX_CRL_BYTES + 1)
    except urllib.error.HTTPError as exc:
        raise RevocationDataError(f"{url}: HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        raise RevocationDataError(f"{url}: {exc.reason}") from None
    except (OSError, ValueError) as exc:  # timeouts, resets, a malformed URL
        raise RevocationDataError(f"{url}: {type(exc).__name__}: {exc}") from None
    if len(data) > _MAX_CRL_BYTES:
        raise RevocationDataError(f"{url}: larger than {_MAX_CRL_BYTES} bytes")
    return data


def _checked_crl(
    url: str, data: bytes, *, subject: x509.Certificate, issuer: x509.Certificate, now: _dt.datetime
) -> FetchedCrl:
    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            crl = x509.load_pem_x509_crl(data)
        else:
            crl = x509.load_der_x509_crl(data)
    except ValueError:
        raise RevocationDataError(f"{url}: not a CRL") from None
    if crl.issuer != subject.issuer:
        raise RevocationDataError(
            f"{url}: the CRL of {crl.issuer.rfc4514_string()}, not of {_name(issuer)}"
        )
    public_key = issuer.public_key()
    signing_key = (
        ec.EllipticCurvePublicKey,
        rsa.RSAPublicKey,
        ed25519.Ed25519PublicKey,
        ed448.Ed448PublicKey,
    )
    if not isinstance(public_key, signing_key) or not crl.is_signature_valid(public_key):
        raise RevocationDataError(f"{url}: the CRL is not signed by {_name(issuer)}")
    this_update, next_update = crl.last_update_utc, crl.next_update_utc
    if this_update > now + _CLOCK_SKEW:
        raise RevocationDataError(f"{url}: the CRL is not valid before {this_update.isoformat()}")
    if next_update is not None and next_update <= now:
        raise RevocationDataError(f"{url}: the CRL expired at {next_update.isoformat()}")
    der = crl.public_bytes(Encoding.DER)
    return FetchedCrl(url=url, der=der, this_update=this_update, next_update=next_update)


def fetch_crls(
    certificates: Sequence[x509.Certificate],
    *,
    timeout: float = FETCH_TIMEOUT,
    now: _dt.datetime | None = None,
) -> FetchedCrls:
    """The CRLs covering every certificate of ``certificates`` that is not self-signed.

    Each certificate's issuer must be among ``certificates``. Of several distribution
    points the first that gives a good CRL wins. Raises :class:`RevocationDataError` naming
    the certificate and the reason when one cannot be covered.
    """
    moment = now or _dt.datetime.now(_dt.UTC)
    by_subject = {c.subject: c for c in certificates}
    found: dict[str, FetchedCrl] = {}
    for certificate in dict.fromkeys(certificates):
        if certificate.subject == certificate.issuer:
            continue
        issuer = by_subject.get(certificate.issuer)
        if issuer is None:
            raise RevocationDataError(
                f"the issuer of {_name(certificate)} ({certificate.issuer.rfc4514_string()}) "
                "is not in the chain: its CRL cannot be checked"
            )
        _crl_of(certificate, issuer, found, timeout, moment)
    return FetchedCrls(crls=tuple(found.values()), fetched_at=moment)


def _crl_of(
    certificate: x509.Certificate,
    issuer: x509.Certificate,
    found: dict[str, FetchedCrl],
    timeout: float,
    moment: _dt.datetime,
) -> FetchedCrl:
    """The CRL covering ``certificate`` (one already in ``found`` when it names its URL),
    added to ``found``."""
    urls = crl_urls(certificate)
    if not urls:
        raise RevocationDataError(f"{_name(certificate)} names no http(s) CRL distribution point")
    known = next((found[url] for url in urls if url in found), None)
    if known is not None:
        return _checked_crl(known.url, known.der, subject=certificate, issuer=issuer, now=moment)
    problems: list[str] = []
    for url in urls:
        try:
            data = _download(url, timeout)
            found[url] = _checked_crl(url, data, subject=certificate, issuer=issuer, now=moment)
            return found[url]
        except RevocationDataError as exc:
            problems.append(str(exc))
    raise RevocationDataError(
        f"cannot obtain the CRL of {_name(certificate)}: " + "; ".join(problems)
    )


def _issuer_of(
    certificate: x509.Certificate, by_subject: dict[x509.Name, x509.Certificate]
) -> x509.Certificate:
    issuer = by_subject.get(certificate.issuer)
    if issuer is None:
        raise RevocationDataError(
            f"the issuer of {_name(certificate)} ({certificate.issuer.rfc4514_string()}) "
            "is not in the chain: its revocation cannot be checked"
        )
    return issuer


def _cover(
    certificate: x509.Certificate,
    by_subject: dict[x509.Name, x509.Certificate],
    found: dict[str, FetchedCrl],
    timeout: float,
    now: _dt.datetime,
) -> FetchedOcsp | FetchedCrl:
    """OCSP where the certificate names a responder, else (or when that fails) its CRL."""
    issuer = _issuer_of(certificate, by_subject)
    problems: list[str] = []
    if ocsp_urls(certificate):
        try:
            return fetch_ocsp(certificate, issuer, timeout=timeout, now=now)
        except RevocationDataError as exc:
            if not crl_urls(certificate):
                raise
            problems.append(str(exc))
            _log.warning("%s; using its CRL instead", exc)
    try:
        return _crl_of(certificate, issuer, found, timeout, now)
    except RevocationDataError as exc:
        raise RevocationDataError("; ".join([*problems, str(exc)])) from None


def fetch_revocation(
    certificates: Sequence[x509.Certificate],
    *,
    optional: Sequence[x509.Certificate] = (),
    timeout: float = FETCH_TIMEOUT,
    now: _dt.datetime | None = None,
) -> FetchedCrls:
    """OCSP responses and CRLs covering every certificate of ``certificates`` and, where
    they can be covered, of ``optional`` (a TSA's chain), self-signed roots excepted.

    Raises :class:`RevocationDataError` naming the certificate and the reason when one of
    ``certificates`` cannot be covered; an uncovered ``optional`` one is logged.
    """
    moment = now or _dt.datetime.now(_dt.UTC)
    by_subject = {c.subject: c for c in (*certificates, *optional)}
    crls: dict[str, FetchedCrl] = {}
    ocsps: list[FetchedOcsp] = []
    required = dict.fromkeys(certificates)
    for certificate in dict.fromkeys((*certificates, *optional)):
        if certificate.subject == certificate.issuer:
            continue
        try:
            covered = _cover(certificate, by_subject, crls, timeout, moment)
        except RevocationDataError as exc:
            if certificate in required:
                raise
            _log.warning("the TSA's certificate is not covered: %s", exc)
            continue
        if isinstance(covered, FetchedOcsp):
            ocsps.append(covered)
    return FetchedCrls(crls=tuple(crls.values()), fetched_at=moment, ocsps=tuple(ocsps))


def tsa_chain(timestamper: object) -> tuple[x509.Certificate, ...]:
    """The TSA's certificate and the chain it sends: known to an embedded TSA, else read
    from a token asked for now (an external TSA names them only in its tokens). Empty
    (logged) when the TSA cannot be asked: copies still work, without its revocation data."""
    known = getattr(timestamper, "certificates", None)
    if known:
        return tuple(known)
    from pyhanko.sign.timestamps.api import TimeStamper

    from signing.timestamps import timestamp_digest

    if not isinstance(timestamper, TimeStamper):
        return ()
    try:
        with concurrent.futures.ThreadPoolExecutor(1) as thread:  # inside an event loop too
            token = thread.submit(timestamp_digest, timestamper, b"evault: the TSA's chain")
            choices = token.result()["content"]["certificates"] or ()
        return tuple(
            x509.load_der_x509_certificate(c.chosen.dump())
            for c in choices
            if c.name == "certificate"
        )
    except (SigningError, OSError, ValueError, KeyError, TypeError) as exc:
        _log.warning(
            "cannot learn the TSA's certificates (%s): its revocation data is left out", exc
        )
        return ()


class CrlRefresher:
    """Keeps a sealer's revocation data current: OCSP responses from the responders its
    chain's certificates name, CRLs from their distribution points (:func:`fetch_revocation`).

    Built once (fetches now, raising :class:`RevocationDataError` when the chain cannot be
    covered, and :class:`SealingError` when a certificate of it is revoked); call
    :meth:`ensure_current` before each seal: it returns at once unless a refresh is due.
    ``tsa_certificates``: the TSA's certificate and chain, covered where they can be.
    """

    def __init__(
        self,
        sealer: Sealer,
        certificates: Sequence[x509.Certificate],
        *,
        tsa_certificates: Sequence[x509.Certificate] = (),
        timeout: float = FETCH_TIMEOUT,
        clock: Callable[[], _dt.datetime] | None = None,
    ) -> None:
        self._sealer = sealer
        self._certificates = tuple(certificates)
        self._tsa_certificates = tuple(tsa_certificates)
        self._timeout = timeout
        self._clock = clock or (lambda: _dt.datetime.now(_dt.UTC))
        self._lock = threading.Lock()
        self._refused: SealingError | None = None
        self._fetched = self._fetch(self._clock())
        sealer.update_revocation_data(
            crls=self._fetched.ders, ocsp_responses=self._fetched.ocsp_ders
        )
        self._due = self._fetched.refresh_at

    @property
    def fetched(self) -> FetchedCrls:
        """The CRLs and OCSP responses the sealer embeds now."""
        return self._fetched

    def _fetch(self, now: _dt.datetime) -> FetchedCrls:
        return fetch_revocation(
            self._certificates, optional=self._tsa_certificates, timeout=self._timeout, now=now
        )

    def ensure_current(self) -> None:
        """Refresh the CRLs when due (see the module's docstring). Raises :class:`SealingError`
        when the latest CRLs revoke a certificate of the chain."""
        now = self._clock()
        if now < self._due:
            if self._refused is not None:
                raise self._refused
            return
        expires = self._fetched.expires
        # While the CRLs in hand are valid, a refresh another thread runs is not waited for.
        if not self._lock.acquire(blocking=expires is not None and expires <= now):
            return
        try:
            if self._clock() < self._due:
                return
            self._refresh(now)
        finally:
            self._lock.release()
        if self._refused is not None:
            raise self._refused

    def _refresh(self, now: _dt.datetime) -> None:
        try:
            fetched = self._fetch(now)
        except RevocationDataError as exc:
            self._due = now + RETRY_AFTER
            expires = self._fetched.expires
            _log.warning(
                "cannot refresh the seal's revocation data (%s); what is in hand is valid until %s",
                exc,
                expires.isoformat() if expires else "an unknown time",
            )
            return
        try:
            self._sealer.update_revocation_data(crls=fetched.ders, ocsp_responses=fetched.ocsp_ders)
        except SealingError as exc:
            self._refused = SealUnavailable(
                f"the seal's chain is refused by its latest revocation data: {exc}"
            )
            self._due = now + RETRY_AFTER
            return
        self._refused = None
        self._fetched = fetched
        self._due = fetched.refresh_at
