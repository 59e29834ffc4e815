"""Where the import verifies: worker processes, each with one verifier kept warm for the
whole run (its parsed trust, certificates, revocation data and validated paths are reused
from file to file), or this process when there is one worker.

The workers start with the first task (a run whose every file is settled already starts
none). Forked workers take the verifier this process built (its modules imported and its
trust bundle parsed once, not once per worker; this process keeps it for the files it
decides alone); spawned ones build their own.

Work goes out in tasks of several files (one round trip for several files) and comes back
in the order it went out. A worker process with a blob store stores the files of a task
that passed, together once the task is verified (``put_many``: for a local folder one
durability barrier for the task's blobs, not two fsyncs per blob), and answers for the
task once its blobs are durable, each such answer a :class:`Stored`. In this process a
task is verified file by file as its answers are read, so nothing is verified before the
files ahead of it were written.
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
    """One worker: this process, its verifier made by ``factory`` on first use and kept."""

    def __init__(self, factory: VerifierFactory, at: dt.datetime) -> None:
        self._factory, self._at = factory, at
        self._verifier: PdfVerifier | None = None

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
    that passed verification is stored by the worker, so the writer waits for no fsync).

    Nothing starts before the first task: a run whose files the journal or the store
    settle builds no verifier and starts no process."""

    def __init__(
        self,
        factory: VerifierFactory,
        blobs_factory: BlobStoreFactory | None,
        workers: int,
        at: dt.datetime,
    ) -> None:
        self._factory, self._blobs_factory = factory, blobs_factory
        self._workers, self._at = workers, at
        # fork: the workers start with everything already imported (a spawned worker spends
        # seconds importing pyHanko and SQLAlchemy), the verifier built here included;
        # they touch none of the parent's connections or threads. spawn where fork does not
        # exist.
        self._forking = "fork" in multiprocessing.get_all_start_methods()
        self._verifier: PdfVerifier | None = None
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None

    def local_verifier(self) -> PdfVerifier:
        """This process's verifier (for the files it decides alone), built on first use;
        the one that workers forked after it take."""
        if self._verifier is None:
            self._verifier = self._factory()
        return self._verifier

    def _started(self) -> concurrent.futures.ProcessPoolExecutor:
        """The worker processes, started now if they are not yet."""
        global _forked_verifier
        if self._pool is not None:
            return self._pool
        verifier = self.local_verifier() if self._forking else None
        if self._forking:
            from signing.verify import preload

            preload()  # once here, not once in each worker
        self._pool = concurrent.futures.ProcessPoolExecutor(
            max_workers=self._workers,
            mp_context=multiprocessing.get_context("fork" if self._forking else "spawn"),
            initializer=_init_worker,
            initargs=(self._factory, self._blobs_factory),
        )
        _forked_verifier = verifier  # what the processes forked now find
        try:
            self._pool.submit(_started)  # the first task starts every process (fork: at once)
        finally:
            _forked_verifier = None
        return self._pool

    def submit(self, jobs: list[Job]) -> Answers:
        return _Remote(self._started().submit(_verify_in_worker, jobs, self._at), len(jobs))

    def close(self, *, cancel: bool) -> None:
        if self._pool is not None:
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


_worker_verifier: PdfVerifier | None = None
_worker_blobs: BlobStore | None = None
#: Set in the parent while it forks the workers: the verifier they take (never used yet).
_forked_verifier: PdfVerifier | None = None


def _started() -> None:
    """The task that starts the worker processes."""


def _init_worker(factory: VerifierFactory, blobs_factory: BlobStoreFactory | None) -> None:
    global _worker_verifier, _worker_blobs
    from signing.verify import keep_loggers_quiet

    keep_loggers_quiet()  # this process verifies for the whole run
    _worker_verifier = _forked_verifier if _forked_verifier is not None else factory()
    if blobs_factory is not None:
        _worker_blobs = blobs_factory()


def _verify_in_worker(jobs: list[Job], at: dt.datetime) -> list[str]:
    """The task's answers, once every blob of a file that passed is stored, all made
    durable together (the writer commits rows only for blobs already durable)."""
    assert _worker_verifier is not None
    answers: list[str] = []
    passed: list[int] = []
    for job in jobs:
        answer, ok = _verify(_worker_verifier, job, at)
        if ok and _worker_blobs is not None:
            passed.append(len(answers))
        answers.append(answer)
    if _worker_blobs is None or not passed:
        return answers
    try:
        _worker_blobs.put_many([jobs[i][0] for i in passed])
    except Exception as exc:  # the blobs could not be stored: as failed runs (tried again)
        for i in passed:
            answers[i] = Failed(type(exc).__name__)
    else:
        for i in passed:
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
