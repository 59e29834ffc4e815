"""A demo PKI: root CA -> issuing CA -> seal certificates, a TSA certificate and CRLs.

Everything is EC P-256. Given the same ``seed``, ``departments`` and ``now`` the result is
byte-for-byte the same: keys are derived from the seed (``ec.derive_private_key``), serials
are fixed, validity periods start from ``now`` and every signature is deterministic ECDSA
(RFC 6979).

The root's subject says "Demo" (``DEMO_ROOT_MARK``) so that production can refuse it.
A :class:`DemoPKI` is immutable: :meth:`DemoPKI.revoke` returns a new one whose CRL lists
the revoked serial, and never changes a PKI that other code (a cached test fixture) holds.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

from signing.errors import KeySourceError, SigningError

__all__ = [
    "CRL_VALIDITY",
    "DEFAULT_VAULT_IDENTITY",
    "DEMO_ROOT_MARK",
    "DemoPKI",
    "Identity",
    "Revocation",
    "is_demo_root",
    "subject_credit_code",
]

DEMO_ROOT_MARK = "evault Demo"
"""Every demo root's common name starts with this; production refuses such roots."""

DEFAULT_VAULT_IDENTITY = ("evault 电子证照库", "12350000MB00000359")
"""(name, 统一社会信用代码) of the vault's own seal when none is given."""

CRL_VALIDITY = _dt.timedelta(days=365)
"""nextUpdate - thisUpdate of the demo CRLs (long: a demo runs for months offline)."""

CRL_BASE_URL = "http://pki.evault.invalid/crl/"
"""Default base of the CRL distribution points (``.invalid`` never resolves: validation data
is embedded)."""

_ROOT_SERIAL = 0x0E7A_0001
_ISSUING_SERIAL = 0x0E7A_0002
_VAULT_SERIAL = 0x0E7A_1000
_TSA_SERIAL = 0x0E7A_1001
_DEPARTMENT_SERIAL_BASE = 0x0E7A_2000

_BACKDATE = _dt.timedelta(days=1)
_ROOT_LIFETIME = _dt.timedelta(days=20 * 365)
_ISSUING_LIFETIME = _dt.timedelta(days=10 * 365)
_LEAF_LIFETIME = _dt.timedelta(days=5 * 365)
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_ORG = "evault Demo PKI (not for production)"
_MANIFEST = "pki.json"


@dataclass(frozen=True)
class Identity:
    """A certificate with its private key (one entity of the demo PKI)."""

    certificate: x509.Certificate
    """The entity's certificate."""
    private_key: ec.EllipticCurvePrivateKey = field(repr=False)
    """Its private key (EC P-256)."""

    @property
    def serial(self) -> int:
        return self.certificate.serial_number


@dataclass(frozen=True)
class Revocation:
    """One revoked certificate on the issuing CA's CRL."""

    serial: int
    """Serial number of the revoked certificate (issued by the issuing CA)."""
    at: _dt.datetime
    """When it was revoked (aware, UTC)."""
    reason: x509.ReasonFlags = x509.ReasonFlags.key_compromise
    """The CRL reason code."""


def is_demo_root(certificate: x509.Certificate) -> bool:
    """True when ``certificate`` is a demo root (production must refuse it)."""
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return any(str(n.value).startswith(DEMO_ROOT_MARK) for n in names)


def subject_credit_code(certificate: x509.Certificate) -> str | None:
    """The 统一社会信用代码 named in a seal certificate's subject, if any.

    Reads ``serialNumber`` first, then ``organizationIdentifier`` (with or without the
    ETSI EN 319 412-1 ``NTRCN-`` prefix). The value is returned as written; callers
    validate it with ``schemas.identifiers.CreditCode``.
    """
    subject = certificate.subject
    for attr in subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER):
        return str(attr.value)
    for attr in subject.get_attributes_for_oid(NameOID.ORGANIZATION_IDENTIFIER):
        value = str(attr.value)
        return value.removeprefix("NTRCN-")
    return None


def _utc(moment: _dt.datetime) -> _dt.datetime:
    if moment.tzinfo is None:
        raise ValueError("give an aware datetime (UTC), not a naive one")
    return moment.astimezone(_dt.UTC).replace(microsecond=0)


