"""``evault serve``'s worker processes.

By default uvicorn's own workers, which share one listening socket: the event loop that
wakes first accepts. With ``--reuseport`` every worker binds its own socket to the same
address with ``SO_REUSEPORT`` and the kernel spreads new connections over them by a hash of
each connection's addresses and ports; the supervisor here starts the workers, restarts
one that dies, and stops them all on SIGTERM or SIGINT. Neither spreads a handful of
persistent connections evenly every time (docs/performance.md has the measured splits).

The server is uvicorn with ``httptools`` and ``uvloop`` (uvicorn picks both when installed).
``--server granian`` runs granian instead (Rust HTTP, its own worker processes; not a
dependency: install it to try it), for comparison: docs/performance.md.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
import time
from dataclasses import dataclass
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from typing import Any

__all__ = ["ServeOptions", "listening_socket", "run_workers"]

#: A worker that dies sooner than this after its start is not restarted (a broken setting).
_MIN_LIFETIME = 5.0


@dataclass(frozen=True)
class ServeOptions:
    host: str
    port: int
    workers: int
    server: str = "uvicorn"
    #: A socket per worker (SO_REUSEPORT); else uvicorn's workers share one socket.
    reuseport: bool = False


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` with ``SO_REUSEPORT``, listening."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _worker(options: ServeOptions) -> None:
    """One worker: its own socket, one uvicorn server in factory mode."""
    import uvicorn

    sock = listening_socket(options.host, options.port)
    config = uvicorn.Config(
        "api.app:create_app",
        factory=True,
        access_log=False,
        proxy_headers=True,
        lifespan="on",
    )
    uvicorn.Server(config).run(sockets=[sock])


def _start(context: multiprocessing.context.SpawnContext, options: ServeOptions) -> BaseProcess:
    process = context.Process(target=_worker, args=(options,), name="evault-worker")
    process.start()
    return process


def run_workers(options: ServeOptions) -> None:
    """Run ``options.workers`` worker processes until SIGTERM or SIGINT; restart the dead."""
    if options.server == "granian":
        _run_granian(options)
        return
    if not options.reuseport:
        _run_uvicorn_workers(options)
        return
    # Fail here, in one line, if the address is taken or not ours to bind.
    listening_socket(options.host, options.port).close()
    context = multiprocessing.get_context("spawn")
    stopping = False

    def stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    started = {_start(context, options): time.monotonic() for _ in range(options.workers)}
    while not stopping:
        for process, since in list(started.items()):
            if process.is_alive():
                continue
            del started[process]
            if time.monotonic() - since < _MIN_LIFETIME:
                stopping = True  # it cannot start: stop rather than loop
                break
            started[_start(context, options)] = time.monotonic()
        wait([p.sentinel for p in started], timeout=1.0)
    for process in started:
        if process.pid is not None and process.is_alive():
            os.kill(process.pid, signal.SIGTERM)
    for process in started:
        process.join(30)
        if process.is_alive():
            process.kill()
            process.join()


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


def _run_uvicorn_workers(options: ServeOptions) -> None:
    """uvicorn's own supervisor: its workers share one listening socket."""
    import uvicorn

    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=options.host,
        port=options.port,
        workers=options.workers,
        access_log=False,
        proxy_headers=True,
    )
