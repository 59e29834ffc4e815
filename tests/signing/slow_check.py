"""A verification step made endless on purpose, to test the time bound.

:func:`make_cms_check_slow` is a worker initializer (``WorkerPool(initializer=...)``) and,
called in this process, a patch for the in-process path: from then on, checking a
signature whose signed bytes contain :data:`MARKER` spins in pure Python for ever (as
pyHanko does on a hostile file), while every other file verifies as usual.
:func:`make_marked_file_kill_its_worker` instead ends the process at once (a crash).
"""

from __future__ import annotations

import os
from typing import Any

__all__ = [
    "MARKER",
    "PAUSE_DIR",
    "exit_at_start",
    "make_cms_check_slow",
    "make_marked_file_kill_its_worker",
    "pause_every_marked_check",
    "pause_first_marked_check",
    "spin",
]

MARKER = b"evault endless check"


def spin() -> None:
    """Burn CPU in Python bytecode, never returning."""
    n = 0
    while True:
        n += 1


def _patch(on_marker: Any) -> None:
    from signing._verify import engine

    original = engine.check_cms

    def check_cms(contents: bytes, signed: bytes, *, subfilter: str | None) -> Any:
        if MARKER in signed:
            on_marker()
        return original(contents, signed, subfilter=subfilter)

    engine.check_cms = check_cms  # type: ignore[assignment]


def make_cms_check_slow() -> None:
    _patch(spin)


def make_marked_file_kill_its_worker() -> None:
    _patch(lambda: os._exit(3))


def exit_at_start() -> None:
    """A worker that cannot start (as when its interpreter cannot import the verifier)."""
    os._exit(7)


#: Environment variable naming the folder where :func:`pause_first_marked_check` parks.
PAUSE_DIR = "EVAULT_TEST_PAUSE_DIR"


def pause_first_marked_check() -> None:
    """The first worker to check a marked file writes its pid to ``$EVAULT_TEST_PAUSE_DIR/
    paused`` and waits there for ever (for a test to kill it mid-verification); later
    checks of it, in any worker, run as usual."""
    _patch(_park_once)


def pause_every_marked_check() -> None:
    """Every worker checking a marked file appends its pid to ``…/paused`` and waits."""
    _patch(_park)


def _park_once() -> None:
    import pathlib

    gate = pathlib.Path(os.environ[PAUSE_DIR]) / "paused"
    try:
        with gate.open("x") as out:
            out.write(str(os.getpid()))
    except FileExistsError:
        return
    _wait_for_ever()


def _park() -> None:
    import pathlib

    with (pathlib.Path(os.environ[PAUSE_DIR]) / "paused").open("a") as out:
        out.write(f"{os.getpid()}\n")
    _wait_for_ever()


def _wait_for_ever() -> None:
    import time

    while True:
        time.sleep(1)
