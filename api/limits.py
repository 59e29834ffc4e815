"""Upload size limit (enforced while the body streams in) and per-client rate limits.

The rate limiter is an in-process token bucket: exact for one worker process. With
``evault serve --workers N`` each worker keeps its own buckets, so a client may reach up to
N times the configured rate; a deployment that needs one global limit puts a shared store
(Redis, or the load balancer's own limiter) in front. Buckets are keyed by the authenticated
principal (department client id or holder blind index) when there is one, else by client IP.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import RateLimited, UploadTooLarge, problem_response

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
    updated: float


class RateLimiter:
    """Token buckets: ``rate_per_minute`` sustained, ``burst`` at once, per key."""

    def __init__(self, *, rate_per_minute: int, burst: int, max_keys: int = 100_000) -> None:
        self.rate = rate_per_minute / 60.0
        self.burst = float(burst)
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._lock = threading.Lock()

    def check(self, key: str, *, now: float | None = None) -> None:
        """Take one token for ``key`` or raise :class:`RateLimited` with the wait."""
        t = time.monotonic() if now is None else now
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
