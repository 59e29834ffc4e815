"""A small certification path check for SM2 certificates (RFC 5280 section 6, the parts a
seal needs), because no mainstream Python X.509 validator handles the SM2 curve.

From the certificate up to a root of the trust bundle: each certificate valid at the
validation time; each issuer's subject equal to the issued certificate's issuer and its
SM2 signature verifying; issuers marked CA (basicConstraints, path length) and allowed to
sign certificates (keyUsage) and their nameConstraints (directory names) met below them;
the end certificate allowed to sign (digitalSignature or nonRepudiation); no unknown
critical extension; and each certificate below the root not listed on any current CRL of
its issuer (the bundle's CRLs, signature and freshness checked). The
first problem found is the answer, as an ETSI sub-indication.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from schemas.report import RevocationStatus, SubIndication
from signing.ofd.sm2 import SM2_SM3_OID, is_sm2_public_key, sm2_verify

__all__ = ["PathResult", "Sm2TrustStore", "load_certificate", "public_point"]

_MAX_DEPTH = 8
_MEMO_LIMIT = 4096
"""Signature checks a store remembers (certificates and CRLs of a bundle and of files)."""
#: extendedKeyUsage purposes that are not document signing: a certificate limited to these
#: (a TLS server's, a time-stamping authority's, an OCSP responder's, code signing) may not
#: sign a seal. Other purposes, or none, or anyExtendedKeyUsage, are accepted: no purpose is
#: standard for GB/T 38540 seals.
_NOT_FOR_SIGNING = frozenset({"server_auth", "time_stamping", "ocsp_signing", "code_signing"})
_KNOWN_CRITICAL = {
    "basic_constraints",
    "key_usage",
    "extended_key_usage",
    "policy_constraints",
    "name_constraints",
    "certificate_policies",
    "policy_mappings",
    "inhibit_any_policy",
    "subject_alt_name",
    "issuer_alt_name",
}


def load_certificate(der: bytes) -> Any:
    """An asn1crypto certificate, fully parsed; raise ``ValueError`` when it is not one."""
    from asn1crypto import x509

    try:
        cert = x509.Certificate.load(der, strict=True)
        # parse now what path building and the checks read lazily later (names compared,
        # times compared, extensions), so a malformed field is this ValueError, not a crash
        cert.subject.native  # noqa: B018
        cert.issuer.native  # noqa: B018
        cert.subject.hashable  # noqa: B018
        cert.issuer.hashable  # noqa: B018
        cert.public_key  # noqa: B018
        cert.critical_extensions  # noqa: B018
        cert.key_usage_value  # noqa: B018
        cert.basic_constraints_value  # noqa: B018
        cert.extended_key_usage_value  # noqa: B018
        cert.name_constraints_value  # noqa: B018
        cert.subject_alt_name_value  # noqa: B018
        validity = cert["tbs_certificate"]["validity"]
        times = [validity["not_before"].native, validity["not_after"].native]
    except Exception as exc:
        raise ValueError(f"not an X.509 certificate: {type(exc).__name__}: {exc}") from None
    if any(t.tzinfo is None for t in times):
        raise ValueError("not an X.509 certificate: its validity times carry no time zone")
    return cert


def public_point(cert: Any) -> bytes:
    """The uncompressed SM2 public point of a certificate (ValueError when it has none)."""
    if not is_sm2_public_key(cert.public_key):
        raise ValueError("the certificate's key is not an SM2 key")
    point = bytes(cert.public_key["public_key"].native)
    if len(point) != 65 or point[0] != 4:
        raise ValueError("the certificate's SM2 key is not an uncompressed point")
    return point


def _signed_by(cert_or_crl: Any, issuer: Any, tbs_field: str) -> bool:
    """Whether ``issuer``'s SM2 key signed the certificate (``tbs_certificate``) or CRL
    (``tbs_cert_list``)."""
    algo = cert_or_crl["signature_algorithm"]["algorithm"].dotted
    if algo != SM2_SM3_OID:
        return False
    try:
        point = public_point(issuer)
    except ValueError:
        return False
    value = "signature_value" if tbs_field == "tbs_certificate" else "signature"
    return sm2_verify(point, bytes(cert_or_crl[value].native), cert_or_crl[tbs_field].dump())


@dataclass(frozen=True)
class PathResult:
    """Whether a certificate chains to a trusted root, and if not, why."""

    trusted: bool
    problem: SubIndication | None = None
    message: str = ""
    revocation: RevocationStatus = RevocationStatus.NOT_CHECKED
    path: list[Any] = field(default_factory=list)
    revoked_at: dt.datetime | None = None
    """When the revoked certificate of the path was revoked (REVOKED_*_NO_POE)."""


class Sm2TrustStore:
    """SM2 roots, intermediates and CRLs (from a trust bundle), parsed once."""

    def __init__(
        self,
        roots: Iterable[Any],
        intermediates: Iterable[Any] = (),
        crls: Iterable[Any] = (),
        *,
        seal_makers: Iterable[bytes] = (),
        vault_seals: Iterable[bytes] = (),
    ) -> None:
        self.roots = [c for c in roots if is_sm2_public_key(c.public_key)]
        self._root_ders = {c.dump() for c in self.roots}
        self.intermediates = [c for c in intermediates if is_sm2_public_key(c.public_key)]
        self.crls = list(crls)
        self.seal_maker_keys = frozenset(
            load_certificate(bytes(d)).public_key.dump() for d in seal_makers
        )
        """The public keys (SubjectPublicKeyInfo DER) of the pinned seal makers'
        certificates (empty: none designated). By key, so that a maker certificate
        renewed for the same key stays designated; the chain is checked besides."""
        self.vault_seal_keys = frozenset(
            load_certificate(bytes(d)).public_key.dump() for d in vault_seals
        )
        """The public keys of the vault's pinned OFD copy seal certificates: the only
        signers whose later seal may add a 加注 to an earlier seal's document. By key, as
        for seal makers: a copy seal certificate renewed for the same key stays pinned."""
        self.memo_limit = _MEMO_LIMIT
        """How many signature checks :meth:`_signed` remembers (0: none)."""
        self._memo: dict[tuple[bytes, bytes, str], bool] = {}

    def is_seal_maker(self, cert: Any) -> bool:
        """Whether ``cert``'s key is one of a designated seal maker."""
        return bool(cert.public_key.dump() in self.seal_maker_keys)

    def is_vault_seal(self, cert: Any) -> bool:
        """Whether ``cert``'s key is one of the vault's pinned OFD copy seals."""
        return bool(cert is not None and cert.public_key.dump() in self.vault_seal_keys)

    def validate(
        self, cert: Any, *, extra: Iterable[Any] = (), at: dt.datetime, leaf_usage: bool = True
    ) -> PathResult:
        """Check ``cert``'s path to a root as of ``at``; ``extra``: certificates the file
        brings (offered for path building, never trusted)."""
        if not self.roots:
            return PathResult(
                False,
                SubIndication.NO_CERTIFICATE_CHAIN_FOUND,
                "the trust bundle holds no SM2 root",
            )
        path = self._build(cert, [*self.intermediates, *extra])
        if path is None:
            return PathResult(
                False, SubIndication.NO_CERTIFICATE_CHAIN_FOUND, "no chain to a trusted SM2 root"
            )
        problem = self._check_path(path, at, leaf_usage)
        if problem is not None:
            return PathResult(False, problem[0], problem[1], path=path)
        revocation, why, revoked = self._revocation(path, at)
        if revoked is not None:
            depth, when = revoked
            sub = SubIndication.REVOKED_NO_POE if depth == 0 else SubIndication.REVOKED_CA_NO_POE
            return PathResult(False, sub, why, revocation, path, revoked_at=when)
        return PathResult(True, None, why, revocation, path)

    def _signed(self, cert_or_crl: Any, issuer: Any, tbs_field: str) -> bool:
        """:func:`_signed_by`, remembered per store by the SHA-256 of the exact bytes of
        both (a certificate or CRL re-encoded is another key). Only this time-free fact
        is remembered: validity, CRL freshness and revocation are judged on every call
        at its own validation time, so a remembered check cannot pass an expired or
        revoked certificate. The store belongs to one trust bundle (its roots,
        intermediates and CRLs); at ``memo_limit`` entries it starts afresh."""
        if self.memo_limit <= 0:
            return _signed_by(cert_or_crl, issuer, tbs_field)
        key = (
            hashlib.sha256(cert_or_crl.dump()).digest(),
            hashlib.sha256(issuer.dump()).digest(),
            tbs_field,
        )
        known = self._memo.get(key)
        if known is None:
            if len(self._memo) >= self.memo_limit:
                self._memo.clear()
            known = self._memo[key] = _signed_by(cert_or_crl, issuer, tbs_field)
        return known

    def _build(self, cert: Any, pool: list[Any]) -> list[Any] | None:
        path = [cert]
        current = cert
        for _ in range(_MAX_DEPTH):
            if current.dump() in self._root_ders:
                return path
            issuer = next(
                (
                    c
                    for c in [*self.roots, *pool]
                    if c.subject == current.issuer
                    and c.dump() != current.dump()
                    and self._signed(current, c, "tbs_certificate")
                ),
                None,
            )
            if issuer is None or any(issuer.dump() == p.dump() for p in path):
                return None
            path.append(issuer)
            current = issuer
        return None

    def _check_path(
        self, path: list[Any], at: dt.datetime, leaf_usage: bool
    ) -> tuple[SubIndication, str] | None:
        for depth, cert in enumerate(path):
            who = "the signer's certificate" if depth == 0 else f"CA certificate {_cn(cert)}"
            validity = cert["tbs_certificate"]["validity"]
            if at < validity["not_before"].native:
                return SubIndication.NOT_YET_VALID, f"{who} is not yet valid"
            if at > validity["not_after"].native:
                return SubIndication.OUT_OF_BOUNDS_NO_POE, (
                    f"{who} expired on {validity['not_after'].native.date()} and nothing "
                    "proves the signature existed before"
                )
            unknown = set(cert.critical_extensions) - _KNOWN_CRITICAL
            if unknown:
                return SubIndication.CHAIN_CONSTRAINTS_FAILURE, (
                    f"{who} has unknown critical extensions: {', '.join(sorted(unknown))}"
                )
            usage = set(cert.key_usage_value.native) if cert.key_usage_value else None
            if depth == 0:
                if (
                    leaf_usage
                    and usage is not None
                    and not usage & {"digital_signature", "non_repudiation"}
                ):
                    return SubIndication.CHAIN_CONSTRAINTS_FAILURE, (
                        "the signer's certificate may not sign (keyUsage)"
                    )
                purposes = _purposes(cert)
                if leaf_usage and purposes and purposes <= _NOT_FOR_SIGNING:
                    return SubIndication.CHAIN_CONSTRAINTS_FAILURE, (
                        "the signer's certificate is only for "
                        + ", ".join(sorted(purposes))
                        + " (extendedKeyUsage), not for signing documents"
                    )
                continue
            bc = cert.basic_constraints_value
            if bc is None or not bc["ca"].native:
                return SubIndication.CHAIN_CONSTRAINTS_FAILURE, f"{who} is not a CA"
            limit = bc["path_len_constraint"].native
            if limit is not None and depth - 1 > limit:
                return SubIndication.CHAIN_CONSTRAINTS_FAILURE, f"{who}: path too long"
            if usage is not None and "key_cert_sign" not in usage:
                return SubIndication.CHAIN_CONSTRAINTS_FAILURE, (
                    f"{who} may not sign certificates (keyUsage)"
                )
            broken = _name_constraints_broken(cert, path[:depth])
            if broken:
                return SubIndication.CHAIN_CONSTRAINTS_FAILURE, f"{who}: {broken}"
        return None

    def _revocation(
        self, path: list[Any], at: dt.datetime
    ) -> tuple[RevocationStatus, str, tuple[int, dt.datetime] | None]:
        """The path's status, why, and (depth, date) of the first revoked certificate."""
        status = RevocationStatus.GOOD
        why = ""
        for depth, (cert, issuer) in enumerate(itertools.pairwise(path)):
            crls = self._crls_for(issuer, at)
            if not crls:
                status = RevocationStatus.UNKNOWN
                why = f"no current CRL of {_cn(issuer)} in the trust bundle"
                continue
            revoked = _revoked_on(cert.serial_number, crls, at)
            if revoked is not None:
                why = f"{_cn(cert)} was revoked on {revoked.isoformat()}"
                return RevocationStatus.REVOKED, why, (depth, revoked)
        return status, why, None

    def _crls_for(self, issuer: Any, at: dt.datetime) -> list[Any]:
        """Every current CRL ``issuer`` signed: a certificate on any of them is revoked
        (an older CRL still before its nextUpdate must not hide a newer one)."""
        found = []
        for crl in self.crls:
            try:
                tbs = crl["tbs_cert_list"]
                if tbs["issuer"] != issuer.subject:
                    continue
                this, nxt = tbs["this_update"].native, tbs["next_update"].native
                if this.tzinfo is None or (nxt is not None and nxt.tzinfo is None):
                    continue
                if this > at or (nxt is not None and nxt < at):
                    continue
            except (ValueError, TypeError, KeyError):
                continue
            if self._signed(crl, issuer, "tbs_cert_list"):
                found.append(crl)
        return found


