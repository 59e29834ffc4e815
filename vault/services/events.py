"""Events the services emit inside their transaction (e.g. for the transparency log).

A write service accepts ``on_event``: a callable given the session and the event just
before the commit, so whatever it writes (a log leaf) commits or rolls back together with
the change. Payloads never carry a clear holder ID number.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.orm import Session

__all__ = ["EventSink", "VaultEvent"]


@dataclass(frozen=True)
class VaultEvent:
    """Something that changed: ``type`` such as ``license.ingested``, and a JSON payload."""

    type: str
    payload: Mapping[str, Any] = field(default_factory=dict)


class EventSink(Protocol):
    def __call__(self, session: Session, event: VaultEvent) -> None: ...
