"""C2SP signed notes (c2sp.org/signed-note): a text, a blank line, signature lines.

A note is::

    <text, ending with a newline>
    <blank line>
    — <key name> <base64(4-byte key ID || signature)>
    ...

The text is everything up to and including the newline before the *last* blank line. A note
is valid UTF-8 with no ASCII control character but the newline. A key is known by its name
and key ID together; ``key ID = SHA-256(name || 0x0A || signature type || public key)[:4]``.
This module only parses and formats; checking a signature is the key holder's business
(:class:`signing.transparency.checkpoint.LogVerifier`, :mod:`~signing.transparency.cosignature`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from signing.errors import LogFormatError

__all__ = [
    "MAX_NOTE_SIZE",
    "SIG_ED25519",
    "SIG_ED25519_COSIGNATURE",
    "NoteSignature",
    "SignedNote",
    "b64decode",
    "check_key_name",
    "key_id",
]

#: Signature type byte of a plain Ed25519 note signature.
SIG_ED25519 = 0x01
#: Signature type byte of a timestamped Ed25519 cosignature (c2sp.org/tlog-cosignature).
SIG_ED25519_COSIGNATURE = 0x04
#: Largest note accepted (the spec asks for at least 16 signatures; this holds hundreds).
MAX_NOTE_SIZE = 1 << 16

_DASH = "— "  # U+2014 EM DASH, then a space
_NAME = re.compile(r"^[^\s+]{1,255}$")
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")


def check_key_name(name: str) -> str:
    """``name`` if it is a valid key name: non-empty, no Unicode space, no ``+``."""
    if not _NAME.match(name):
        raise LogFormatError(f"key name {name!r} must be 1-255 characters, no space or '+'")
    return name


def key_id(name: str, signature_type: int, public_key: bytes) -> bytes:
    """The 4-byte key ID signed-note recommends: SHA-256(name || 0x0A || type || key)[:4]."""
    data = name.encode("utf-8") + b"\n" + bytes([signature_type]) + public_key
    return hashlib.sha256(data).digest()[:4]


def b64decode(text: str, what: str) -> bytes:
    """Strict standard base64 (RFC 4648 section 4), or :class:`LogFormatError`."""
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise LogFormatError(f"{what} is not base64") from None


@dataclass(frozen=True)
class NoteSignature:
    """One signature line: who (name and key ID) and the signature bytes after the ID."""

    name: str
    key_id: bytes
    signature: bytes

    def line(self) -> str:
        """The signature line, with its final newline."""
        blob = base64.b64encode(self.key_id + self.signature).decode("ascii")
        return f"{_DASH}{self.name} {blob}\n"

    @classmethod
    def parse_line(cls, line: str) -> NoteSignature:
        """Parse one signature line (without its newline)."""
        if not line.startswith(_DASH):
            raise LogFormatError("a note signature line starts with '— '")
        name, sep, blob_b64 = line[len(_DASH) :].partition(" ")
        if not sep or " " in blob_b64:
            raise LogFormatError("a note signature line is '— <name> <base64>'")
        check_key_name(name)
        blob = b64decode(blob_b64, f"the signature of {name}")
        if len(blob) < 5:
            raise LogFormatError(f"the signature line of {name} is too short")
        return cls(name=name, key_id=blob[:4], signature=blob[4:])


@dataclass(frozen=True)
class SignedNote:
    """A parsed note: its text (ending with a newline) and its signature lines, in order."""

    text: str
    signatures: tuple[NoteSignature, ...]

    @classmethod
    def parse(cls, note: str | bytes) -> SignedNote:
        """Split and check a note; a malformed one raises :class:`LogFormatError`."""
        if isinstance(note, bytes):
            try:
                note = note.decode("utf-8")
            except UnicodeDecodeError:
                raise LogFormatError("a signed note is not UTF-8") from None
        if len(note) > MAX_NOTE_SIZE:
            raise LogFormatError("a signed note is too long")
        if _CONTROL.search(note):
            raise LogFormatError("a signed note holds a control character other than newline")
        cut = note.rfind("\n\n")
        if cut < 0:
            raise LogFormatError("a signed note has no blank line before its signatures")
        text, block = note[: cut + 1], note[cut + 2 :]
        if not block.endswith("\n"):
            raise LogFormatError("a signed note ends with a newline after its signatures")
        lines = block[:-1].split("\n")
        return cls(text=text, signatures=tuple(NoteSignature.parse_line(x) for x in lines))

    def format(self) -> str:
        """The note as text: the text, a blank line, the signature lines."""
        return self.text + "\n" + "".join(s.line() for s in self.signatures)

    def with_signatures(self, extra: tuple[NoteSignature, ...]) -> SignedNote:
        """This note with ``extra`` signature lines appended (those already present kept once)."""
        kept = list(self.signatures)
        kept.extend(s for s in extra if s not in kept)
        return SignedNote(text=self.text, signatures=tuple(kept))
