"""Rate limits hold across worker processes: two processes sharing the vault's database
(PostgreSQL, or the SQLite demo's file) together take no more than the bucket holds."""

from __future__ import annotations

import multiprocessing
import uuid
from concurrent.futures import ProcessPoolExecutor

from sqlalchemy import Engine

from api.errors import RateLimited
from api.limits import RateLimiter
from vault.db.engine import make_engine
from vault.services.rate_limits import SharedBuckets, shared_buckets

BURST = 10
TRIES = 3 * BURST


def _allowed(url: str, key: str, shared: bool) -> int:
    """In a process of its own: how many of TRIES requests the limiter lets through."""
    engine = make_engine(url)
    store = shared_buckets(engine) if shared else None
    limiter = RateLimiter(rate_per_minute=1, burst=BURST, shared=store)
    allowed = 0
    for _ in range(TRIES):
        try:
            limiter.check(key)
        except RateLimited:
            continue
        allowed += 1
    engine.dispose()
    return allowed


def _two_workers(url: str, *, shared: bool) -> list[int]:
    key = f"department:{uuid.uuid4().hex}"
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(2, mp_context=context) as pool:
        return list(pool.map(_allowed, [url, url], [key, key], [shared, shared]))


def test_two_workers_together_do_not_exceed_the_limit(db_url: str) -> None:
    assert sum(_two_workers(db_url, shared=True)) == BURST
    # Each with buckets of its own (as before), the two let twice the burst through.
    assert _two_workers(db_url, shared=False) == [BURST, BURST]


class _Counting(SharedBuckets):
    """The real store, remembering how many tokens each take asked for."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self.asked: list[int] = []

    def take(self, key: str, n: int, *, rate: float, burst: float) -> tuple[int, float]:
        self.asked.append(n)
        return super().take(key, n, rate=rate, burst=burst)


def test_leases_follow_the_demand_and_end(db_url: str) -> None:
    engine = make_engine(db_url)
    found = shared_buckets(engine)
    assert found is not None
    store = _Counting(found.engine)
    # 600 a second: a lease is at most a tenth of a second's worth, 60 tokens.
    limiter = RateLimiter(rate_per_minute=36_000, burst=400, shared=store)
    assert limiter.lease == 60
    key = f"ip:{uuid.uuid4().hex}"
    for _ in range(121):  # within one lease period: each lease runs out, the next doubles
        limiter.check(key, now=0.0)
    assert store.asked == [1, 2, 4, 8, 16, 32, 60]  # 123 tokens in 7 takes
    limiter.check(key, now=0.05)  # the last lease (until 0.1) still has a token
    assert len(store.asked) == 7
    limiter.check(key, now=0.2)  # it ended with a token left: dropped; the next is halved
    assert store.asked == [1, 2, 4, 8, 16, 32, 60, 30]
    engine.dispose()
