"""``evault serve``'s worker processes.

A supervisor starts ``--workers`` uvicorn processes, restarts one that dies, and stops them
all on SIGTERM or SIGINT. By default they share one listening socket, opened here, and
split the connections evenly: each worker accepts only while it holds no more open
connections than any other (:mod:`api.balance`), so a handful of persistent connections
(wrk's, a proxy's pool) land 4 and 4 on 2 workers rather than by chance. With
``--reuseport`` every worker binds its own socket to the same address with
``SO_REUSEPORT`` and the kernel spreads new connections over them by a hash of each
connection's addresses and ports (no balancing possible: a connection hashed to a worker
waits for it). ``--no-balance`` shares the socket without the rule: each event loop that
wakes accepts what it can (uvicorn's own workers behave so), for comparison.

The server is uvicorn with ``httptools`` and ``uvloop`` (uvicorn picks both when installed).
``--server granian`` runs granian instead (Rust HTTP, its own worker processes; not a
dependency: install it to try it), for comparison: docs/performance.md.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import multiprocessing
import os
import signal
import socket
import time
from dataclasses import dataclass
from multiprocessing.connection import wait
from multiprocessing.context import SpawnContext
from multiprocessing.process import BaseProcess
from typing import Any

import uvicorn
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.balance import Acceptor, Board, counted_protocol

__all__ = ["WORKER_HEADER", "ServeOptions", "listening_socket", "run_workers"]

#: A worker that dies sooner than this after its start, before it served (balanced mode: before
#: it joined the board), is not restarted (a broken setting).
_MIN_LIFETIME = 5.0
#: The response header naming the worker that answered (``--worker-header``): its slot.
WORKER_HEADER = "x-evault-worker"

logger = logging.getLogger("uvicorn.error")


@dataclass(frozen=True)
class ServeOptions:
    host: str
    port: int
    workers: int
    server: str = "uvicorn"
    #: A socket per worker (SO_REUSEPORT); else the workers share one socket.
    reuseport: bool = False
    #: On a shared socket: a worker accepts only while it holds the fewest connections.
    balance: bool = True
    #: Name the answering worker's slot (0, 1, ...) in each answer's ``X-Evault-Worker``.
    worker_header: bool = False


def listening_socket(host: str, port: int, *, reuseport: bool = True) -> socket.socket:
    """A TCP socket bound to ``host:port`` (with ``SO_REUSEPORT`` unless told), listening."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuseport:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


class _WorkerTag:
    """Adds ``X-Evault-Worker: <slot>`` to every HTTP answer."""

    def __init__(self, app: ASGIApp, slot: int) -> None:
        self.app = app
        self.header = (WORKER_HEADER.encode(), str(slot).encode())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def tagged(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), self.header]}
            await send(message)

        await self.app(scope, receive, tagged)


def _app(slot: int, tag: bool) -> ASGIApp:
    from api.app import create_app

    app: ASGIApp = create_app()
    return _WorkerTag(app, slot) if tag else app


class _Server(uvicorn.Server):
    """uvicorn's server, its connections accepted by an :class:`Acceptor` on ``sock``."""

    def __init__(
        self, config: uvicorn.Config, sock: socket.socket, board: Board | None, slot: int
    ) -> None:
        super().__init__(config)
        self.sock = sock
        self.board = board
        self.slot = slot
        self.acceptor: Acceptor | None = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=[])  # the lifespan; no listening server of its own
        loop = asyncio.get_running_loop()
        counted = counted_protocol(self.config.http_protocol_class, self._closed)

        def protocol() -> asyncio.Protocol:
            return counted(  # type: ignore[call-arg]
                config=self.config,
                server_state=self.server_state,
                app_state=self.lifespan.state,
                _loop=loop,
            )

        self.acceptor = Acceptor(self.sock, protocol, board=self.board, slot=self.slot)
        self.acceptor.start()
        host, port = self.sock.getsockname()[:2]
        how = ", connections balanced" if self.board is not None else ""
        logger.info("worker %d serving on http://%s:%d%s", self.slot, host, port, how)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        if self.acceptor is not None:
            self.acceptor.stop()
        self.sock.close()  # this process's descriptor; the supervisor keeps the socket
        await super().shutdown(sockets=sockets)

    def _closed(self) -> None:
        if self.acceptor is not None:
            self.acceptor.closed()


