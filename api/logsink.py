"""The transparency-log hooks the routes hand to services (append inside the transaction)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from api.context import ApiContext
from vault import audit_log
from vault.audit_log import append_event, log_sink
from vault.services.copies import LogProofMaker

__all__ = ["append_to_log", "copy_proof_maker", "log_sink"]


def append_to_log(session: Session, event_type: str, payload: dict[str, Any]) -> int | None:
    """A :data:`vault.services.access.LogAppender`: append, return the leaf index."""
    clean = {k: v for k, v in payload.items() if v is not None}
    return append_event(session=session, event_type=event_type, payload=clean).idx


def copy_proof_maker(ctx: ApiContext) -> LogProofMaker:
    """Proofs for certified copies: the entry and its inclusion proof against a checkpoint."""

    def make(session: Session, index: int) -> bytes | None:
        log_key = ctx.extras.get("log_key")
        if log_key is None:
            log_key = ctx.extras["log_key"] = audit_log.load_log_key(ctx.settings)
        cache = ctx.extras.get("log_cache")
        if cache is None:
            cache = ctx.extras["log_cache"] = audit_log.LogTreeCache()
        proof = audit_log.copy_log_proof(session=session, index=index, log_key=log_key, cache=cache)
        return proof.to_json().encode("utf-8")

    return make
