"""Holder data protection: AES-256-GCM for ID numbers and names, HMAC-SHA256 blind index.

The blind index lets the vault find a holder by ID number without storing the number in
clear: ``HMAC-SHA256(blind_index_key, "<type>:<number>")``. The number and the name are
encrypted with AES-256-GCM under ``holder_key``; the associated data binds each
ciphertext to its purpose, so a name ciphertext cannot be passed off as an ID number.

Keys come from settings (base64 or hex of 32 bytes). In demo mode only, missing keys are
generated once and kept in ``<data_dir>/keys/`` with mode 0600.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import SecretStr

from vault.errors import ConfigError, VaultError
from vault.settings import Settings

__all__ = ["KEY_BYTES", "HolderCrypto", "HolderDataError", "decode_key"]

KEY_BYTES = 32
_FORMAT_V1 = b"\x01"
_NONCE_BYTES = 12


class HolderDataError(VaultError):
    """Stored holder data cannot be decrypted (wrong key, or the ciphertext was altered)."""


def decode_key(value: str, *, name: str) -> bytes:
    """Decode a 32-byte key written as hex (64 characters) or base64 (44 characters)."""
    text = value.strip()
    raw: bytes | None = None
    if len(text) == 2 * KEY_BYTES:
        try:
            raw = bytes.fromhex(text)
        except ValueError:
            raw = None
    if raw is None:
        try:
            raw = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raw = None
    if raw is None or len(raw) != KEY_BYTES:
        raise ConfigError(
            f"{name} must be {KEY_BYTES} random bytes written as hex or base64 "
            f"(e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`)"
        )
    return raw


def _demo_key(path: Path) -> bytes:
    """Read the demo key at ``path``, creating it (mode 0600) on first use."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):
        os.chmod(path.parent, 0o700)
    if not path.exists():
        key_hex = secrets.token_hex(KEY_BYTES).encode()
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # created by a concurrent process: read theirs
        else:
            with os.fdopen(fd, "wb") as fh:
                fh.write(key_hex + b"\n")
                fh.flush()
                os.fsync(fh.fileno())
    return decode_key(path.read_text(), name=str(path))


@dataclass(frozen=True)
class HolderCrypto:
    """Encrypts holder ID numbers and names and computes their blind index."""

    holder_key: bytes = field(repr=False)
    blind_index_key: bytes = field(repr=False)

    def __post_init__(self) -> None:
        for name in ("holder_key", "blind_index_key"):
            if len(getattr(self, name)) != KEY_BYTES:
                raise ConfigError(f"{name} must be {KEY_BYTES} bytes")
        if hmac.compare_digest(self.holder_key, self.blind_index_key):
            raise ConfigError("holder_key and blind_index_key must differ")

    @classmethod
    def generate(cls) -> HolderCrypto:
        """Fresh random keys (tests, benchmarks)."""
        return cls(secrets.token_bytes(KEY_BYTES), secrets.token_bytes(KEY_BYTES))

    @classmethod
    def from_settings(cls, settings: Settings) -> HolderCrypto:
        """Keys from settings; in demo mode missing keys are generated in data_dir/keys."""
        keys: dict[str, bytes] = {}
        for name in ("holder_key", "blind_index_key"):
            secret: SecretStr | None = getattr(settings, name)
            if secret is not None:
                keys[name] = decode_key(secret.get_secret_value(), name=f"EVAULT_{name.upper()}")
            elif settings.is_demo:
                keys[name] = _demo_key(settings.data_dir / "keys" / f"{name}.hex")
            else:
                raise ConfigError(f"EVAULT_{name.upper()} is not set (required in production)")
        return cls(keys["holder_key"], keys["blind_index_key"])

    # Blind index ---------------------------------------------------------------------
    def blind_index(self, id_type: str, number: str) -> bytes:
        """The 32-byte lookup key of a holder ID (type 111 or 001, number normalized)."""
        message = f"{id_type}:{number.strip().upper()}".encode()
        return hmac.new(self.blind_index_key, message, hashlib.sha256).digest()

    # Encryption ----------------------------------------------------------------------
    def encrypt(self, plaintext: str, *, purpose: str) -> bytes:
        """AES-256-GCM; output is version byte, 12-byte nonce, ciphertext and tag."""
        nonce = secrets.token_bytes(_NONCE_BYTES)
        sealed = AESGCM(self.holder_key).encrypt(nonce, plaintext.encode(), _aad(purpose))
        return _FORMAT_V1 + nonce + sealed

    def decrypt(self, data: bytes, *, purpose: str) -> str:
        """Reverse :meth:`encrypt`; raises :class:`HolderDataError` if it does not verify."""
        if len(data) < 1 + _NONCE_BYTES + 16 or data[:1] != _FORMAT_V1:
            raise HolderDataError(f"stored {purpose} is not in a known encrypted format")
        nonce, sealed = data[1 : 1 + _NONCE_BYTES], data[1 + _NONCE_BYTES :]
        try:
            clear = AESGCM(self.holder_key).decrypt(nonce, sealed, _aad(purpose))
        except InvalidTag:
            raise HolderDataError(
                f"stored {purpose} does not decrypt: wrong EVAULT_HOLDER_KEY or altered data"
            ) from None
        return clear.decode()


def _aad(purpose: str) -> bytes:
    return b"evault/holder/" + purpose.encode()
