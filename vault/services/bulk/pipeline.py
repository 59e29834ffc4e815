"""The import as a pipeline: chunks of files prepared in this process, verified by the
workers in tasks (:mod:`vault.services.bulk.workers`), written in batches by this process
(:mod:`vault.services.bulk.write`), in the source's order. One worker is the same pipeline
with its one verifier in this process.

The bulk worker is an edge: it commits (each batch, and the journal).
"""

from __future__ import annotations

import datetime as dt
import gc
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from vault.blobs.base import BlobStore
from vault.crypto import HolderCrypto
from vault.services.bulk.journal import ImportOutcome, ImportSummary, Journal, intake_digest
from vault.services.bulk.prepare import Pending, Prepared, Preparer
from vault.services.bulk.source import ArchiveLimits, ImportItem, StockSource, read_manifest
from vault.services.bulk.workers import (
    Answers,
    BlobStoreFactory,
    InlineVerifiers,
    VerifierFactory,
    Verifiers,
    open_verifiers,
)
from vault.services.bulk.write import BatchWriter

__all__ = ["ImportOptions", "StockImport", "import_stock", "task_size"]

#: Files per chunk, prepared together in one read transaction: one lookup of each kind,
#: intake's rules once per issuer and type (each a round trip to the database).
CHUNK = 32
#: Files to verify per task sent to a worker (about 0.1-0.2 s of its CPU).
TASK = 16
#: Files to verify per task at least: near the end of the source tasks shrink (to the files
#: left over twice the workers), so that no worker verifies a whole task alone while the
#: others wait for it.
_LAST_TASK = 2
#: Tasks in flight per worker: one it verifies and one queued for it, so that it never
#: waits for the writer (which prepares and writes while the workers verify).
_WINDOW_PER_WORKER = 2

_InFlight = tuple[list[Prepared], Answers | None]


@dataclass(frozen=True)
class ImportOptions:
    """What :func:`import_stock` takes besides its services; see its docstring."""

    source: Path
    manifest: Path | None = None
    workers: int = 2
    now: dt.datetime | None = None
    trust_fingerprint: str | None = None
    retry_refused: bool = False
    require_revocation: bool = True
    limits: ArchiveLimits | None = None
    write_batch: int = 1


class StockImport:
    """One run of the import. :meth:`run` reads top to bottom: open the source, start the
    run in the journal, then the pipeline (prepare, verify, write), then end the run."""

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        blobs: BlobStore,
        crypto: HolderCrypto,
        verifier_factory: VerifierFactory,
        blobs_factory: BlobStoreFactory | None,
        options: ImportOptions,
        on_outcome: Callable[[ImportOutcome], None] | None = None,
        on_start: Callable[[int], None] | None = None,
    ) -> None:
        self.sessions, self.blobs, self.crypto = sessions, blobs, crypto
        self.verifier_factory, self.blobs_factory = verifier_factory, blobs_factory
        self.options, self.on_outcome, self.on_start = options, on_outcome, on_start

    def run(self) -> ImportSummary:
        started = time.perf_counter()
        opts = self.options
        rows = read_manifest(opts.manifest) if opts.manifest is not None else None
        stock = StockSource.open(opts.source, opts.limits or ArchiveLimits())
        if self.on_start is not None:
            self.on_start(len(stock.items))
        with stock, self.sessions() as session:
            digest = intake_digest(session=session, trust_fingerprint=opts.trust_fingerprint)
            journal = Journal.start(
                session, source=opts.source, retry_refused=opts.retry_refused, digest=digest
            )
            preparer = Preparer(
                session,
                self.crypto,
                stock,
                rows,
                run_id=journal.run_id,
                digest=digest,
                retry_refused=opts.retry_refused,
            )
            self._run_pipeline(session, journal, preparer, stock.items)
        journal.summary.elapsed_seconds = time.perf_counter() - started
        return journal.summary

    def _run_pipeline(
        self, session: Session, journal: Journal, preparer: Preparer, items: list[ImportItem]
    ) -> None:
        """Every file through the pipeline, then the run ended in the journal ("finished",
        or "interrupted" with what was committed, when anything raised)."""
        # The objects that exist now are frozen for the run (and thawed after it): the
        # garbage collector leaves them alone, here and in the workers forked from here (a
        # full collection walked the whole heap, and in a worker touching its pages copied
        # them: about 15% of a worker's CPU).
        gc.freeze()
        try:
            self._run_frozen(session, journal, preparer, items)
        finally:
            gc.unfreeze()

    def _run_frozen(
        self, session: Session, journal: Journal, preparer: Preparer, items: list[ImportItem]
    ) -> None:
        """:meth:`_run_pipeline`, with the garbage collector's objects frozen."""
        opts = self.options
        at = opts.now or dt.datetime.now(dt.UTC)
        verifiers = open_verifiers(self.verifier_factory, self.blobs_factory, opts.workers, at)
        alone = (
            verifiers
            if isinstance(verifiers, InlineVerifiers)
            else InlineVerifiers(verifiers.local_verifier, at)
        )
        writer = BatchWriter(
            session,
            self.blobs,
            self.crypto,
            size=opts.write_batch,
            now=opts.now,
            require_revocation=opts.require_revocation,
            record=lambda outcome: self._record(journal, outcome),
            prepare_alone=lambda d: preparer.chunk([d.item], alone=True)[0],
            verify_alone=lambda p: alone.verify((p.data, p.item.name)),
        )
        try:
            self._flow(items, preparer, verifiers, writer, window=max(1, opts.workers))
            writer.flush()
        except BaseException:
            verifiers.close(cancel=True)
            session.rollback()
            try:
                journal.write("interrupted")
            except Exception:  # the original error matters more than the journal's
                session.rollback()
            raise
        verifiers.close(cancel=False)
        journal.write("finished")

    def _flow(
        self,
        items: Sequence[ImportItem],
        preparer: Preparer,
        verifiers: Verifiers,
        writer: BatchWriter,
        *,
        window: int,
    ) -> None:
        """Prepare a chunk and send its files to verify, :data:`TASK` at a time (fewer near
        the end); collect the oldest task once enough are in flight; keep the source's
        order."""
        in_flight: deque[_InFlight] = deque()
        for start in range(0, len(items), CHUNK):
            size = task_size(len(items) - start, window)
            for part in _tasks(preparer.chunk(items[start : start + CHUNK]), size):
                jobs = [(p.data, p.item.name) for p in part if isinstance(p, Pending)]
                in_flight.append((part, verifiers.submit(jobs) if jobs else None))
            while len(in_flight) > window * _WINDOW_PER_WORKER:
                _collect(in_flight.popleft(), writer)
        while in_flight:
            _collect(in_flight.popleft(), writer)

    def _record(self, journal: Journal, outcome: ImportOutcome) -> None:
        journal.add(outcome)
        if self.on_outcome is not None:
            self.on_outcome(outcome)


