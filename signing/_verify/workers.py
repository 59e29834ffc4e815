"""Worker processes for :class:`signing.verify.Verifier`: a verification that passes its
time bound is stopped by killing its process, not left running in a thread.

A :class:`WorkerPool` keeps up to ``max_workers`` processes. Each serves one verification
at a time over a socket pair and keeps, per trust bundle, an
:class:`~signing._verify.engine.Engine` with its caches, so the common case costs one round
trip of the PDF's bytes and the report. Workers are started on demand (each start imports
pyHanko: about a second) and reused; a worker whose verification passes its deadline is
killed (SIGKILL) and reaped at once, and the next call starts a fresh one. A worker that
dies by itself (a crash, the OOM killer) is reported as such and replaced the same way.

Workers are plain ``subprocess`` children running this module's :func:`_main`, not
``multiprocessing`` processes: a spawn or forkserver child re-imports the parent's
``__main__`` script (so a caller's script without an ``if __name__ == "__main__"`` guard
would run again in every worker), multiprocessing's forkserver state is not reset in a
forked child (the bulk import forks), and a daemonic process may not start one. Each
worker also sets its own CPU-time limit per task (``RLIMIT_CPU``), so a runaway ends even
if its parent was killed before it could kill the worker. A worker ends when its socket
closes (its parent ended); the pools of a process end their workers at its exit.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

from signing._verify.limits import how_it_ended, kill_and_reap, limit_cpu, no_core_dumps

if TYPE_CHECKING:  # pragma: no cover
    import datetime as dt

    from schemas.report import VerificationReport
    from signing.trust import TrustBundle

__all__ = ["TaskFailed", "WorkerBusy", "WorkerLost", "WorkerPool", "WorkerTimeout"]

#: Trust bundles (engines with their caches) a worker keeps.
_ENGINES_PER_WORKER = 8
#: CPU seconds a worker may use per task beyond the caller's time bound.
_CPU_SLACK = 5
#: Seconds a new worker may take to say it is ready.
_START_TIMEOUT = 60.0
#: The worker's first lines: take the parent's import path, then run :func:`_main`.
_BOOT = (
    "import sys; from multiprocessing.connection import Connection; "
    "conn = Connection(int(sys.argv[1])); sys.path[:] = conn.recv(); "
    "from signing._verify.workers import _main; _main(conn)"
)


# What a worker sends back: plain bytes (a tag and the report as JSON), never a pickle, so
# a worker that a hostile file took over cannot make its parent run anything.
_READY = b"ready"
_REPORT = b"K"
_FAILED = b"E"


def _parse_report(reply: bytes) -> VerificationReport:
    from pydantic import ValidationError

    from schemas.report import VerificationReport

    if not reply.startswith(_REPORT):
        raise WorkerLost("the verification worker sent an unreadable answer")
    try:
        return VerificationReport.model_validate_json(reply[len(_REPORT) :])
    except ValidationError:
        raise WorkerLost("the verification worker sent an unreadable answer") from None


class WorkerTimeout(Exception):
    """The verification passed its deadline; its worker was killed."""


class WorkerBusy(Exception):
    """No worker became free before the deadline."""


class WorkerLost(Exception):
    """The worker ended while verifying (crash, out of memory, killed from outside)."""


class TaskFailed(Exception):
    """The verification raised inside the worker (a bug, not a verdict)."""


def default_size() -> int:
    """Workers per pool: the cores, at least 2, at most 8."""
    return max(2, min(8, os.cpu_count() or 2))


# -- the worker side ---------------------------------------------------------------------------
def _bundle_fields(trust: TrustBundle | None) -> dict[str, Any] | None:
    """Every field of ``trust`` the worker rebuilds it from (all but its parse cache): a
    list written out by hand left the pinned OFD vault seals behind, so every OFD certified
    copy failed in a worker process and passed in a thread (red team 11, r11-12)."""
    if trust is None:
        return None
    return {
        f.name: getattr(trust, f.name)
        for f in dataclasses.fields(trust)
        if f.init and not f.name.startswith("_")
    }


def _main(conn: Connection) -> None:
    """A worker's life (after :data:`_BOOT` took the parent's import path): run the
    initializer, say ready, then answer verification requests until the socket closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    no_core_dumps()
    try:
        initializer = conn.recv()
    except (EOFError, OSError):
        return
    if initializer is not None:
        initializer()
    from signing._verify.engine import Engine, keep_loggers_quiet
    from signing.trust import TrustBundle

    keep_loggers_quiet()  # this process only verifies
    conn.send_bytes(_READY)
    engines: OrderedDict[str, Engine] = OrderedDict()
    while True:
        try:
            fingerprint, fields, data, at, file_name, budget = conn.recv()
        except (EOFError, OSError):
            return  # the parent closed the socket or is gone
        limit_cpu(budget + _CPU_SLACK)
        try:
            engine = engines.get(fingerprint)
            if engine is None:
                trust = None
                if fields is not None:
                    trust = TrustBundle(**fields)
                engine = engines[fingerprint] = Engine(trust)
                while len(engines) > _ENGINES_PER_WORKER:
                    engines.popitem(last=False)
            engines.move_to_end(fingerprint)
            reply = _REPORT + engine.run(data, at, file_name).model_dump_json().encode()
        except BaseException as exc:  # reported to the caller, the worker lives on
            reply = _FAILED + f"{type(exc).__name__}: {str(exc)[:300]}".encode()
        try:
            conn.send_bytes(reply)
        except (OSError, EOFError):
            return


