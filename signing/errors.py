"""The one error tree of ``signing``.

A bad signature is not an error: it is a verdict in the report. These are for input that
cannot be used at all (an unreadable key, a PDF that cannot be sealed, a TSA that fails).
Exceptions of pyHanko, cryptography and asn1crypto are caught where they are called and
re-raised as one of these.
"""

from __future__ import annotations

__all__ = [
    "CredentialError",
    "KeySourceError",
    "LogFormatError",
    "LogVerificationError",
    "NoBlankSpace",
    "RevocationDataError",
    "SealUnavailable",
    "SealingError",
    "SigningError",
    "StructureError",
    "TimestampError",
    "TrustError",
    "VerificationError",
]


class SigningError(Exception):
    """Base of every error raised by ``signing``."""


class KeySourceError(SigningError):
    """A key or certificate cannot be loaded (wrong password, missing file, HSM refused)."""


class TimestampError(SigningError):
    """A timestamp authority did not give a usable RFC 3161 token."""


class SealingError(SigningError):
    """A PDF cannot be sealed (unreadable, encrypted, locked against changes)."""


class NoBlankSpace(SealingError):
    """A certified copy's 加注 box has no blank corner to go in: on every candidate page the
    original shows content there, and a box over it would fail verification."""


class SealUnavailable(SealingError):
    """The sealer cannot seal now: its chain is revoked or its revocation data expired.

    A state of the sealer, not of the document: the caller retries later or an operator
    acts (an API answers 503).
    """


class RevocationDataError(SigningError):
    """Revocation data (a CRL) cannot be obtained, or is not the one it should be."""


class TrustError(SigningError):
    """A trust bundle or trust store is unreadable or inconsistent."""


class VerificationError(SigningError):
    """Verification could not run at all (not a verdict: a broken call, e.g. bad arguments)."""


class StructureError(VerificationError):
    """A PDF's revision structure is not exactly well formed (a repaired xref, bytes outside
    any xref, a broken /Prev chain): a reader would have to guess what the file says."""


class TooManyRevisions(StructureError):
    """A PDF has more revisions than any genuine license (red team pdf11, p11-08: reading
    thousands of one-object updates cost seconds, in pyHanko's reader above all), more
    xref entries than any genuine file declares, or an update freeing many numbers never
    used (red team 11, r11-05; red team pdf12, p12-09): refused before pyHanko reads it."""


class LogVerificationError(SigningError):
    """A transparency-log proof, checkpoint or entry does not verify (tampered, forged, forked)."""


class LogFormatError(LogVerificationError):
    """A checkpoint, proof or log entry is malformed and cannot even be checked."""


class CredentialError(SigningError):
    """An SD-JWT credential, presentation, proof or status list token cannot be used at all
    (not the expected shape, a key of the wrong kind). A presentation that parses but does
    not verify is a verdict, not this."""
