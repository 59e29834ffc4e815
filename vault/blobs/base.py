"""The blob store interface: content-addressed, write-once PDF bytes keyed by SHA-256."""

from __future__ import annotations

import abc
import concurrent.futures
import datetime as dt
import hashlib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from vault.errors import BlobIntegrityError, BlobStoreError

__all__ = ["BlobInfo", "BlobStore", "check_address", "sha256_hex"]

#: Puts in flight at once in the default :meth:`BlobStore.put_many`.
_PUTS_AT_ONCE = 4

_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check_address(sha256: str) -> str:
    """Refuse anything but 64 lowercase hex characters (no path tricks reach a store)."""
    if not _SHA256_HEX.match(sha256):
        raise BlobStoreError("a blob address must be 64 lowercase hex characters (SHA-256)")
    return sha256


@dataclass(frozen=True)
class BlobInfo:
    """A stored blob as listed by :meth:`BlobStore.iter`."""

    sha256: str
    size: int
    modified_at: dt.datetime  # UTC


class BlobStore(abc.ABC):
    """Where the bytes of sealed PDFs live, addressed by their SHA-256 (lowercase hex).

    ``put`` is idempotent; ``get`` re-checks the SHA-256 of what it read and raises
    :class:`vault.errors.BlobIntegrityError` on a mismatch; ``iter`` lists every blob with
    its modification time (for garbage collection).
    """

    @abc.abstractmethod
    def put(self, data: bytes) -> str:
        """Store ``data`` (durably, atomically) and return its SHA-256 address.

        Putting bytes that are already stored refreshes their modification time, so the
        gc grace period counts from the last put (a blob about to be referenced again is
        not collected).
        """

    def put_many(self, datas: Sequence[bytes]) -> list[str]:
        """Store each of ``datas`` as :meth:`put` does, all durable when this returns; their
        addresses in order. Stores that can make many writes durable at once override it
        (one barrier for the lot instead of one per blob); here, a few puts at once (each
        waits for its own store). On an error none of them may be taken as stored."""
        if len(datas) <= 1:
            return [self.put(data) for data in datas]
        with concurrent.futures.ThreadPoolExecutor(_PUTS_AT_ONCE) as pool:
            return list(pool.map(self.put, datas))

    @abc.abstractmethod
    def info(self, sha256: str) -> BlobInfo | None:
        """Size and modification time of the blob, or None when absent."""

    @abc.abstractmethod
    def _read(self, sha256: str) -> bytes:
        """Read the raw bytes stored at ``sha256``; raise BlobNotFound when absent."""

    @abc.abstractmethod
    def exists(self, sha256: str) -> bool: ...

    @abc.abstractmethod
    def delete(self, sha256: str) -> None:
        """Remove the blob; no error when it is already gone."""

    @abc.abstractmethod
    def iter(self) -> Iterator[BlobInfo]: ...

    @property
    @abc.abstractmethod
    def description(self) -> str:
        """Where blobs go, for messages (no secrets)."""

    @abc.abstractmethod
    def check_ready(self) -> None:
        """Raise :class:`BlobStoreError` unless blobs can be stored and read now.

        For readiness probes: cheap (one small write or one request), and it fails on a
        store that is unreachable, missing or not writable, which ``exists`` does not see.
        """

    def get(self, sha256: str) -> bytes:
        """The bytes at ``sha256``, verified against their address."""
        check_address(sha256)
        data = self._read(sha256)
        actual = sha256_hex(data)
        if actual != sha256:
            raise BlobIntegrityError(
                f"blob {sha256} in {self.description} is corrupt: its content hashes to {actual}"
            )
        return data
