"""Where the import verifies: worker processes, each with one verifier kept warm for the
whole run (its parsed trust, certificates, revocation data and validated paths are reused
from file to file), or this process when there is one worker.

Work goes out in chunks of files (one round trip for several files) and comes back in the
order it went out. In this process a chunk is verified file by file as its answers are
read, so nothing is verified before the files ahead of it were written.
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


class Answers(Protocol):
    """A chunk's answers, in order: each file's report as JSON, or :class:`Failed`."""

    def __iter__(self) -> Iterator[str]: ...


class Verifiers(Protocol):
    """Verifies chunks of files."""

    def submit(self, jobs: list[Job]) -> Answers: ...

    def close(self, *, cancel: bool) -> None: ...


class _Remote:
    """A chunk sent to a worker process."""

    def __init__(self, future: concurrent.futures.Future[list[str]], count: int) -> None:
        self._future, self._count = future, count

    def __iter__(self) -> Iterator[str]:
        try:
            answers = self._future.result()
        except Exception as exc:  # the worker process died: each file's verification failed
            answers = [Failed(type(exc).__name__)] * self._count
        return iter(answers)


class _Local:
    """A chunk verified here, one file per answer read."""

    def __init__(self, verifiers: InlineVerifiers, jobs: list[Job]) -> None:
        self._verifiers, self._jobs = verifiers, jobs

    def __iter__(self) -> Iterator[str]:
        return (self._verifiers.verify(job) for job in self._jobs)


class InlineVerifiers:
    """One worker: this process, its verifier made on first use and kept."""

    def __init__(self, factory: VerifierFactory, at: dt.datetime) -> None:
        self._factory, self._at = factory, at
        self._verifier: PdfVerifier | None = None

    def submit(self, jobs: list[Job]) -> Answers:
        return _Local(self, jobs)

    def verify(self, job: Job) -> str:
        if self._verifier is None:
            self._verifier = self._factory()
        return _verify(self._verifier, None, job, self._at)

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
        # seconds importing pyHanko and SQLAlchemy); they touch none of the parent's
        # connections or threads. spawn where fork does not exist.
        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        self._pool = concurrent.futures.ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context(method),
            initializer=_init_worker,
            initargs=(factory, blobs_factory),
        )
        self._at = at

    def submit(self, jobs: list[Job]) -> Answers:
        return _Remote(self._pool.submit(_verify_in_worker, jobs, self._at), len(jobs))

    def close(self, *, cancel: bool) -> None:
        self._pool.shutdown(wait=not cancel, cancel_futures=cancel)


def open_verifiers(
    factory: VerifierFactory,
    blobs_factory: BlobStoreFactory | None,
    workers: int,
    at: dt.datetime,
) -> Verifiers:
    """``workers`` processes, or this process for one."""
    if workers <= 1:
        return InlineVerifiers(factory, at)
    return ProcessVerifiers(factory, blobs_factory, workers, at)


_worker_verifier: PdfVerifier | None = None
_worker_blobs: BlobStore | None = None


def _init_worker(factory: VerifierFactory, blobs_factory: BlobStoreFactory | None) -> None:
    global _worker_verifier, _worker_blobs
    _worker_verifier = factory()
    _worker_blobs = blobs_factory() if blobs_factory is not None else None


def _verify_in_worker(jobs: list[Job], at: dt.datetime) -> list[str]:
    assert _worker_verifier is not None
    return [_verify(_worker_verifier, _worker_blobs, job, at) for job in jobs]


def _verify(verifier: PdfVerifier, blobs: BlobStore | None, job: Job, at: dt.datetime) -> str:
    """Verify one file; when it passed and there is a blob store, also store its bytes.

    A blob stored for a file that intake then refuses (wrong signer, a conflict) is
    unreferenced and removed by gc after the grace period.
    """
    data, name = job
    try:
        report = verifier.verify(data, at=at, file_name=name)
        if blobs is not None and report.passed:
            blobs.put(data)
    except Exception as exc:  # the worker failed on this file: a verdict for it alone
        return Failed(type(exc).__name__)
    return report.model_dump_json()
