"""The transparency log in the database: append events, sign checkpoints, serve proofs.

Every event is one row of ``log_entries`` (a leaf of an RFC 9162 Merkle tree, see
:mod:`signing.transparency`); ``log_checkpoints`` keeps every signed checkpoint.

Appending is serialized: on PostgreSQL each append takes the transaction-scoped advisory lock
:data:`APPEND_LOCK_ID` before reading the last index, so several API workers never race for
an index and indexes stay contiguous (an append rolled back frees its index for the next
one). Run appends in READ COMMITTED (PostgreSQL's default). On SQLite every transaction
starts with ``BEGIN IMMEDIATE`` (see :mod:`vault.db.engine`), which already serializes
writers. The primary key on ``idx`` makes a duplicate index impossible either way.

Sign checkpoints and build copy proofs only over *committed* entries: a signed checkpoint
over an append that later rolls back would look like a fork to every auditor. So: append and
commit, then :func:`make_checkpoint` / :func:`copy_log_proof` in a new transaction.

Proofs come from a :class:`LogTreeCache` (keep one per process, e.g. on the web app): it
holds every perfect-subtree hash and catches up on new rows only, so a proof costs O(log n)
hashes. Without a cache each call re-reads and re-hashes the whole log.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hmac
import json
import os
import threading
from collections.abc import Mapping
from typing import Any, cast
from urllib.parse import urlsplit

from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.orm import Session

from signing.errors import KeySourceError, LogFormatError, LogVerificationError
from signing.transparency import (
    Checkpoint,
    CopyLogProof,
    ExportedEntry,
    LogEvent,
    LogSigner,
    MerkleTree,
)
from vault.db.base import utcnow
from vault.errors import ConfigError, InvalidInput, LogCorrupted, NotFound
from vault.models.log import LogCheckpoint, LogEntry
from vault.settings import Settings

__all__ = [
    "APPEND_LOCK_ID",
    "CHECKPOINT_LOCK_ID",
    "MAX_ENTRIES_PAGE",
    "LogCheckpoint",
    "LogTreeCache",
    "append_event",
    "checkpoint_if_due",
    "consistency_proof",
    "copy_log_proof",
    "entries",
    "exported_entry",
    "inclusion_proof",
    "insert_leaf",
    "latest_checkpoint",
    "leaf_values",
    "load_log_key",
    "log_origin",
    "log_size",
    "log_tree",
    "make_checkpoint",
    "next_index",
    "root_hash",
]

#: pg_advisory_xact_lock key serializing appends ("evlt" "log!").
APPEND_LOCK_ID = 0x65766C74_6C6F6721
#: pg_advisory_xact_lock key serializing checkpoints ("evlt" "ckpt").
CHECKPOINT_LOCK_ID = 0x65766C74_636B7074
#: Largest page :func:`entries` returns.
MAX_ENTRIES_PAGE = 1000
_DEMO_KEY_FILE = "log_key.pem"


# --- Appending ---------------------------------------------------------------------------------


def append_event(
    *,
    session: Session,
    event_type: str,
    payload: Mapping[str, Any],
    now: dt.datetime | None = None,
) -> LogEntry:
    """Append one event as the next leaf, inside the caller's transaction; return its row.

    ``payload`` is JSON (no floats) and must not hold a holder ID number in clear: pass the
    blind index. The row is flushed, not committed.

    The event is checked and its payload encoded before the append lock is taken; under
    the lock only the next index is read, the leaf hashed and the row inserted. The lock
    lasts until the caller's commit: append last and commit right after, so other workers
    wait little.
    """
    moment = (now or utcnow()).astimezone(dt.UTC)
    template = _checked(event_type, payload, moment)
    session.flush()  # anything pending is written before the lock, not under it
    idx = next_index(session)
    row = LogEntry(
        idx=idx,
        created_at=template.time,
        event_type=event_type,
        payload=template.payload_bytes(),
        leaf_hash=dataclasses.replace(template, idx=idx).leaf_hash(),
    )
    session.add(row)
    session.flush()
    return row


def _checked(event_type: str, payload: Mapping[str, Any], moment: dt.datetime) -> LogEvent:
    try:
        return LogEvent(idx=0, time=moment, event_type=event_type, payload=dict(payload))
    except LogFormatError as exc:
        raise InvalidInput(f"log event {event_type!r}: {exc}") from None


def next_index(session: Session) -> int:
    """Take the append lock and read the next free index (for :func:`insert_leaf`).

    PostgreSQL: the transaction-scoped advisory lock :data:`APPEND_LOCK_ID`, until the
    commit; SQLite: the transaction already holds the write lock (``BEGIN IMMEDIATE``).
    The caller must insert that index (:func:`insert_leaf`) before it commits.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_LOCK_APPEND)
    last = session.scalar(_MAX_IDX)
    return 0 if last is None else last + 1


