"""Blobs in a local folder: ``<root>/ab/cd/abcd...`` written atomically and durably."""

from __future__ import annotations

import contextlib
import ctypes
import datetime as dt
import os
import secrets
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from vault.blobs.base import BlobInfo, BlobStore, check_address, sha256_hex
from vault.errors import BlobNotFound, BlobStoreError

__all__ = ["LocalBlobStore"]


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _unlink_quietly(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()


def _find_syncfs() -> Callable[[int], None] | None:
    """``syncfs(2)`` (Linux): flush one file system, data and metadata, and report its
    write-back errors; None where the C library has none."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        call = libc.syncfs
    except (OSError, AttributeError):
        return None
    call.argtypes, call.restype = [ctypes.c_int], ctypes.c_int

    def syncfs(fd: int) -> None:
        if call(fd) != 0:
            errno = ctypes.get_errno()
            raise OSError(errno, os.strerror(errno))

    return syncfs


_syncfs = _find_syncfs() if sys.platform.startswith("linux") else None


class LocalBlobStore(BlobStore):
    """Content-addressed files under ``root``, sharded two levels deep.

    A write goes to a temporary file in ``root/tmp``, is fsynced, renamed into place and
    the directory fsynced: a crash leaves either the whole blob or none (plus, at worst, a
    temporary file that :meth:`clean_temp` removes).
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._tmp = self.root / "tmp"
        try:
            self._tmp.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise BlobStoreError(f"cannot create blob folder {self.root}: {exc.strerror}") from None

    @property
    def description(self) -> str:
        return f"local folder {self.root}"

    def _path(self, sha256: str) -> Path:
        check_address(sha256)
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, data: bytes) -> str:
        sha256 = sha256_hex(data)
        final = self._path(sha256)
        if self._refreshed(final):
            return sha256
        tmp = self._write_temp(sha256, data, sync=True)
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, final)
            _fsync_dir(final.parent)
        except OSError as exc:
            _unlink_quietly(tmp)
            raise BlobStoreError(f"cannot write blob {sha256}: {exc.strerror}") from None
        return sha256

    def put_many(self, datas: Sequence[bytes]) -> list[str]:
        """Each blob as :meth:`put` stores it, made durable together: every temporary file
        written, one ``syncfs`` (their data on disk), every rename, one more ``syncfs``
        (their names and folders on disk), instead of two fsyncs per blob. The file
        system's write-back errors since the call began are reported (Linux 5.8+); on any
        error nothing is taken as stored (what was renamed is complete and durable or
        unreferenced). Where ``syncfs`` does not exist, :meth:`put` each."""
        if _syncfs is None or len(datas) <= 1:
            return [self.put(data) for data in datas]
        try:  # opened before the writes: syncfs reports the errors since it was opened
            root = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY)
        except OSError as exc:
            raise BlobStoreError(f"cannot open blob folder {self.root}: {exc.strerror}") from None
        staged: dict[Path, Path] = {}  # final name -> temporary file
        try:
            addresses = []
            for data in datas:
                sha256 = sha256_hex(data)
                addresses.append(sha256)
                final = self._path(sha256)
                if final not in staged and not self._refreshed(final):
                    staged[final] = self._write_temp(sha256, data, sync=False)
            if staged:
                _syncfs(root)  # the data is on disk before any name points at it
                for final, tmp in staged.items():
                    final.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(tmp, final)
                _syncfs(root)
        except (OSError, BlobStoreError) as exc:
            for tmp in staged.values():
                _unlink_quietly(tmp)
            if isinstance(exc, BlobStoreError):
                raise
            raise BlobStoreError(f"cannot write blobs in {self.root}: {exc.strerror}") from None
        finally:
            os.close(root)
        return addresses

    def _refreshed(self, final: Path) -> bool:
        """Whether the blob at ``final`` is stored already (its modification time is then
        refreshed: the gc grace period counts from the last put)."""
        if not final.exists():
            return False
        try:
            os.utime(final)
        except FileNotFoundError:
            return False  # removed meanwhile (gc): write it again
        return True

    def _write_temp(self, sha256: str, data: bytes, *, sync: bool) -> Path:
        """``data`` in a new temporary file (fsynced when ``sync``)."""
        tmp = self._tmp / f"{sha256}.{secrets.token_hex(8)}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
            try:
                view = memoryview(data)
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
                if sync:
                    os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            _unlink_quietly(tmp)
            raise BlobStoreError(f"cannot write blob {sha256}: {exc.strerror}") from None
        return tmp

    def _read(self, sha256: str) -> bytes:
        try:
            return self._path(sha256).read_bytes()
        except FileNotFoundError:
            raise BlobNotFound(f"no blob {sha256} in {self.description}") from None
        except OSError as exc:
            raise BlobStoreError(f"cannot read blob {sha256}: {exc.strerror}") from None

    def check_ready(self) -> None:
        """Write, read back and remove a small probe file where writes begin (``tmp``)."""
        probe = self._tmp / f"ready.{secrets.token_hex(8)}.tmp"
        try:
            if not self.root.is_dir():
                raise BlobStoreError(f"{self.description} is missing")
            probe.write_bytes(b"ready")
            if probe.read_bytes() != b"ready":
                raise BlobStoreError(f"{self.description} does not read back what it stored")
        except OSError as exc:
            raise BlobStoreError(f"{self.description} is not writable: {exc.strerror}") from None
        finally:
            with contextlib.suppress(OSError):
                probe.unlink()

    def exists(self, sha256: str) -> bool:
        return self._path(sha256).is_file()

    def info(self, sha256: str) -> BlobInfo | None:
        try:
            st = self._path(sha256).stat()
        except FileNotFoundError:
            return None
        return BlobInfo(
            sha256=sha256,
            size=st.st_size,
            modified_at=dt.datetime.fromtimestamp(st.st_mtime, dt.UTC),
        )

    def delete(self, sha256: str) -> None:
        path = self._path(sha256)
        try:
            path.unlink()
        except FileNotFoundError:
            return
        except OSError as exc:
            raise BlobStoreError(f"cannot delete blob {sha256}: {exc.strerror}") from None
        _fsync_dir(path.parent)

    def iter(self) -> Iterator[BlobInfo]:
        for first in sorted(self.root.iterdir()):
            if first.name == "tmp" or not first.is_dir() or len(first.name) != 2:
                continue
            for second in sorted(first.iterdir()):
                if not second.is_dir():
                    continue
                for entry in sorted(second.iterdir()):
                    if len(entry.name) != 64:
                        continue
                    try:
                        st = entry.stat()
                    except FileNotFoundError:
                        continue  # deleted meanwhile
                    yield BlobInfo(
                        sha256=entry.name,
                        size=st.st_size,
                        modified_at=dt.datetime.fromtimestamp(st.st_mtime, dt.UTC),
                    )

    def clean_temp(self, *, older_than: dt.datetime) -> int:
        """Remove temporary files left by crashed writes; return how many."""
        removed = 0
        for entry in self._tmp.iterdir():
            try:
                mtime = dt.datetime.fromtimestamp(entry.stat().st_mtime, dt.UTC)
                if mtime < older_than:
                    entry.unlink()
                    removed += 1
            except FileNotFoundError:
                continue
        return removed
