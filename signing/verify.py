"""Verify the seals on a PDF or an OFD file into a :class:`schemas.report.VerificationReport`.

The format is told by the file's first bytes: a ZIP (``PK\\x03\\x04``) is read as OFD
(:mod:`signing.ofd`), anything else as PDF.

A bad, broken, or hostile file is a verdict, never an exception: unreadable input is
TOTAL_FAILED/FORMAT_FAILURE with the reason. Verification is offline: certificates and
revocation data come from the file itself and from the pinned :class:`TrustBundle`.

    verifier = Verifier(TrustBundle.load("bundle.json"))   # build once, reuse
    report = verifier.verify(pdf_bytes, file_name="license.pdf")
    report = await verifier.verify_async(pdf_bytes)           # inside an event loop

Each call runs under a hard wall-clock bound (``timeout``): a file that takes longer is
reported INDETERMINATE/GENERIC ("did not finish") and the caller gets its answer on time.

``isolation`` says where the work runs:

* ``"process"`` (the default): in a small pool of reused worker processes
  (:class:`signing._verify.workers.WorkerPool`, shared by the process's verifiers). A
  verification that passes its bound is stopped by killing its worker, which is replaced;
  nothing of it keeps running. A worker that dies during a verification (killed from
  outside, or by the file) is replaced and the verification tried once more within the same
  bound; dying again makes the report INDETERMINATE. Costs one round trip of the bytes and
  the report per call.
* ``"thread"``: in a thread of the calling process, with no round trip (the in-process
  fast path, for callers that are themselves a disposable process). A timed-out
  verification is interrupted by an exception raised in its thread, which stops pure-Python
  work (all of pyHanko's parsing) at its next bytecode but not a long call into C; the
  thread is a daemon and never keeps the process from exiting.
* ``"inline"``: in the calling thread, when it is its process's main thread (elsewhere as
  ``"thread"``), for a process that verifies one file at a time and sets no ``SIGALRM``
  timer of its own (the bulk import's worker processes, ``evault verify``). A timed-out
  verification is interrupted by ``SIGALRM``, with the same reach as ``"thread"``; no thread
  is started per file (a new thread per file cost about 0.5 ms of CPU per license in the
  bulk import, 1.5-1.9 ms per file alone: the verification's working set starts cold).

See docs/verification.md for the report's fields and the indications.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import ctypes
import datetime as dt
import enum
import hashlib
import logging
import signal
import threading
import time
from typing import TYPE_CHECKING, Any

from schemas.report import FileFormat, Indication, SubIndication, VerificationReport
from signing.errors import VerificationError
from signing.formats import detect_format

if TYPE_CHECKING:  # pragma: no cover
    from signing._verify.engine import Engine
    from signing._verify.workers import WorkerPool
    from signing.trust import TrustBundle

__all__ = [
    "DEFAULT_TIMEOUT",
    "MAX_PDF_BYTES",
    "Isolation",
    "Verifier",
    "keep_loggers_quiet",
    "preload",
    "verify_pdf",
    "verify_pdf_async",
]

#: Seconds one verification may take before it is reported as INDETERMINATE.
DEFAULT_TIMEOUT = 20.0
#: Larger inputs are refused as FORMAT_FAILURE without being parsed.
MAX_PDF_BYTES = 256 * 1024 * 1024

_log = logging.getLogger("evault.verify")


class Isolation(enum.StrEnum):
    """Where a :class:`Verifier` runs each verification."""

    PROCESS = "process"
    """In a reused worker process, killed when it passes the time bound (the default)."""
    THREAD = "thread"
    """In a thread of this process, interrupted when it passes the time bound."""
    INLINE = "inline"
    """In the calling thread if it is the process's main thread, interrupted by
    ``SIGALRM`` when it passes the time bound; in a thread of this process otherwise."""


class _Cancelled(BaseException):
    """Raised inside a timed-out in-process verification to stop it (not an Exception, so
    that no ``except Exception`` on the way swallows it)."""


class Verifier:
    """Verifies PDFs against one trust bundle, reusing what repeats across documents.

    Reused across calls: the bundle's parsed roots and trust manager, and parsed
    certificates, CRLs, OCSP responses and validated paths from earlier documents (per
    worker process, or in this process with ``isolation="thread"``). Thread-safe.
    ``pool``: the worker processes to use (default: one pool shared by every verifier of
    this process).
    """

    def __init__(
        self,
        trust: TrustBundle | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        isolation: Isolation | str = Isolation.PROCESS,
        pool: WorkerPool | None = None,
    ):
        if timeout <= 0:
            raise VerificationError("timeout must be positive")
        try:
            mode = Isolation(isolation)
        except ValueError:
            raise VerificationError(
                f"isolation must be one of {', '.join(m.value for m in Isolation)}, "
                f"not {isolation!r}"
            ) from None
        self.trust = trust
        self.timeout = timeout
        self.isolation = mode
        self._pool = pool
        self._engine: Engine | None = None
        if mode is not Isolation.PROCESS:
            from signing._verify.engine import Engine

            self._engine = Engine(trust)

    # -- public API -------------------------------------------------------------------

    def prestart(self) -> None:
        """Start a worker process now (``isolation="process"``), so that the first
        verification does not wait for one; nothing for ``isolation="thread"``."""
        if self.isolation is Isolation.PROCESS:
            (self._pool or _shared_pool()).prestart()

    def verify(
        self, data: bytes, *, at: dt.datetime | None = None, file_name: str | None = None
    ) -> VerificationReport:
        """Verify ``data`` (the whole PDF or OFD file) as of ``at`` (default: now). Never
        raises on bad input; raises :class:`VerificationError` for bad arguments, or when no worker
        process can be started."""
        at = _check_args(data, at)
        early = _precheck(data, at, file_name)
        if early is not None:
            return early
        if self._engine is None:
            return self._in_worker(bytes(data), at, file_name)
        if self.isolation is Isolation.INLINE and _in_main_thread():
            return self._inline(self._engine, bytes(data), at, file_name)
        call = _ThreadCall(self._engine, bytes(data), at, file_name)
        try:
            return call.future.result(timeout=self.timeout)
        except concurrent.futures.TimeoutError:
            call.stop()
            return _timed_out(data, at, file_name, self.timeout)

    async def verify_async(
        self, data: bytes, *, at: dt.datetime | None = None, file_name: str | None = None
    ) -> VerificationReport:
        """Like :meth:`verify`, without blocking the running event loop."""
        at = _check_args(data, at)
        early = _precheck(data, at, file_name)
        if early is not None:
            return early
        if self._engine is None:
            return await asyncio.to_thread(self._in_worker, bytes(data), at, file_name)
        call = _ThreadCall(self._engine, bytes(data), at, file_name)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(call.future), timeout=self.timeout)
        except TimeoutError:
            call.stop()
            return _timed_out(data, at, file_name, self.timeout)

    # -- internals --------------------------------------------------------------------

    def _inline(
        self, engine: Engine, data: bytes, at: dt.datetime | None, file_name: str | None
    ) -> VerificationReport:
        """``engine.run`` in this (main) thread, under a ``SIGALRM`` set to the time bound;
        the process's own ``SIGALRM`` handler is put back afterwards."""

        def expired(signum: int, frame: object) -> None:
            raise _Cancelled

        previous = signal.signal(signal.SIGALRM, expired)
        try:
            signal.setitimer(signal.ITIMER_REAL, self.timeout)
            try:
                return engine.run(data, at, file_name)
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
        except _Cancelled:
            return _timed_out(data, at, file_name, self.timeout)
        finally:
            signal.signal(signal.SIGALRM, signal.SIG_DFL if previous is None else previous)

    def _in_worker(
        self, data: bytes, at: dt.datetime | None, file_name: str | None
    ) -> VerificationReport:
        from signing._verify.workers import TaskFailed, WorkerBusy, WorkerLost, WorkerTimeout

        pool = self._pool or _shared_pool()
        deadline = time.monotonic() + self.timeout
        try:
            try:
                return pool.verify(self.trust, data, at, file_name, deadline=deadline)
            except WorkerLost as exc:
                # Killed from outside (the OOM killer, an operator) or by the file: once
                # more in a fresh worker, within the same bound; a file that ends its
                # worker again is reported below.
                _log.warning("%s during a verification; trying once more in a new worker", exc)
                return pool.verify(self.trust, data, at, file_name, deadline=deadline)
        except WorkerTimeout:
            return _timed_out(data, at, file_name, self.timeout)
        except WorkerBusy:
            return _indeterminate(
                data,
                at,
                file_name,
                f"no verification worker became free within {self.timeout:g} s "
                "(too many verifications at once)",
            )
        except WorkerLost as exc:
            return _indeterminate(
                data, at, file_name, f"verification did not finish: {exc} (a hostile file?)"
            )
        except TaskFailed as exc:
            # The exception's text may quote the file: only its kind goes to the log.
            _log.error("a verification failed unexpectedly: %s", str(exc).split(":", 1)[0][:80])
            raise VerificationError(
                "the verifier stopped on an unexpected error; the file was not verified"
            ) from None
        except OSError as exc:
            raise VerificationError(f"cannot start a verification worker: {exc}") from None


