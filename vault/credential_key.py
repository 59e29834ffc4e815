"""The vault's credential key (ES256): which file, and the demo's generated one.

Production: ``EVAULT_CREDENTIAL_KEY`` names a PEM P-256 private key; there is no default,
and without it the vault issues no SD-JWT credentials (the OpenID4VCI endpoints answer
that issuance is not configured). Demo mode: ``DATA_DIR/keys/credential_key.pem`` is
generated once (0600), like the other demo keys.
"""

from __future__ import annotations

import os
from pathlib import Path

from signing.credentials.keys import CredentialKey
from signing.errors import KeySourceError
from vault.errors import ConfigError
from vault.settings import Settings

__all__ = ["load_credential_key"]


def _demo_key(path: Path) -> CredentialKey:
    if path.exists():
        return _read(path)
    key = CredentialKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read(path)  # another process made it first: use theirs
    with os.fdopen(fd, "wb") as out:
        out.write(key.private_pem())
    return key


def _read(path: Path) -> CredentialKey:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read the credential key {path}: {exc.strerror}") from None
    try:
        return CredentialKey.from_pem(data)
    except KeySourceError as exc:
        raise ConfigError(f"credential key {path}: {exc}") from None


def load_credential_key(settings: Settings) -> CredentialKey | None:
    """The key, or None when issuance is not configured (production without the setting)."""
    if settings.credential_key is not None:
        return _read(settings.credential_key)
    if settings.is_demo:
        return _demo_key(settings.data_dir / "keys" / "credential_key.pem")
    return None