def _worker(options: ServeOptions, slot: int, sock: socket.socket | None, board: Board) -> None:
    """One worker: uvicorn in factory mode on the shared socket, or on its own."""
    if sock is None:
        sock = listening_socket(options.host, options.port)
    config = uvicorn.Config(
        functools.partial(_app, slot, options.worker_header),
        factory=True,
        access_log=False,
        proxy_headers=True,
        lifespan="on",
        ws="none",
    )
    balanced = options.balance and not options.reuseport
    _Server(config, sock, board if balanced else None, slot).run()


class _Supervisor:
    """Starts the workers, restarts the dead, stops them all on SIGTERM or SIGINT."""

    def __init__(self, options: ServeOptions) -> None:
        self.options = options
        self.context: SpawnContext = multiprocessing.get_context("spawn")
        self.board = Board(self.context, options.workers)
        if options.reuseport:
            # Fail here, in one line, if the address is taken or not ours to bind.
            listening_socket(options.host, options.port).close()
            self.sock: socket.socket | None = None
        else:
            self.sock = listening_socket(options.host, options.port, reuseport=False)
        self.stopping = False
        self.failed = False

    def _start(self, slot: int) -> tuple[BaseProcess, float]:
        process = self.context.Process(
            target=_worker,
            args=(self.options, slot, self.sock, self.board),
            name=f"evault-worker-{slot}",
        )
        process.start()
        return process, time.monotonic()

    def run(self) -> bool:
        """Serve until told to stop; False if a worker died at its start."""

        def stop(_signum: int, _frame: object) -> None:
            self.stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        running = {slot: self._start(slot) for slot in range(self.options.workers)}
        while not self.stopping:
            for slot, (process, since) in list(running.items()):
                if process.is_alive():
                    continue
                served = self.board.counts()[slot] >= 0  # it had joined (balanced mode)
                self.board.leave(slot)  # its connections died with it
                if not served and time.monotonic() - since < _MIN_LIFETIME:
                    self.stopping = self.failed = True  # it cannot start: stop, not loop
                    break
                running[slot] = self._start(slot)
            wait([p.sentinel for p, _ in running.values()], timeout=1.0)
        self._stop_all([p for p, _ in running.values()])
        if self.sock is not None:
            self.sock.close()
        return not self.failed

    @staticmethod
    def _stop_all(processes: list[BaseProcess]) -> None:
        for process in processes:
            if process.pid is not None and process.is_alive():
                os.kill(process.pid, signal.SIGTERM)
        for process in processes:
            process.join(30)
            if process.is_alive():
                process.kill()
                process.join()


def run_workers(options: ServeOptions) -> bool:
    """Run ``options.workers`` worker processes until SIGTERM or SIGINT; restart the dead.

    False when a worker died at its start (a broken setting: its log says why).
    """
    if options.server == "granian":
        _run_granian(options)
        return True
    return _Supervisor(options).run()


def _run_granian(options: ServeOptions) -> None:
    """granian's own supervisor and workers (ASGI, uvloop), for comparison."""
    from granian import Granian  # type: ignore[import-not-found,unused-ignore]

    settings: dict[str, Any] = {
        "address": options.host,
        "port": options.port,
        "interface": "asgi",
        "factory": True,
        "workers": options.workers,
        "loop": "uvloop",
        "log_access": False,
        "respawn_failed_workers": True,
    }
    Granian("api.app:create_app", **settings).serve()
