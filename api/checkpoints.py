"""Signed checkpoints of the transparency log: on demand, and at least every N seconds.

``GET /v1/log/checkpoint`` signs a fresh checkpoint when the log grew and the latest one is
older than the interval; :func:`run_periodically` (started by the application's lifespan)
does the same in the background, so a checkpoint covers every entry within about one
interval even when nobody asks. With several workers each runs the loop; checkpointing is
serialized in :func:`vault.audit_log.make_checkpoint`, so they cannot conflict.

With witnesses configured (``EVAULT_WITNESSES``), each new checkpoint is then offered to
them and their cosignatures are added to it (:mod:`vault.witnessing`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from api.context import ApiContext
from signing.transparency import LogSigner
from vault import audit_log
from vault.audit_log import LogCheckpoint
from vault.witnessing import WitnessClient, cosigned_by_all, witness_latest_and_commit

__all__ = [
    "checkpoint_interval",
    "cosigned_latest",
    "due_checkpoint",
    "log_cache",
    "log_key",
    "run_periodically",
    "witnesses",
]

_log = logging.getLogger("evault.checkpoints")


def log_key(ctx: ApiContext) -> LogSigner:
    """The log's signing key, loaded once per application."""
    return ctx.log_key.get()


def log_cache(ctx: ApiContext) -> audit_log.LogTreeCache:
    """The Merkle tree cache shared by this application's proof and checkpoint calls."""
    return ctx.log_cache


def witnesses(ctx: ApiContext) -> tuple[WitnessClient, ...]:
    """The witnesses of the settings, as clients kept per application (they remember sizes)."""
    return ctx.witnesses.get()


def cosigned_latest(ctx: ApiContext, session: Session) -> LogCheckpoint | None:
    """Offer the latest checkpoint to the witnesses lacking from it; it, as stored. Commits.

    The application's requests take turns (one lock per application), so concurrent copies
    share a witness round trip rather than each waiting for one of their own.
    """
    return witness_latest_and_commit(
        session=session, clients=witnesses(ctx), cache=log_cache(ctx), lock=ctx.witness_lock
    )


def checkpoint_interval(ctx: ApiContext) -> dt.timedelta:
    return dt.timedelta(seconds=ctx.settings.checkpoint_interval_seconds or 60)


def due_checkpoint(ctx: ApiContext) -> LogCheckpoint:
    """The latest checkpoint, or a new one (committed) when the log grew and it is old."""
    with ctx.sessions() as session:
        row = audit_log.checkpoint_if_due(
            session=session,
            log_key=log_key(ctx),
            max_age=checkpoint_interval(ctx),
            cache=log_cache(ctx),
        )
        session.commit()
        if witnesses(ctx) and not cosigned_by_all(row, witnesses(ctx)):
            row = cosigned_latest(ctx, session) or row
        return row


async def run_periodically(ctx: ApiContext) -> None:
    """Sign a checkpoint whenever one is due, every interval, until cancelled."""
    seconds = ctx.settings.checkpoint_interval_seconds
    while True:
        await asyncio.sleep(seconds)
        try:
            await run_in_threadpool(due_checkpoint, ctx)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # keep the loop alive; the next round tries again
            _log.warning("periodic checkpoint failed: %s: %s", type(exc).__name__, exc)