def leaf_values(
    *, idx: int, event_type: str, payload: Mapping[str, Any], now: dt.datetime
) -> dict[str, Any]:
    """The column values of leaf ``idx`` (``log_entries``), its hash computed."""
    try:
        event = LogEvent(
            idx=idx, time=now.astimezone(dt.UTC), event_type=event_type, payload=dict(payload)
        )
    except LogFormatError as exc:
        raise InvalidInput(f"log event {event_type!r}: {exc}") from None
    return {
        "idx": idx,
        "created_at": event.time,
        "event_type": event_type,
        "payload": event.payload_bytes(),
        "leaf_hash": event.leaf_hash(),
    }


def insert_leaf(
    *,
    session: Session,
    idx: int,
    event_type: str,
    payload: Mapping[str, Any],
    now: dt.datetime,
) -> None:
    """Insert the leaf ``idx`` reserved by :func:`next_index` (a Core insert: no ORM row).

    For callers that need the index before they can write the payload (an access-log row
    records its leaf's index, and its leaf names the row).
    """
    values = leaf_values(idx=idx, event_type=event_type, payload=payload, now=now)
    session.execute(_INSERT_LEAF, values)


_LOCK_APPEND = text(f"SELECT pg_advisory_xact_lock({APPEND_LOCK_ID})")
_LOCK_CHECKPOINT = text(f"SELECT pg_advisory_xact_lock({CHECKPOINT_LOCK_ID})")
_MAX_IDX = select(func.max(LogEntry.idx))
_INSERT_LEAF = insert(cast(Table, LogEntry.__table__))


# --- Reading entries ---------------------------------------------------------------------------


def _event_of(idx: int, created_at: dt.datetime, event_type: str, payload: bytes) -> LogEvent:
    try:
        obj = json.loads(payload.decode("utf-8"))
        return LogEvent(idx=idx, time=created_at, event_type=event_type, payload=obj)
    except (UnicodeDecodeError, ValueError, LogFormatError) as exc:
        detail = str(exc) if isinstance(exc, LogFormatError) else "payload is not UTF-8 JSON"
        raise LogCorrupted(f"log entry {idx} is unreadable: {detail}") from None


def exported_entry(row: LogEntry) -> ExportedEntry:
    """The export / API form of a row (with the leaf hash the database recorded)."""
    event = _event_of(row.idx, row.created_at, row.event_type, row.payload)
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


# --- The tree ----------------------------------------------------------------------------------


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


def _check_size(tree: MerkleTree, size: int) -> None:
    if size > tree.size:
        raise NotFound(f"the log has {tree.size} entries, not {size}")


def root_hash(*, session: Session, size: int, cache: LogTreeCache | None = None) -> bytes:
    """RFC 9162 root of the first ``size`` entries."""
    tree = _tree(session, cache)
    _check_size(tree, size)
    return tree.root(size)


def inclusion_proof(
    *, session: Session, index: int, size: int, cache: LogTreeCache | None = None
) -> list[bytes]:
    """RFC 9162 inclusion proof of entry ``index`` in the tree of the first ``size`` entries."""
    if not 0 <= index < size:
        raise NotFound(f"entry {index} is not in a tree of size {size}")
    tree = _tree(session, cache)
    _check_size(tree, size)
    return tree.inclusion_proof(index, size)


def consistency_proof(
    *, session: Session, first: int, second: int, cache: LogTreeCache | None = None
) -> list[bytes]:
    """RFC 9162 consistency proof from size ``first`` to size ``second``."""
    if not 0 <= first <= second:
        raise NotFound(f"no consistency proof from size {first} to size {second}")
    tree = _tree(session, cache)
    _check_size(tree, second)
    return tree.consistency_proof(first, second)


# --- Checkpoints -------------------------------------------------------------------------------


