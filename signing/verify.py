"""Verify the seals on a PDF into a :class:`schemas.report.VerificationReport`.

A bad, broken, or hostile file is a verdict, never an exception: unreadable input is
TOTAL_FAILED/FORMAT_FAILURE with the reason. Verification is offline: certificates and
revocation data come from the file itself and from the pinned :class:`TrustBundle`.

    verifier = Verifier(TrustBundle.load("bundle.json"))   # build once, reuse
    report = verifier.verify(pdf_bytes, file_name="license.pdf")
    report = await verifier.verify_async(pdf_bytes)           # inside an event loop

Each call runs in its own daemon thread under a hard wall-clock bound (``timeout``): a file
that takes longer is reported INDETERMINATE/GENERIC ("did not finish") and the caller gets
its answer on time. Python cannot kill the thread; it finishes its work in the background,
does not hold up later calls and does not keep the process alive.
See docs/verification.md for the report's fields and the indications.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import hashlib
import sys
import threading
from typing import TYPE_CHECKING, Any

from schemas.report import Indication, SubIndication, VerificationReport
from signing.errors import VerificationError

if TYPE_CHECKING:  # pragma: no cover
    from signing.trust import TrustBundle

__all__ = ["DEFAULT_TIMEOUT", "MAX_PDF_BYTES", "Verifier", "verify_pdf", "verify_pdf_async"]

#: Seconds one verification may take before it is reported as INDETERMINATE.
DEFAULT_TIMEOUT = 20.0
#: Larger inputs are refused as FORMAT_FAILURE without being parsed.
MAX_PDF_BYTES = 256 * 1024 * 1024
_RECURSION_LIMIT = 4000


class Verifier:
    """Verifies PDFs against one trust bundle, reusing what repeats across documents.

    Reused across calls: the bundle's parsed roots and trust manager, and parsed
    certificates, CRLs and OCSP responses (by hash) from earlier documents. Thread-safe:
    each call works on its own reader and validation context.
    """

    def __init__(self, trust: TrustBundle | None = None, *, timeout: float = DEFAULT_TIMEOUT):
        if timeout <= 0:
            raise VerificationError("timeout must be positive")
        from signing._verify.engine import ObjectCache

        self.trust = trust
        self.timeout = timeout
        self._cache = ObjectCache()
        self._trust_manager: Any = trust.trust_manager() if trust is not None else None
        self._lock = threading.Lock()

    # -- public API -------------------------------------------------------------------

    def verify(
        self, data: bytes, *, at: dt.datetime | None = None, file_name: str | None = None
    ) -> VerificationReport:
        """Verify ``data`` (the whole PDF) as of ``at`` (default: now). Never raises on bad
        input; raises :class:`VerificationError` only for bad arguments."""
        at = _check_args(data, at)
        early = _precheck(data, at, file_name)
        if early is not None:
            return early
        future = self._start(bytes(data), at, file_name)
        try:
            return future.result(timeout=self.timeout)
        except concurrent.futures.TimeoutError:
            return _timed_out(data, at, file_name, self.timeout)

    async def verify_async(
        self, data: bytes, *, at: dt.datetime | None = None, file_name: str | None = None
    ) -> VerificationReport:
        """Like :meth:`verify`, without blocking the running event loop."""
        at = _check_args(data, at)
        early = _precheck(data, at, file_name)
        if early is not None:
            return early
        future = asyncio.wrap_future(self._start(bytes(data), at, file_name))
        try:
            return await asyncio.wait_for(future, timeout=self.timeout)
        except TimeoutError:
            return _timed_out(data, at, file_name, self.timeout)

    def _start(
        self, data: bytes, at: dt.datetime | None, file_name: str | None
    ) -> concurrent.futures.Future[VerificationReport]:
        """Run one verification in its own daemon thread: a runaway file can neither block
        the next call nor keep the process from exiting."""
        future: concurrent.futures.Future[VerificationReport] = concurrent.futures.Future()

        def work() -> None:
            try:
                future.set_result(self._run(data, at, file_name))
            except BaseException as exc:  # delivered to the caller, not lost in the thread
                future.set_exception(exc)

        threading.Thread(target=work, name="evault-verify", daemon=True).start()
        return future

    # -- internals --------------------------------------------------------------------

    def _run(
        self, data: bytes, at: dt.datetime | None, file_name: str | None
    ) -> VerificationReport:
        from signing._verify.engine import verify_document

        with self._lock:
            if sys.getrecursionlimit() < _RECURSION_LIMIT:
                sys.setrecursionlimit(_RECURSION_LIMIT)
        return asyncio.run(
            verify_document(
                data,
                trust=self.trust,
                at=at,
                file_name=file_name,
                cache=self._cache,
                trust_manager=self._trust_manager,
            )
        )


def _check_args(data: bytes, at: dt.datetime | None) -> dt.datetime | None:
    if not isinstance(data, bytes | bytearray | memoryview):
        raise VerificationError(f"data must be bytes, not {type(data).__name__}")
    if at is not None and at.tzinfo is None:
        raise VerificationError("at must be timezone-aware (e.g. 2025-01-01T00:00:00+08:00)")
    return at


def _base(data: bytes, at: dt.datetime | None, file_name: str | None) -> dict[str, Any]:
    return {
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


def _timed_out(
    data: bytes, at: dt.datetime | None, file_name: str | None, timeout: float
) -> VerificationReport:
    return VerificationReport(
        **_base(bytes(data), at, file_name),
        indication=Indication.INDETERMINATE,
        sub_indication=SubIndication.GENERIC,
        reasons=[f"verification did not finish within {timeout:g} s (a hostile or huge file?)"],
    )


_DEFAULT: dict[str, Verifier] = {}
_DEFAULT_LOCK = threading.Lock()


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
