"""A real SoftHSM2 token holding the test PKI's vault seal key, once per test process.

SoftHSM2 reads ``SOFTHSM2_CONF`` when its module is first loaded into a process and keeps
that token directory for the process's life, so every test shares one token directory:
:func:`softhsm_token` makes it on first use (skipping, or failing under CI=true, when
SoftHSM2 is missing) and sets ``SOFTHSM2_CONF`` for the rest of the process.

The key is the vault seal's of ``tests.helpers.pki.demo_pki()``; PKIs generated from the
same seed with other CRL distribution points have the same key (only their certificates
differ), so they use the same token.
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from tests.conftest import require, require_tool
from tests.helpers.pki import demo_pki

__all__ = ["SOFTHSM_MODULES", "SoftHsmToken", "softhsm_token"]

SOFTHSM_MODULES = (
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
)


@dataclass(frozen=True)
class SoftHsmToken:
    module: str
    """Path of the PKCS#11 module."""
    token_label: str = "evault"
    pin: str = "1234"
    key_label: str = "vault-seal"


@functools.cache
def _token() -> SoftHsmToken:
    util = require_tool("softhsm2-util")
    module = next((m for m in SOFTHSM_MODULES if Path(m).is_file()), None)
    require(module is not None, "the SoftHSM2 PKCS#11 module (Debian softhsm2)")
    assert module is not None
    token = SoftHsmToken(module=module)
    base = Path(tempfile.mkdtemp(prefix="evault-softhsm-"))
    atexit.register(shutil.rmtree, base, ignore_errors=True)
    (base / "tokens").mkdir()
    conf = base / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {base / 'tokens'}\nobjectstore.backend = file\n")
    key = base / "key.pem"
    key.write_bytes(
        demo_pki().vault_seal.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    env = {**os.environ, "SOFTHSM2_CONF": str(conf)}
    init = [util, "--init-token", "--free", "--label", token.token_label]
    subprocess.run(
        [*init, "--pin", token.pin, "--so-pin", "5678"], env=env, check=True, capture_output=True
    )
    load = [util, "--import", str(key), "--token", token.token_label, "--label", token.key_label]
    subprocess.run(
        [*load, "--id", "01", "--pin", token.pin], env=env, check=True, capture_output=True
    )
    key.unlink()
    os.environ["SOFTHSM2_CONF"] = str(conf)  # read by the module when it is first loaded
    return token


def softhsm_token() -> SoftHsmToken:
    """The shared token (made on first use); skips or fails (CI) when SoftHSM2 is missing."""
    return _token()
