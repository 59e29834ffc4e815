"""The verifier's helper processes (the verification workers,
:mod:`signing._verify.workers`; pdfium's helper, :mod:`signing._verify.render_process`): the
limits each sets on itself, and how its parent ends it and tells how it ended."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextvars import ContextVar
from multiprocessing.connection import Connection

__all__ = [
    "RENDERING_SECONDS",
    "WALL_FACTOR",
    "CpuMeter",
    "FileBudget",
    "cpu_seconds",
    "file_budget",
    "how_it_ended",
    "kill_and_reap",
    "limit_cpu",
    "limit_memory",
    "no_core_dumps",
    "rendering_budget",
]


#: A helper process's run may take this many times its CPU bound in wall time (a busy
#: machine) before it is killed all the same.
WALL_FACTOR = 4

#: CPU seconds of rendering one verification may use, all its renderers' processes and all
#: its signatures together (:mod:`signing._verify.visual`).
RENDERING_SECONDS = 1.5


class FileBudget:
    """The rendering CPU time left to one verification. Red team pdf14, p14-02: given to
    each signature's comparison, seven signatures and one heavy annotation cost seven
    bounds (11.6 s). Shared by every comparison and blank-corner check made inside
    :func:`rendering_budget`; once spent, each later one fails closed without rendering."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.left = timeout


_SHARED: ContextVar[FileBudget | None] = ContextVar("evault_rendering_budget", default=None)


@contextlib.contextmanager
def rendering_budget(timeout: float = RENDERING_SECONDS) -> Iterator[FileBudget]:
    """Inside, the page comparisons and blank checks of :mod:`signing._verify.visual` share
    one budget of ``timeout`` CPU seconds (their own ``timeout`` is then not used), whatever
    the number of signatures. Each call keeps its own wall-clock bound, within what is left."""
    budget = FileBudget(timeout)
    token = _SHARED.set(budget)
    try:
        yield budget
    finally:
        _SHARED.reset(token)


def file_budget() -> FileBudget | None:
    """The budget of the :func:`rendering_budget` this runs in, if any."""
    return _SHARED.get()


def cpu_seconds(pid: int) -> float | None:
    """CPU time (user and system) process ``pid`` has used, from ``/proc`` (Linux); None
    where it cannot be read."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
        fields = stat[stat.rindex(b")") + 2 :].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


class CpuMeter:
    """The CPU time a single-threaded process spends from now on, from above: its CPU
    time at the last :meth:`sample` (plus one clock tick, which ``/proc`` rounds down to),
    plus the wall time since. Where ``/proc`` cannot be read, or before the first sample,
    that is the wall time alone."""

    def __init__(self, pid: int, *, fresh: bool = False) -> None:
        self.pid = pid
        self._base = 0.0 if fresh else cpu_seconds(pid)
        self._cpu = 0.0
        self.started = self._sampled = time.monotonic()

    def sample(self) -> float:
        """Sample the process now; what it used so far."""
        now = time.monotonic()
        cpu = cpu_seconds(self.pid) if self._base is not None else None
        if cpu is not None and self._base is not None:
            tick = 1 / os.sysconf("SC_CLK_TCK")
            self._cpu, self._sampled = max(0.0, cpu - self._base) + tick, now
        return self.used(now)

    def used(self, now: float | None = None) -> float:
        """What the process used at most: CPU time sampled, wall time after that."""
        return self._cpu + ((time.monotonic() if now is None else now) - self._sampled)

    def elapsed(self) -> float:
        """Wall time since the meter started."""
        return time.monotonic() - self.started


def kill_and_reap(process: subprocess.Popen[bytes], conn: Connection) -> None:
    """Stop ``process`` now and reap it (nothing of it keeps running); close ``conn``."""
    with contextlib.suppress(OSError):
        if process.poll() is None:
            process.kill()
    with contextlib.suppress(subprocess.TimeoutExpired, OSError):
        process.wait(5)
    conn.close()


def how_it_ended(process: subprocess.Popen[bytes], what: str) -> str:
    """A sentence saying how ``process`` (called ``what``) ended, once it stopped
    answering."""
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(1)
    code = process.returncode
    if code is None:
        return f"{what} stopped answering"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"{what} was ended by {name}"
    return f"{what} exited with status {code}"


def no_core_dumps() -> None:
    """A worker process holds licenses (personal data): SIGXCPU must not leave a core file."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not POSIX
        return
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_CORE, (0, resource.getrlimit(resource.RLIMIT_CORE)[1]))


def limit_cpu(seconds: float) -> None:
    """Let this process use at most ``seconds`` more CPU time (then SIGXCPU ends it)."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not POSIX
        return
    used = resource.getrusage(resource.RUSAGE_SELF)
    spent = used.ru_utime + used.ru_stime
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = int(spent + seconds) + 1
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def limit_memory(size: int) -> None:
    """Let this process's data (heap and private mappings) grow to ``size`` bytes at most
    (``RLIMIT_DATA``): past it allocations fail, and a C library that cannot recover
    aborts the process."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not POSIX
        return
    _, hard = resource.getrlimit(resource.RLIMIT_DATA)
    soft = size if hard == resource.RLIM_INFINITY else min(size, hard)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_DATA, (soft, hard))
