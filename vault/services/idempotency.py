"""Idempotent creating calls: the same ``Idempotency-Key`` and request from the same caller
within :data:`WINDOW` get the first answer again, without acting again.

:func:`run_once` holds a lock on (caller, key) (:func:`vault.db.keylock.key_lock`, on
PostgreSQL and SQLite alike) while it looks for a remembered answer, acts and remembers
the answer: two identical requests at the same instant act once, and the second gets the
first's answer. Only successful answers are remembered (a refusal may be retried, e.g.
after the holder gave consent). The same key with another request is refused
(:class:`IdempotencyKeyReused`). Answers are sealed with the holder-data key: they carry
personal data.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import delete
from sqlalchemy.orm import Session

from vault.crypto import HolderCrypto
from vault.db.base import utcnow
from vault.db.keylock import key_lock
from vault.errors import IdempotencyKeyReused, NotFound, PermissionDenied
from vault.models import IdempotentAnswer

__all__ = ["WINDOW", "Answer", "fingerprint", "run_once"]

#: How long a first answer is given again.
WINDOW = dt.timedelta(hours=24)
_PURPOSE = "idempotent-answer"


@dataclass(frozen=True)
class Answer:
    """An HTTP answer as the API sends it: status and JSON body (``replayed``: given again)."""

    status: int
    body: bytes
    replayed: bool = False


def fingerprint(parts: Iterable[str | bytes]) -> str:
    """SHA-256 over the parts of a request (method, path, body...), each length-prefixed."""
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "big") + data)
    return digest.hexdigest()


def run_once(
    *,
    session: Session,
    crypto: HolderCrypto,
    caller: str,
    key: str,
    request: str,
    act: Callable[[Session], Answer],
    now: dt.datetime | None = None,
) -> Answer:
    """The first answer to (``caller``, ``key``), or ``act``'s, remembered; commits.

    ``request`` is the call's :func:`fingerprint`. ``act`` runs in the session it is given
    (on PostgreSQL a session of the lock's connection). A refusal that records itself
    (:class:`NotFound`, :class:`PermissionDenied`) is committed before it propagates.
    """
    now = now or utcnow()
    with key_lock(session, "idempotency", caller, key) as locked:
        stored = locked.get(IdempotentAnswer, (caller, key))
        if stored is not None and stored.created_at <= now - WINDOW:
            locked.delete(stored)
            locked.flush()
            stored = None
        if stored is not None:
            if stored.fingerprint != request:
                locked.rollback()
                raise IdempotencyKeyReused(
                    "this Idempotency-Key was used for another request in the last 24 hours:"
                    " use a new key for a new request"
                )
            body = crypto.decrypt(stored.body, purpose=_PURPOSE).encode("utf-8")
            locked.commit()
            return Answer(stored.status, body, replayed=True)
        try:
            answer = act(locked)
        except (NotFound, PermissionDenied):
            locked.commit()
            raise
        except BaseException:
            locked.rollback()
            raise
        sealed = crypto.encrypt(answer.body.decode("utf-8"), purpose=_PURPOSE)
        # the caller's answers past the window go (the primary key starts with the caller)
        locked.execute(
            delete(IdempotentAnswer).where(
                IdempotentAnswer.caller == caller, IdempotentAnswer.created_at <= now - WINDOW
            )
        )
        locked.add(
            IdempotentAnswer(
                caller=caller,
                key=key,
                fingerprint=request,
                status=answer.status,
                body=sealed,
                created_at=now,
            )
        )
        locked.commit()
        return answer