def _derive_key(seed: bytes, label: str) -> ec.EllipticCurvePrivateKey:
    digest = hashlib.sha256(b"evault-demo-pki\x00" + seed + b"\x00" + label.encode()).digest()
    scalar = int.from_bytes(digest, "big") % (_P256_ORDER - 1) + 1
    return ec.derive_private_key(scalar, ec.SECP256R1())


def _org_name(name: str, credit_code: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, name),
            x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, "NTRCN-" + credit_code),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, credit_code),
            x509.NameAttribute(NameOID.COMMON_NAME, name),
        ]
    )


def _ca_name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, _ORG),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _crl_dp(url: str) -> x509.CRLDistributionPoints:
    return x509.CRLDistributionPoints(
        [
            x509.DistributionPoint(
                full_name=[x509.UniformResourceIdentifier(url)],
                relative_name=None,
                reasons=None,
                crl_issuer=None,
            )
        ]
    )


def _build(
    *,
    subject: x509.Name,
    key: ec.EllipticCurvePrivateKey,
    issuer: Identity | None,
    serial: int,
    not_before: _dt.datetime,
    lifetime: _dt.timedelta,
    ca: bool,
    path_length: int | None = None,
    key_usage: dict[str, bool],
    eku: x509.ObjectIdentifier | None = None,
    crl_url: str | None = None,
    ocsp_url: str | None = None,
) -> Identity:
    """Build and sign one certificate (a CA when ``ca``)."""
    issuer_name = subject if issuer is None else issuer.certificate.subject
    signing_key = key if issuer is None else issuer.private_key
    not_after = not_before + lifetime
    if issuer is not None:
        not_after = min(not_after, issuer.certificate.not_valid_after_utc)
    usage = dict.fromkeys(
        (
            "digital_signature",
            "content_commitment",
            "key_encipherment",
            "data_encipherment",
            "key_agreement",
            "key_cert_sign",
            "crl_sign",
            "encipher_only",
            "decipher_only",
        ),
        False,
    )
    usage.update(key_usage)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(
            x509.BasicConstraints(ca=ca, path_length=path_length if ca else None),
            critical=True,
        )
        .add_extension(x509.KeyUsage(**usage), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signing_key.public_key()),
            critical=False,
        )
    )
    if eku is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage([eku]), critical=True)
    if crl_url is not None:
        builder = builder.add_extension(_crl_dp(crl_url), critical=False)
    if ocsp_url is not None:
        access = x509.AccessDescription(
            AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(ocsp_url)
        )
        builder = builder.add_extension(x509.AuthorityInformationAccess([access]), critical=False)
    certificate = builder.sign(signing_key, hashes.SHA256(), ecdsa_deterministic=True)
    return Identity(certificate=certificate, private_key=key)


_SEAL_USAGE = {"digital_signature": True, "content_commitment": True}
_CA_USAGE = {"key_cert_sign": True, "crl_sign": True, "digital_signature": True}


def _demo_cas(
    seed: bytes, start: _dt.datetime, crl_base_url: str, ocsp_url: str | None
) -> tuple[Identity, Identity]:
    """The demo PKI's root CA and the issuing CA under it, derived from ``seed``."""
    root = _build(
        subject=_ca_name(DEMO_ROOT_MARK + " Root CA"),
        key=_derive_key(seed, "root"),
        issuer=None,
        serial=_ROOT_SERIAL,
        not_before=start,
        lifetime=_ROOT_LIFETIME,
        ca=True,
        key_usage=_CA_USAGE,
    )
    issuing = _build(
        subject=_ca_name(DEMO_ROOT_MARK + " Issuing CA"),
        key=_derive_key(seed, "issuing"),
        issuer=root,
        serial=_ISSUING_SERIAL,
        not_before=start,
        lifetime=_ISSUING_LIFETIME,
        ca=True,
        path_length=0,
        key_usage=_CA_USAGE,
        crl_url=crl_base_url + "root-ca.crl",
        ocsp_url=ocsp_url,
    )
    return root, issuing


