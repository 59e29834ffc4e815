"""The id of the request being handled: set by the request middleware
(:mod:`api.observability`), read by log lines and problem answers (:mod:`api.errors`)."""

from __future__ import annotations

import contextvars

__all__ = ["current_request_id", "request_id_var"]

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "evault_request_id", default=None
)


def current_request_id() -> str | None:
    """The id of the request being handled, if any."""
    return request_id_var.get()
