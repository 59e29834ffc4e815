"""pdfium's work in a process of its own, so that a time bound can stop it (red team pdf12,
p12-05).

pdfium (through ``pypdfium2``) is a library in the calling process, and nothing stops a C
call: a page whose Form XObjects fan out 10 ways 7 levels deep took 75 s of CPU inside
``FPDF_LoadPage``/``FPDF_RenderPageBitmap``, and a verification that timed out in a thread
left that thread drawing on, holding the process's pdfium lock. Here each pdfium job runs in
one helper process per calling process, started on first use (about 60 ms: an interpreter
importing pypdfium2 and Pillow) and reused; the caller waits for its answer at most the
job's time bound, then kills the helper (SIGKILL, reaped at once), and the next job starts a
new one. The helper also limits its own CPU time per job (``RLIMIT_CPU``), so it ends even
if its parent was killed first, and its memory (``RLIMIT_DATA``: pdfium aborts past it, a
failed comparison), and it ends when its socket closes.

A job is a module-level function named ``"module:function"``, called in the helper as
``function(*args, seconds)``; it returns bytes. The helper answers with plain bytes, never a
pickle: a helper that a hostile file took over cannot make its parent run anything.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import os
import signal
import socket
import subprocess
import sys
import threading
from multiprocessing.connection import Connection
from typing import Any

from signing._verify.limits import (
    WALL_FACTOR,
    CpuMeter,
    how_it_ended,
    kill_and_reap,
    limit_cpu,
    limit_memory,
    no_core_dumps,
)

__all__ = ["RenderBusy", "RenderFailed", "RenderTimeout", "call"]

#: Seconds a new helper may take to say it is ready (not charged to any job's bound).
_START_TIMEOUT = 30.0
#: CPU seconds the helper may use per job beyond the job's bound (its parent kills it first).
_CPU_SLACK = 1
#: Bytes of data the helper may hold (red team pdf12, p12-08: a page of 600 MB of path
#: operators took pdfium past 1 GB; a 40-megapixel page, the largest rendered, needs
#: about 300 MB).
_MEMORY = 1 << 30
#: Seconds between two looks at a running job (a cancelled caller stops within that).
_POLL = 0.05
_BOOT = (
    "import sys; from multiprocessing.connection import Connection; "
    "conn = Connection(int(sys.argv[1])); sys.path[:] = conn.recv(); "
    "from signing._verify.render_process import _main; _main(conn)"
)
_READY = b"ready"
_DONE = b"K"
_FAILED = b"E"


class RenderTimeout(Exception):
    """The job passed its time bound; the helper was killed."""


class RenderBusy(Exception):
    """Another job of this process held the helper longer than the caller could wait."""


class RenderFailed(Exception):
    """The job raised in the helper, or the helper ended or could not start."""


# -- the helper's side ----------------------------------------------------------------------
def _main(conn: Connection) -> None:
    """The helper's life: import what jobs need, say ready, run jobs until the socket
    closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    no_core_dumps()
    limit_memory(_MEMORY)
    try:
        preload = conn.recv()
    except (EOFError, OSError):
        return
    for name in preload:
        importlib.import_module(name)
    conn.send_bytes(_READY)
    while True:
        try:
            function, args, seconds = conn.recv()
        except (EOFError, OSError):
            return
        limit_cpu(seconds + _CPU_SLACK)
        try:
            module, name = function.split(":")
            reply = _DONE + bytes(getattr(importlib.import_module(module), name)(*args, seconds))
        except BaseException as exc:  # reported to the caller, the helper lives on
            reply = _FAILED + f"{type(exc).__name__}: {str(exc)[:300]}".encode()
        try:
            conn.send_bytes(reply)
        except (OSError, EOFError):
            return


