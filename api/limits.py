"""Upload size limit (enforced while the body streams in) and per-client rate limits.

Rate limits are token buckets kept in the database
(:class:`vault.services.rate_limits.SharedBuckets`), so they hold across ``evault serve``'s
workers and across processes and machines sharing the database: on PostgreSQL an UNLOGGED
table, with the embedded SQLite demo a SQLite file beside the database (not the database
itself, whose write lock a copy holds for a while). Each take
is one upsert statement, atomic on both. A worker takes a *lease* of tokens at once and
spends it locally for at most a tenth of a second; tokens it has not spent when the lease
ends are dropped, never given back, so the workers together never exceed the limit (they
may stay a little under it). A lease is sized to the demand (one token first, twice the
last lease when it ran out, half when it ended with tokens left; at most a tenth of a
second's worth of the rate), so a busy client costs a take per lease, not per request.
Without a shared store (an in-memory SQLite database in tests) the buckets are in-process.
Buckets are keyed by the authenticated principal (department client id or holder blind
index) when there is one, else by client IP.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import RateLimited, UploadTooLarge, problem_response
from vault.services.rate_limits import SharedBuckets

__all__ = ["BodyLimitMiddleware", "RateLimiter"]


class BodyLimitMiddleware:
    """Refuse a body over ``limit`` bytes with 413 as soon as it is known to be over.

    A declared ``Content-Length`` over the limit is refused before reading anything; a
    chunked or lying body is counted as it streams and refused at the first byte past the
    limit, so nothing over the limit is ever buffered or spooled.
    """

    def __init__(self, app: ASGIApp, *, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = None
        for key, value in scope.get("headers", []):
            if key.lower() == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = None
        if declared is not None and declared > self.limit:
            await self._refuse(scope, receive, send)
            return
        seen = 0
        response_started = False

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise UploadTooLarge(self.limit)
            return message

        async def watch_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, watch_send)
        except UploadTooLarge:
            if response_started:
                raise
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(
            None,
            status=413,
            slug="too-large",
            title="Content Too Large",
            detail=f"the request body is larger than the limit of {self.limit} bytes",
            path=scope.get("path"),
            headers={"Connection": "close"},
        )
        await response(scope, receive, send)


@dataclass
class _Bucket:
    tokens: float
    updated: float  # a lease's: when it ends
    size: int = 1  # a lease's: how many tokens it asked for


class RateLimiter:
    """Token buckets: ``rate_per_minute`` sustained, ``burst`` at once, per key.

    With ``shared``, the buckets are those of every process using the same store (see the
    module's docstring); without, this process's own.
    """

    def __init__(
        self,
        *,
        rate_per_minute: int,
        burst: int,
        max_keys: int = 100_000,
        shared: SharedBuckets | None = None,
        lease_seconds: float = 0.1,
    ) -> None:
        self.rate = rate_per_minute / 60.0
        self.burst = float(burst)
        self.max_keys = max_keys
        self.shared = shared
        self.lease = max(1, min(burst, int(self.rate * lease_seconds)))
        self.lease_seconds = lease_seconds
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._lock = threading.Lock()

    def check(self, key: str, *, now: float | None = None) -> None:
        """Take one token for ``key`` or raise :class:`RateLimited` with the wait."""
        t = time.monotonic() if now is None else now
        if self._take_leased(key, t):
            return
        if self.shared is None:
            self._take_local(key, t)
            return
        self._lease(key, t)

    async def acquire(self, key: str) -> None:
        """:meth:`check` for the event loop: a take from the shared store runs in a thread."""
        t = time.monotonic()
        if self._take_leased(key, t):
            return
        if self.shared is None:
            self._take_local(key, t)
            return
        await run_in_threadpool(self._lease, key, t)

    def _take_leased(self, key: str, t: float) -> bool:
        """One token of this process's lease for ``key``, if it has one still valid."""
        if self.shared is None:
            return False
        with self._lock:
            lease = self._buckets.get(key)
            if lease is None or lease.tokens < 1.0 or lease.updated <= t:
                return False
            lease.tokens -= 1.0
            return True

    def _lease(self, key: str, t: float) -> None:
        assert self.shared is not None
        with self._lock:
            last = self._buckets.get(key)
        # Sized to the demand: twice the last lease if it ran out, half if it ended with
        # tokens left, so dropped tokens stay below what the client really used.
        size = 1 if last is None else last.size * 2 if last.tokens < 1.0 else last.size // 2
        size = max(1, min(self.lease, size))
        granted, left = self.shared.take(key, size, rate=self.rate, burst=self.burst)
        if granted < 1:
            raise RateLimited((1.0 - left) / self.rate)
        with self._lock:
            # A lease (tokens, end) in place of the bucket: spent here until it ends.
            self._buckets.pop(key, None)
            self._buckets[key] = _Bucket(granted - 1.0, t + self.lease_seconds, size)
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)

    def _take_local(self, key: str, t: float) -> None:
        with self._lock:
            bucket = self._buckets.pop(key, None)
            if bucket is None:
                bucket = _Bucket(self.burst, t)
            bucket.tokens = min(self.burst, bucket.tokens + (t - bucket.updated) * self.rate)
            bucket.updated = t
            self._buckets[key] = bucket
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
            if bucket.tokens < 1.0:
                raise RateLimited((1.0 - bucket.tokens) / self.rate)
            bucket.tokens -= 1.0
