"""The vault's own seal for certified copies, built from settings.

Production: ``EVAULT_SEAL_PKCS12`` + ``EVAULT_SEAL_PASSWORD`` (the key; an HSM key source can
take its place later), ``EVAULT_TSA_URL`` (an RFC 3161 TSA) and ``EVAULT_SEAL_CRLS`` (DER CRLs
covering the seal's and the TSA's chains, embedded in every B-LT seal).

Demo mode: the demo PKI written by ``evault demo`` into ``DATA_DIR/pki`` (its password in
``DATA_DIR/keys/pki_password.hex``), with the in-process TSA of that PKI.
"""

from __future__ import annotations

from pathlib import Path

from signing.errors import SigningError
from vault.errors import ConfigError
from vault.services.copies import CopyRenderer
from vault.settings import Settings

__all__ = ["copy_renderer_from_settings", "demo_pki_dir", "demo_pki_password"]


def demo_pki_dir(settings: Settings) -> Path:
    return settings.data_dir / "pki"


def demo_pki_password(settings: Settings) -> str:
    from api.auth.keys import secret_file

    return secret_file(settings.data_dir / "keys" / "pki_password.hex").decode()


def copy_renderer_from_settings(settings: Settings) -> CopyRenderer:
    """A ``signing.copies.CopyMaker`` around the vault's sealer (loads keys once)."""
    from signing.copies.maker import CopyMaker
    from signing.keys import LocalKeySource, Pkcs12KeySource
    from signing.seal import Sealer
    from signing.timestamps import EmbeddedTSA, HttpTSA

    try:
        if settings.seal_pkcs12 is None:
            if not settings.is_demo:
                raise ConfigError("EVAULT_SEAL_PKCS12 is not set: certified copies need a seal")
            from signing.pki import DemoPKI

            pki = DemoPKI.load(demo_pki_dir(settings), demo_pki_password(settings))
            source = LocalKeySource(
                certificate=pki.vault_seal.certificate,
                private_key=pki.vault_seal.private_key,
                chain=pki.chain,
            )
            tsa = EmbeddedTSA(
                certificate=pki.tsa.certificate, private_key=pki.tsa.private_key, chain=pki.chain
            )
            sealer = Sealer(source, timestamper=tsa, crls=pki.crls())
        else:
            password = settings.seal_password.get_secret_value() if settings.seal_password else None
            key = Pkcs12KeySource.load(settings.seal_pkcs12, password)
            if not settings.tsa_url:
                raise ConfigError("EVAULT_TSA_URL is not set: B-LT copies need a timestamp")
            crls = [path.read_bytes() for path in settings.seal_crls]
            sealer = Sealer(key, timestamper=HttpTSA(settings.tsa_url), crls=crls)
        maker: CopyRenderer = CopyMaker(sealer)
        return maker
    except OSError as exc:
        raise ConfigError(f"cannot read the seal's files: {exc}") from None
    except SigningError as exc:
        raise ConfigError(f"the vault's seal is unusable: {exc}") from None