@dataclass(frozen=True)
class DemoPKI:
    """The generated demo PKI. Build with :meth:`generate` or :meth:`load`."""

    now: _dt.datetime
    """The moment the PKI was generated for (certificates start one day earlier)."""
    root: Identity
    """Self-signed root CA ("evault Demo Root CA")."""
    issuing_ca: Identity
    """The issuing CA (signed by the root): issues every seal and the TSA certificate."""
    vault_seal: Identity
    """The vault's own seal (for certified copies)."""
    tsa: Identity
    """The timestamp authority (EKU timeStamping, critical)."""
    department_seals: Mapping[str, Identity]
    """Seal per department, keyed by its 统一社会信用代码."""
    department_names: Mapping[str, str]
    """Department name (Chinese) keyed by 统一社会信用代码."""
    vault_identity: tuple[str, str] = DEFAULT_VAULT_IDENTITY
    """(name, 统一社会信用代码) of the vault."""
    revocations: tuple[Revocation, ...] = ()
    """Certificates revoked by the issuing CA (listed in :meth:`crl`)."""

    # -- construction ---------------------------------------------------------------------

    @classmethod
    def generate(
        cls,
        *,
        seed: bytes,
        departments: Sequence[tuple[str, str]],
        now: _dt.datetime,
        vault: tuple[str, str] = DEFAULT_VAULT_IDENTITY,
        crl_base_url: str = CRL_BASE_URL,
        ocsp_url: str | None = None,
    ) -> DemoPKI:
        """Generate the PKI deterministically from ``seed``.

        ``departments`` are (Chinese name, 统一社会信用代码) pairs; ``now`` must be aware.
        ``crl_base_url``: where the CRL distribution points say the CRLs are
        (``<base>issuing-ca.crl`` in every leaf, ``<base>root-ca.crl`` in the issuing CA),
        e.g. a test's HTTP server on loopback; the keys do not depend on it. ``ocsp_url``:
        an OCSP responder the issuing CA and every leaf name (AIA), when given.
        """
        moment = _utc(now)
        start = moment - _BACKDATE
        codes = [code for _, code in departments]
        if len(set(codes)) != len(codes) or vault[1] in codes:
            raise SigningError("department credit codes must be unique and differ from the vault's")
        root, issuing = _demo_cas(seed, start, crl_base_url, ocsp_url)

        def leaf(
            subject: x509.Name, label: str, serial: int, eku: x509.ObjectIdentifier | None = None
        ) -> Identity:
            return _build(
                subject=subject,
                key=_derive_key(seed, label),
                issuer=issuing,
                serial=serial,
                not_before=start,
                lifetime=_LEAF_LIFETIME,
                ca=False,
                key_usage=_SEAL_USAGE if eku is None else {"digital_signature": True},
                eku=eku,
                crl_url=crl_base_url + "issuing-ca.crl",
                ocsp_url=ocsp_url,
            )

        vault_seal = leaf(_org_name(*vault), "vault", _VAULT_SERIAL)
        tsa = leaf(
            _ca_name(DEMO_ROOT_MARK + " Timestamp Authority"),
            "tsa",
            _TSA_SERIAL,
            ExtendedKeyUsageOID.TIME_STAMPING,
        )
        seals = {
            code: leaf(_org_name(name, code), "department:" + code, _DEPARTMENT_SERIAL_BASE + i)
            for i, (name, code) in enumerate(departments)
        }
        return cls(
            now=moment,
            root=root,
            issuing_ca=issuing,
            vault_seal=vault_seal,
            tsa=tsa,
            department_seals=seals,
            department_names={code: name for name, code in departments},
            vault_identity=(vault[0], vault[1]),
        )

    def certify_vault_seal(
        self,
        public_key: ec.EllipticCurvePublicKey,
        *,
        serial: int,
        crl_base_url: str = CRL_BASE_URL,
    ) -> x509.Certificate:
        """A vault seal certificate (the vault's subject, seal key usage) issued by the
        issuing CA for a key held elsewhere, e.g. generated in an HSM. ``serial`` must not
        be one this PKI used (the CRL names certificates by serial)."""
        used = {identity.serial for _, identity in self.identities()}
        if serial in used:
            raise SigningError(f"serial {serial:#x} is already used by the demo PKI")
        issuer = self.issuing_ca
        start = self.now - _BACKDATE
        builder = (
            x509.CertificateBuilder()
            .subject_name(_org_name(*self.vault_identity))
            .issuer_name(issuer.certificate.subject)
            .public_key(public_key)
            .serial_number(serial)
            .not_valid_before(start)
            .not_valid_after(min(start + _LEAF_LIFETIME, issuer.certificate.not_valid_after_utc))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=True,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.private_key.public_key()),
                critical=False,
            )
            .add_extension(_crl_dp(crl_base_url + "issuing-ca.crl"), critical=False)
        )
        return builder.sign(issuer.private_key, hashes.SHA256(), ecdsa_deterministic=True)

    # -- access ---------------------------------------------------------------------------

    def issuing_department_seal(self, credit_code: str) -> Identity:
        """The seal of the department with this 统一社会信用代码 (KeyError if unknown)."""
        try:
            return self.department_seals[credit_code]
        except KeyError:
            raise KeyError(f"no demo department with credit code {credit_code}") from None

    @property
    def chain(self) -> tuple[x509.Certificate, x509.Certificate]:
        """(issuing CA, root): the chain above every seal and the TSA."""
        return (self.issuing_ca.certificate, self.root.certificate)

    def identities(self) -> Iterator[tuple[str, Identity]]:
        """Every entity with its file stem: root-ca, issuing-ca, vault-seal, tsa, seal-<code>."""
        yield "root-ca", self.root
        yield "issuing-ca", self.issuing_ca
        yield "vault-seal", self.vault_seal
        yield "tsa", self.tsa
        for code, identity in self.department_seals.items():
            yield "seal-" + code, identity

    # -- revocation -----------------------------------------------------------------------

    def revoke(
        self,
        serial: int,
        at: _dt.datetime,
        *,
        reason: x509.ReasonFlags = x509.ReasonFlags.key_compromise,
    ) -> DemoPKI:
        """A new PKI whose issuing CA's CRL lists ``serial`` as revoked at ``at``."""
        issued = {i.serial for _, i in self.identities()} - {
            self.root.serial,
            self.issuing_ca.serial,
        }
        if serial not in issued:
            raise SigningError(f"serial {serial:#x} was not issued by the demo issuing CA")
        if any(r.serial == serial for r in self.revocations):
            return self
        revocation = Revocation(serial=serial, at=_utc(at), reason=reason)
        return replace(self, revocations=(*self.revocations, revocation))

    def crl(self, *, at: _dt.datetime | None = None) -> bytes:
        """The issuing CA's CRL (DER), covering the seals and the TSA.

        ``thisUpdate`` is ``at`` or else the latest of ``now`` and every revocation time;
        ``nextUpdate`` is :data:`CRL_VALIDITY` later.
        """
        this_update = (
            _utc(at) if at is not None else max([self.now, *(r.at for r in self.revocations)])
        )
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self.issuing_ca.certificate.subject)
            .last_update(this_update)
            .next_update(this_update + CRL_VALIDITY)
            .add_extension(x509.CRLNumber(1 + len(self.revocations)), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(
                    self.issuing_ca.private_key.public_key()
                ),
                critical=False,
            )
        )
        for revocation in sorted(self.revocations, key=lambda r: r.serial):
            entry = (
                x509.RevokedCertificateBuilder()
                .serial_number(revocation.serial)
                .revocation_date(revocation.at)
                .add_extension(x509.CRLReason(revocation.reason), critical=False)
                .build()
            )
            builder = builder.add_revoked_certificate(entry)
        crl = builder.sign(self.issuing_ca.private_key, hashes.SHA256(), ecdsa_deterministic=True)
        return crl.public_bytes(serialization.Encoding.DER)

    def root_crl(self, *, at: _dt.datetime | None = None) -> bytes:
        """The root's CRL (DER, an ARL): covers the issuing CA, revokes nothing."""
        this_update = _utc(at) if at is not None else self.now
        crl = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self.root.certificate.subject)
            .last_update(this_update)
            .next_update(this_update + CRL_VALIDITY)
            .add_extension(x509.CRLNumber(1), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(
                    self.root.private_key.public_key()
                ),
                critical=False,
            )
            .sign(self.root.private_key, hashes.SHA256(), ecdsa_deterministic=True)
        )
        return crl.public_bytes(serialization.Encoding.DER)

    def crls(self, *, at: _dt.datetime | None = None) -> tuple[bytes, bytes]:
        """(issuing CA CRL, root CRL): all revocation data a B-LT seal embeds."""
        return (self.crl(at=at), self.root_crl(at=at))

    # -- files ----------------------------------------------------------------------------

    def save(self, directory: Path | str, password: bytes | str) -> Path:
        """Write encrypted PKCS#12 files, PEM certificates, DER CRLs and a manifest.

        Files: ``<stem>.p12`` (key + certificate + chain, AES-256/PBKDF2-SHA256),
        ``<stem>.pem`` (certificate), ``chain.pem``, ``issuing-ca.crl``, ``root-ca.crl``,
        ``pki.json``. Stems: see :meth:`identities`. Returns the directory.
        """
        target = Path(directory)
        target.mkdir(parents=True, exist_ok=True)
        secret = password.encode() if isinstance(password, str) else password
        if not secret:
            raise KeySourceError("a PKCS#12 password must not be empty")
        encryption = (
            serialization.PrivateFormat.PKCS12.encryption_builder()
            .kdf_rounds(50_000)
            .key_cert_algorithm(pkcs12.PBES.PBESv2SHA256AndAES256CBC)
            .hmac_hash(hashes.SHA256())
            .build(secret)
        )
        pem = serialization.Encoding.PEM
        for stem, identity in self.identities():
            cas = None
            if identity is not self.root:
                cas = [self.root.certificate]
                if identity is not self.issuing_ca:
                    cas.insert(0, self.issuing_ca.certificate)
            blob = pkcs12.serialize_key_and_certificates(
                stem.encode(), identity.private_key, identity.certificate, cas, encryption
            )
            (target / f"{stem}.p12").write_bytes(blob)
            (target / f"{stem}.pem").write_bytes(identity.certificate.public_bytes(pem))
        (target / "chain.pem").write_bytes(b"".join(c.public_bytes(pem) for c in self.chain))
        (target / "issuing-ca.crl").write_bytes(self.crl())
        (target / "root-ca.crl").write_bytes(self.root_crl())
        manifest = {
            "now": self.now.isoformat(),
            "vault": list(self.vault_identity),
            "departments": [[name, code] for code, name in self.department_names.items()],
            "revocations": [
                {"serial": r.serial, "at": r.at.isoformat(), "reason": r.reason.value}
                for r in self.revocations
            ],
        }
        (target / _MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")
        return target

    @classmethod
    def load(cls, directory: Path | str, password: bytes | str) -> DemoPKI:
        """Read a PKI written by :meth:`save` (KeySourceError when unreadable)."""
        source = Path(directory)
        secret = password.encode() if isinstance(password, str) else password
        try:
            manifest = json.loads((source / _MANIFEST).read_text())
        except (OSError, ValueError) as exc:
            raise KeySourceError(f"no readable demo PKI manifest in {source}: {exc}") from None

        def read(stem: str) -> Identity:
            path = source / f"{stem}.p12"
            try:
                key, cert, _ = pkcs12.load_key_and_certificates(path.read_bytes(), secret)
            except FileNotFoundError:
                raise KeySourceError(f"missing PKCS#12 file {path}") from None
            except ValueError:
                raise KeySourceError(
                    f"cannot open {path}: wrong password or not a PKCS#12 file"
                ) from None
            if not isinstance(key, ec.EllipticCurvePrivateKey) or cert is None:
                raise KeySourceError(f"{path} does not hold an EC key with its certificate")
            return Identity(certificate=cert, private_key=key)

        departments = [(str(n), str(c)) for n, c in manifest["departments"]]
        return cls(
            now=_dt.datetime.fromisoformat(manifest["now"]),
            root=read("root-ca"),
            issuing_ca=read("issuing-ca"),
            vault_seal=read("vault-seal"),
            tsa=read("tsa"),
            department_seals={code: read("seal-" + code) for _, code in departments},
            department_names={code: name for name, code in departments},
            vault_identity=(str(manifest["vault"][0]), str(manifest["vault"][1])),
            revocations=tuple(
                Revocation(
                    serial=int(r["serial"]),
                    at=_dt.datetime.fromisoformat(r["at"]),
                    reason=x509.ReasonFlags(r["reason"]),
                )
                for r in manifest["revocations"]
            ),
        )