def _name_constraints_broken(ca: Any, below: list[Any]) -> str:
    """Why the certificates ``below`` a CA break its nameConstraints (RFC 5280 4.2.1.10),
    or "". Directory names (the subjects) are checked; a constraint on another name form
    is honoured only when no certificate below carries a name of that form (as
    subjectAltName), else the path is refused rather than guessed."""
    nc = ca.name_constraints_value
    if nc is None:
        return ""
    permitted = list(nc["permitted_subtrees"] or [])
    excluded = list(nc["excluded_subtrees"] or [])
    for cert in below:
        subject = _rdns(cert.subject)
        for kind, trees in (("permitted", permitted), ("excluded", excluded)):
            dirs = [_rdns(t["base"].chosen) for t in trees if t["base"].name == "directory_name"]
            inside = any(subject[: len(d)] == d for d in dirs)
            if kind == "permitted" and dirs and subject and not inside:
                return f"{_cn(cert)} is outside its permitted names (nameConstraints)"
            if kind == "excluded" and inside:
                return f"{_cn(cert)} is in its excluded names (nameConstraints)"
        forms = {t["base"].name for t in permitted + excluded} - {"directory_name"}
        alt = cert.subject_alt_name_value
        if forms & {n.name for n in alt or []}:
            return "nameConstraints on alternative names are not supported"
    return ""


def _purposes(cert: Any) -> frozenset[str]:
    eku = cert.extended_key_usage_value
    return frozenset(str(p) for p in eku.native) if eku is not None else frozenset()


def _rdns(name: Any) -> list[Any]:
    return [rdn.hashable for rdn in name.chosen]


def _revoked_on(serial: int, crls: list[Any], at: dt.datetime) -> dt.datetime | None:
    """The earliest revocation date, on or before ``at``, of ``serial`` in ``crls``."""
    dates = []
    for crl in crls:
        for entry in crl["tbs_cert_list"]["revoked_certificates"] or []:
            if entry["user_certificate"].native != serial:
                continue
            when = entry["revocation_date"].native
            if when.tzinfo is None:
                when = when.replace(tzinfo=dt.UTC)
            if when <= at:
                dates.append(when)
    return min(dates, default=None)


def _cn(cert: Any) -> str:
    try:
        return str(cert.subject.native.get("common_name") or cert.subject.human_friendly)
    except Exception:
        return hashlib.sha256(cert.dump()).hexdigest()[:16]
