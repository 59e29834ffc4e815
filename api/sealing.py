"""The vault's own seal for certified copies, built from settings.

The seal key is one of

- ``EVAULT_SEAL_PKCS12`` + ``EVAULT_SEAL_PASSWORD``: a PKCS#12 file;
- ``EVAULT_SEAL_PKCS11_MODULE`` + ``EVAULT_SEAL_PKCS11_TOKEN`` + ``EVAULT_SEAL_PKCS11_KEY`` +
  the PIN (``EVAULT_SEAL_PKCS11_PIN``, or ``EVAULT_SEAL_PKCS11_PIN_FILE`` naming a file that
  holds it) + ``EVAULT_SEAL_CERTIFICATES`` (PEM: the seal certificate, then the CAs above it,
  issuer first): a key in an HSM, which never leaves it (``signing.keys.Pkcs11KeySource``;
  the key must sign a probe that the certificate verifies);

with ``EVAULT_TSA_URL`` (an RFC 3161 TSA). The revocation data every B-LT seal embeds is
``EVAULT_SEAL_CRLS`` (DER files, used as given) when set; otherwise OCSP responses from the
responders the seal certificates name (AIA) and CRLs from their distribution points, for
the seal's chain and the TSA's, fetched when the sealer is built and fetched again before
they run out (``signing.revocation.CrlRefresher``).

Demo mode without a seal key: the demo PKI written by ``evault demo`` into ``DATA_DIR/pki``
(its password in ``DATA_DIR/keys/pki_password.hex``), with the in-process TSA of that PKI.
Demo mode with a seal key but no ``EVAULT_TSA_URL`` (``evault demo`` with SoftHSM2, whose
token holds the seal key, :mod:`api.demo.hsm`): that key, with the demo PKI's TSA and CRLs.

Certified copies of OFD licenses (the original starts ``PK\x03\x04``, a ZIP) are made by
the vault's SM2 seal instead (:mod:`api.ofd_seal`: ``EVAULT_OFD_SEAL_*``, or the demo's
SM2 PKI); without one they are refused with a clear error.

Every problem surfaces as one :class:`vault.errors.ConfigError` saying what is wrong when
the sealer is built; an API that opens its own vault in production builds it at start
(:func:`api.context.build_context`), so a misconfigured seal refuses to start.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import cast

from cryptography import x509

from api.ofd_seal import ofd_copy_maker_from_settings
from schemas.report import FileFormat
from signing.copies.annotation import CopyAnnotation
from signing.copies.receipt import ReceiptNote
from signing.errors import RevocationDataError, SealingError, SigningError
from signing.formats import detect_format
from signing.keys import KeySource
from signing.revocation import CrlRefresher, tsa_chain
from vault.errors import ConfigError
from vault.services.copies import CopyRenderer
from vault.services.materials import ReceiptRenderer
from vault.settings import Settings

__all__ = [
    "VaultCopyRenderer",
    "copy_renderer_from_settings",
    "demo_pki_dir",
    "demo_pki_password",
]


def demo_pki_dir(settings: Settings) -> Path:
    return settings.demo_pki_dir


def demo_pki_password(settings: Settings) -> str:
    from api.auth.keys import secret_file

    return secret_file(settings.demo_pki_password_file).decode()


class VaultCopyRenderer:
    """The vault's copy maker: keeps its CRLs current and closes its key source at the end."""

    def __init__(
        self,
        maker: CopyRenderer,
        *,
        key_source: KeySource | None = None,
        refresher: CrlRefresher | None = None,
    ) -> None:
        self._maker = maker
        self._key_source = key_source
        self.ofd: CopyRenderer | None = None
        """Makes the copies of OFD originals (None: this vault has no OFD seal)."""
        self.refresher = refresher
        """Keeps the fetched CRLs current (None: CRLs given, or the demo PKI's)."""

    def make(self, original: bytes, annotation: CopyAnnotation) -> bytes:
        if detect_format(original) is FileFormat.OFD:
            if self.ofd is None:
                raise SealingError(
                    "this vault has no OFD seal (EVAULT_OFD_SEAL_KEY, _CERTIFICATE, _ESL): "
                    "it cannot make certified copies of OFD licenses"
                )
            return self.ofd.make(original, annotation)
        if self.refresher is not None:
            self.refresher.ensure_current()
        return self._maker.make(original, annotation)

    def seal_receipt(self, pdf: bytes, note: ReceiptNote) -> bytes:
        """The vault's 收件核验 seal on a deposited material (``CopyMaker.seal_receipt``)."""
        if self.refresher is not None:
            self.refresher.ensure_current()
        return cast(ReceiptRenderer, self._maker).seal_receipt(pdf, note)

    def close(self) -> None:
        """Release the key source (an HSM session); no copy can be made afterwards."""
        _close(self._key_source)


