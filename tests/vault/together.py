"""Run N calls at the same instant (threads released together by a barrier)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

__all__ = ["run_together"]

T = TypeVar("T")


def run_together(count: int, work: Callable[[int], T]) -> list[T]:
    """``work(0)`` .. ``work(count - 1)``, each in its own thread, all starting at once."""
    barrier = threading.Barrier(count)

    def client(i: int) -> T:
        barrier.wait()
        return work(i)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(client, range(count)))