def _collect(flight: _InFlight, writer: BatchWriter) -> None:
    """A task's files to the writer with their verifications' answers, in order."""
    prepared, task = flight
    answers = iter(task if task is not None else ())
    for p in prepared:
        writer.add(p, next(answers) if isinstance(p, Pending) else None)


def task_size(left: int, workers: int) -> int:
    """Files per task for a chunk with ``left`` files of the source left from its start:
    :data:`TASK`, or fewer near the end (see :data:`_LAST_TASK`)."""
    return max(_LAST_TASK, min(TASK, left // (2 * workers)))


def _tasks(prepared: list[Prepared], size: int) -> Iterator[list[Prepared]]:
    """The chunk in its order, cut after every ``size`` files to verify."""
    part: list[Prepared] = []
    pending = 0
    for p in prepared:
        part.append(p)
        pending += isinstance(p, Pending)
        if pending == size:
            yield part
            part, pending = [], 0
    if part:
        yield part


def import_stock(
    *,
    sessions: sessionmaker[Session],
    blobs: BlobStore,
    crypto: HolderCrypto,
    verifier_factory: VerifierFactory,
    blobs_factory: BlobStoreFactory | None = None,
    source: Path,
    manifest: Path | None = None,
    workers: int = 2,
    now: dt.datetime | None = None,
    trust_fingerprint: str | None = None,
    retry_refused: bool = False,
    on_outcome: Callable[[ImportOutcome], None] | None = None,
    on_start: Callable[[int], None] | None = None,
    require_revocation: bool = True,
    limits: ArchiveLimits | None = None,
    write_batch: int = 1,
) -> ImportSummary:
    """Import every license file of ``source`` (a folder or a ZIP); see the package
    docstring.

    ``limits`` (default :class:`ArchiveLimits`): a source beyond them is refused with
    :class:`InvalidInput` before anything is read or written.

    ``sessions`` makes sessions (a ``sessionmaker``); ``verifier_factory`` must be
    picklable (a module-level function or a ``functools.partial`` of one) when
    ``workers > 1``: this process builds a verifier with it, which forked worker processes
    take (spawned ones build their own with it; with one worker, this process verifies).
    With ``blobs_factory`` (picklable too) the workers also store the blobs of files that
    passed verification, so the writer does not wait for their fsyncs.
    ``trust_fingerprint`` is the fingerprint of the trust bundle the verifiers use: a
    refusal made under another one is tried again (None: trust changes go unnoticed).
    ``retry_refused`` decides every refused file anew, verifying it again.
    ``write_batch``: verified files written per transaction (1, the default: one commit
    per file, each outcome reported as soon as it is decided; ``evault import`` writes
    :data:`WRITE_BATCH`).
    """
    options = ImportOptions(
        source=source,
        manifest=manifest,
        workers=workers,
        now=now,
        trust_fingerprint=trust_fingerprint,
        retry_refused=retry_refused,
        require_revocation=require_revocation,
        limits=limits,
        write_batch=write_batch,
    )
    return StockImport(
        sessions=sessions,
        blobs=blobs,
        crypto=crypto,
        verifier_factory=verifier_factory,
        blobs_factory=blobs_factory,
        options=options,
        on_outcome=on_outcome,
        on_start=on_start,
    ).run()
