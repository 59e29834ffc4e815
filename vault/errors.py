"""The one error tree of ``vault``. Messages never carry a holder ID number in clear."""

from __future__ import annotations

__all__ = [
    "BlobIntegrityError",
    "BlobNotFound",
    "BlobStoreError",
    "ConfigError",
    "ConflictError",
    "DatabaseUnavailable",
    "IdempotencyKeyReused",
    "IntakeRefused",
    "InvalidInput",
    "LogCorrupted",
    "NotFound",
    "PermissionDenied",
    "VaultError",
]


class VaultError(Exception):
    """Base of every error raised by ``vault``."""


class ConfigError(VaultError):
    """Settings are missing, malformed or unsafe (e.g. a demo secret in production)."""


class NotFound(VaultError):
    """The thing asked for does not exist (or must not be revealed to exist)."""


class PermissionDenied(VaultError):
    """The caller is not allowed to do this."""


class ConflictError(VaultError):
    """The request contradicts what the vault already holds."""


class InvalidInput(VaultError):
    """A value given to a service is malformed (a bad code, fingerprint or name)."""


class IdempotencyKeyReused(VaultError):
    """An ``Idempotency-Key`` already used by the same caller for another request."""


class IntakeRefused(VaultError):
    """A license push was refused; ``reason`` is a stable code, ``str()`` explains."""

    def __init__(self, reason: str, message: str, *, report: object | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.report = report


class BlobStoreError(VaultError):
    """The blob store failed (unreachable, refused, missing object)."""


class BlobIntegrityError(BlobStoreError):
    """A stored blob's bytes no longer match its SHA-256 address."""


class BlobNotFound(BlobStoreError, NotFound):
    """No blob is stored at that SHA-256 address."""


class DatabaseUnavailable(VaultError):
    """The database cannot be reached (down, restarting, a connection cut). The transaction
    was rolled back, unless the cut came during its commit (then it may have been kept):
    try again; a push or copy retried finds the same record."""


class LogCorrupted(VaultError):
    """The transparency log in the database contradicts itself or its last signed checkpoint."""
