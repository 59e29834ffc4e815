"""Signed checkpoints of the transparency log: on demand, and at least every N seconds.

``GET /v1/log/checkpoint`` signs a fresh checkpoint when the log grew and the latest one is
older than the interval; :func:`run_periodically` (started by the application's lifespan)
does the same in the background, so a checkpoint covers every entry within about one
interval even when nobody asks. With several workers each runs the loop; checkpointing is
serialized in :func:`vault.log.checkpoints.make_checkpoint`, so they cannot conflict.

The work is :class:`vault.log.publishing.LogPublisher`'s (with witnesses configured,
``EVAULT_WITNESSES``, each new checkpoint is offered to them and their cosignatures added);
this module only builds it from the application's context and runs the loop.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

from starlette.concurrency import run_in_threadpool

from api.context import ApiContext
from signing.transparency import LogSigner
from vault.log.checkpoints import LogCheckpoint
from vault.log.proofs import LogTreeCache
from vault.log.publishing import LogPublisher
from vault.log.witnessing import WitnessClient

__all__ = [
    "checkpoint_interval",
    "due_checkpoint",
    "log_cache",
    "log_key",
    "publisher",
    "run_periodically",
    "witnesses",
]

_log = logging.getLogger("evault.checkpoints")


def log_key(ctx: ApiContext) -> LogSigner:
    """The log's signing key, loaded once per application."""
    return ctx.log_key.get()


def log_cache(ctx: ApiContext) -> LogTreeCache:
    """The Merkle tree cache shared by this application's proof and checkpoint calls."""
    return ctx.log_cache


def witnesses(ctx: ApiContext) -> tuple[WitnessClient, ...]:
    """The witnesses of the settings, as clients kept per application (they remember sizes)."""
    return ctx.witnesses.get()


def checkpoint_interval(ctx: ApiContext) -> dt.timedelta:
    return dt.timedelta(seconds=ctx.settings.checkpoint_interval_seconds or 60)


def publisher(ctx: ApiContext) -> LogPublisher:
    """The application's log publisher: its key, tree cache, witnesses and witness lock."""
    return LogPublisher(
        log_key=ctx.log_key.get,
        cache=ctx.log_cache,
        witnesses=ctx.witnesses.get,
        witness_lock=ctx.witness_lock,
        max_age=checkpoint_interval(ctx),
    )


def due_checkpoint(ctx: ApiContext) -> LogCheckpoint:
    """The latest checkpoint, or a new one (committed) when the log grew and it is old."""
    with ctx.sessions() as session:
        return publisher(ctx).due_checkpoint_and_commit(session)


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
