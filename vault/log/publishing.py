"""Publishing the log: checkpoints when due and the proofs copies carry, cosigned by witnesses.

One :class:`LogPublisher` per process (the web application builds it from its context): the
log key, the tree cache, the witness clients and the lock that makes witness rounds take
turns. Every method commits (the checkpoint is stored before a witness sees it, and no
transaction is open while the witnesses are asked), and says so in its name.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from signing.transparency import LogSigner, SignedNote
from vault.log.checkpoints import checkpoint_if_due, copy_log_proof, latest_checkpoint
from vault.log.proofs import LogTreeCache
from vault.log.witnessing import WitnessClient, witness_latest_and_commit
from vault.models.log import LogCheckpoint

__all__ = ["LogPublisher"]


@dataclass(frozen=True)
class LogPublisher:
    """The log key, tree cache and witnesses of one process (key and witnesses on first use)."""

    log_key: Callable[[], LogSigner]
    cache: LogTreeCache
    witnesses: Callable[[], tuple[WitnessClient, ...]]
    #: Witness rounds take turns, so concurrent copies share one round trip.
    witness_lock: threading.Lock
    #: A checkpoint older than this is replaced when the log grew.
    max_age: dt.timedelta

    def cosigned_latest_and_commit(self, session: Session) -> LogCheckpoint | None:
        """Offer the latest checkpoint to the witnesses lacking from it; it, as stored."""
        return witness_latest_and_commit(
            session=session, clients=self.witnesses(), cache=self.cache, lock=self.witness_lock
        )

    def _if_due(self, session: Session) -> LogCheckpoint:
        return checkpoint_if_due(
            session=session, log_key=self.log_key(), max_age=self.max_age, cache=self.cache
        )

    def served_checkpoint_and_commit(self, session: Session) -> LogCheckpoint:
        """The checkpoint to serve: the latest, or a new one when due; a new one is
        offered to the witnesses first (with witnesses configured)."""
        cosigners = self.witnesses()
        before = latest_checkpoint(session=session) if cosigners else None
        row = self._if_due(session)
        if cosigners and (before is None or row.id != before.id):
            session.commit()  # a new checkpoint: stored, then offered to the witnesses
            row = self.cosigned_latest_and_commit(session) or row
        return row

    def due_checkpoint_and_commit(self, session: Session) -> LogCheckpoint:
        """The latest checkpoint, or a new one when the log grew and it is old; offered to
        the witnesses lacking from it (the periodic round)."""
        row = self._if_due(session)
        session.commit()
        if self.witnesses() and not self._cosigned_by_all(row):
            row = self.cosigned_latest_and_commit(session) or row
        return row

    def _cosigned_by_all(self, row: LogCheckpoint) -> bool:
        note = SignedNote.parse(row.signed_note)
        return all(any(w.verifier.matches(s) for s in note.signatures) for w in self.witnesses())

    def copy_proof_and_commit(self, session: Session, index: int) -> bytes:
        """The proof a certified copy carries for its log entry ``index`` (JSON): against
        the checkpoint as the witnesses cosigned it, when witnesses are configured."""
        key = self.log_key()
        proof = copy_log_proof(session=session, index=index, log_key=key, cache=self.cache)
        if self.witnesses():
            session.commit()  # the checkpoint is stored before a witness sees it
            cosigned = self.cosigned_latest_and_commit(session)
            proof = copy_log_proof(
                session=session, index=index, log_key=key, cache=self.cache, checkpoint=cosigned
            )
        return proof.to_json().encode("utf-8")
