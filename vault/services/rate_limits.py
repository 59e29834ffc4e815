"""Token buckets shared by every process that uses the vault's database: the store behind
the API's rate limits (``api/limits.py``), one upsert statement per take (atomic on
PostgreSQL and SQLite). On PostgreSQL the buckets are the UNLOGGED ``rate_limit_buckets``
table; with a SQLite database file they live in a SQLite file beside it (not the database
itself, whose write lock a copy holds for a while).

A full bucket is the same as none (a take of an absent key starts it full), so its row is
deleted: every ``sweep_every`` takes (256) a process deletes up to ``sweep_batch`` rows
(512) of buckets that have refilled to the burst by now, at the rate of the limit it
takes for. The table then holds about the keys seen in the last ``burst / rate`` seconds
(10 s by default), not every client ever seen. Every process on one database is assumed
to apply one limit (the settings'); one with a slower refill would see another's idle
buckets deleted a little early, i.e. refilled.
"""

from __future__ import annotations

import itertools
import logging
import time
from contextlib import AbstractContextManager
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.schema import CreateTable

from vault.models import RateLimitBucket

__all__ = ["SharedBuckets", "shared_buckets"]

logger = logging.getLogger("evault.rate_limits")


#: Refill the bucket to now (``:now`` in Unix seconds), then take ``:n`` tokens, or one,
#: or none; ``granted`` says how many. ``{min}``/``{max}``: the dialect's two-argument
#: least and greatest.
_TAKE = """
INSERT INTO rate_limit_buckets (key, tokens, updated, granted)
VALUES (:key, :burst - :first, :now, :first)
ON CONFLICT (key) DO UPDATE SET
    tokens = {avail} - (CASE WHEN {avail} >= :n THEN :n WHEN {avail} >= 1 THEN 1 ELSE 0 END),
    granted = CASE WHEN {avail} >= :n THEN :n WHEN {avail} >= 1 THEN 1 ELSE 0 END,
    updated = :now
RETURNING granted, tokens
"""
_AVAIL = (
    "{min}(CAST(:burst AS FLOAT), rate_limit_buckets.tokens"
    " + {max}(0.0, :now - rate_limit_buckets.updated) * :rate)"
)


#: Delete up to ``:batch`` buckets that are full at ``:now`` (refilled at ``:rate`` to
#: ``:burst``). ``{lock}``: on PostgreSQL, rows a take is updating are skipped, and a row
#: updated since the statement began is checked again as it is now (``FOR UPDATE``).
_SWEEP = """
DELETE FROM rate_limit_buckets WHERE key IN (
    SELECT key FROM rate_limit_buckets
    WHERE tokens + (:now - updated) * :rate >= :burst
    LIMIT :batch{lock}
)
"""


class SharedBuckets:
    """Token buckets in a database table (``rate_limit_buckets``), one upsert per take;
    the rows of full buckets deleted a batch at a time (:meth:`sweep`)."""

    def __init__(self, engine: Engine, *, sweep_every: int = 256, sweep_batch: int = 512) -> None:
        self.engine = engine
        postgresql = engine.dialect.name == "postgresql"
        names = ("least", "greatest") if postgresql else ("min", "max")
        avail = _AVAIL.format(min=names[0], max=names[1])
        self._take = text(_TAKE.format(avail=avail))
        self._sweep = text(_SWEEP.format(lock=" FOR UPDATE SKIP LOCKED" if postgresql else ""))
        self.sweep_every = sweep_every
        self.sweep_batch = sweep_batch
        self._takes = itertools.count(1)

    def take(self, key: str, n: int, *, rate: float, burst: float) -> tuple[int, float]:
        """Take up to ``n`` tokens of ``key``'s bucket (all ``n``, else one, else none):
        how many were taken and how many are left."""
        params = {
            "key": key,
            "n": n,
            "first": min(n, int(burst)),
            "burst": burst,
            "rate": rate,
            "now": time.time(),
        }
        with self._connect() as c:
            granted, left = c.execute(self._take, params).one()
        if next(self._takes) % self.sweep_every == 0:
            try:
                self.sweep(rate=rate, burst=burst)
            except OperationalError as exc:  # housekeeping: the take stands, the next sweeps
                logger.warning("could not delete full rate-limit buckets: %s", exc.orig)
        return int(granted), float(left)

    def sweep(self, *, rate: float, burst: float, now: float | None = None) -> int:
        """Delete up to ``sweep_batch`` rows of buckets full at ``now`` (refilled at
        ``rate`` per second to ``burst``): how many were deleted."""
        params = {
            "now": time.time() if now is None else now,
            "rate": rate,
            "burst": burst,
            "batch": self.sweep_batch,
        }
        with self._connect() as c:
            return int(c.execute(self._sweep, params).rowcount)

    def _connect(self) -> AbstractContextManager[Connection]:
        """A connection for one statement: no BEGIN or COMMIT on PostgreSQL."""
        if self.engine.dialect.name == "postgresql":
            return self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        return self.engine.begin()


def shared_buckets(engine: Engine) -> SharedBuckets | None:
    """The shared store for the vault's database ``engine``: the table itself on
    PostgreSQL, a SQLite file beside a SQLite database file; ``None`` for an in-memory
    SQLite database (one process: in-process buckets are exact)."""
    if engine.dialect.name == "postgresql":
        return SharedBuckets(engine)
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return None
    if database.startswith("file:"):
        return None
    path = Path(database).with_name(Path(database).name + ".rate-limits")
    own = create_engine(f"sqlite:///{path}", connect_args={"timeout": 30})
    with own.begin() as connection:  # workers start together: IF NOT EXISTS, not a check
        connection.execute(CreateTable(RateLimitBucket.__table__, if_not_exists=True))  # type: ignore[arg-type]
    return SharedBuckets(own)
