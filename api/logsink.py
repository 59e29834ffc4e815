"""The log-proof maker the copy routes hand to services.

Appending to the transparency log is not the routes' business: the vault services append
every event themselves (``vault.services.access.record_event``, intake, status changes).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from api.checkpoints import log_cache, log_key
from api.context import ApiContext
from vault import audit_log
from vault.services.copies import LogProofMaker

__all__ = ["copy_proof_maker"]


def copy_proof_maker(ctx: ApiContext) -> LogProofMaker:
    """Proofs for certified copies: the entry and its inclusion proof against a checkpoint."""

    def make(session: Session, index: int) -> bytes | None:
        proof = audit_log.copy_log_proof(
            session=session, index=index, log_key=log_key(ctx), cache=log_cache(ctx)
        )
        return proof.to_json().encode("utf-8")

    return make
