"""The log-proof maker the copy routes hand to services.

Appending to the transparency log is not the routes' business: the vault services append
every event themselves (:mod:`vault.log.access_log`, intake, status changes); the proofs are
:class:`vault.log.publishing.LogPublisher`'s.
"""

from __future__ import annotations

from api.checkpoints import publisher
from api.context import ApiContext
from vault.services.copies import LogProofMaker

__all__ = ["copy_proof_maker"]


def copy_proof_maker(ctx: ApiContext) -> LogProofMaker:
    """Proofs for certified copies: the entry and its inclusion proof against a checkpoint.

    With witnesses configured, the checkpoint covering the entry is offered to them first,
    and the proof is against the checkpoint as they cosigned it (the newest stored one).
    """
    return publisher(ctx).copy_proof_and_commit
