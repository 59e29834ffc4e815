"""Rate limits hold across worker processes: two processes sharing the vault's database
(PostgreSQL, or the SQLite demo's file) together take no more than the bucket holds."""

from __future__ import annotations

import multiprocessing
import uuid
from concurrent.futures import ProcessPoolExecutor

from api.errors import RateLimited
from api.limits import RateLimiter, SharedBuckets, shared_buckets
from vault.db.engine import make_engine

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
    """The real store, counting its takes."""

    takes = 0

    def take(self, key: str, n: int, *, rate: float, burst: float) -> tuple[int, float]:
        self.takes += 1
        return super().take(key, n, rate=rate, burst=burst)


def test_a_lease_is_spent_locally_until_it_ends(db_url: str) -> None:
    engine = make_engine(db_url)
    found = shared_buckets(engine)
    assert found is not None
    store = _Counting(found.engine)
    # 600 a second: a lease is a tenth of a second's worth, 60 tokens.
    limiter = RateLimiter(rate_per_minute=36_000, burst=200, shared=store)
    assert limiter.lease == 60
    key = f"ip:{uuid.uuid4().hex}"
    limiter.check(key, now=0.0)  # takes a lease from the store and spends one token
    granted, left = store.take(key, 200, rate=0.0, burst=200)
    assert (granted, left) == (1, 139.0)  # 200 - 60 - 1: the lease was taken whole
    for _ in range(59):
        limiter.check(key, now=0.05)  # the rest of the lease, without the store
    assert store.takes == 2
    limiter.check(key, now=0.05)  # spent: a new lease (until 0.15)
    limiter.check(key, now=0.10)
    assert store.takes == 3
    limiter.check(key, now=0.20)  # ended with tokens left: they are dropped
    assert store.takes == 4
    engine.dispose()
