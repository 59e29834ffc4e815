"""Waiting on state instead of on time: poll a condition until it holds, within a bound."""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["wait_until"]


def wait_until(condition: Callable[[], bool], what: str, *, bound: float = 30.0) -> None:
    """Return as soon as ``condition()`` holds; fail the test, naming ``what``, when it does
    not within ``bound`` seconds (a bound for a loaded machine, not an expected delay)."""
    deadline = time.monotonic() + bound
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {bound:g} s waiting for {what}")
        time.sleep(0.02)