# -- the caller's side ----------------------------------------------------------------------
class _Helper:
    def __init__(self, preload: tuple[str, ...]) -> None:
        if not sys.executable:
            raise RenderFailed("no Python interpreter to run the renderer in")
        ours, theirs = socket.socketpair()
        try:
            self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                [sys.executable, "-c", _BOOT, str(theirs.fileno())],
                pass_fds=[theirs.fileno()],
                stdin=subprocess.DEVNULL,
                close_fds=True,
            )
        except OSError as exc:
            ours.close()
            raise RenderFailed(f"the renderer's process cannot start: {exc}") from None
        finally:
            theirs.close()
        self.conn = Connection(ours.detach())
        try:
            self.conn.send(list(sys.path))
            self.conn.send(list(preload))
            if not self.conn.poll(_START_TIMEOUT) or self.conn.recv_bytes() != _READY:
                raise RenderFailed("the renderer's process did not start")
        except (EOFError, OSError):
            self.kill()
            raise RenderFailed("the renderer's process did not start") from None
        except BaseException:
            self.kill()
            raise

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """Stop the process now and reap it: nothing of it keeps running."""
        kill_and_reap(self.process, self.conn)

    def run(self, function: str, args: tuple[Any, ...], seconds: float, meter: CpuMeter) -> bytes:
        """The job's answer, or RenderTimeout once it used ``seconds`` of CPU, or
        :data:`WALL_FACTOR` times as much wall time (the caller kills)."""
        self.conn.send((function, args, seconds))
        while not self.conn.poll(min(_POLL, max(0.0, seconds - meter.used()))):
            if meter.sample() >= seconds or meter.elapsed() >= WALL_FACTOR * seconds:
                raise RenderTimeout()
        return self.conn.recv_bytes()


_lock = threading.Lock()
_helper: _Helper | None = None


def call(
    function: str,
    args: tuple[Any, ...],
    *,
    seconds: float,
    wait: float,
    preload: tuple[str, ...] = (),
) -> tuple[bytes, float]:
    """Run ``function(*args, seconds)`` in this process's helper: its bytes, and the CPU
    seconds it used (at most; see :class:`CpuMeter`: more than ``seconds`` when the job
    finished just past its bound, which the caller judges).

    ``seconds`` bounds the job's CPU time from the moment the helper has it (its wall time
    to :data:`WALL_FACTOR` times that); ``wait`` bounds the wait for the helper (another
    thread's job, a helper starting), which is not work. Raises
    :class:`RenderTimeout` (the helper was killed), :class:`RenderBusy` or
    :class:`RenderFailed`. Whatever interrupts the caller meanwhile (a timed-out
    verification's exception) kills the helper before it propagates.
    """
    global _helper
    if not _lock.acquire(timeout=max(0.0, wait)):
        raise RenderBusy()
    try:
        if _helper is None or not _helper.alive():
            if _helper is not None:
                _helper.kill()
            _helper = None
            _helper = _Helper(preload)
        helper = _helper
        meter = CpuMeter(helper.process.pid)
        try:
            reply = helper.run(function, args, seconds, meter)
            used = meter.sample()
        except (EOFError, OSError):
            _helper = None
            helper.kill()
            raise RenderFailed(how_it_ended(helper.process, "the renderer's process")) from None
        except BaseException:
            _helper = None
            helper.kill()
            raise
    finally:
        _lock.release()
    if reply.startswith(_FAILED):
        raise RenderFailed(reply[len(_FAILED) :].decode("utf-8", "replace"))
    if not reply.startswith(_DONE):
        raise RenderFailed("the renderer's process sent an unreadable answer")
    return reply[len(_DONE) :], used


def helper_pid() -> int | None:
    """The live helper's process id (for tests), or None."""
    helper = _helper
    return helper.process.pid if helper is not None and helper.alive() else None


def _after_fork_in_child() -> None:
    """In a forked child: the helper and the lock are the parent's; start afresh."""
    global _helper, _lock
    if _helper is not None:
        with contextlib.suppress(OSError):
            _helper.conn.close()  # our copy of the descriptor only
    _helper, _lock = None, threading.Lock()


def _close() -> None:
    """At exit: end and reap the helper."""
    helper = _helper
    if helper is not None:
        helper.kill()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
atexit.register(_close)
