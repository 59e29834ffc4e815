"""Token buckets shared by every process that uses the vault's database: the store behind
the API's rate limits (``api/limits.py``), one upsert statement per take (atomic on
PostgreSQL and SQLite). On PostgreSQL the buckets are the UNLOGGED ``rate_limit_buckets``
table; with a SQLite database file they live in a SQLite file beside it (not the database
itself, whose write lock a copy holds for a while)."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.schema import CreateTable

from vault.models import RateLimitBucket

__all__ = ["SharedBuckets", "shared_buckets"]


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


class SharedBuckets:
    """Token buckets in a database table (``rate_limit_buckets``), one upsert per take."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        names = ("least", "greatest") if engine.dialect.name == "postgresql" else ("min", "max")
        avail = _AVAIL.format(min=names[0], max=names[1])
        self._take = text(_TAKE.format(avail=avail))

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
        if self.engine.dialect.name == "postgresql":  # one statement, no BEGIN or COMMIT
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                granted, left = c.execute(self._take, params).one()
        else:
            with self.engine.begin() as c:
                granted, left = c.execute(self._take, params).one()
        return int(granted), float(left)


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
