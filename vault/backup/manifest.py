"""A backup's layout, its manifest, and the checks that refuse a damaged or partial one.

A backup is a directory::

    manifest.json          what is in it: schema revision, tables (rows, digest), blobs,
                           the keys' references; written last, so a backup that did not
                           finish has none
    manifest.sha256        ``<sha256>  manifest.json`` (``sha256sum -c manifest.sha256``)
    db/<table>.jsonl       one JSON object per row (vault.backup.rows)
    blobs.txt              ``<sha256> <size>`` per blob, sorted
    blobs/ab/<sha256>      each blob, named by its own SHA-256
    secrets/…              only with ``--include-secrets``
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vault.blobs.base import check_address
from vault.blobs.local import _fsync_dir
from vault.errors import BlobStoreError, VaultError

__all__ = [
    "FORMAT",
    "BackupRefused",
    "Manifest",
    "blob_path",
    "file_digest",
    "read_blob_list",
    "write_durably",
]

FORMAT = "evault-backup/1"
MANIFEST = "manifest.json"
MANIFEST_DIGEST = "manifest.sha256"
BLOB_LIST = "blobs.txt"
_CHUNK = 1 << 20


class BackupRefused(VaultError):
    """A backup cannot be taken, or cannot be restored (damaged, partial, wrong target)."""


@dataclass(frozen=True)
class Manifest:
    """What a backup holds. ``files`` maps each relative path (but blobs) to sha256, size."""

    created_at: str
    evault_version: str
    schema_revision: str
    source_database: str
    source_blobs: str
    tables: dict[str, int]
    """Rows per table."""
    columns: dict[str, dict[str, str]]
    """Per table, each column's kind (vault.backup.rows.column_kinds)."""
    blob_refs: dict[str, list[str]]
    """Per table, the columns that name a blob."""
    files: dict[str, dict[str, Any]]
    blob_count: int
    blob_bytes: int
    keys: dict[str, Any]
    secrets_included: bool

    def to_json(self) -> bytes:
        body = {"format": FORMAT, **self.__dict__}
        return json.dumps(body, ensure_ascii=False, indent=2, sort_keys=True).encode() + b"\n"

    def write(self, root: Path) -> None:
        """Write the manifest and its digest (last: they mark the backup complete)."""
        data = self.to_json()
        write_durably(root / MANIFEST, data)
        digest = hashlib.sha256(data).hexdigest()
        write_durably(root / MANIFEST_DIGEST, f"{digest}  {MANIFEST}\n".encode())
        _fsync_dir(root)

    @classmethod
    def read(cls, root: Path) -> Manifest:
        """The manifest of the backup at ``root``, after checking its own digest."""
        if not root.is_dir():
            raise BackupRefused(f"{root} is not a backup directory")
        try:
            data = (root / MANIFEST).read_bytes()
            recorded = (root / MANIFEST_DIGEST).read_text(encoding="ascii").split()[0]
        except FileNotFoundError:
            raise BackupRefused(
                f"{root} is not a complete backup: no {MANIFEST} or {MANIFEST_DIGEST}"
                " (the backup did not finish)"
            ) from None
        except (OSError, UnicodeDecodeError, IndexError) as exc:
            raise BackupRefused(f"cannot read the manifest of {root}: {exc}") from None
        if hashlib.sha256(data).hexdigest() != recorded:
            raise BackupRefused(f"{root}/{MANIFEST} is damaged: it does not match its digest")
        try:
            body = json.loads(data)
            if body.pop("format") != FORMAT:
                raise BackupRefused(f"{root} is not an {FORMAT} backup")
            return cls(**body)
        except (ValueError, KeyError, TypeError):
            raise BackupRefused(f"{root}/{MANIFEST} is not an {FORMAT} manifest") from None

    def check_files(self, root: Path) -> None:
        """Every listed file is there with its recorded digest and size."""
        for rel, expected in sorted(self.files.items()):
            path = root / rel
            if not path.is_file():
                raise BackupRefused(f"backup is partial: {rel} is missing")
            digest, size = file_digest(path)
            if digest != expected["sha256"] or size != expected["size"]:
                raise BackupRefused(f"backup is damaged: {rel} does not match its digest")


def blob_path(root: Path, sha256: str) -> Path:
    check_address(sha256)
    return root / "blobs" / sha256[:2] / sha256


def file_digest(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def read_blob_list(root: Path) -> Iterator[tuple[str, int]]:
    """The ``(sha256, size)`` lines of blobs.txt (its digest is checked with the files)."""
    with (root / BLOB_LIST).open(encoding="ascii") as handle:
        for number, line in enumerate(handle, start=1):
            parts = line.split()
            try:
                sha256, size = check_address(parts[0]), int(parts[1])
            except (IndexError, ValueError, BlobStoreError):
                raise BackupRefused(f"backup is damaged: {BLOB_LIST} line {number}") from None
            yield sha256, size


def write_durably(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
