"""Trust bundles: the pinned, versioned set of certificates an auditor verifies against.

A bundle is one JSON file (UTF-8), self-describing and readable by people::

    {
      "format": "evault-trust-bundle",
      "version": 1,
      "description": "...",
      "roots":         [{"subject": "...", "sha256": "<hex>", "not_after": "...",
                         "pem": "-----BEGIN CERTIFICATE-----..."}],
      "intermediates": [...same shape...],
      "vault_seal":    {...same shape...} | null,
      "previous_vault_seals": [...same shape...],          (version 2 only)
      "crls":          [{"issuer": "...", "sha256": "<hex>", "pem": "-----BEGIN X509 CRL-----..."}],
      "log_keys":      [{"vkey": "<name>+<hex key id>+<base64 key>"}],   (version 2 only)
      "credential_keys": [{"kty": "EC", "crv": "P-256", "x": "...", "y": "...", "kid": "..."}],
      "seal_makers":   [...same shape as roots...],
      "ofd_vault_seals": [...same shape as roots...],   (only when pinned)
      "fingerprint":   "sha256:<hex>"
    }

``vault_seal`` is the seal certificate the vault seals copies with now;
``previous_vault_seals`` the ones it sealed with before a rotation (``evault keys
seal-rotate``), so that an auditor recognises old copies as the vault's too. ``log_keys``
are the transparency log's public keys as signed-note vkeys, the current one first, then
the retired ones (``evault keys log-rotate``): a checkpoint verifies when one of them signed
it. A bundle with neither is version 1, byte for byte as before (its fingerprint unchanged);
one with either is version 2, which an older evault refuses by its version.

The fingerprint is the SHA-256 of the *canonical content*: the compact JSON (sorted keys,
no spaces, ASCII) of ``{"format", "version", "roots", "intermediates", "vault_seal",
"crls"}`` (version 2 adds ``"previous_vault_seals"`` and ``"log_keys"``, the vkeys as
text) where every certificate and CRL is its DER encoding in base64, in the order of
the file, plus ``"credential_keys"`` (the public JWKs, ``kty crv x y kid`` only) when the
bundle has any (so a bundle without them keeps the fingerprint it always had), and
``"seal_makers"`` (base64 DER) the same way, and ``"ofd_vault_seals"`` (base64 DER, the
vault's SM2 copy seal certificates) the same way. Subjects,
per-item hashes, the description and PEM line wrapping are not part of it; they are
checked against the DER on load. An auditor pins the fingerprint: the same
fingerprint means the same trust decisions.

One bundle may hold both kinds of anchors: ECDSA/RSA roots for PDF seals and SM2 roots
(curve 1.2.156.10197.1.301) with their intermediates and SM2-signed CRLs for OFD seals. The
SM2 ones are used by :mod:`signing.ofd.certpath` (pyHanko cannot build SM2 paths; it never
chains a PDF signer to them), see :meth:`TrustBundle.sm2_store`. ``seal_makers`` pins the
certificates of the seal makers (印章制作单位) whose OFD seals (GB/T 38540) are accepted: a
seal made by any other certificate, even one under a trusted root, is not trusted.

The pyHanko validation inputs (trust manager, parsed certificates and CRLs) are built once
per bundle and cached; :meth:`TrustBundle.validation_context` makes the cheap per-document
context from them, offline (no fetching).
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from signing.errors import TrustError

if TYPE_CHECKING:  # pragma: no cover - typing only
    from asn1crypto import crl as asn1_crl
    from asn1crypto import ocsp as asn1_ocsp
    from asn1crypto import x509 as asn1_x509
    from pyhanko_certvalidator import ValidationContext

    from signing.transparency.checkpoint import LogKeyring, LogVerifier

__all__ = [
    "BUNDLE_FORMAT",
    "BUNDLE_VERSION",
    "BUNDLE_VERSION_ROTATED",
    "CertificateLike",
    "TrustBundle",
    "build_validation_context",
]

BUNDLE_FORMAT = "evault-trust-bundle"
BUNDLE_VERSION = 1
#: The version of a bundle that carries previous vault seals or log keys.
BUNDLE_VERSION_ROTATED = 2

#: Anything a certificate or CRL can be given as: DER or PEM bytes, or a parsed object of
#: ``cryptography`` or ``asn1crypto`` (anything with ``public_bytes``/``dump``).
CertificateLike = Any

_PEM_RE = re.compile(
    rb"-----BEGIN (?P<label>[A-Z0-9 ]+)-----(?P<body>.*?)-----END (?P=label)-----", re.S
)
_MAX_BUNDLE_BYTES = 16 * 1024 * 1024


def _der_of(item: CertificateLike, *, what: str) -> bytes:
    """The DER bytes of a certificate or CRL given in any accepted form."""
    if isinstance(item, str):
        item = item.encode("ascii", "replace")
    if isinstance(item, bytes | bytearray | memoryview):
        raw = bytes(item)
        if raw.lstrip().startswith(b"-----BEGIN"):
            blocks = _pem_blocks(raw)
            if len(blocks) != 1:
                raise TrustError(f"{what}: expected one PEM block, found {len(blocks)}")
            return blocks[0][1]
        return raw
    if hasattr(item, "public_bytes"):  # cryptography Certificate / CertificateRevocationList
        from cryptography.hazmat.primitives.serialization import Encoding

        return bytes(item.public_bytes(Encoding.DER))
    if hasattr(item, "dump"):  # asn1crypto
        return bytes(item.dump())
    raise TrustError(f"{what}: unsupported type {type(item).__name__}")


def _pem_blocks(data: bytes) -> list[tuple[str, bytes]]:
    out = []
    for m in _PEM_RE.finditer(data):
        body = b"".join(
            line for line in m.group("body").split() if b":" not in line
        )  # skip RFC 1421 headers
        try:
            der = base64.b64decode(body, validate=True)
        except ValueError as exc:
            raise TrustError(f"a PEM block is not valid base64: {exc}") from None
        out.append((m.group("label").decode(), der))
    return out


def _pem(der: bytes, label: str) -> str:
    b64 = base64.b64encode(der).decode()
    lines = [b64[i : i + 64] for i in range(0, len(b64), 64)]
    return f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----\n"


def _parse_cert(der: bytes, *, what: str) -> asn1_x509.Certificate:
    from asn1crypto import x509

    try:
        cert = x509.Certificate.load(der)
        cert.native  # noqa: B018 - force a full parse now, not later in validation
    except Exception as exc:  # asn1crypto raises ValueError, TypeError, ...
        raise TrustError(f"{what} is not a valid X.509 certificate: {exc}") from None
    return cert


def _parse_crl(der: bytes, *, what: str) -> asn1_crl.CertificateList:
    from asn1crypto import crl

    try:
        parsed = crl.CertificateList.load(der)
        parsed["tbs_cert_list"]["issuer"].native  # noqa: B018
    except Exception as exc:
        raise TrustError(f"{what} is not a valid X.509 CRL: {exc}") from None
    return parsed


def _subject(cert: asn1_x509.Certificate) -> str:
    return str(cert.subject.human_friendly)


@dataclass(frozen=True, eq=False)
class TrustBundle:
    """A pinned set of trust anchors, intermediates, the vault's seal certificate and CRLs.

    Build one with :meth:`from_certificates` or :meth:`load`; it is immutable, and the
    pyHanko objects derived from it are built once and cached on the instance.
    """

    roots: tuple[bytes, ...]
    """DER of each trusted root certificate (trust anchors)."""
    intermediates: tuple[bytes, ...] = ()
    """DER of intermediate CA certificates offered for path building (not trusted alone)."""
    vault_seal: bytes | None = None
    """DER of the vault's own seal certificate (what certified copies are sealed with)."""
    crls: tuple[bytes, ...] = ()
    """DER of CRLs shipped with the bundle, used besides the revocation data in each file."""
    previous_vault_seals: tuple[bytes, ...] = ()
    """DER of the vault's earlier seal certificates (before a rotation), newest first."""
    log_keys: tuple[str, ...] = ()
    """The transparency log's public keys as signed-note vkeys: the current one first."""
    credential_keys: tuple[dict[str, str], ...] = ()
    """Public JWKs (ES256, with ``kid``) of the vault's credential keys: what signs SD-JWT
    VCs and their status list tokens (:mod:`signing.credentials`)."""
    seal_makers: tuple[bytes, ...] = ()
    """DER of the designated OFD seal makers' certificates (印章制作单位): only seals made
    with one of their keys are trusted (:mod:`signing.ofd.verifier`)."""
    ofd_vault_seals: tuple[bytes, ...] = ()
    """DER of the vault's OFD (SM2) copy seal certificates: the only seals that may add a
    certified copy's 加注 to an issuer-sealed OFD (:mod:`signing.ofd.additions`), and whose
    log proof ``evault verify --log-key`` accepts on an OFD copy."""
    version: int = BUNDLE_VERSION
    """Format version of the bundle (2 when it has previous seals or log keys)."""
    description: str = "evault trust bundle"
    """Free text for people; not part of the fingerprint."""
    _cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.roots:
            raise TrustError("a trust bundle needs at least one root certificate")
        if self.version not in (BUNDLE_VERSION, BUNDLE_VERSION_ROTATED):
            raise TrustError(
                f"unsupported trust bundle version {self.version} (this evault reads "
                f"versions {BUNDLE_VERSION} and {BUNDLE_VERSION_ROTATED})"
            )
        rotated = bool(self.previous_vault_seals or self.log_keys)
        if rotated and self.version == BUNDLE_VERSION:
            raise TrustError(
                "a version 1 trust bundle cannot hold previous vault seals or log keys"
            )
        # Parse everything now: an invalid bundle cannot exist.
        self._cache["roots"] = [
            _parse_cert(d, what=f"root #{i + 1}") for i, d in enumerate(self.roots)
        ]
        self._cache["intermediates"] = [
            _parse_cert(d, what=f"intermediate #{i + 1}") for i, d in enumerate(self.intermediates)
        ]
        self._cache["vault_seal"] = (
            _parse_cert(self.vault_seal, what="the vault seal certificate")
            if self.vault_seal is not None
            else None
        )
        self._cache["crls"] = [_parse_crl(d, what=f"CRL #{i + 1}") for i, d in enumerate(self.crls)]
        self._cache["previous_vault_seals"] = [
            _parse_cert(d, what=f"previous vault seal #{i + 1}")
            for i, d in enumerate(self.previous_vault_seals)
        ]
        self._cache["log_keys"] = _parse_log_keys(self.log_keys)
        self._cache["seal_makers"] = [
            _parse_cert(d, what=f"seal maker #{i + 1}") for i, d in enumerate(self.seal_makers)
        ]
        self._cache["ofd_vault_seals"] = [
            _parse_cert(d, what=f"OFD vault seal #{i + 1}")
            for i, d in enumerate(self.ofd_vault_seals)
        ]
        object.__setattr__(
            self,
            "credential_keys",
            tuple(_credential_jwk(k, i) for i, k in enumerate(self.credential_keys)),
        )

    # -- construction -------------------------------------------------------------------

    @classmethod
    def from_certificates(
        cls,
        *,
        roots: Iterable[CertificateLike],
        intermediates: Iterable[CertificateLike] = (),
        vault_seal: CertificateLike | None = None,
        crls: Iterable[CertificateLike] = (),
        description: str = "evault trust bundle",
        previous_vault_seals: Iterable[CertificateLike] = (),
        log_keys: Iterable[str] = (),
        credential_keys: Iterable[dict[str, Any]] = (),
        seal_makers: Iterable[CertificateLike] = (),
        ofd_vault_seals: Iterable[CertificateLike] = (),
    ) -> TrustBundle:
        """Build a bundle from certificates and CRLs (DER/PEM bytes, cryptography or asn1crypto
        objects) and log vkeys. Duplicates are dropped, order is kept; the version is 2 when
        there are previous vault seals or log keys, else 1."""

        def dedupe(items: Iterable[CertificateLike], what: str) -> tuple[bytes, ...]:
            seen: dict[bytes, None] = {}
            for i, item in enumerate(items):
                seen.setdefault(_der_of(item, what=f"{what} #{i + 1}"), None)
            return tuple(seen)

        seal = _der_of(vault_seal, what="vault seal") if vault_seal is not None else None
        previous = tuple(
            d for d in dedupe(previous_vault_seals, "previous vault seal") if d != seal
        )
        keys = tuple(dict.fromkeys(k.strip() for k in log_keys))
        return cls(
            roots=dedupe(roots, "root"),
            intermediates=dedupe(intermediates, "intermediate"),
            vault_seal=seal,
            crls=dedupe(crls, "CRL"),
            description=description,
            previous_vault_seals=previous,
            log_keys=keys,
            version=BUNDLE_VERSION_ROTATED if previous or keys else BUNDLE_VERSION,
            credential_keys=tuple(credential_keys),
            seal_makers=dedupe(seal_makers, "seal maker"),
            ofd_vault_seals=dedupe(ofd_vault_seals, "OFD vault seal"),
        )

    @classmethod
    def load(cls, source: str | Path | bytes) -> TrustBundle:
        """Read a bundle from a path or from its bytes; raise :class:`TrustError` when it is
        unreadable, malformed, or its fingerprint does not match its content."""
        if isinstance(source, bytes):
            data = source
        else:
            path = Path(source)
            try:
                if path.stat().st_size > _MAX_BUNDLE_BYTES:
                    raise TrustError(f"trust bundle {path} is larger than 16 MiB")
                data = path.read_bytes()
            except OSError as exc:
                raise TrustError(
                    f"cannot read trust bundle {path}: {exc.strerror or exc}"
                ) from None
        try:
            doc = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise TrustError(f"trust bundle is not valid JSON: {exc}") from None
        if not isinstance(doc, dict) or doc.get("format") != BUNDLE_FORMAT:
            raise TrustError(f'trust bundle lacks "format": "{BUNDLE_FORMAT}"')
        version = doc.get("version")
        if not isinstance(version, int):
            raise TrustError('trust bundle lacks an integer "version"')

        def items(key: str, label: str) -> tuple[bytes, ...]:
            raw = doc.get(key, [])
            if not isinstance(raw, list):
                raise TrustError(f'trust bundle "{key}" must be a list')
            return tuple(_item_der(entry, key, i, label) for i, entry in enumerate(raw))

        seal_raw = doc.get("vault_seal")
        bundle = cls(
            roots=items("roots", "CERTIFICATE"),
            intermediates=items("intermediates", "CERTIFICATE"),
            vault_seal=(
                _item_der(seal_raw, "vault_seal", 0, "CERTIFICATE")
                if seal_raw is not None
                else None
            ),
            crls=items("crls", "X509 CRL"),
            previous_vault_seals=items("previous_vault_seals", "CERTIFICATE"),
            log_keys=_log_key_entries(doc.get("log_keys", [])),
            credential_keys=_credential_keys(doc.get("credential_keys", [])),
            seal_makers=items("seal_makers", "CERTIFICATE"),
            ofd_vault_seals=items("ofd_vault_seals", "CERTIFICATE"),
            version=version,
            description=str(doc.get("description", "")),
        )
        claimed = doc.get("fingerprint")
        if claimed != bundle.fingerprint:
            raise TrustError(
                f"trust bundle fingerprint mismatch: the file says {claimed!r}, its content "
                f"hashes to {bundle.fingerprint!r} (edited or corrupted)"
            )
        return bundle

    def with_seal_makers(self, makers: Iterable[CertificateLike]) -> TrustBundle:
        """This bundle with more designated OFD seal makers (duplicates dropped)."""
        import dataclasses

        added = [_der_of(m, what=f"seal maker #{i + 1}") for i, m in enumerate(makers)]
        return dataclasses.replace(
            self, seal_makers=tuple(dict.fromkeys([*self.seal_makers, *added])), _cache={}
        )

    def with_ofd_vault_seals(self, seals: Iterable[CertificateLike]) -> TrustBundle:
        """This bundle with more pinned OFD vault copy seals (duplicates dropped)."""
        import dataclasses

        added = [_der_of(m, what=f"OFD vault seal #{i + 1}") for i, m in enumerate(seals)]
        merged = tuple(dict.fromkeys([*self.ofd_vault_seals, *added]))
        return dataclasses.replace(self, ofd_vault_seals=merged, _cache={})

    # -- serialisation -----------------------------------------------------------------

    def _canonical(self) -> bytes:
        def b64(items: Sequence[bytes]) -> list[str]:
            return [base64.b64encode(d).decode() for d in items]

        content = {
            "format": BUNDLE_FORMAT,
            "version": self.version,
            "roots": b64(self.roots),
            "intermediates": b64(self.intermediates),
            "vault_seal": base64.b64encode(self.vault_seal).decode() if self.vault_seal else None,
            "crls": b64(self.crls),
        }
        if self.version >= BUNDLE_VERSION_ROTATED:
            content["previous_vault_seals"] = b64(self.previous_vault_seals)
            content["log_keys"] = list(self.log_keys)
        if self.credential_keys:
            content["credential_keys"] = list(self.credential_keys)
        if self.seal_makers:
            content["seal_makers"] = b64(self.seal_makers)
        if self.ofd_vault_seals:
            content["ofd_vault_seals"] = b64(self.ofd_vault_seals)
        return json.dumps(
            content, sort_keys=True, separators=(",", ":"), ensure_ascii=True
        ).encode()

    @functools.cached_property
    def fingerprint(self) -> str:
        """``sha256:<hex>`` of the canonical content (see the module docstring)."""
        return "sha256:" + hashlib.sha256(self._canonical()).hexdigest()

    def dump(self) -> bytes:
        """The bundle as a JSON document (UTF-8, indented, trailing newline)."""

        def cert_entry(der: bytes, parsed: asn1_x509.Certificate) -> dict[str, str]:
            return {
                "subject": _subject(parsed),
                "sha256": hashlib.sha256(der).hexdigest(),
                "not_after": parsed["tbs_certificate"]["validity"]["not_after"].native.isoformat(),
                "pem": _pem(der, "CERTIFICATE"),
            }

        doc = {
            "format": BUNDLE_FORMAT,
            "version": self.version,
            "description": self.description,
            "roots": [
                cert_entry(d, p) for d, p in zip(self.roots, self._cache["roots"], strict=True)
            ],
            "intermediates": [
                cert_entry(d, p)
                for d, p in zip(self.intermediates, self._cache["intermediates"], strict=True)
            ],
            "vault_seal": (
                cert_entry(self.vault_seal, self._cache["vault_seal"]) if self.vault_seal else None
            ),
            "crls": [
                {
                    "issuer": str(p["tbs_cert_list"]["issuer"].human_friendly),
                    "sha256": hashlib.sha256(d).hexdigest(),
                    "pem": _pem(d, "X509 CRL"),
                }
                for d, p in zip(self.crls, self._cache["crls"], strict=True)
            ],
            "fingerprint": self.fingerprint,
        }
        if self.version >= BUNDLE_VERSION_ROTATED:
            doc["previous_vault_seals"] = [
                cert_entry(d, p)
                for d, p in zip(
                    self.previous_vault_seals, self._cache["previous_vault_seals"], strict=True
                )
            ]
            doc["log_keys"] = [{"vkey": k} for k in self.log_keys]
        if self.credential_keys:
            doc["credential_keys"] = list(self.credential_keys)
        if self.seal_makers:
            doc["seal_makers"] = [
                cert_entry(d, p)
                for d, p in zip(self.seal_makers, self._cache["seal_makers"], strict=True)
            ]
        if self.ofd_vault_seals:
            doc["ofd_vault_seals"] = [
                cert_entry(d, p)
                for d, p in zip(self.ofd_vault_seals, self._cache["ofd_vault_seals"], strict=True)
            ]
        return (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode("utf-8")

    # -- parsed views and validation ----------------------------------------------------

    @property
    def root_certificates(self) -> list[asn1_x509.Certificate]:
        return list(self._cache["roots"])

    @property
    def intermediate_certificates(self) -> list[asn1_x509.Certificate]:
        return list(self._cache["intermediates"])

    @property
    def vault_seal_certificate(self) -> asn1_x509.Certificate | None:
        seal: asn1_x509.Certificate | None = self._cache["vault_seal"]
        return seal

    @property
    def previous_vault_seal_certificates(self) -> list[asn1_x509.Certificate]:
        """The vault's earlier seal certificates (before a rotation)."""
        return list(self._cache["previous_vault_seals"])

    def log_verifier(self) -> LogKeyring | None:
        """The log keys (current first) as one verifier, or None when the bundle has none."""
        keys: tuple[LogVerifier, ...] = self._cache["log_keys"]
        if not keys:
            return None
        from signing.transparency.checkpoint import LogKeyring

        return LogKeyring(keys)

    @property
    def crl_objects(self) -> list[asn1_crl.CertificateList]:
        return list(self._cache["crls"])

    def sm2_store(self) -> Any:
        """The :class:`signing.ofd.certpath.Sm2TrustStore` of this bundle's SM2 roots,
        intermediates and CRLs, built once."""
        store = self._cache.get("sm2_store")
        if store is None:
            from signing.ofd.certpath import Sm2TrustStore

            store = Sm2TrustStore(
                self._cache["roots"],
                self._cache["intermediates"],
                self._cache["crls"],
                seal_makers=self.seal_makers,
                vault_seals=self.ofd_vault_seals,
            )
            self._cache["sm2_store"] = store
        return store

    def is_root(self, cert_der: bytes) -> bool:
        return cert_der in self.roots

    def trust_manager(self) -> Any:
        """The pyHanko trust manager on this bundle's roots, built once."""
        tm = self._cache.get("trust_manager")
        if tm is None:
            from pyhanko_certvalidator.registry import SimpleTrustManager

            tm = SimpleTrustManager.build(trust_roots=list(self._cache["roots"]))
            self._cache["trust_manager"] = tm
        return tm

    def validation_context(
        self,
        *,
        moment: dt.datetime | None = None,
        other_certs: Iterable[asn1_x509.Certificate] = (),
        crls: Iterable[asn1_crl.CertificateList] = (),
        ocsps: Iterable[asn1_ocsp.OCSPResponse] = (),
        revocation_mode: str = "soft-fail",
    ) -> ValidationContext:
        """An offline pyHanko ``ValidationContext`` on this bundle (no fetching), plus the
        certificates and revocation data a document brings. ``revocation_mode``: as
        certvalidator's (``soft-fail``, ``require``: every certificate of the path needs
        valid revocation data, ``none``).

        The trust manager and the parsed bundle certificates and CRLs are built once per
        bundle; a context is cheap to make from them. A fresh context per document keeps
        one document's embedded validation data from leaking into another's verdict.
        """
        return build_validation_context(
            trust_manager=self.trust_manager(),
            moment=moment,
            other_certs=[
                *self._cache["intermediates"],
                *([self._cache["vault_seal"]] if self._cache["vault_seal"] is not None else []),
                *self._cache["previous_vault_seals"],
                *other_certs,
            ],
            crls=[*self._cache["crls"], *crls],
            ocsps=ocsps,
            revocation_mode=revocation_mode,
        )


def build_validation_context(
    *,
    trust_manager: Any,
    moment: dt.datetime | None,
    other_certs: Iterable[asn1_x509.Certificate],
    crls: Iterable[asn1_crl.CertificateList],
    ocsps: Iterable[asn1_ocsp.OCSPResponse],
    revocation_mode: str = "soft-fail",
) -> ValidationContext:
    """An offline ``ValidationContext``: revocation checked on the data given (soft-fail by
    default), no fetching."""
    from pyhanko_certvalidator import ValidationContext

    return ValidationContext(
        trust_manager=trust_manager,
        other_certs=list(other_certs),
        crls=list(crls),
        ocsps=list(ocsps),
        moment=moment,
        allow_fetching=False,
        revocation_mode=revocation_mode,
    )


def _item_der(entry: Any, key: str, index: int, label: str) -> bytes:
    """DER from one bundle entry (an object with "pem", or a bare PEM string); checks the
    optional "sha256" against it."""
    where = f'trust bundle "{key}" entry #{index + 1}'
    pem = entry.get("pem") if isinstance(entry, dict) else entry
    if not isinstance(pem, str):
        raise TrustError(f'{where} has no "pem" text')
    blocks = _pem_blocks(pem.encode("ascii", "replace"))
    if len(blocks) != 1 or blocks[0][0] != label:
        raise TrustError(f"{where} must hold exactly one PEM {label} block")
    der = blocks[0][1]
    if (
        isinstance(entry, dict)
        and "sha256" in entry
        and entry["sha256"] != hashlib.sha256(der).hexdigest()
    ):
        raise TrustError(f"{where}: its sha256 does not match its PEM content")
    return der


def _log_key_entries(raw: Any) -> tuple[str, ...]:
    """The vkeys of a bundle's "log_keys" list (objects with "vkey", or bare strings)."""
    if not isinstance(raw, list):
        raise TrustError('trust bundle "log_keys" must be a list')
    out = []
    for i, entry in enumerate(raw):
        vkey = entry.get("vkey") if isinstance(entry, dict) else entry
        if not isinstance(vkey, str):
            raise TrustError(f'trust bundle "log_keys" entry #{i + 1} has no "vkey" text')
        out.append(vkey)
    return tuple(out)


def _parse_log_keys(vkeys: Sequence[str]) -> tuple[LogVerifier, ...]:
    from signing.errors import KeySourceError, LogFormatError
    from signing.transparency.checkpoint import LogVerifier

    out = []
    for i, vkey in enumerate(vkeys):
        try:
            out.append(LogVerifier.from_vkey(vkey))
        except (KeySourceError, LogFormatError) as exc:
            raise TrustError(f"trust bundle log key #{i + 1} is not a log vkey: {exc}") from None
    return tuple(out)


def _credential_keys(raw: Any) -> tuple[dict[str, str], ...]:
    if not isinstance(raw, list):
        raise TrustError('trust bundle "credential_keys" must be a list')
    return tuple(raw)


def _credential_jwk(value: Any, index: int) -> dict[str, str]:
    """A credential key as kept in a bundle: a P-256 public JWK with its ``kid``."""
    from signing.credentials.keys import public_jwk
    from signing.errors import CredentialError

    try:
        key = public_jwk(value)
    except CredentialError as exc:
        raise TrustError(f"trust bundle credential key #{index + 1}: {exc}") from None
    kid = value.get("kid")
    if not isinstance(kid, str) or not kid:
        raise TrustError(f"trust bundle credential key #{index + 1} has no kid")
    exported: dict[str, str] = key.export_public(as_dict=True)
    return {"kty": "EC", "crv": "P-256", "x": exported["x"], "y": exported["y"], "kid": kid}