class _ThreadCall:
    """One in-process verification in its own daemon thread, which :meth:`stop` interrupts."""

    def __init__(
        self, engine: Engine, data: bytes, at: dt.datetime | None, file_name: str | None
    ) -> None:
        self.future: concurrent.futures.Future[VerificationReport] = concurrent.futures.Future()
        self.future.set_running_or_notify_cancel()  # a caller's cancel must not race the result
        self._guard = threading.Lock()
        self._finished = False
        self._thread = threading.Thread(
            target=self._work, args=(engine, data, at, file_name), name="evault-verify", daemon=True
        )
        self._thread.start()

    def _work(
        self, engine: Engine, data: bytes, at: dt.datetime | None, file_name: str | None
    ) -> None:
        try:
            try:
                result = engine.run(data, at, file_name)
            finally:
                with self._guard:
                    self._finished = True
        except _Cancelled:
            return
        except BaseException as exc:  # delivered to the caller, not lost in the thread
            self.future.set_exception(exc)
            return
        self.future.set_result(result)

    def stop(self) -> None:
        """Raise :class:`_Cancelled` in the thread if it is still verifying. Under the guard
        the thread cannot finish, so its id cannot have been reused by another thread."""
        with self._guard:
            ident = self._thread.ident
            if self._finished or ident is None:
                return
            ctypes.pythonapi.PyThreadState_SetAsyncExc(
                ctypes.c_ulong(ident), ctypes.py_object(_Cancelled)
            )


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