def _close(key_source: KeySource | None) -> None:
    close = getattr(key_source, "close", None)
    if callable(close):
        close()


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {what} {path}: {exc.strerror or exc}") from None


def _certificates(path: Path) -> list[x509.Certificate]:
    data = _read(path, "EVAULT_SEAL_CERTIFICATES")
    try:
        certificates = x509.load_pem_x509_certificates(data)
    except ValueError:
        certificates = []
    if not certificates:
        raise ConfigError(f"EVAULT_SEAL_CERTIFICATES {path} holds no PEM certificate")
    return certificates


def _key_source(settings: Settings) -> KeySource | None:
    """The configured seal key (None: none configured, the demo PKI in demo mode)."""
    from signing.keys import Pkcs11KeySource, Pkcs12KeySource

    if settings.seal_pkcs12 is not None:
        password = settings.seal_password.get_secret_value() if settings.seal_password else None
        return Pkcs12KeySource.load(settings.seal_pkcs12, password)
    if settings.seal_pkcs11_module is None:
        return None
    assert settings.seal_certificates and settings.seal_pkcs11_token and settings.seal_pkcs11_key
    leaf, *chain = _certificates(settings.seal_certificates)
    return Pkcs11KeySource.open(
        module=settings.seal_pkcs11_module,
        token_label=settings.seal_pkcs11_token,
        key_label=settings.seal_pkcs11_key,
        pin=settings.seal_pin(),
        certificate=leaf,
        chain=chain,
    )


def _demo_renderer(settings: Settings, key: KeySource | None = None) -> VaultCopyRenderer:
    from signing.copies.maker import CopyMaker
    from signing.keys import LocalKeySource
    from signing.pki import DemoPKI
    from signing.seal import Sealer
    from signing.timestamps import EmbeddedTSA

    pki = DemoPKI.load(demo_pki_dir(settings), demo_pki_password(settings))
    source = key or LocalKeySource(
        certificate=pki.vault_seal.certificate,
        private_key=pki.vault_seal.private_key,
        chain=pki.chain,
    )
    tsa = EmbeddedTSA(
        certificate=pki.tsa.certificate, private_key=pki.tsa.private_key, chain=pki.chain
    )
    sealer = Sealer(source, timestamper=tsa, crls=pki.crls())
    return VaultCopyRenderer(CopyMaker(sealer), key_source=key)


def _renderer(settings: Settings, key: KeySource) -> VaultCopyRenderer:
    from signing.copies.maker import CopyMaker
    from signing.seal import Sealer
    from signing.timestamps import HttpTSA

    if not settings.tsa_url:
        raise ConfigError("EVAULT_TSA_URL is not set: B-LT copies need a timestamp")
    tsa = HttpTSA(settings.tsa_url)
    if settings.seal_crls:
        crls = [_read(path, "EVAULT_SEAL_CRLS file") for path in settings.seal_crls]
        sealer = Sealer(key, timestamper=tsa, crls=crls)
        return VaultCopyRenderer(CopyMaker(sealer), key_source=key)
    sealer = Sealer(key, timestamper=tsa)
    try:
        chain = [key.certificate, *key.chain]
        refresher = CrlRefresher(sealer, chain, tsa_certificates=tsa_chain(tsa))
    except RevocationDataError as exc:
        raise ConfigError(
            f"EVAULT_SEAL_CRLS is not set and the seal's CRLs cannot be fetched: {exc}"
        ) from None
    return VaultCopyRenderer(CopyMaker(sealer), key_source=key, refresher=refresher)


def copy_renderer_from_settings(settings: Settings) -> VaultCopyRenderer:
    """The vault's copy maker (keys loaded once, CRLs obtained); :class:`ConfigError` when
    the seal cannot be built, naming the first problem."""
    problem = settings.seal_key_problem()
    if problem:
        raise ConfigError(problem)
    key: KeySource | None = None
    try:
        key = _key_source(settings)
        if key is None or (settings.is_demo and not settings.tsa_url):
            renderer = _demo_renderer(settings, key)
        else:
            renderer = _renderer(settings, key)
        renderer.ofd = ofd_copy_maker_from_settings(settings)
        return renderer
    except BaseException as exc:
        with contextlib.suppress(Exception):
            _close(key)
        if isinstance(exc, OSError):
            raise ConfigError(f"cannot read the seal's files: {exc}") from None
        if isinstance(exc, SigningError):
            raise ConfigError(f"the vault's seal is unusable: {exc}") from None
        raise
