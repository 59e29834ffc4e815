"""The transparency-log hooks the routes hand to services (append inside the transaction)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from vault.audit_log import append_event, log_sink

__all__ = ["append_to_log", "log_sink"]


def append_to_log(session: Session, event_type: str, payload: dict[str, Any]) -> int | None:
    """A :data:`vault.services.access.LogAppender`: append, return the leaf index."""
    clean = {k: v for k, v in payload.items() if v is not None}
    return append_event(session=session, event_type=event_type, payload=clean).idx
