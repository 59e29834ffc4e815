"""Request ids, structured JSON logs and Prometheus metrics.

Each request gets an id (the caller's ``X-Request-ID`` when it is a sane token, else a new
random one), echoed in the response header and in every problem+json body and log line.
Logs are one JSON object per line on stderr; they carry the route template (``/v1/licenses/{id}``)
rather than the raw path where one is known, the principal's client id or the word ``holder``,
never a holder ID number.

Metrics use a registry per application (tests build many apps). With several worker processes
set ``PROMETHEUS_MULTIPROC_DIR`` to an empty shared directory before starting: ``/metrics``
then aggregates every worker's samples through ``prometheus_client.multiprocess``.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import secrets
import sys
import time
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import problem_response
from api.request_id import current_request_id, request_id_var

__all__ = [
    "JsonFormatter",
    "Metrics",
    "RequestContextMiddleware",
    "configure_logging",
]

_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")
access_log = logging.getLogger("evault.access")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id and extras."""

    _RESERVED = frozenset(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = current_request_id()
        if rid:
            entry["request_id"] = rid
        for key, value in vars(record).items():
            if key not in self._RESERVED and not key.startswith("_"):
                entry[key] = value
        if record.exc_info and record.exc_info[0] is not None:
            entry["error"] = record.exc_info[0].__name__
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(level: str = "INFO") -> None:
    """Send evault's logs as JSON lines to stderr (idempotent)."""
    logger = logging.getLogger("evault")
    if any(isinstance(h.formatter, JsonFormatter) for h in logger.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False


class Metrics:
    """The application's Prometheus collectors, in a registry of its own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "evault_http_requests_total",
            "HTTP requests by method, route template and status",
            ("method", "route", "status"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "evault_http_request_duration_seconds",
            "HTTP request latency by route template",
            ("method", "route"),
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
        )
        self.copies = Counter(
            "evault_copies_total", "certified copies served", ("reused",), registry=self.registry
        )

    def render(self) -> tuple[bytes, str]:
        """The exposition text; aggregated over workers in multi-process mode."""
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            from prometheus_client import multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return generate_latest(registry), CONTENT_TYPE_LATEST
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return str(path) if path else "<unmatched>"


#: On every answer but the stylesheet's: answers carry personal data (licenses, the access
#: log, PDFs) that no browser or proxy may keep, nor read as another type than declared.
_NO_STORE = (b"cache-control", b"no-store")
_NOSNIFF = (b"x-content-type-options", b"nosniff")
_CACHEABLE_PREFIX = "/static/"


def _safety_headers(headers: list[tuple[bytes, bytes]], path: str) -> None:
    """Add ``no-store`` and ``nosniff`` where the answer did not set its own."""
    present = {k.lower() for k, _ in headers}
    if _NOSNIFF[0] not in present:
        headers.append(_NOSNIFF)
    if _NO_STORE[0] not in present and not path.startswith(_CACHEABLE_PREFIX):
        headers.append(_NO_STORE)


class RequestContextMiddleware:
    """Request id, one access-log line and metrics per request; a last-resort 500 problem;
    ``Cache-Control: no-store`` and ``X-Content-Type-Options: nosniff`` on every answer."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = _header(scope, b"x-request-id")
        rid = incoming if incoming and _SANE_ID.match(incoming) else secrets.token_hex(12)
        token = request_id_var.set(rid)
        scope.setdefault("state", {})["request_id"] = rid
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = int(message["status"])
                headers = list(message.get("headers", []))
                if not any(k.lower() == b"x-request-id" for k, _ in headers):
                    headers.append((b"x-request-id", rid.encode()))
                _safety_headers(headers, scope.get("path", ""))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            logging.getLogger("evault.api").error(
                "unhandled %s", type(exc).__name__, exc_info=(type(exc), exc, None)
            )
            if response_started:
                raise
            response = problem_response(
                None,
                status=500,
                slug="internal",
                title="Internal Server Error",
                detail="internal error",
                path=scope.get("path"),
            )
            await response(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = _route_template(scope)
            method = scope.get("method", "?")
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.latency.labels(method, route).observe(elapsed)
            principal = scope.get("state", {}).get("principal_label")
            access_log.info(
                "%s %s %s",
                method,
                route,
                status,
                extra={
                    "method": method,
                    "route": route,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                    "principal": principal,
                },
            )
            request_id_var.reset(token)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            try:
                return str(value.decode("latin-1"))
            except UnicodeDecodeError:  # pragma: no cover - latin-1 always decodes
                return None
    return None
