"""Signed checkpoints: C2SP tlog-checkpoint bodies in C2SP signed-note envelopes, Ed25519.

A checkpoint is the text::

    <origin>
    <tree size, decimal>
    <base64 root hash>
    time <YYYY-MM-DDTHH:MM:SS.ffffffZ>

followed by a blank line and one signature line per signer::

    — <key name> <base64(key hash (4 bytes) || Ed25519 signature (64 bytes))>

The signature covers the text up to and including the newline before the blank line. The
key hash is the first four bytes of SHA-256(<key name> || 0x0A || 0x01 || public key), as in
signed-note (algorithm byte 0x01 = Ed25519). The ``time`` line is an extension line (allowed
by tlog-checkpoint) and holds when the checkpoint was made.

A verifier key is written as a signed-note *vkey*: ``<name>+<hex key hash>+<base64(0x01 ||
public key)>``. A PEM public key works too: then any signature line whose key hash matches
that key under its own name is checked.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from signing.errors import KeySourceError, LogFormatError, LogVerificationError
from signing.transparency.event import format_time, parse_time
from signing.transparency.merkle import HASH_SIZE

__all__ = ["Checkpoint", "LogSigner", "LogVerifier", "SignedCheckpoint"]

_ALG_ED25519 = b"\x01"
_SIG_PREFIX = "— "  # U+2014 EM DASH, then a space
_NAME = re.compile(r"^[^\s+]{1,255}$")
_MAX_NOTE = 1 << 16


def _key_hash(name: str, public_raw: bytes) -> bytes:
    return hashlib.sha256(name.encode("utf-8") + b"\n" + _ALG_ED25519 + public_raw).digest()[:4]


def _check_name(name: str) -> str:
    if not _NAME.match(name):
        raise LogFormatError(f"key name {name!r} must be 1-255 characters, no space or '+'")
    return name


def _b64decode(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise LogFormatError(f"{what} is not base64") from None


@dataclass(frozen=True)
class Checkpoint:
    """A tree head: the log ``origin`` had ``size`` leaves with root ``root_hash`` at ``time``."""

    #: Unique name of the log, e.g. ``evault.example.org/log``.
    origin: str
    #: Number of leaves.
    size: int
    #: RFC 9162 MTH of those leaves.
    root_hash: bytes
    #: When the checkpoint was made (None when the checkpoint has no ``time`` line).
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
        root = _b64decode(root_text, "the checkpoint root hash")
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

    def __init__(self, public_key: Ed25519PublicKey, name: str | None = None) -> None:
        self._key = public_key
        self._raw = public_key.public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self._name = None if name is None else _check_name(name)

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
        _check_name(name)
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
        _check_name(use)
        blob = base64.b64encode(_ALG_ED25519 + self._raw).decode("ascii")
        return f"{use}+{self.key_hash(use).hex()}+{blob}"

    def public_pem(self) -> bytes:
        return self._key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def verify(self, text: str, *, origin: str | None = None) -> SignedCheckpoint:
        """Check a signed checkpoint; raise :class:`LogVerificationError` unless it is ours.

        At least one signature line must be this key's and valid; a line that claims this
        key (same name and key hash) with a bad signature is a forgery and fails the whole
        note. Other signers' lines (e.g. witnesses) are ignored.
        """
        if len(text) > _MAX_NOTE:
            raise LogFormatError("a checkpoint note is too long")
        cut = text.rfind("\n\n")
        if cut < 0:
            raise LogFormatError("a checkpoint note has no blank line before its signatures")
        body, sig_block = text[: cut + 1], text[cut + 2 :]
        if not sig_block.endswith("\n"):
            raise LogFormatError("a checkpoint note ends with a newline")
        checkpoint = Checkpoint.parse_body(body)
        if origin is not None and checkpoint.origin != origin:
            raise LogVerificationError(
                f"checkpoint origin {checkpoint.origin!r} is not the expected {origin!r}"
            )
        signed: list[str] = []
        for line in sig_block[:-1].split("\n"):
            if not line.startswith(_SIG_PREFIX):
                raise LogFormatError("a checkpoint signature line starts with '— '")
            name, sep, sig_b64 = line[len(_SIG_PREFIX) :].partition(" ")
            if not sep or not name or " " in sig_b64:
                raise LogFormatError("a checkpoint signature line is '— <name> <base64>'")
            blob = _b64decode(sig_b64, f"the signature of {name}")
            if len(blob) < 5:
                raise LogFormatError(f"the signature line of {name} is too short")
            if self._name is not None and name != self._name:
                continue
            if blob[:4] != _key_hash(name, self._raw):
                continue
            try:
                self._key.verify(blob[4:], body.encode("utf-8"))
            except InvalidSignature:
                raise LogVerificationError(
                    f"checkpoint signature of {name} is invalid (forged or altered)"
                ) from None
            signed.append(name)
        if not signed:
            raise LogVerificationError("the checkpoint carries no signature by the log key")
        return SignedCheckpoint(checkpoint=checkpoint, text=text, signed_by=tuple(signed))


class LogSigner:
    """The log's Ed25519 private key and its name; signs checkpoints."""

    __slots__ = ("_key", "_name")

    def __init__(self, private_key: Ed25519PrivateKey, name: str) -> None:
        self._key = private_key
        self._name = _check_name(name)

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
        try:
            key = serialization.load_pem_private_key(data, password=password)
        except (ValueError, TypeError):
            raise KeySourceError(
                "the log key is not a readable PEM private key (or the password is wrong)"
            ) from None
        if not isinstance(key, Ed25519PrivateKey):
            raise KeySourceError("the log key is not an Ed25519 key")
        return cls(key, name)

    def private_pem(self) -> bytes:
        """The private key as unencrypted PKCS#8 PEM (write it with mode 0600)."""
        return self._key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def verifier(self) -> LogVerifier:
        """The matching public key, with this signer's name."""
        return LogVerifier(self._key.public_key(), self._name)

    def sign(self, checkpoint: Checkpoint) -> str:
        """The signed-note text of ``checkpoint``."""
        body = checkpoint.body()
        signature = self._key.sign(body.encode("utf-8"))
        key_hash = self.verifier().key_hash()
        blob = base64.b64encode(key_hash + signature).decode("ascii")
        return f"{body}\n{_SIG_PREFIX}{self._name} {blob}\n"
