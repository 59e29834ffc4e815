"""Where the import verifies: worker processes, each with one verifier kept warm for the
whole run (its parsed trust, certificates, revocation data and validated paths are reused
from file to file), or this process when there is one worker.

The workers start as soon as the import opens them, while this process prepares the first
files. Forked workers take the verifier this process built (its modules imported and its
trust bundle parsed once, not once per worker; this process keeps it for the files it
decides alone); spawned ones build their own.

Work goes out in tasks of several files (one round trip for several files) and comes back
in the order it went out. A worker process with a blob store stores each file that passed
in a thread while it verifies the next (a blob write waits for its fsyncs far longer than
the CPU it costs), and answers for a task once its blobs are stored, each such answer a
:class:`Stored`. In this process a task is verified file by file as its answers are read,
so nothing is verified before the files ahead of it were written.
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import multiprocessing
from collections.abc import Callable, Iterator
from typing import Protocol

from vault.blobs.base import BlobStore
from vault.services.intake import PdfVerifier

__all__ = [
    "BlobStoreFactory",
    "Failed",
    "InlineVerifiers",
    "ProcessVerifiers",
    "Stored",
    "VerifierFactory",
    "Verifiers",
    "open_verifiers",
]

VerifierFactory = Callable[[], PdfVerifier]
BlobStoreFactory = Callable[[], BlobStore]

#: One file to verify: its bytes and its name in the source.
Job = tuple[bytes, str]


class Failed(str):
    """A verification that failed to run (the exception's type name), not a report."""


class Stored(str):
    """A report (JSON) of a file whose blob the worker stored, durably, before answering:
    the writer need not store it again."""


class Answers(Protocol):
    """A task's answers, in order: each file's report as JSON (:class:`Stored` when the
    worker stored its blob), or :class:`Failed`."""

    def __iter__(self) -> Iterator[str]: ...


class Verifiers(Protocol):
    """Verifies tasks of files."""

    def submit(self, jobs: list[Job]) -> Answers: ...

    def close(self, *, cancel: bool) -> None: ...


class _Remote:
    """A task sent to a worker process."""

    def __init__(self, future: concurrent.futures.Future[list[str]], count: int) -> None:
        self._future, self._count = future, count

    def __iter__(self) -> Iterator[str]:
        try:
            answers = self._future.result()
        except Exception as exc:  # the worker process died: each file's verification failed
            answers = [Failed(type(exc).__name__)] * self._count
        return iter(answers)


class _Local:
    """A task verified here, one file per answer read."""

    def __init__(self, verifiers: InlineVerifiers, jobs: list[Job]) -> None:
        self._verifiers, self._jobs = verifiers, jobs

    def __iter__(self) -> Iterator[str]:
        return (self._verifiers.verify(job) for job in self._jobs)


class InlineVerifiers:
    """One worker: this process, its verifier made on first use (or ``verifier``) and kept."""

    def __init__(
        self, factory: VerifierFactory, at: dt.datetime, verifier: PdfVerifier | None = None
    ) -> None:
        self._factory, self._at = factory, at
        self._verifier: PdfVerifier | None = verifier

    def submit(self, jobs: list[Job]) -> Answers:
        return _Local(self, jobs)

    def verify(self, job: Job) -> str:
        if self._verifier is None:
            self._verifier = self._factory()
        return _verify(self._verifier, job, self._at)[0]

    def close(self, *, cancel: bool) -> None:
        return None


class ProcessVerifiers:
    """Worker processes, each with its verifier (and blob store, when given one: a file
    that passed verification is stored by the worker, so the writer waits for no fsync)."""

    def __init__(
        self,
        factory: VerifierFactory,
        blobs_factory: BlobStoreFactory | None,
        workers: int,
        at: dt.datetime,
    ) -> None:
        # fork: the workers start with everything already imported (a spawned worker spends
        # seconds importing pyHanko and SQLAlchemy), the verifier built here included;
        # they touch none of the parent's connections or threads. spawn where fork does not
        # exist.
        global _forked_verifier
        forking = "fork" in multiprocessing.get_all_start_methods()
        #: This process's verifier (for the files it decides alone), built before the fork.
        self.verifier: PdfVerifier | None = factory() if forking else None
        self._pool = concurrent.futures.ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("fork" if forking else "spawn"),
            initializer=_init_worker,
            initargs=(factory, blobs_factory),
        )
        self._at = at
        _forked_verifier = self.verifier  # what the processes forked now find
        try:
            # The first task starts every process (fork starts them all at once): they
            # start now, while this process prepares the first files.
            self._pool.submit(_started)
        finally:
            _forked_verifier = None

    def submit(self, jobs: list[Job]) -> Answers:
        return _Remote(self._pool.submit(_verify_in_worker, jobs, self._at), len(jobs))

    def close(self, *, cancel: bool) -> None:
        self._pool.shutdown(wait=not cancel, cancel_futures=cancel)


