"""Holder data protection: AES-256-GCM for ID numbers and names, HMAC-SHA256 blind index.

The blind index lets the vault find a holder by ID number without storing the number in
clear: ``HMAC-SHA256(blind_index_key, "<type>:<number>")``. The number and the name are
encrypted with AES-256-GCM under ``holder_key``; the associated data binds each
ciphertext to its purpose, so a name ciphertext cannot be passed off as an ID number.

Keys come from settings (base64 or hex of 32 bytes). In demo mode only, missing keys are
generated once and kept in ``<data_dir>/keys/`` with mode 0600.

Rotation: each key has a public id (:func:`key_id`, a fingerprint that reveals nothing of
the key). A ciphertext names the id of the key it was sealed with, so it decrypts as long
as that key is configured, as the current key or as an old one (``EVAULT_OLD_HOLDER_KEYS``).
New data is always sealed and indexed under the current keys; :meth:`HolderCrypto.blind_indexes`
gives a holder's index under every configured index key, so a holder is found whether its
row was indexed before or after the rotation (``evault keys rotate``).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import SecretStr

from vault.errors import ConfigError, VaultError
from vault.settings import Settings

__all__ = ["KEY_BYTES", "HolderCrypto", "HolderDataError", "decode_key", "key_id"]

KEY_BYTES = 32
#: Version 1: version byte, nonce, ciphertext and tag (which key is not said).
_FORMAT_V1 = b"\x01"
#: Version 2: version byte, the 8 bytes of the key's id, nonce, ciphertext and tag.
_FORMAT_V2 = b"\x02"
_KEY_ID_BYTES = 8
_NONCE_BYTES = 12
_TAG_BYTES = 16


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


def _key_id_bytes(key: bytes) -> bytes:
    return hashlib.sha256(b"evault/key-id\x00" + key).digest()[:_KEY_ID_BYTES]


def key_id(key: bytes) -> str:
    """A key's public id (16 hex characters): a one-way fingerprint, safe to show and store."""
    return _key_id_bytes(key).hex()


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
    """Encrypts holder ID numbers and names and computes their blind index.

    ``holder_key`` and ``blind_index_key`` are the current keys: everything new is sealed
    and indexed under them. The old keys only read what was written before a rotation.
    """

    holder_key: bytes = field(repr=False)
    blind_index_key: bytes = field(repr=False)
    old_holder_keys: tuple[bytes, ...] = field(default=(), repr=False)
    old_blind_index_keys: tuple[bytes, ...] = field(default=(), repr=False)
    _by_id: dict[bytes, bytes] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        named = [
            ("holder_key", self.holder_key),
            ("blind_index_key", self.blind_index_key),
            *(("old_holder_keys", k) for k in self.old_holder_keys),
            *(("old_blind_index_keys", k) for k in self.old_blind_index_keys),
        ]
        for name, key in named:
            if len(key) != KEY_BYTES:
                raise ConfigError(f"{name} must be {KEY_BYTES} bytes")
        if hmac.compare_digest(self.holder_key, self.blind_index_key):
            raise ConfigError("holder_key and blind_index_key must differ")
        if len({_key_id_bytes(k) for _, k in named}) != len(named):
            raise ConfigError(
                "a key is given twice: the current and old holder keys and blind-index keys "
                "must all differ"
            )
        holder_keys = (self.holder_key, *self.old_holder_keys)
        object.__setattr__(self, "_by_id", {_key_id_bytes(k): k for k in holder_keys})

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
        return cls(
            keys["holder_key"],
            keys["blind_index_key"],
            old_holder_keys=_old_keys(settings.old_holder_keys, "EVAULT_OLD_HOLDER_KEYS"),
            old_blind_index_keys=_old_keys(
                settings.old_blind_index_keys, "EVAULT_OLD_BLIND_INDEX_KEYS"
            ),
        )

    # Key ids -------------------------------------------------------------------------
    @property
    def holder_key_id(self) -> str:
        """The id of the current encryption key."""
        return key_id(self.holder_key)

    @property
    def blind_index_key_id(self) -> str:
        """The id of the current blind-index key."""
        return key_id(self.blind_index_key)

    @property
    def old_holder_key_ids(self) -> tuple[str, ...]:
        return tuple(key_id(k) for k in self.old_holder_keys)

    @property
    def old_blind_index_key_ids(self) -> tuple[str, ...]:
        return tuple(key_id(k) for k in self.old_blind_index_keys)

    # Blind index ---------------------------------------------------------------------
    def blind_index(self, id_type: str, number: str) -> bytes:
        """The 32-byte lookup key of a holder ID under the current key (type 111 or 001)."""
        return _index(self.blind_index_key, id_type, number)

    def blind_indexes(self, id_type: str, number: str) -> tuple[bytes, ...]:
        """The lookup key under every configured index key, the current one first.

        During a rotation a holder's row carries the index under either the old or the new
        key: look it up by all of them.
        """
        return tuple(
            _index(k, id_type, number) for k in (self.blind_index_key, *self.old_blind_index_keys)
        )

    def digest(self, data: bytes, *, purpose: str) -> str:
        """A keyed digest (hex) of data that may hold a holder ID, under the current index key.

        For recognising the same input again (bulk import's journal) without storing a hash
        that could be brute-forced back to an ID number.
        """
        message = b"evault/digest/" + purpose.encode() + b"\x00" + data
        return hmac.new(self.blind_index_key, message, hashlib.sha256).hexdigest()

    # Encryption ----------------------------------------------------------------------
    def encrypt(self, plaintext: str, *, purpose: str) -> bytes:
        """AES-256-GCM under the current key; output is version byte, key id, 12-byte
        nonce, ciphertext and tag."""
        header = _FORMAT_V2 + _key_id_bytes(self.holder_key)
        nonce = secrets.token_bytes(_NONCE_BYTES)
        sealed = AESGCM(self.holder_key).encrypt(nonce, plaintext.encode(), _aad(purpose, header))
        return header + nonce + sealed

    def decrypt(self, data: bytes, *, purpose: str) -> str:
        """Reverse :meth:`encrypt` with whichever configured key sealed ``data``.

        Raises :class:`HolderDataError` if it does not verify, or if the key that sealed it
        is no longer configured.
        """
        version = data[:1]
        if version == _FORMAT_V2 and len(data) >= 1 + _KEY_ID_BYTES + _NONCE_BYTES + _TAG_BYTES:
            header = data[: 1 + _KEY_ID_BYTES]
            key = self._by_id.get(header[1:])
            if key is None:
                raise HolderDataError(
                    f"stored {purpose} is encrypted under holder key {header[1:].hex()}, which "
                    "is not configured (EVAULT_HOLDER_KEY or EVAULT_OLD_HOLDER_KEYS)"
                )
            clear = _open(key, data[len(header) :], _aad(purpose, header))
        elif version == _FORMAT_V1 and len(data) >= 1 + _NONCE_BYTES + _TAG_BYTES:
            # Written before key ids: try the configured keys, the current one first.
            candidates = (_open(k, data[1:], _aad(purpose)) for k in self._by_id.values())
            clear = next((c for c in candidates if c is not None), None)
        else:
            raise HolderDataError(f"stored {purpose} is not in a known encrypted format")
        if clear is None:
            raise HolderDataError(
                f"stored {purpose} does not decrypt: wrong EVAULT_HOLDER_KEY or altered data"
            )
        return clear.decode()

    def sealed_key_id(self, data: bytes) -> str | None:
        """The id of the key a ciphertext names (None: an old-format ciphertext names none)."""
        if data[:1] == _FORMAT_V2:
            return data[1 : 1 + _KEY_ID_BYTES].hex()
        return None


def _index(key: bytes, id_type: str, number: str) -> bytes:
    message = f"{id_type}:{number.strip().upper()}".encode()
    return hmac.new(key, message, hashlib.sha256).digest()


def _open(key: bytes, nonce_and_sealed: bytes, aad: bytes) -> bytes | None:
    nonce, sealed = nonce_and_sealed[:_NONCE_BYTES], nonce_and_sealed[_NONCE_BYTES:]
    try:
        return AESGCM(key).decrypt(nonce, sealed, aad)
    except InvalidTag:
        return None


def _old_keys(secrets_: Sequence[SecretStr], name: str) -> tuple[bytes, ...]:
    return tuple(
        decode_key(s.get_secret_value(), name=f"{name} entry {i}")
        for i, s in enumerate(secrets_, start=1)
    )


def _aad(purpose: str, header: bytes = b"") -> bytes:
    return header + b"evault/holder/" + purpose.encode()
