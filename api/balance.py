"""An even split of connections over ``evault serve``'s workers sharing one listening socket.

Every worker watches the shared socket, but accepts only while it holds no more open
connections than any other serving worker. The counts are a small array in shared memory
(:class:`Board`): one slot per worker, written only by that worker (the supervisor writes
a slot only once its worker is dead); a slot holds -1 while no worker serves in it (not
started yet, stopping, or dead), and such a slot does not count. A worker that holds more
than another stops watching the socket, and looks again every ``tick`` (10 ms) and at once
when one of its own connections closes.

Why it is even: a worker accepts only when its count is the smallest, so right after it
accepts its count is at most the smallest plus one; counts only grow by accepting, and the
smallest never falls but by a close. So connections that stay open (wrk's, a load
balancer's pool, keep-alive clients) end up split as evenly as they can be: 8 over 2
workers 4 and 4, every time. Without the rule each event loop that wakes accepts all it
can, and a few persistent connections split by chance (50/50 to 82/18 measured).

A worker that is alive but does not accept (its event loop blocked) would hold the others
back: a worker that may not accept, but finds a connection waiting at every tick for
``grace`` seconds (0.5 s), accepts one anyway. Counts are of this worker's own
connections: a crashed worker's are dropped with its slot.
"""

from __future__ import annotations

import asyncio
import ctypes
import errno
import logging
import select
import socket
from collections.abc import Callable
from multiprocessing.context import SpawnContext
from typing import Any

__all__ = ["Acceptor", "Board", "counted_protocol"]

logger = logging.getLogger("uvicorn.error")

#: accept() errors that say "not now" (out of descriptors or memory): wait a tick, retry.
_RESOURCE_ERRORS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})


class Board:
    """Open connections per worker slot, in shared memory; -1: no worker serving there.

    Made by the supervisor and handed to each worker process when it is started (spawn).
    Each slot has one writer at a time, and a read of another's slot needs no lock (an
    aligned machine word): a stale read only delays an accept by a tick.
    """

    def __init__(self, context: SpawnContext, slots: int) -> None:
        self._counts: Any = context.RawArray(ctypes.c_long, [-1] * slots)

    @property
    def slots(self) -> int:
        return len(self._counts)

    def counts(self) -> list[int]:
        """Every slot's count (-1: nobody serving there)."""
        return list(self._counts)

    def join(self, slot: int) -> None:
        """The worker in ``slot`` starts serving, with no connection yet."""
        self._counts[slot] = 0

    def leave(self, slot: int) -> None:
        """No worker serves in ``slot`` (stopping, or dead): it no longer counts."""
        self._counts[slot] = -1

    def add(self, slot: int, delta: int) -> None:
        self._counts[slot] += delta

    def may_accept(self, slot: int) -> bool:
        """Whether ``slot`` holds no more connections than any other serving slot."""
        mine = self._counts[slot]
        return all(mine <= other for other in self._counts if other >= 0)


def counted_protocol(
    base: type[asyncio.Protocol], on_close: Callable[[], None]
) -> type[asyncio.Protocol]:
    """``base`` (uvicorn's HTTP protocol) calling ``on_close`` once its connection is lost."""

    def connection_lost(self: asyncio.Protocol, exc: Exception | None) -> None:
        try:
            base.connection_lost(self, exc)
        finally:
            on_close()

    return type(f"Counted{base.__name__}", (base,), {"connection_lost": connection_lost})


class Acceptor:
    """Accepts connections on ``sock`` for one worker and hands them to ``protocol``.

    With a ``board``, only while :meth:`Board.may_accept` says so (see the module's
    docstring); without one, whenever a connection waits (a socket of its own, or the
    shared socket unbalanced). ``protocol`` must call :meth:`closed` when a connection
    it was given ends (:func:`counted_protocol`).
    """

    def __init__(
        self,
        sock: socket.socket,
        protocol: Callable[[], asyncio.Protocol],
        *,
        board: Board | None = None,
        slot: int = 0,
        tick: float = 0.01,
        grace: float = 0.5,
    ) -> None:
        self.sock = sock
        self.protocol = protocol
        self.board = board
        self.slot = slot
        self.tick = tick
        self.grace = grace
        self.accepted = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._watching = False
        self._timer: asyncio.TimerHandle | None = None
        self._waited = 0.0
        self._handing: set[asyncio.Task[Any]] = set()

    def start(self) -> None:
        """Start accepting (in the running event loop)."""
        self._loop = asyncio.get_running_loop()
        self.sock.setblocking(False)
        if self.board is not None:
            self.board.join(self.slot)
        self._watch()

    def stop(self) -> None:
        """Accept no more; the slot stops counting (open connections are the server's)."""
        self._unwatch()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.board is not None:
            self.board.leave(self.slot)
        self._loop = None

    def closed(self) -> None:
        """One of this worker's connections ended."""
        if self.board is None or self._loop is None:
            return
        self.board.add(self.slot, -1)
        if not self._watching and self.board.may_accept(self.slot):
            self._watch()

    def _may_accept(self) -> bool:
        return self.board is None or self.board.may_accept(self.slot)

    def _watch(self) -> None:
        assert self._loop is not None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._watching:
            self._loop.add_reader(self.sock.fileno(), self._readable)
            self._watching = True

    def _unwatch(self) -> None:
        if self._watching and self._loop is not None:
            self._loop.remove_reader(self.sock.fileno())
        self._watching = False

    def _wait_a_tick(self) -> None:
        """Stop watching the socket; look again in a tick."""
        assert self._loop is not None
        self._unwatch()
        if self._timer is None:
            self._timer = self._loop.call_later(self.tick, self._look_again)

    def _readable(self) -> None:
        while self._may_accept():
            if not self._accept_one():
                return
        self._wait_a_tick()

    def _look_again(self) -> None:
        self._timer = None
        if self._may_accept():
            self._waited = 0.0
            self._watch()
            return
        if self._waiting():
            self._waited += self.tick
            if self._waited >= self.grace:  # the workers that may accept do not
                self._waited = 0.0
                self._accept_one()
        else:
            self._waited = 0.0
        self._wait_a_tick()

    def _waiting(self) -> bool:
        """Whether a connection waits on the socket to be accepted."""
        poller = select.poll()  # not select(): any descriptor number
        poller.register(self.sock.fileno(), select.POLLIN)
        return bool(poller.poll(0))

    def _accept_one(self) -> bool:
        """Accept one connection and hand it over; False when none waits (or cannot be)."""
        try:
            conn, _ = self.sock.accept()
        except BlockingIOError:
            return False  # another worker took it
        except OSError as exc:
            if exc.errno == errno.ECONNABORTED:
                return True  # the client gave up while it waited: try the next
            if exc.errno in _RESOURCE_ERRORS:
                logger.error("cannot accept a connection now: %s", exc)
                self._wait_a_tick()
                return False
            raise
        self.accepted += 1
        if self.board is not None:
            self.board.add(self.slot, 1)
        self._hand_over(conn)
        return True

    def _hand_over(self, conn: socket.socket) -> None:
        assert self._loop is not None
        conn.setblocking(False)
        if conn.family in (socket.AF_INET, socket.AF_INET6):
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        task = self._loop.create_task(self._loop.connect_accepted_socket(self.protocol, conn))
        self._handing.add(task)

        def handed(done: asyncio.Task[Any]) -> None:
            self._handing.discard(done)
            failed = done.cancelled() or done.exception() is not None
            if failed:  # the protocol never started: its close will not be counted
                if not done.cancelled():
                    logger.warning("a connection could not be served: %r", done.exception())
                conn.close()
                self.closed()

        task.add_done_callback(handed)
