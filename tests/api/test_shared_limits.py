"""Rate limits hold across worker processes: two processes sharing the vault's database
(PostgreSQL, or the SQLite demo's file) together take no more than the bucket holds; the
rows of buckets that have refilled are deleted, those still counting are kept."""

from __future__ import annotations

import multiprocessing
import time
import uuid
from concurrent.futures import ProcessPoolExecutor

from sqlalchemy import Engine, text

from api.errors import RateLimited
from api.limits import RateLimiter
from vault.db.engine import make_engine
from vault.services.rate_limits import SharedBuckets, shared_buckets

BURST = 10
TRIES = 3 * BURST


def _allowed(url: str, key: str, shared: bool, sweep_every: int = 256) -> int:
    """In a process of its own: how many of TRIES requests the limiter lets through."""
    engine = make_engine(url)
    store = shared_buckets(engine) if shared else None
    if store is not None:
        store = SharedBuckets(store.engine, sweep_every=sweep_every)
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


# --- the rows of full buckets are deleted ----------------------------------------------

RATE = 10.0  # tokens a second
FULL = 100.0  # the burst: an empty bucket is full again after 10 s


def _rows(store: SharedBuckets) -> dict[str, tuple[float, float]]:
    with store.engine.connect() as c:
        rows = c.execute(text("SELECT key, tokens, updated FROM rate_limit_buckets"))
        return {key: (tokens, updated) for key, tokens, updated in rows}


def _put(store: SharedBuckets, rows: dict[str, tuple[float, float]]) -> None:
    """Buckets as takes long ago left them: key -> (tokens, when)."""
    with store.engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO rate_limit_buckets (key, tokens, updated, granted) "
                "VALUES (:key, :tokens, :updated, 1)"
            ),
            [{"key": k, "tokens": t, "updated": u} for k, (t, u) in rows.items()],
        )


def _store(db_url: str, **sweep: int) -> SharedBuckets:
    found = shared_buckets(make_engine(db_url))
    assert found is not None
    return SharedBuckets(found.engine, **sweep)


def test_full_buckets_are_deleted_in_bounded_batches_and_live_ones_kept(db_url: str) -> None:
    store = _store(db_url, sweep_batch=3)
    now = time.time()
    _put(
        store,
        {f"ip:gone-{k}": (0.0, now - 3600) for k in range(5)}  # empty an hour ago: full
        | {
            "ip:refilled": (50.0, now - 6.0),  # 50 + 6 s x 10: full again
            "ip:refilling": (0.0, now - 9.0),  # 90 of 100: still counts
            "ip:busy": (99.0, now - 0.05),
        },
    )
    store.take("ip:just-taken", 1, rate=RATE, burst=FULL)
    live = {"ip:refilling", "ip:busy", "ip:just-taken"}
    assert store.sweep(rate=RATE, burst=FULL, now=now) == 3  # at most a batch at once
    assert store.sweep(rate=RATE, burst=FULL, now=now) == 3
    assert store.sweep(rate=RATE, burst=FULL, now=now) == 0
    assert set(_rows(store)) == live
    kept = _rows(store)
    assert kept["ip:refilling"] == (0.0, now - 9.0)  # untouched
    store.engine.dispose()


def test_every_nth_take_sweeps(db_url: str) -> None:
    store = _store(db_url, sweep_every=4)
    _put(store, {"ip:gone": (0.0, time.time() - 3600)})
    for _ in range(3):
        store.take("ip:client", 1, rate=RATE, burst=FULL)
    assert set(_rows(store)) == {"ip:gone", "ip:client"}
    store.take("ip:client", 1, rate=RATE, burst=FULL)  # the 4th
    assert set(_rows(store)) == {"ip:client"}
    store.engine.dispose()


def test_the_limit_holds_across_processes_while_takes_sweep(db_url: str) -> None:
    # The two-process test above, with a sweep on every other take: the bucket being
    # drained is never full, so it is never deleted and the two still take the burst.
    key = f"department:{uuid.uuid4().hex}"
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(2, mp_context=context) as pool:
        allowed = list(pool.map(_allowed, [db_url] * 2, [key] * 2, [True] * 2, [2, 2]))
    assert sum(allowed) == BURST
