"""Witness cosignatures of checkpoints: C2SP tlog-cosignature, the Ed25519 ``cosignature/v1``.

A cosignature is a signed-note signature line (c2sp.org/signed-note) added to a checkpoint::

    — <witness name> base64(key ID (4 bytes) || timestamp (u64, big-endian) || Ed25519 sig)

with ``key ID = SHA-256(<name> || 0x0A || 0x04 || 32-byte public key)[:4]``. The Ed25519
signature covers::

    cosignature/v1
    time <timestamp, decimal>
    <the checkpoint's note text, with its final newline>

It says: as of ``timestamp`` (POSIX seconds), the largest consistent tree the witness has
seen for the log of that origin has this root. A witness key is written as a signed-note
vkey of signature type 0x04: ``<name>+<hex key ID>+<base64(0x04 || public key)>``.

:class:`CosignatureSigner` is the witness's private key; :class:`CosignatureVerifier` checks
one witness's line in a note; :func:`verify_cosignatures` asks for a quorum.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import struct
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from signing.errors import KeySourceError, LogVerificationError
from signing.transparency._ed25519 import load_private_pem, private_pem
from signing.transparency.note import (
    SIG_ED25519_COSIGNATURE,
    NoteSignature,
    SignedNote,
    check_key_name,
    key_id,
)

__all__ = [
    "COSIGNATURE_HEADER",
    "Cosignature",
    "CosignatureSigner",
    "CosignatureVerifier",
    "cosigned_message",
    "verify_cosignatures",
]

#: First line of the message an Ed25519 cosignature signs (domain separation).
COSIGNATURE_HEADER = "cosignature/v1"
_MAX_TIMESTAMP = (1 << 63) - 1
_SIG_LEN = 8 + 64  # timestamp, Ed25519 signature


def cosigned_message(body: str, timestamp: int) -> bytes:
    """The bytes an Ed25519 cosignature signs over the note text ``body`` at ``timestamp``."""
    if not 0 < timestamp <= _MAX_TIMESTAMP:
        raise LogVerificationError(f"a cosignature timestamp must be 1..2^63-1, not {timestamp}")
    if not body.endswith("\n"):
        raise LogVerificationError("a cosigned note text ends with a newline")
    return f"{COSIGNATURE_HEADER}\ntime {timestamp}\n{body}".encode()


@dataclass(frozen=True)
class Cosignature:
    """A verified cosignature: which witness, and when it cosigned."""

    #: The witness's key name.
    name: str
    #: POSIX seconds of the cosignature.
    timestamp: int

    @property
    def time(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.timestamp, dt.UTC)


class CosignatureVerifier:
    """One witness's Ed25519 public key and name."""

    __slots__ = ("_key", "_name", "_raw")

    def __init__(self, public_key: Ed25519PublicKey, name: str) -> None:
        self._key = public_key
        self._raw = public_key.public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self._name = check_key_name(name)

    @property
    def name(self) -> str:
        return self._name

    @property
    def public_raw(self) -> bytes:
        """The 32-byte Ed25519 public key."""
        return self._raw

    @property
    def key_id(self) -> bytes:
        """SHA-256(name || 0x0A || 0x04 || public key)[:4]."""
        return key_id(self._name, SIG_ED25519_COSIGNATURE, self._raw)

    @classmethod
    def from_vkey(cls, vkey: str) -> CosignatureVerifier:
        """Parse ``<name>+<hex key ID>+<base64(0x04 || key)>``; the key ID must match."""
        parts = vkey.strip().split("+", 2)
        if len(parts) != 3:
            raise KeySourceError("a witness vkey is <name>+<hex key ID>+<base64 key>")
        name, id_hex, key_b64 = parts
        check_key_name(name)
        try:
            given_id = bytes.fromhex(id_hex)
            blob = base64.b64decode(key_b64.encode("ascii"), validate=True)
        except (ValueError, binascii.Error, UnicodeEncodeError):
            raise KeySourceError("a witness vkey's key ID is hex and its key base64") from None
        if len(given_id) != 4 or len(blob) != 33 or blob[0] != SIG_ED25519_COSIGNATURE:
            raise KeySourceError(
                f"witness vkey {name}: not an Ed25519 cosignature key (signature type 0x04)"
            )
        verifier = cls(Ed25519PublicKey.from_public_bytes(blob[1:]), name)
        if verifier.key_id != given_id:
            raise KeySourceError(f"witness vkey {name}: the key ID does not match the key")
        return verifier

    def vkey(self) -> str:
        blob = base64.b64encode(bytes([SIG_ED25519_COSIGNATURE]) + self._raw).decode("ascii")
        return f"{self._name}+{self.key_id.hex()}+{blob}"

    def matches(self, sig: NoteSignature) -> bool:
        """True when ``sig`` claims to be this witness's (same name and key ID)."""
        return sig.name == self._name and sig.key_id == self.key_id

    def verify_line(self, sig: NoteSignature, body: str) -> Cosignature:
        """Check one of this witness's signature lines over the note text ``body``."""
        if not self.matches(sig):
            raise LogVerificationError(f"the signature line is not witness {self._name}'s")
        if len(sig.signature) != _SIG_LEN:
            raise LogVerificationError(f"the cosignature of {self._name} has the wrong length")
        (timestamp,) = struct.unpack(">Q", sig.signature[:8])
        try:
            self._key.verify(sig.signature[8:], cosigned_message(body, timestamp))
        except (InvalidSignature, LogVerificationError):
            raise LogVerificationError(
                f"the cosignature of witness {self._name} is invalid (forged or altered)"
            ) from None
        return Cosignature(name=self._name, timestamp=timestamp)

    def verify(self, note: SignedNote) -> Cosignature | None:
        """This witness's cosignature on ``note``; None when it has none; raises when bad."""
        found: Cosignature | None = None
        for sig in note.signatures:
            if self.matches(sig):
                found = self.verify_line(sig, note.text)
        return found