_POOL: WorkerPool | None = None
_POOL_LOCK = threading.Lock()


def _shared_pool() -> WorkerPool:
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            from signing._verify.workers import WorkerPool

            _POOL = WorkerPool()
        return _POOL


def _check_args(data: bytes, at: dt.datetime | None) -> dt.datetime | None:
    if not isinstance(data, bytes | bytearray | memoryview):
        raise VerificationError(f"data must be bytes, not {type(data).__name__}")
    if at is not None and at.tzinfo is None:
        raise VerificationError("at must be timezone-aware (e.g. 2025-01-01T00:00:00+08:00)")
    return at


def _base(data: bytes, at: dt.datetime | None, file_name: str | None) -> dict[str, Any]:
    return {
        "file_format": FileFormat.OFD if detect_format(data) is FileFormat.OFD else FileFormat.PDF,
        "file": file_name,
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
        "checked_at": at or dt.datetime.now(dt.UTC),
    }


def _precheck(
    data: bytes, at: dt.datetime | None, file_name: str | None
) -> VerificationReport | None:
    if len(data) > MAX_PDF_BYTES:
        return VerificationReport(
            **_base(data, at, file_name),
            indication=Indication.TOTAL_FAILED,
            sub_indication=SubIndication.FORMAT_FAILURE,
            reasons=[f"the file is larger than {MAX_PDF_BYTES // (1024 * 1024)} MiB"],
        )
    return None


def _indeterminate(
    data: bytes, at: dt.datetime | None, file_name: str | None, reason: str
) -> VerificationReport:
    return VerificationReport(
        **_base(bytes(data), at, file_name),
        indication=Indication.INDETERMINATE,
        sub_indication=SubIndication.GENERIC,
        reasons=[reason],
    )


def _timed_out(
    data: bytes, at: dt.datetime | None, file_name: str | None, timeout: float
) -> VerificationReport:
    return _indeterminate(
        data,
        at,
        file_name,
        f"verification did not finish within {timeout:g} s and was stopped "
        "(a hostile or huge file?)",
    )


_DEFAULT: dict[str, Verifier] = {}
_DEFAULT_LOCK = threading.Lock()


def keep_loggers_quiet() -> None:
    """For a process that only verifies (a worker): silence pyHanko's noisy loggers once,
    for the rest of the process's life, instead of around each verification."""
    from signing._verify.engine import keep_loggers_quiet as keep

    keep()


def preload() -> None:
    """Import now what a PDF's first verification imports on its way (the strict structure
    reader and its regular expressions, pyHanko's stream filters): for a process about to
    fork verifying workers, which then share them instead of each importing them (about
    20 ms per worker here)."""
    import pyhanko.pdf_utils.filters  # noqa: F401

    import signing._verify.structure  # noqa: F401


def _verifier_for(trust: TrustBundle | None) -> Verifier:
    key = trust.fingerprint if trust is not None else ""
    with _DEFAULT_LOCK:
        verifier = _DEFAULT.get(key)
        if verifier is None or verifier.trust is not trust:
            if len(_DEFAULT) > 16:
                _DEFAULT.clear()
            verifier = _DEFAULT[key] = Verifier(trust)
        return verifier


def verify_pdf(
    data: bytes,
    *,
    trust: TrustBundle | None = None,
    at: dt.datetime | None = None,
    file_name: str | None = None,
) -> VerificationReport:
    """Verify one PDF; a :class:`Verifier` per trust bundle is kept and reused."""
    return _verifier_for(trust).verify(data, at=at, file_name=file_name)


async def verify_pdf_async(
    data: bytes,
    *,
    trust: TrustBundle | None = None,
    at: dt.datetime | None = None,
    file_name: str | None = None,
) -> VerificationReport:
    """:func:`verify_pdf` for use inside a running event loop (FastAPI)."""
    return await _verifier_for(trust).verify_async(data, at=at, file_name=file_name)
