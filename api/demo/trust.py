"""The demo's keys and trust: its PDF PKI and SM2 PKI (made once, then reused), and the
trust bundle that pins them with the vault's seal, log key and credential key.
"""

from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path
from typing import Any

from api.demo.samples import (
    DEPARTMENTS,
    OFD_ISSUERS,
    VAULT,
)
from vault.errors import ConfigError
from vault.settings import Settings

__all__ = ["demo_pki", "sm2_pki", "write_trust_bundle"]


def demo_pki(settings: Settings) -> Any:
    from api.sealing import demo_pki_dir, demo_pki_password
    from signing.pki import DemoPKI

    directory = demo_pki_dir(settings)
    password = demo_pki_password(settings)
    if (directory / "pki.json").is_file():
        pki = DemoPKI.load(directory, password)
        for (name, code), roles, _scopes, _permits in DEPARTMENTS:
            if "issuer" in roles and code not in pki.department_names:
                raise ConfigError(
                    f"{settings.data_dir} was made by an older evault demo (its PKI has no "
                    f"seal for {name}): remove that directory and run the demo again"
                )
        return pki
    pki = DemoPKI.generate(
        seed=secrets.token_bytes(32),
        departments=[department for department, *_ in DEPARTMENTS],
        now=dt.datetime.now(dt.UTC),
        vault=VAULT,
    )
    pki.save(directory, password)
    return pki


def sm2_pki(settings: Settings, pki: Any) -> Any:
    from api.demo.ofd import load_sm2_pki
    from api.sealing import demo_pki_dir, demo_pki_password

    return load_sm2_pki(demo_pki_dir(settings), demo_pki_password(settings), OFD_ISSUERS, pki.now)


def write_trust_bundle(settings: Settings, pki: Any, seal: Any, sm2: Any) -> Path:
    """The demo's trust bundle: the PDF PKI's root and CA, the SM2 PKI's root, CA, CRLs and
    seal maker, the vault's OFD copy seal (``ofd_vault_seals``),
    the vault's seal ``seal``, the log key and the credential key. A seal or key the bundle
    does not name yet is added, the one it replaces kept."""
    from api.demo.ofd import sm2_trust
    from api.ofd_seal import ofd_copy_maker_from_settings
    from signing.trust import TrustBundle
    from vault.credential_key import load_credential_key
    from vault.log.keys import load_log_key

    path = settings.data_dir / "trust-bundle.json"
    log_vkey = load_log_key(settings).verifier().vkey()
    key = load_credential_key(settings)
    credential_keys = [key.public_jwk()] if key is not None else []
    previous: list[bytes] = []
    log_keys = [log_vkey]
    ofd = sm2_trust(sm2)
    maker = ofd_copy_maker_from_settings(settings)
    ofd_vault_seals = [maker.signer_certificate] if maker is not None else []
    if path.is_file():
        old = TrustBundle.load(path)
        previous = [*([old.vault_seal] if old.vault_seal else []), *old.previous_vault_seals]
        log_keys += old.log_keys
        ofd_vault_seals = _kept_ofd_vault_seals(old.ofd_vault_seals, ofd_vault_seals)
        kids = {k["kid"] for k in credential_keys}
        credential_keys += [k for k in old.credential_keys if k["kid"] not in kids]
        if set(ofd["roots"]) <= set(old.roots) and old.crls:
            ofd["crls"] = list(old.crls)  # SM2 signs afresh each time: keep the CRLs issued
    bundle = TrustBundle.from_certificates(
        roots=[pki.root.certificate, *ofd["roots"]],
        intermediates=[pki.issuing_ca.certificate, *ofd["intermediates"]],
        vault_seal=seal,
        previous_vault_seals=previous,
        crls=ofd["crls"],
        log_keys=log_keys,
        credential_keys=credential_keys,
        seal_makers=ofd["seal_makers"],
        ofd_vault_seals=ofd_vault_seals,
        description="evault demo trust bundle (not for production)",
    )
    if not path.is_file() or path.read_bytes() != bundle.dump():
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(bundle.dump())
        tmp.replace(path)
    return path


def _kept_ofd_vault_seals(old: tuple[bytes, ...], current: list[bytes]) -> list[bytes]:
    """The pinned OFD vault seals: the bundle's, and the current one unless one of them
    has its key (the demo's copy seal certificate is issued afresh at each start, for the
    same key; the verifier pins by key, so the bundle stays the same)."""
    from asn1crypto import x509

    def key(der: bytes) -> bytes:
        return bytes(x509.Certificate.load(der).public_key.dump())

    have = {key(d) for d in old}
    return [*old, *(d for d in current if key(d) not in have)]