class CosignatureSigner:
    """A witness's Ed25519 private key and name; cosigns checkpoints."""

    __slots__ = ("_key", "_name")

    def __init__(self, private_key: Ed25519PrivateKey, name: str) -> None:
        self._key = private_key
        self._name = check_key_name(name)

    @property
    def name(self) -> str:
        return self._name

    @classmethod
    def generate(cls, name: str) -> CosignatureSigner:
        return cls(Ed25519PrivateKey.generate(), name)

    @classmethod
    def from_pem(cls, data: bytes, name: str) -> CosignatureSigner:
        """Load an unencrypted PKCS#8 PEM Ed25519 private key."""
        return cls(load_private_pem(data, "the witness key"), name)

    def private_pem(self) -> bytes:
        """The private key as unencrypted PKCS#8 PEM (write it with mode 0600)."""
        return private_pem(self._key)

    def verifier(self) -> CosignatureVerifier:
        return CosignatureVerifier(self._key.public_key(), self._name)

    def cosign(self, body: str, timestamp: int) -> NoteSignature:
        """The signature line cosigning the checkpoint note text ``body`` at ``timestamp``."""
        signature = self._key.sign(cosigned_message(body, timestamp))
        return NoteSignature(
            name=self._name,
            key_id=self.verifier().key_id,
            signature=struct.pack(">Q", timestamp) + signature,
        )


def verify_cosignatures(
    note: str | SignedNote, witnesses: Sequence[CosignatureVerifier], required: int
) -> tuple[Cosignature, ...]:
    """The valid cosignatures on ``note`` of ``witnesses``; at least ``required`` of them.

    A line that claims to be a known witness's and does not verify fails the note (per
    signed-note); lines of unknown keys are ignored. Raises :class:`LogVerificationError`
    naming the witnesses whose cosignature is missing when fewer than ``required`` verify.
    """
    if not 0 <= required <= len(witnesses):
        raise LogVerificationError(
            f"cannot require {required} cosignatures of {len(witnesses)} witness key(s)"
        )
    parsed = note if isinstance(note, SignedNote) else SignedNote.parse(note)
    found: list[Cosignature] = []
    missing: list[str] = []
    for witness in witnesses:
        cosignature = witness.verify(parsed)
        if cosignature is None:
            missing.append(witness.name)
        else:
            found.append(cosignature)
    if len(found) < required:
        raise LogVerificationError(
            f"{len(found)} of the {required} required witness cosignature(s) verify; "
            f"none by {', '.join(missing)} (a wrong witness key, or the checkpoint was not "
            "cosigned)"
        )
    return tuple(found)