def latest_checkpoint(*, session: Session) -> LogCheckpoint | None:
    """The stored checkpoint of the largest tree (newest first among equals)."""
    # LIMIT 1: ``first()`` alone would fetch (and build) every checkpoint row, and a copy
    # usually signs a new one, so there are about as many checkpoints as copies.
    return session.scalars(
        select(LogCheckpoint)
        .order_by(LogCheckpoint.tree_size.desc(), LogCheckpoint.id.desc())
        .limit(1)
    ).first()


def make_checkpoint(
    *,
    session: Session,
    log_key: LogSigner,
    origin: str | None = None,
    now: dt.datetime | None = None,
    cache: LogTreeCache | None = None,
) -> LogCheckpoint:
    """Sign and store a checkpoint of every entry ``session`` sees (commit the appends first).

    Refuses (:class:`LogCorrupted`) to sign a tree that does not extend the latest stored
    checkpoint, or when that checkpoint's signature does not verify with ``log_key`` or one
    of the keys it replaced (``log_key.keyring()``): the log must never sign over a
    rewritten history.

    Checkpointing is serialized, so that the tree and the latest checkpoint are read as one
    consistent picture even with several workers: on PostgreSQL with the transaction-scoped
    advisory lock :data:`CHECKPOINT_LOCK_ID` (held until the caller commits), taken before
    either is read; on SQLite every transaction already begins with ``BEGIN IMMEDIATE``.
    Without it, a checkpoint committed by another worker between the two reads looked like
    a rewritten history (its size beyond the tree read just before).
    """
    origin = origin or log_key.name
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_LOCK_CHECKPOINT)
    tree = _tree(session, cache)
    previous = latest_checkpoint(session=session)
    if previous is not None:
        try:
            signed = log_key.keyring().verify(previous.signed_note, origin=origin)
        except LogVerificationError as exc:
            raise LogCorrupted(f"the latest stored checkpoint does not verify: {exc}") from None
        before = signed.checkpoint
        if before.size > tree.size:
            raise LogCorrupted(
                f"log entry {tree.size} is missing: the checkpoint of size {before.size} "
                f"covers it; refusing to sign"
            )
        if not hmac.compare_digest(tree.root(before.size), before.root_hash):
            raise LogCorrupted(
                f"the log no longer reproduces its checkpoint of size {before.size}; "
                "refusing to sign"
            )
    moment = (now or utcnow()).astimezone(dt.UTC)
    checkpoint = Checkpoint(origin=origin, size=tree.size, root_hash=tree.root())
    row = LogCheckpoint(
        tree_size=checkpoint.size,
        root_hash=checkpoint.root_hash,
        created_at=moment,
        signed_note=log_key.sign(checkpoint),
    )
    session.add(row)
    session.flush()
    return row


def checkpoint_if_due(
    *,
    session: Session,
    log_key: LogSigner,
    max_age: dt.timedelta,
    origin: str | None = None,
    now: dt.datetime | None = None,
    cache: LogTreeCache | None = None,
) -> LogCheckpoint:
    """The latest checkpoint, or a new one when the log grew and that one is ``max_age`` old."""
    moment = (now or utcnow()).astimezone(dt.UTC)
    latest = latest_checkpoint(session=session)
    if latest is not None:
        fresh = moment - latest.created_at < max_age
        if fresh or latest.tree_size == log_size(session=session):
            return latest
    return make_checkpoint(session=session, log_key=log_key, origin=origin, now=moment, cache=cache)


def copy_log_proof(
    *,
    session: Session,
    index: int,
    log_key: LogSigner,
    origin: str | None = None,
    cache: LogTreeCache | None = None,
    checkpoint: LogCheckpoint | None = None,
) -> CopyLogProof:
    """The proof a certified copy carries for its (committed) log entry ``index``.

    Against ``checkpoint`` when given (e.g. the one the witnesses cosigned) and it covers
    ``index``; else the latest checkpoint when it covers ``index``, else a new one.
    """
    row = session.get(LogEntry, index)
    if row is None:
        raise NotFound(f"no log entry {index}")
    if checkpoint is None or checkpoint.tree_size <= index:
        checkpoint = latest_checkpoint(session=session)
    if checkpoint is None or checkpoint.tree_size <= index:
        checkpoint = make_checkpoint(session=session, log_key=log_key, origin=origin, cache=cache)
    tree = _tree(session, cache)
    _check_size(tree, checkpoint.tree_size)
    if not hmac.compare_digest(tree.root(checkpoint.tree_size), bytes(checkpoint.root_hash)):
        raise LogCorrupted(
            f"the log no longer reproduces its checkpoint of size {checkpoint.tree_size}"
        )
    event = _event_of(row.idx, row.created_at, row.event_type, row.payload)
    if not hmac.compare_digest(event.leaf_hash(), tree.leaf_hash_at(index)):
        raise LogCorrupted(f"log entry {index} does not match its recorded leaf hash")
    return CopyLogProof(
        index=index,
        leaf=event.leaf_data(),
        checkpoint=checkpoint.signed_note,
        inclusion_proof=tuple(tree.inclusion_proof(index, checkpoint.tree_size)),
    )


