"""Swapping some of pyHanko's functions for faster ones with the same results, for the
duration of a block.

The swap is reference-counted: the first block to start installs the replacements, the
last to end restores pyHanko's. Overlapping blocks in threads are therefore safe, and since
a replacement gives what pyHanko's gives, other code running meanwhile is unaffected.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["Swap"]

Replacement = tuple[Any, str, Any]
"""(where, attribute, ours): ``setattr(where, attribute, ours)`` for the block."""


class Swap:
    """The replacements ``swaps()`` lists, installed while :meth:`active` blocks run."""

    def __init__(self, swaps: Callable[[], list[Replacement]]) -> None:
        self._swaps = swaps
        self._lock = threading.Lock()
        self._users = 0
        self._saved: list[Replacement] = []

    @contextmanager
    def active(self) -> Iterator[None]:
        """Use the replacements for the duration of the block."""
        with self._lock:
            if self._users == 0:
                self._saved.clear()
                for where, name, ours in self._swaps():
                    self._saved.append((where, name, where.__dict__[name]))
                    setattr(where, name, ours)
            self._users += 1
        try:
            yield
        finally:
            with self._lock:
                self._users -= 1
                if self._users == 0:
                    for where, name, theirs in reversed(self._saved):
                        setattr(where, name, theirs)
