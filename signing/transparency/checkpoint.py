"""Signed checkpoints: C2SP tlog-checkpoint bodies in C2SP signed-note envelopes, Ed25519.

A checkpoint (c2sp.org/tlog-checkpoint) is the note text::

    <origin>
    <tree size, decimal>
    <base64 root hash>

followed by a blank line and one signature line per signer (c2sp.org/signed-note)::

    — <key name> <base64(key ID (4 bytes) || Ed25519 signature (64 bytes))>

The signature covers the text up to and including the newline before the blank line. The
key ID is the first four bytes of SHA-256(<key name> || 0x0A || 0x01 || public key). The
log's key name is its origin.

The vault writes no extension lines (the spec does not recommend them: monitors cannot audit
them). Checkpoints signed before that carry the extension line ``time <RFC 3339>``; they
still parse (:attr:`Checkpoint.time`) and verify, since the signature covers the text as it
is.

A verifier key is written as a signed-note *vkey*: ``<name>+<hex key ID>+<base64(0x01 ||
public key)>``. A PEM public key works too: then any signature line whose key ID matches
that key under its own name is checked.

After a rotation of the log key the checkpoints signed before it carry the old key's
signature: a :class:`LogKeyring` holds every key the log has had (the trust bundle's
``log_keys``) and verifies a checkpoint with whichever of them signed it. The private key
of a :class:`LogSigner` is anything that signs Ed25519 (:class:`Ed25519SigningKey`): a key
in memory, or one in an HSM (``signing.hsm.Pkcs11Ed25519Key``).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from signing.errors import KeySourceError, LogFormatError, LogVerificationError
from signing.transparency._ed25519 import load_private_pem, private_pem
from signing.transparency.event import format_time, parse_time
from signing.transparency.merkle import HASH_SIZE
from signing.transparency.note import (
    SIG_ED25519,
    NoteSignature,
    SignedNote,
    b64decode,
    check_key_name,
    key_id,
)

__all__ = [
    "Checkpoint",
    "Ed25519SigningKey",
    "LogKeyring",
    "LogSigner",
    "LogVerifier",
    "SignedCheckpoint",
]

_ALG_ED25519 = bytes([SIG_ED25519])


def _key_hash(name: str, public_raw: bytes) -> bytes:
    return key_id(name, SIG_ED25519, public_raw)


@dataclass(frozen=True)
class Checkpoint:
    """A tree head: the log ``origin`` had ``size`` leaves with root ``root_hash``."""

    #: Unique name of the log, e.g. ``evault.example.org/log``.
    origin: str
    #: Number of leaves.
    size: int
    #: RFC 9162 MTH of those leaves.
    root_hash: bytes
    #: The ``time`` extension line of checkpoints signed before the vault followed
    #: tlog-checkpoint's advice against extension lines; None in new ones.
    time: datetime | None = None
    #: Extension lines other than ``time``, kept verbatim.
    extensions: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if not self.origin or "\n" in self.origin or self.origin != self.origin.strip():
            raise LogFormatError("a checkpoint origin is one non-empty line")
        if self.size < 0:
            raise LogFormatError(f"a checkpoint tree size cannot be negative ({self.size})")
        if len(self.root_hash) != HASH_SIZE:
            raise LogFormatError(f"a checkpoint root hash has {HASH_SIZE} bytes")
        for line in self.extensions:
            if not line or "\n" in line:
                raise LogFormatError("a checkpoint extension is one non-empty line")

    def body(self) -> str:
        """The note text that gets signed (ends with a newline)."""
        lines = [self.origin, str(self.size), base64.b64encode(self.root_hash).decode("ascii")]
        if self.time is not None:
            lines.append(f"time {format_time(self.time)}")
        lines.extend(self.extensions)
        return "\n".join(lines) + "\n"

    @classmethod
    def parse_body(cls, text: str) -> Checkpoint:
        """Parse the note text of a checkpoint (no signatures)."""
        if not text.endswith("\n"):
            raise LogFormatError("a checkpoint body ends with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise LogFormatError("a checkpoint has an origin, a tree size and a root hash line")
        origin, size_text, root_text, *rest = lines
        if not re.fullmatch(r"0|[1-9][0-9]{0,19}", size_text):
            raise LogFormatError(f"checkpoint tree size {size_text!r} is not a decimal number")
        root = b64decode(root_text, "the checkpoint root hash")
        time: datetime | None = None
        extensions: list[str] = []
        for line in rest:
            if line.startswith("time ") and time is None and not extensions:
                time = parse_time(line[5:])
            else:
                extensions.append(line)
        return cls(
            origin=origin,
            size=int(size_text),
            root_hash=root,
            time=time,
            extensions=tuple(extensions),
        )


@dataclass(frozen=True)
class SignedCheckpoint:
    """A checkpoint with its signed-note text, as verified by :meth:`LogVerifier.verify`."""

    checkpoint: Checkpoint
    #: The whole note (body, blank line, signature lines).
    text: str
    #: Names of the signature lines checked against the verifier's key.
    signed_by: tuple[str, ...]


class LogVerifier:
    """An Ed25519 log public key that checks signed checkpoints."""

    __slots__ = ("_key", "_name", "_raw")

    @property
    def raw(self) -> bytes:
        """The 32 bytes of the public key."""
        return self._raw

    def __init__(self, public_key: Ed25519PublicKey, name: str | None = None) -> None:
        self._key = public_key
        self._raw = public_key.public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self._name = None if name is None else check_key_name(name)

    @property
    def name(self) -> str | None:
        """The key name, or None for a bare PEM key (matched by key hash under any name)."""
        return self._name

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self._key

    @classmethod
    def from_vkey(cls, vkey: str) -> LogVerifier:
        """Parse ``<name>+<hex key hash>+<base64(0x01 || key)>``."""
        parts = vkey.strip().split("+", 2)
        if len(parts) != 3:
            raise KeySourceError("a log vkey is <name>+<hex key hash>+<base64 key>")
        name, hash_hex, key_b64 = parts
        check_key_name(name)
        try:
            key_hash = bytes.fromhex(hash_hex)
            blob = base64.b64decode(key_b64.encode("ascii"), validate=True)
        except (ValueError, binascii.Error, UnicodeEncodeError):
            raise KeySourceError("a log vkey's key hash is hex and its key base64") from None
        if len(key_hash) != 4 or len(blob) != 33 or blob[:1] != _ALG_ED25519:
            raise KeySourceError("a log vkey must hold an Ed25519 key (algorithm 0x01)")
        verifier = cls(Ed25519PublicKey.from_public_bytes(blob[1:]), name)
        if _key_hash(name, blob[1:]) != key_hash:
            raise KeySourceError(f"log vkey {name}: the key hash does not match the key")
        return verifier

    @classmethod
    def from_pem(cls, data: bytes, name: str | None = None) -> LogVerifier:
        """Load an Ed25519 public key from PEM (``-----BEGIN PUBLIC KEY-----``)."""
        try:
            key = serialization.load_pem_public_key(data)
        except (ValueError, TypeError):
            raise KeySourceError("the log public key is not a PEM public key") from None
        if not isinstance(key, Ed25519PublicKey):
            raise KeySourceError("the log public key is not an Ed25519 key")
        return cls(key, name)

    @classmethod
    def load(cls, text: str | bytes) -> LogVerifier:
        """A PEM public key or a vkey line, whichever ``text`` holds."""
        raw = text.encode("utf-8") if isinstance(text, str) else text
        if b"-----BEGIN" in raw:
            return cls.from_pem(raw)
        try:
            return cls.from_vkey(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise KeySourceError("the log public key is neither PEM nor a vkey") from None

    def key_hash(self, name: str | None = None) -> bytes:
        """The signed-note key hash under ``name`` (default: this key's name)."""
        use = name if name is not None else self._name
        if use is None:
            raise KeySourceError("this log key has no name; give one")
        return _key_hash(use, self._raw)

    def vkey(self, name: str | None = None) -> str:
        """This key as a signed-note verifier key line."""
        use = name if name is not None else self._name
        if use is None:
            raise KeySourceError("this log key has no name; give one")
        check_key_name(use)
        blob = base64.b64encode(_ALG_ED25519 + self._raw).decode("ascii")
        return f"{use}+{self.key_hash(use).hex()}+{blob}"

    def public_pem(self) -> bytes:
        return self._key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def verify_note(self, note: str | bytes) -> tuple[SignedNote, tuple[str, ...]]:
        """Check any signed note; its parsed form and the names whose signatures verified.

        Per signed-note: lines of other keys (other name or other key ID, e.g. witnesses)
        are ignored; a line with this key's name and key ID must verify, else the note is
        forged and fails as a whole; at least one such line must be present.
        """
        parsed = SignedNote.parse(note)
        signed: list[str] = []
        for sig in parsed.signatures:
            if self._name is not None and sig.name != self._name:
                continue
            if sig.key_id != _key_hash(sig.name, self._raw):
                continue
            try:
                self._key.verify(sig.signature, parsed.text.encode("utf-8"))
            except InvalidSignature:
                raise LogVerificationError(
                    f"checkpoint signature of {sig.name} is invalid (forged or altered)"
                ) from None
            signed.append(sig.name)
        if not signed:
            raise LogVerificationError("the checkpoint carries no signature by the log key")
        return parsed, tuple(signed)

    def verify(self, text: str, *, origin: str | None = None) -> SignedCheckpoint:
        """Check a signed checkpoint; raise :class:`LogVerificationError` unless it is ours."""
        parsed, signed = self.verify_note(text)
        checkpoint = Checkpoint.parse_body(parsed.text)
        if origin is not None and checkpoint.origin != origin:
            raise LogVerificationError(
                f"checkpoint origin {checkpoint.origin!r} is not the expected {origin!r}"
            )
        return SignedCheckpoint(checkpoint=checkpoint, text=text, signed_by=signed)


class LogKeyring:
    """Several log public keys (the current one and those retired by rotations): a
    checkpoint verifies when one of them signed it."""

    __slots__ = ("_verifiers",)

    def __init__(self, verifiers: Sequence[LogVerifier]) -> None:
        if not verifiers:
            raise KeySourceError("a log keyring needs at least one key")
        self._verifiers = tuple(verifiers)

    @property
    def verifiers(self) -> tuple[LogVerifier, ...]:
        return self._verifiers

    def _signer_of(self, note: str | bytes) -> LogVerifier:
        parsed = SignedNote.parse(note)
        for verifier in self._verifiers:
            for sig in parsed.signatures:
                if verifier.name is not None and sig.name != verifier.name:
                    continue
                if sig.key_id == _key_hash(sig.name, verifier.raw):
                    return verifier
        raise LogVerificationError("the checkpoint carries no signature by any of the log keys")

    def verify_note(self, note: str | bytes) -> tuple[SignedNote, tuple[str, ...]]:
        """As :meth:`LogVerifier.verify_note`, by the key whose ID the note names."""
        return self._signer_of(note).verify_note(note)

    def verify(self, text: str, *, origin: str | None = None) -> SignedCheckpoint:
        """As :meth:`LogVerifier.verify`, by the key whose ID the checkpoint names."""
        return self._signer_of(text).verify(text, origin=origin)


class Ed25519SigningKey(Protocol):
    """An Ed25519 private key wherever it lives: signs, and tells its public key."""

    def sign(self, data: bytes) -> bytes: ...

    def public_key(self) -> Ed25519PublicKey: ...


class LogSigner:
    """The log's Ed25519 private key and its name; signs checkpoints.

    ``previous``: the public keys the log signed with before rotations (the trust bundle's
    log keys): :meth:`keyring` verifies the checkpoints they signed.
    """

    __slots__ = ("_key", "_name", "_previous")

    def __init__(
        self,
        private_key: Ed25519SigningKey,
        name: str,
        previous: Sequence[LogVerifier] = (),
    ) -> None:
        self._key = private_key
        self._name = check_key_name(name)
        self._previous = tuple(previous)

    def close(self) -> None:
        """Release the key (an HSM session: it cannot sign afterwards; a key in memory: no-op)."""
        close = getattr(self._key, "close", None)
        if callable(close):
            close()

    def with_previous(self, previous: Sequence[LogVerifier]) -> LogSigner:
        """This key, knowing the keys the log signed with before it."""
        return LogSigner(self._key, self._name, previous)

    def keyring(self) -> LogKeyring:
        """This key's verifier, then the previous keys."""
        return LogKeyring((self.verifier(), *self._previous))

    @property
    def name(self) -> str:
        return self._name

    @classmethod
    def generate(cls, name: str) -> LogSigner:
        """A fresh random key (demo mode and tests)."""
        return cls(Ed25519PrivateKey.generate(), name)

    @classmethod
    def from_pem(cls, data: bytes, name: str, password: bytes | None = None) -> LogSigner:
        """Load an Ed25519 private key from PEM (PKCS#8)."""
        return cls(load_private_pem(data, "the log key", password), name)

    def private_pem(self) -> bytes:
        """The private key as unencrypted PKCS#8 PEM (write it with mode 0600); a key in
        an HSM raises :class:`KeySourceError` (it never leaves the token)."""
        if not isinstance(self._key, Ed25519PrivateKey):
            raise KeySourceError("the log key is in an HSM: it cannot be written out")
        return private_pem(self._key)

    def verifier(self) -> LogVerifier:
        """The matching public key, with this signer's name."""
        return LogVerifier(self._key.public_key(), self._name)

    def sign(self, checkpoint: Checkpoint) -> str:
        """The signed-note text of ``checkpoint``."""
        return self.sign_note(checkpoint.body())

    def sign_note(self, text: str) -> str:
        """``text`` (ending with a newline) as a signed note with this key's signature."""
        signature = NoteSignature(
            name=self._name,
            key_id=self.verifier().key_hash(),
            signature=self._key.sign(text.encode("utf-8")),
        )
        return SignedNote(text=text, signatures=(signature,)).format()
