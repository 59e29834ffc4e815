"""Checkpoints of the transparency log: signed, stored, and the proofs copies carry.

Sign checkpoints and build copy proofs only over *committed* entries: a signed checkpoint
over an append that later rolls back would look like a fork to every auditor. So: append and
commit, then :func:`make_checkpoint` / :func:`copy_log_proof` in a new transaction.
"""

from __future__ import annotations

import datetime as dt
import hmac

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from signing.errors import LogVerificationError
from signing.transparency import Checkpoint, CopyLogProof, LogSigner
from vault.db.base import utcnow
from vault.errors import LogCorrupted, NotFound
from vault.log.proofs import LogTreeCache, check_size, event_of, log_size, log_tree
from vault.models.log import LogCheckpoint, LogEntry

__all__ = [
    "CHECKPOINT_LOCK_ID",
    "LogCheckpoint",
    "checkpoint_if_due",
    "copy_log_proof",
    "latest_checkpoint",
    "make_checkpoint",
]

#: pg_advisory_xact_lock key serializing checkpoints ("evlt" "ckpt").
CHECKPOINT_LOCK_ID = 0x65766C74_636B7074
_LOCK_CHECKPOINT = text(f"SELECT pg_advisory_xact_lock({CHECKPOINT_LOCK_ID})")


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
    tree = log_tree(session=session, cache=cache)
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
    tree = log_tree(session=session, cache=cache)
    check_size(tree, checkpoint.tree_size)
    if not hmac.compare_digest(tree.root(checkpoint.tree_size), bytes(checkpoint.root_hash)):
        raise LogCorrupted(
            f"the log no longer reproduces its checkpoint of size {checkpoint.tree_size}"
        )
    event = event_of(row.idx, row.created_at, row.event_type, row.payload)
    if not hmac.compare_digest(event.leaf_hash(), tree.leaf_hash_at(index)):
        raise LogCorrupted(f"log entry {index} does not match its recorded leaf hash")
    return CopyLogProof(
        index=index,
        leaf=event.leaf_data(),
        checkpoint=checkpoint.signed_note,
        inclusion_proof=tuple(tree.inclusion_proof(index, checkpoint.tree_size)),
    )