# --- The log key -------------------------------------------------------------------------------


def log_origin(settings: Settings) -> str:
    """The log's origin line and key name: ``EVAULT_LOG_ORIGIN``, else
    ``<host[:port]><path>/log`` of public_base_url. A checkpoint names its origin and the
    next one must name the same, so in demo mode the first run's origin is kept in data_dir:
    the demo served again on another address or port keeps signing its log."""
    if settings.log_origin:
        return settings.log_origin
    parts = urlsplit(settings.public_base_url)
    base = (parts.netloc or parts.path).rstrip("/")
    path = parts.path.rstrip("/") if parts.netloc else ""
    derived = f"{base}{path}/log"
    if not settings.is_demo:
        return derived
    kept = settings.data_dir / "keys" / "log_origin"
    try:
        return kept.read_text(encoding="ascii").strip() or derived
    except FileNotFoundError:
        kept.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = kept.with_suffix(".tmp")
        tmp.write_text(derived + "\n", encoding="ascii")
        tmp.replace(kept)
        return derived


def load_log_key(settings: Settings) -> LogSigner:
    """The log's signing key: ``settings.log_key`` (a PEM file), or an Ed25519 key in an HSM
    (``EVAULT_LOG_PKCS11_*``); in demo mode without either, generated into data_dir.

    When the trust bundle lists log keys (after a rotation), the signer knows the earlier
    ones (to check the checkpoints they signed), and its own key must be among them: a key
    that auditors cannot know is refused.
    """
    problem = settings.log_key_problem()
    if problem:
        raise ConfigError(problem)
    origin = log_origin(settings)
    if settings.log_pkcs11_module is not None:
        signer = _pkcs11_log_key(settings, origin)
    else:
        signer = _file_log_key(settings, origin)
    return _with_bundle_keys(settings, signer)


def _file_log_key(settings: Settings, origin: str) -> LogSigner:
    path = settings.log_key
    if path is None:
        assert settings.is_demo  # Settings.log_key_problem
        path = settings.data_dir / _DEMO_KEY_FILE
        if not path.exists():
            signer = LogSigner.generate(origin)
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass  # another process made it first: use theirs
            else:
                with os.fdopen(fd, "wb") as out:
                    out.write(signer.private_pem())
                return signer
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read the log key {path}: {exc.strerror}") from None
    try:
        return LogSigner.from_pem(data, origin)
    except KeySourceError as exc:
        raise ConfigError(f"log key {path}: {exc}") from None


def _pkcs11_log_key(settings: Settings, origin: str) -> LogSigner:
    from signing.hsm import Pkcs11Ed25519Key

    assert settings.log_pkcs11_module and settings.log_pkcs11_token and settings.log_pkcs11_key
    pin = settings.log_pin()
    try:
        key = Pkcs11Ed25519Key.open(
            module=settings.log_pkcs11_module,
            token_label=settings.log_pkcs11_token,
            pin=pin,
            key_label=settings.log_pkcs11_key,
        )
    except KeySourceError as exc:
        raise ConfigError(f"the log key is unusable: {exc}") from None
    return LogSigner(key, origin)


def _with_bundle_keys(settings: Settings, signer: LogSigner) -> LogSigner:
    from signing.errors import TrustError
    from signing.trust import TrustBundle

    path = settings.resolved_trust_bundle
    if path is None or not path.is_file():
        return signer
    try:
        keyring = TrustBundle.load(path).log_verifier()
    except TrustError as exc:
        raise ConfigError(f"trust bundle {path}: {exc}") from None
    if keyring is None:
        return signer
    own = signer.verifier().raw
    if not any(v.raw == own for v in keyring.verifiers):
        raise ConfigError(
            f"the log key is not among the log keys of the trust bundle {path}: add it "
            "with `evault keys log-rotate` before the service signs with it"
        )
    return signer.with_previous([v for v in keyring.verifiers if v.raw != own])