# -- the parent side ---------------------------------------------------------------------------
@dataclass(eq=False)
class _Worker:
    process: subprocess.Popen[bytes]
    conn: Connection

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """Stop the process now and reap it: nothing of it keeps running."""
        kill_and_reap(self.process, self.conn)

    def how_it_ended(self) -> str:
        return how_it_ended(self.process, "the verification worker")


@dataclass(eq=False)
class _State:
    idle: list[_Worker] = field(default_factory=list)
    busy: set[_Worker] = field(default_factory=set)
    starting: int = 0
    cond: threading.Condition = field(default_factory=threading.Condition)


class WorkerPool:
    """Up to ``max_workers`` verification processes, started on demand and reused.

    ``initializer`` (a module-level callable) runs once in each new worker, before its
    first verification. Thread-safe; safe across ``os.fork`` (a forked child starts with an
    empty pool of its own).
    """

    def __init__(
        self,
        max_workers: int | None = None,
        *,
        initializer: Callable[[], None] | None = None,
    ) -> None:
        if max_workers is not None and max_workers < 1:
            raise ValueError("max_workers must be at least 1")
        self.max_workers = max_workers or default_size()
        self._initializer = initializer
        self._state = _State()
        _POOLS.add(self)

    # -- public ---------------------------------------------------------------------------
    def verify(
        self,
        trust: TrustBundle | None,
        data: bytes,
        at: dt.datetime | None,
        file_name: str | None,
        *,
        deadline: float,
    ) -> VerificationReport:
        """Verify in a worker; raise WorkerTimeout / WorkerBusy / WorkerLost / TaskFailed.

        ``deadline`` is a :func:`time.monotonic` value covering the wait for a free worker
        and the verification itself.
        """
        worker = self._acquire(deadline)
        keep = False
        try:
            fingerprint = trust.fingerprint if trust is not None else ""
            budget = deadline - time.monotonic()
            if budget <= 0:  # the wait used it all: the worker stays as it is
                keep = True
                raise WorkerTimeout()
            try:
                worker.conn.send((fingerprint, _bundle_fields(trust), data, at, file_name, budget))
                if not worker.conn.poll(max(0.0, deadline - time.monotonic())):
                    raise WorkerTimeout()
                reply = worker.conn.recv_bytes()
            except (EOFError, OSError) as exc:
                raise WorkerLost(worker.how_it_ended()) from exc
            if reply.startswith(_FAILED):
                keep = True
                raise TaskFailed(reply[len(_FAILED) :].decode("utf-8", "replace"))
            report = _parse_report(reply)
            keep = True
            return report
        finally:
            self._release(worker, keep=keep)

    def prestart(self, count: int = 1) -> int:
        """Start workers now, idle, until ``count`` exist (at most ``max_workers``).

        A worker takes about a second to start (a new interpreter importing the
        verifier); starting one ahead spares the first verification that wait. Returns
        how many were started.
        """
        state = self._state
        started = 0
        while True:
            with state.cond:
                live = len(state.idle) + len(state.busy) + state.starting
                if live >= min(count, self.max_workers):
                    return started
                state.starting += 1
            worker = self._start_reserved()
            with state.cond:
                state.idle.append(worker)
                state.cond.notify()
            started += 1

    def pids(self) -> list[int]:
        """Process ids of the live workers (idle or busy)."""
        with self._state.cond:
            workers = [*self._state.idle, *self._state.busy]
        return [w.pid for w in workers]

    def close(self) -> None:
        """Kill every worker; later calls start new ones."""
        state = self._state
        with state.cond:
            workers = [*state.idle, *state.busy]
            state.idle.clear()
            state.busy.clear()
            state.cond.notify_all()
        for worker in workers:
            worker.kill()

    # -- internals ------------------------------------------------------------------------
    def _acquire(self, deadline: float) -> _Worker:
        state = self._state
        with state.cond:
            while True:
                if state.idle:
                    worker = state.idle.pop()
                    state.busy.add(worker)
                    return worker
                if len(state.busy) + state.starting < self.max_workers:
                    state.starting += 1
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise WorkerBusy()
                state.cond.wait(remaining)
        worker = self._start_reserved()
        with state.cond:
            state.busy.add(worker)
        return worker

    def _start_reserved(self) -> _Worker:
        """:meth:`_start` a worker whose place the caller reserved (``starting`` + 1)."""
        try:
            return self._start()
        finally:
            with self._state.cond:
                self._state.starting -= 1
                self._state.cond.notify()

    def _start(self) -> _Worker:
        """Start a worker and wait until it has imported the verifier."""
        if not sys.executable:
            raise OSError("no Python interpreter to run a worker (sys.executable is empty)")
        ours, theirs = socket.socketpair()
        try:
            process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                [sys.executable, "-c", _BOOT, str(theirs.fileno())],
                pass_fds=[theirs.fileno()],
                stdin=subprocess.DEVNULL,
                close_fds=True,
            )
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        worker = _Worker(process, Connection(ours.detach()))
        try:
            worker.conn.send(list(sys.path))
            worker.conn.send(self._initializer)
            if not worker.conn.poll(_START_TIMEOUT) or worker.conn.recv_bytes() != _READY:
                raise OSError("the verification worker did not start")
        except (EOFError, OSError) as exc:
            ended = worker.how_it_ended()
            worker.kill()
            raise OSError(ended) from exc
        return worker

    def _release(self, worker: _Worker, *, keep: bool) -> None:
        state = self._state
        with state.cond:
            known = worker in state.busy
            state.busy.discard(worker)
            if keep and known and worker.alive():
                state.idle.append(worker)
                state.cond.notify()
                return
            state.cond.notify()
        worker.kill()

    def _forget_after_fork(self) -> None:
        """In a forked child: the workers and pipes are the parent's; start afresh."""
        for worker in [*self._state.idle, *self._state.busy]:
            with contextlib.suppress(OSError):
                worker.conn.close()  # our copy of the descriptor only
        self._state = _State()


_POOLS: weakref.WeakSet[WorkerPool] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for pool in list(_POOLS):
        pool._forget_after_fork()


def _close_all() -> None:
    """At exit: end and reap every worker (their CPU time is then counted as ours)."""
    for pool in list(_POOLS):
        pool.close()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
atexit.register(_close_all)
