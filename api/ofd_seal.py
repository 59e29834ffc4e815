"""The vault's SM2 seal for certified copies of OFD licenses, built from settings.

Production: ``EVAULT_OFD_SEAL_KEY`` (the vault's SM2 private key, PEM or DER, unencrypted),
``EVAULT_OFD_SEAL_CERTIFICATE`` (its certificate, PEM or DER) and ``EVAULT_OFD_SEAL_ESL``
(the vault's GB/T 38540 V4 electronic seal, DER, made by a seal maker and listing that
certificate). All three or none: with none, copies of OFD licenses are refused with a
clear error (:class:`signing.errors.SealingError`), PDF copies are unaffected.

Demo mode without them: a signer of the demo's SM2 PKI (:class:`signing.ofd.pki.Sm2DemoPKI`),
its keys derived from the demo PKI's password (as the demo's OFD issuers' are, see
``api/demo_ofd.py``), so it chains to the SM2 root of the demo trust bundle.
"""

from __future__ import annotations

import hashlib
import hmac

from signing.errors import KeySourceError, SealingError
from signing.ofd.copy import OfdCopyMaker
from signing.ofd.pki import Sm2DemoPKI, Sm2Identity
from vault.errors import ConfigError
from vault.settings import Settings

__all__ = ["demo_sm2_seed", "ofd_copy_maker_from_settings"]


def demo_sm2_seed(password: str) -> bytes:
    """The seed of the demo's SM2 PKI keys (the same derivation as the demo's OFD issuers)."""
    return hmac.new(password.encode(), b"evault demo SM2 PKI", hashlib.sha256).digest()


def _demo_maker(settings: Settings) -> OfdCopyMaker:
    from api.demo import VAULT
    from api.sealing import demo_pki_password

    name = settings.vault_name
    pki = Sm2DemoPKI.build(
        seed=demo_sm2_seed(demo_pki_password(settings)), departments=[(name, VAULT[1])]
    )
    return OfdCopyMaker(pki.signers[name], pki.seal_for(name), provider="evault")


def ofd_copy_maker_from_settings(settings: Settings) -> OfdCopyMaker | None:
    """The vault's OFD copy maker, or None when no OFD seal is configured (production);
    :class:`ConfigError` naming the first problem when it cannot be built."""
    problem = settings.ofd_seal_problem()
    if problem:
        raise ConfigError(problem)
    from api.sealing import _read  # (api.sealing imports this module)

    key, cert, esl = settings.ofd_seal_key, settings.ofd_seal_certificate, settings.ofd_seal_esl
    try:
        if key is None or cert is None or esl is None:
            return _demo_maker(settings) if settings.is_demo else None
        identity = Sm2Identity.load(
            _read(key, "EVAULT_OFD_SEAL_KEY"), _read(cert, "EVAULT_OFD_SEAL_CERTIFICATE")
        )
        return OfdCopyMaker(identity, _read(esl, "EVAULT_OFD_SEAL_ESL"))
    except (KeySourceError, SealingError) as exc:
        raise ConfigError(f"the vault's OFD seal is unusable: {exc}") from None
