"""Reading the transparency log: entries, the Merkle tree and its proofs.

Proofs come from a :class:`LogTreeCache` (keep one per process, e.g. on the web app): it
holds every perfect-subtree hash and catches up on new rows only, so a proof costs O(log n)
hashes. Without a cache each call re-reads and re-hashes the whole log.
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
import threading

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from signing.errors import LogFormatError, LogVerificationError
from signing.transparency import ExportedEntry, LogEvent, MerkleTree
from vault.errors import LogCorrupted, NotFound
from vault.models.log import LogEntry

__all__ = [
    "MAX_ENTRIES_PAGE",
    "LogTreeCache",
    "check_size",
    "consistency_proof",
    "entries",
    "event_of",
    "exported_entry",
    "inclusion_proof",
    "log_size",
    "log_tree",
    "root_hash",
]

#: Largest page :func:`entries` returns.
MAX_ENTRIES_PAGE = 1000


def event_of(idx: int, created_at: dt.datetime, event_type: str, payload: bytes) -> LogEvent:
    try:
        obj = json.loads(payload.decode("utf-8"))
        return LogEvent(idx=idx, time=created_at, event_type=event_type, payload=obj)
    except (UnicodeDecodeError, ValueError, LogFormatError) as exc:
        detail = str(exc) if isinstance(exc, LogFormatError) else "payload is not UTF-8 JSON"
        raise LogCorrupted(f"log entry {idx} is unreadable: {detail}") from None


def exported_entry(row: LogEntry) -> ExportedEntry:
    """The export / API form of a row (with the leaf hash the database recorded)."""
    event = event_of(row.idx, row.created_at, row.event_type, row.payload)
    return ExportedEntry(event=event, recorded_leaf_hash=bytes(row.leaf_hash))


def entries(*, session: Session, start: int, end: int) -> list[ExportedEntry]:
    """Entries ``start`` (included) to ``end`` (excluded), at most :data:`MAX_ENTRIES_PAGE`.

    Fewer come back when the log is shorter or the range longer than a page; ask again from
    the last index + 1.
    """
    if start < 0 or end < start:  # no such range: as for a proof that does not exist
        raise NotFound(f"no log entries from {start} to {end}")
    end = min(end, start + MAX_ENTRIES_PAGE)
    rows = session.scalars(
        select(LogEntry).where(LogEntry.idx >= start, LogEntry.idx < end).order_by(LogEntry.idx)
    )
    return [exported_entry(row) for row in rows]


def log_size(*, session: Session) -> int:
    """Number of entries (the last index + 1)."""
    last = session.scalar(select(func.max(LogEntry.idx)))
    return 0 if last is None else last + 1


class LogTreeCache:
    """The Merkle tree of the log, kept in memory and brought up to date on each use.

    On each use it checks that the newest leaf it holds is still in the database with the
    same hash (else a rollback or a reset happened: it starts over), then reads only the
    leaf hashes of rows it has not seen, which must follow the previous index. Thread-safe.
    """

    def __init__(self) -> None:
        self._tree = MerkleTree()
        self._lock = threading.Lock()

    def tree(self, session: Session) -> MerkleTree:
        """The tree over every entry ``session`` can see (append-only: safe to keep)."""
        with self._lock:
            tree = self._tree
            if tree.size:
                newest = session.scalar(
                    select(LogEntry.leaf_hash).where(LogEntry.idx == tree.size - 1)
                )
                if newest is None or not hmac.compare_digest(
                    bytes(newest), tree.leaf_hash_at(tree.size - 1)
                ):
                    tree = MerkleTree()
            _extend(session, tree)
            self._tree = tree
            return tree


def _extend(session: Session, tree: MerkleTree) -> None:
    """Append the recorded leaf hashes of the rows the tree has not seen yet.

    The recorded hashes are trusted here (re-hashing every row's content made a cold
    start about five times slower); a row whose content was edited afterwards is still caught:
    by :func:`copy_log_proof` for that row, by :func:`make_checkpoint` when the hash was
    "fixed" too (the roots stop matching the last signed checkpoint), and by the offline
    audit in every case.
    """
    rows = session.execute(
        select(LogEntry.idx, LogEntry.leaf_hash)
        .where(LogEntry.idx >= tree.size)
        .order_by(LogEntry.idx)
        .execution_options(yield_per=5000)
    )
    for idx, recorded in rows:
        if idx != tree.size:
            raise LogCorrupted(f"log entry {tree.size} is missing (next is {idx})")
        try:
            tree.append_hash(bytes(recorded))
        except LogVerificationError:
            raise LogCorrupted(f"log entry {idx} has a malformed leaf hash") from None


def _tree(session: Session, cache: LogTreeCache | None) -> MerkleTree:
    if cache is not None:
        return cache.tree(session)
    tree = MerkleTree()
    _extend(session, tree)
    return tree


def log_tree(*, session: Session, cache: LogTreeCache | None = None) -> MerkleTree:
    """The Merkle tree of every entry ``session`` sees (read it, never append to it)."""
    return _tree(session, cache)


def check_size(tree: MerkleTree, size: int) -> None:
    if size > tree.size:
        raise NotFound(f"the log has {tree.size} entries, not {size}")


def root_hash(*, session: Session, size: int, cache: LogTreeCache | None = None) -> bytes:
    """RFC 9162 root of the first ``size`` entries."""
    tree = _tree(session, cache)
    check_size(tree, size)
    return tree.root(size)


def inclusion_proof(
    *, session: Session, index: int, size: int, cache: LogTreeCache | None = None
) -> list[bytes]:
    """RFC 9162 inclusion proof of entry ``index`` in the tree of the first ``size`` entries."""
    if not 0 <= index < size:
        raise NotFound(f"entry {index} is not in a tree of size {size}")
    tree = _tree(session, cache)
    check_size(tree, size)
    return tree.inclusion_proof(index, size)


def consistency_proof(
    *, session: Session, first: int, second: int, cache: LogTreeCache | None = None
) -> list[bytes]:
    """RFC 9162 consistency proof from size ``first`` to size ``second``."""
    if not 0 <= first <= second:
        raise NotFound(f"no consistency proof from size {first} to size {second}")
    tree = _tree(session, cache)
    check_size(tree, second)
    return tree.consistency_proof(first, second)
