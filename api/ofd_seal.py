"""The vault's SM2 seal for certified copies of OFD licenses, built from settings.

Production: ``EVAULT_OFD_SEAL_KEY`` (the vault's SM2 private key, PEM or DER, unencrypted),
``EVAULT_OFD_SEAL_CERTIFICATE`` (its certificate, PEM or DER) and ``EVAULT_OFD_SEAL_ESL``
(the vault's GB/T 38540 V4 electronic seal, DER, made by a seal maker and listing that
certificate). All three or none: with none, copies of OFD licenses are refused with a
clear error (:class:`signing.errors.SealingError`), PDF copies are unaffected.

Demo mode without them: a signer of the demo's SM2 PKI (:class:`signing.ofd.pki.Sm2DemoPKI`),
its keys derived from the demo PKI's password (as the demo's OFD issuers' are, see
``api/demo/ofd.py``), so it chains to the SM2 root of the demo trust bundle.
"""

from __future__ import annotations

from pathlib import Path

from api.auth.keys import secret_file
from api.demo.ofd import sm2_seed
from signing.errors import KeySourceError, SealingError
from signing.ofd.copy import OfdCopyMaker
from signing.ofd.pki import Sm2DemoPKI, Sm2Identity
from vault.errors import ConfigError
from vault.settings import Settings

__all__ = ["DEMO_VAULT_CODE", "ofd_copy_maker_from_settings"]

DEMO_VAULT_CODE = "12350000MB00000359"
"""The demo vault's 统一社会信用代码 (``api.demo.prepare.VAULT``; not imported: the demo imports
api.sealing, which imports this module)."""


def _file(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {what} {path}: {exc.strerror or exc}") from None


def _demo_maker(settings: Settings) -> OfdCopyMaker:
    """A signer of the demo's SM2 PKI: the demo's keys (``api.demo.ofd.sm2_seed`` of the
    demo PKI's password), so its certificate chains to the SM2 root of the trust bundle."""
    password = secret_file(settings.demo_pki_password_file).decode()
    name = settings.vault_name
    pki = Sm2DemoPKI.build(seed=sm2_seed(password), departments=[(name, DEMO_VAULT_CODE)])
    return OfdCopyMaker(pki.signers[name], pki.seal_for(name), provider="evault")


def ofd_copy_maker_from_settings(settings: Settings) -> OfdCopyMaker | None:
    """The vault's OFD copy maker, or None when no OFD seal is configured (production);
    :class:`ConfigError` naming the first problem when it cannot be built."""
    problem = settings.ofd_seal_problem()
    if problem:
        raise ConfigError(problem)
    key, cert, esl = settings.ofd_seal_key, settings.ofd_seal_certificate, settings.ofd_seal_esl
    try:
        if key is None or cert is None or esl is None:
            return _demo_maker(settings) if settings.is_demo else None
        identity = Sm2Identity.load(
            _file(key, "EVAULT_OFD_SEAL_KEY"), _file(cert, "EVAULT_OFD_SEAL_CERTIFICATE")
        )
        return OfdCopyMaker(identity, _file(esl, "EVAULT_OFD_SEAL_ESL"))
    except (KeySourceError, SealingError) as exc:
        raise ConfigError(f"the vault's OFD seal is unusable: {exc}") from None
