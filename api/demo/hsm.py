"""The demo's vault seal key in SoftHSM2, when ``softhsm2-util`` is installed.

``evault demo`` makes a token of its own under ``DATA_DIR/softhsm/`` (its own
``softhsm2.conf`` and token directory; the user PIN in ``DATA_DIR/keys/hsm_pin``), generates
an EC P-256 key inside it (sensitive, never extractable), has the demo PKI certify that key
as the vault's seal (``DATA_DIR/softhsm/vault-seal-chain.pem``: the certificate, then the
issuing CA and root) and serves with the existing PKCS#11 settings
(``EVAULT_SEAL_PKCS11_*`` + ``EVAULT_SEAL_CERTIFICATES``, :mod:`api.sealing`).

SoftHSM2 reads ``SOFTHSM2_CONF`` once, when its module is first loaded into a process; the
key is therefore generated in a child process (``python -m api.demo.hsm``) with the demo's
configuration, and the process that serves the demo sets ``SOFTHSM2_CONF`` before it opens
the token (:func:`activate`). Without ``softhsm2-util``, its module or python-pkcs11, the demo
seals with the demo PKI's key file and says why (:attr:`DemoHsm.fallback`).
"""

from __future__ import annotations

import importlib.util
import os
import secrets
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from vault.errors import ConfigError
from vault.settings import Settings

__all__ = ["SOFTHSM_MODULES", "DemoHsm", "activate", "prepare_demo_hsm"]

SOFTHSM_MODULES = (
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/local/lib/softhsm/libsofthsm2.so",
    "/opt/homebrew/lib/softhsm/libsofthsm2.so",
)
HSM_DIR = "softhsm"
TOKEN_LABEL = "evault-demo"  # noqa: S105 - a label, not a secret
SEAL_KEY_LABEL = "vault-seal"
CHAIN_FILE = "vault-seal-chain.pem"
#: Serial of the certificate the demo PKI issues for the key in the token.
HSM_SEAL_SERIAL = 0x0E7A_1100


@dataclass(frozen=True)
class DemoHsm:
    """Where the demo's seal key is: in SoftHSM2 (``seal_settings``) or, with a reason, not."""

    conf: Path | None = None
    """The demo's ``softhsm2.conf`` (None: no HSM)."""
    seal_settings: dict[str, Any] = field(default_factory=dict)
    """``seal_pkcs11_*`` and ``seal_certificates`` settings of the key in the token."""
    certificate: x509.Certificate | None = None
    """The vault seal certificate of the key in the token."""
    fallback: str | None = None
    """Why the demo seals with the demo PKI's key file instead (None: it uses the HSM)."""


def _module() -> str | None:
    return next((m for m in SOFTHSM_MODULES if Path(m).is_file()), None)


def _missing() -> str | None:
    if shutil.which("softhsm2-util") is None:
        return "softhsm2-util is not installed (Debian/Ubuntu: apt-get install softhsm2)"
    if _module() is None:
        return "the SoftHSM2 PKCS#11 module (libsofthsm2.so) was not found"
    if importlib.util.find_spec("pkcs11") is None:
        return "python-pkcs11 is not installed (pip install 'evault[hsm]')"
    return None


def _run(command: list[str], env: dict[str, str], what: str, stdin: str = "") -> str:
    try:
        done = subprocess.run(  # noqa: S603 - fixed programs, no shell
            command, env=env, input=stdin, capture_output=True, text=True, timeout=120, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ConfigError(f"the demo's SoftHSM2 token: {what} failed: {exc}") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise ConfigError(f"the demo's SoftHSM2 token: {what} failed: {last}")
    return done.stdout


def _pin(settings: Settings) -> tuple[Path, str]:
    from api.auth.keys import secret_file

    path = settings.data_dir / "keys" / "hsm_pin"
    return path, secret_file(path).decode()


def _new_token(base: Path, env: dict[str, str], pin: str) -> None:
    (base / "tokens").mkdir(parents=True, exist_ok=True)
    conf = base / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {base / 'tokens'}\nobjectstore.backend = file\n")
    util = shutil.which("softhsm2-util") or "softhsm2-util"
    so_pin = secrets.token_hex(16)  # never needed again by the demo: not kept
    _run(
        [util, "--init-token", "--free", "--label", TOKEN_LABEL, "--pin", pin, "--so-pin", so_pin],
        env,
        "initialising the token",
    )


def _generate_in_child(env: dict[str, str], module: str, pin: str) -> ec.EllipticCurvePublicKey:
    out = _run(
        [sys.executable, "-m", "api.demo.hsm", module, TOKEN_LABEL, SEAL_KEY_LABEL],
        env,
        "generating the seal key",
        stdin=pin,
    )
    key = serialization.load_pem_public_key(out.encode())
    if not isinstance(key, ec.EllipticCurvePublicKey):  # pragma: no cover - we generate EC
        raise ConfigError("the demo's SoftHSM2 token returned no EC public key")
    return key


def prepare_demo_hsm(settings: Settings, pki: Any) -> DemoHsm:
    """The demo's seal key in its SoftHSM2 token (made, key generated and certified on the
    first run; reused after), or a :class:`DemoHsm` saying why the key file is used."""
    missing = _missing()
    if missing is not None:
        return DemoHsm(fallback=missing)
    module = _module()
    assert module is not None
    base = settings.data_dir / HSM_DIR
    conf = base / "softhsm2.conf"
    chain = base / CHAIN_FILE
    pin_file, pin = _pin(settings)
    env = {**os.environ, "SOFTHSM2_CONF": str(conf)}
    if not chain.is_file():  # first run, or one interrupted before its certificate
        shutil.rmtree(base / "tokens", ignore_errors=True)
        _new_token(base, env, pin)
        public = _generate_in_child(env, module, pin)
        certificate = pki.certify_vault_seal(public, serial=HSM_SEAL_SERIAL)
        pem = b"".join(
            c.public_bytes(serialization.Encoding.PEM) for c in (certificate, *pki.chain)
        )
        tmp = chain.with_suffix(".tmp")
        tmp.write_bytes(pem)
        tmp.replace(chain)
    certificate = x509.load_pem_x509_certificates(chain.read_bytes())[0]
    return DemoHsm(
        conf=conf,
        certificate=certificate,
        seal_settings={
            "seal_pkcs11_module": Path(module),
            "seal_pkcs11_token": TOKEN_LABEL,
            "seal_pkcs11_key": SEAL_KEY_LABEL,
            "seal_pkcs11_pin_file": pin_file,
            "seal_certificates": chain,
        },
    )


def activate(hsm: DemoHsm) -> None:
    """Point this process's SoftHSM2 at the demo's token (before the module is loaded)."""
    if hsm.conf is not None:
        os.environ["SOFTHSM2_CONF"] = str(hsm.conf)


def _child(module: str, token: str, label: str) -> None:
    """``python -m api.demo.hsm MODULE TOKEN LABEL`` (PIN on stdin): generate the seal key in
    the token, print its public key (PEM)."""
    from signing.hsm import generate_seal_key, open_token

    pin = sys.stdin.read().strip()
    session = open_token(module=module, token_label=token, pin=pin)
    try:
        public = generate_seal_key(session, label)
    finally:
        session.close()
    sys.stdout.write(
        public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()
    )


if __name__ == "__main__":  # pragma: no cover - run as a child process
    from signing.errors import KeySourceError

    try:
        _child(*sys.argv[1:4])
    except KeySourceError as exc:
        sys.stderr.write(f"{exc}\n")
        sys.exit(1)
