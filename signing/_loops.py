"""Running a coroutine to completion from synchronous code, on a reused event loop.

``asyncio.run`` builds a new event loop per call (a selector, a socket pair, a SIGINT
handler installed and removed, whose restoring formats the running task's repr): for a
seal or a verification that takes a few milliseconds, that is a tenth of the cost.
:func:`run` takes an idle loop from a small pool instead and puts it back afterwards.
"""

from __future__ import annotations

import asyncio
import atexit
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["run"]

T = TypeVar("T")

_IDLE_LOOPS = 4
_loops: list[asyncio.AbstractEventLoop] = []
_loops_lock = threading.Lock()


def run(coro: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(coro)`` on an event loop taken from a small pool of idle loops. As
    with ``asyncio.run``, tasks left behind are cancelled; a loop whose run was
    interrupted (an exception, e.g. a verification stopped by its time bound) is closed,
    not reused. Outside a running event loop only (as ``asyncio.run``)."""
    with _loops_lock:
        loop = _loops.pop() if _loops else None
    if loop is None:
        loop = asyncio.new_event_loop()
    try:
        result = loop.run_until_complete(coro)
        _cancel_leftovers(loop)
    except BaseException:
        loop.close()
        raise
    with _loops_lock:
        if len(_loops) < _IDLE_LOOPS:
            _loops.append(loop)
            return result
    loop.close()
    return result


@atexit.register
def _close_idle_loops() -> None:
    with _loops_lock:
        while _loops:
            _loops.pop().close()


def _cancel_leftovers(loop: asyncio.AbstractEventLoop) -> None:
    pending = asyncio.all_tasks(loop)
    if not pending:
        return
    for task in pending:
        task.cancel()
    loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
