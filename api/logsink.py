"""The log-proof maker the copy routes hand to services.

Appending to the transparency log is not the routes' business: the vault services append
every event themselves (``vault.services.access.record_event``, intake, status changes).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from api.checkpoints import cosigned_latest, log_cache, log_key, witnesses
from api.context import ApiContext
from vault.log import store as audit_log
from vault.services.copies import LogProofMaker

__all__ = ["copy_proof_maker"]


def copy_proof_maker(ctx: ApiContext) -> LogProofMaker:
    """Proofs for certified copies: the entry and its inclusion proof against a checkpoint.

    With witnesses configured, the checkpoint covering the entry is offered to them first,
    and the proof is against the checkpoint as they cosigned it (the newest stored one).
    """

    def make(session: Session, index: int) -> bytes | None:
        key, cache = log_key(ctx), log_cache(ctx)
        proof = audit_log.copy_log_proof(session=session, index=index, log_key=key, cache=cache)
        if witnesses(ctx):
            session.commit()  # the checkpoint is stored before a witness sees it
            cosigned = cosigned_latest(ctx, session)
            proof = audit_log.copy_log_proof(
                session=session, index=index, log_key=key, cache=cache, checkpoint=cosigned
            )
        return proof.to_json().encode("utf-8")

    return make