def open_verifiers(
    factory: VerifierFactory,
    blobs_factory: BlobStoreFactory | None,
    workers: int,
    at: dt.datetime,
) -> InlineVerifiers | ProcessVerifiers:
    """``workers`` processes, or this process for one."""
    if workers <= 1:
        return InlineVerifiers(factory, at)
    return ProcessVerifiers(factory, blobs_factory, workers, at)


#: Blob writes in flight per worker process: a write waits for its fsyncs (many times the
#: CPU it costs), so the worker verifies the next file meanwhile.
_BLOB_THREADS = 4

_worker_verifier: PdfVerifier | None = None
_worker_blobs: BlobStore | None = None
_worker_writes: concurrent.futures.ThreadPoolExecutor | None = None
#: Set in the parent while it forks the workers: the verifier they take (never used yet).
_forked_verifier: PdfVerifier | None = None


def _started() -> None:
    """The task that starts the worker processes."""


def _init_worker(factory: VerifierFactory, blobs_factory: BlobStoreFactory | None) -> None:
    global _worker_verifier, _worker_blobs, _worker_writes
    from signing.verify import keep_loggers_quiet

    keep_loggers_quiet()  # this process verifies for the whole run
    _worker_verifier = _forked_verifier if _forked_verifier is not None else factory()
    if blobs_factory is not None:
        _worker_blobs = blobs_factory()
        _worker_writes = concurrent.futures.ThreadPoolExecutor(
            _BLOB_THREADS, thread_name_prefix="blob"
        )


def _verify_in_worker(jobs: list[Job], at: dt.datetime) -> list[str]:
    """The task's answers, once every blob of a file that passed is stored (the writer
    commits rows only for blobs already durable)."""
    assert _worker_verifier is not None
    if _worker_blobs is None or _worker_writes is None:
        return [_verify(_worker_verifier, job, at)[0] for job in jobs]
    answers: list[str] = []
    writes: dict[int, concurrent.futures.Future[str]] = {}
    for job in jobs:
        answer, passed = _verify(_worker_verifier, job, at)
        answers.append(answer)
        if passed:
            writes[len(answers) - 1] = _worker_writes.submit(_worker_blobs.put, job[0])
    for i, write in writes.items():
        try:
            write.result()
        except Exception as exc:  # the file's blob could not be stored: as a failed run
            answers[i] = Failed(type(exc).__name__)
        else:
            answers[i] = Stored(answers[i])
    return answers


def _verify(verifier: PdfVerifier, job: Job, at: dt.datetime) -> tuple[str, bool]:
    """One file's answer, and whether it passed (its blob is then stored).

    A blob stored for a file that intake then refuses (wrong signer, a conflict) is
    unreferenced and removed by gc after the grace period.
    """
    data, name = job
    try:
        report = verifier.verify(data, at=at, file_name=name)
    except Exception as exc:  # the worker failed on this file: a verdict for it alone
        return Failed(type(exc).__name__), False
    return report.model_dump_json(), report.passed
