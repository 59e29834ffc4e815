"""Bulk import with batched writes (``write_batch``): the same decisions as one file per
commit, nothing journaled that was not stored, a conflict inside a batch still refused."""

from __future__ import annotations

import csv
import datetime as dt
import functools
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from schemas.report import VerificationReport
from tests.vault.licenses import OTHER_HOLDER, license_pdf
from tests.vault.test_bulk import (  # noqa: F401 - fixtures
    GOOD,
    _importer,
    _row,
    _Stock,
    _versions,
    bundle_path,
    stock,
)
from vault.blobs import LocalBlobStore
from vault.blobs.base import sha256_hex
from vault.crypto import HolderCrypto
from vault.models import Holder, ImportJournalEntry, License, LicenseVersion
from vault.models.log import LogEntry
from vault.services.bulk import MANIFEST_FIELDS, WRITE_BATCH, ImportOutcome, ImportSummary
from vault.services.bulk.pipeline import CHUNK, TASK, task_size
from vault.services.holders import holder_name
from vault.services.intake import PdfVerifier


@pytest.fixture
def run(
    sessions: sessionmaker[Session],
    blobs: LocalBlobStore,
    crypto: HolderCrypto,
    stock: _Stock,  # noqa: F811 - the fixture
) -> Callable[..., ImportSummary]:
    """``import_stock`` of the test stock (one process); keywords override."""
    return _importer(sessions, blobs, crypto, stock.factory, stock.folder, stock.manifest)


def test_a_batch_decides_every_file_as_one_file_per_commit_does(
    sessions: sessionmaker[Session], run: Callable[..., ImportSummary]
) -> None:
    # copy-of-0.pdf and good/0.pdf are the same bytes in the same batch: the second is
    # refused by the unique SHA-256 in its savepoint and found a duplicate after the commit.
    seen: list[ImportOutcome] = []
    summary = run(write_batch=WRITE_BATCH, on_outcome=seen.append)
    assert (summary.total, summary.ingested, summary.duplicates) == (8, GOOD, 1)
    assert dict(summary.refused) == {"signer_not_issuer": 1, "bad_metadata": 1, "no_metadata": 1}
    assert [o.name for o in seen] == sorted(o.name for o in seen)  # in the source's order
    assert _versions(sessions) == GOOD
    again = run(write_batch=WRITE_BATCH)
    assert (again.ingested, again.settled_before) == (0, 8)
    assert _versions(sessions) == GOOD


class _StopAt:
    """A verifier that is interrupted (^C) at its ``n``-th file."""

    def __init__(self, inner: PdfVerifier, n: int) -> None:
        self._inner, self._n, self._count = inner, n, 0

    def verify(
        self, data: bytes, *, at: dt.datetime | None = None, file_name: str | None = None
    ) -> VerificationReport:
        self._count += 1
        if self._count == self._n:
            raise KeyboardInterrupt
        return self._inner.verify(data, at=at, file_name=file_name)


def _stop_at(factory: Callable[[], PdfVerifier], n: int) -> Callable[[], PdfVerifier]:
    return lambda: _StopAt(factory(), n)


def test_an_interrupted_batch_journals_nothing_it_did_not_store(
    sessions: sessionmaker[Session],
    stock: _Stock,  # noqa: F811 - the fixture
    run: Callable[..., ImportSummary],
) -> None:
    # Two files verified and held in the batch, the third interrupted: nothing committed.
    with pytest.raises(KeyboardInterrupt):
        run(write_batch=WRITE_BATCH, verifier_factory=_stop_at(stock.factory, 3))
    assert _versions(sessions) == 0
    with sessions() as s:
        entries = list(s.scalars(select(ImportJournalEntry)))
        stored = set(s.scalars(select(LicenseVersion.blob_sha256)))
    assert [(e.name, e.outcome) for e in entries] == [("bad-id.pdf", "refused")]
    assert all(e.sha256 in stored for e in entries if e.outcome == "ingested")
    summary = run(write_batch=WRITE_BATCH)
    assert (summary.ingested, summary.duplicates, summary.settled_before) == (GOOD, 1, 1)
    assert _versions(sessions) == GOOD


def test_a_second_file_for_the_same_license_in_a_batch_is_a_conflict(
    sessions: sessionmaker[Session],
    blobs: LocalBlobStore,
    crypto: HolderCrypto,
    stock: _Stock,  # noqa: F811 - the fixture
    tmp_path: Path,
) -> None:
    # Both pass the precheck (the first is not committed yet); the second's write finds the
    # first in the batch's transaction and is decided alone, as a conflict.
    folder = tmp_path / "same-key"
    folder.mkdir()
    (folder / "a.pdf").write_bytes(license_pdf(700))
    (folder / "b.pdf").write_bytes(license_pdf(701))
    manifest = tmp_path / "same-key.csv"
    with manifest.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=MANIFEST_FIELDS)
        writer.writeheader()
        writer.writerows([_row("a.pdf", 700), _row("b.pdf", 700)])
    run = _importer(sessions, blobs, crypto, stock.factory, folder, manifest)
    summary = run(write_batch=WRITE_BATCH)
    assert (summary.ingested, dict(summary.refused)) == (1, {"conflict": 1})
    (refusal,) = summary.refusals
    assert refusal.name == "b.pdf"
    assert "already stored as version 1 with different bytes" in (refusal.message or "")
    assert _versions(sessions) == 1


def test_files_the_batch_sets_aside_are_decided_in_order_as_one_at_a_time(
    sessions: sessionmaker[Session],
    blobs: LocalBlobStore,
    crypto: HolderCrypto,
    stock: _Stock,  # noqa: F811 - the fixture
    run: Callable[..., ImportSummary],
    tmp_path: Path,
) -> None:
    # A new version of a stored license, a stored holder and a new one each named two ways in
    # one batch: the batch writes none of them; ingest decides them after its commit, in the
    # source's order, so each holder keeps its last name, as when each file was a push.
    assert run(write_batch=WRITE_BATCH).ingested == GOOD
    folder = tmp_path / "later"
    folder.mkdir()
    rows = {
        "a-version-2.pdf": _row("a-version-2.pdf", 500, version=2, change_reason="更正"),
        "b-renamed.pdf": _row("b-renamed.pdf", 901, holder_name="张三丰"),
        "c-named-again.pdf": _row("c-named-again.pdf", 902),
        "d-new-holder.pdf": _row(
            "d-new-holder.pdf", 903, holder_id=OTHER_HOLDER, holder_name="李四"
        ),
        "e-new-renamed.pdf": _row(
            "e-new-renamed.pdf", 904, holder_id=OTHER_HOLDER, holder_name="李四四"
        ),
    }
    for n, name in enumerate(rows, start=900):
        (folder / name).write_bytes(license_pdf(n))
    manifest = tmp_path / "later.csv"
    with manifest.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=MANIFEST_FIELDS)
        writer.writeheader()
        writer.writerows(rows.values())
    later = _importer(sessions, blobs, crypto, stock.factory, folder, manifest)
    summary = later(write_batch=WRITE_BATCH)
    assert (summary.ingested, summary.refused_total) == (5, 0), summary.refusals
    assert _versions(sessions) == GOOD + 5
    with sessions() as s:
        version = s.scalars(select(License.current_version).where(License.number == "JY00000500"))
        assert list(version) == [2]
        names = [
            holder_name(crypto=crypto, name_ciphertext=h.name_ciphertext)
            for h in s.scalars(select(Holder).order_by(Holder.id))
        ]
        logged = s.scalar(select(func.count()).select_from(LogEntry))
    assert names == ["张三", "李四四"]  # c came after b, e after d
    assert logged == GOOD + 5


class _CountingBlobs(LocalBlobStore):
    """A blob store that counts the writer's puts."""

    puts = 0

    def put(self, data: bytes) -> str:
        self.puts += 1
        return super().put(data)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # worker start-up is slow
def test_the_writer_stores_no_blob_its_workers_stored(
    sessions: sessionmaker[Session],
    blobs: LocalBlobStore,
    crypto: HolderCrypto,
    stock: _Stock,  # noqa: F811 - the fixture
) -> None:
    writer_blobs = _CountingBlobs(blobs.root)
    summary = _importer(
        sessions,
        writer_blobs,
        crypto,
        functools.partial(stock.factory, isolation="thread"),
        stock.folder,
        stock.manifest,
    )(
        workers=2,
        blobs_factory=functools.partial(LocalBlobStore, blobs.root),
        write_batch=WRITE_BATCH,
    )
    assert (summary.ingested, summary.duplicates) == (GOOD, 1)
    assert writer_blobs.puts == 0  # each was stored, durably, by the worker that verified it
    with sessions() as s:
        stored = list(s.scalars(select(LicenseVersion.blob_sha256)))
    assert len(stored) == GOOD
    for sha256 in stored:
        assert sha256_hex(blobs.get(sha256)) == sha256


def test_tasks_shrink_near_the_end_so_the_workers_finish_together() -> None:
    """80 files, 2 workers: chunks of 32 cut into tasks of 16, then 12, then 4 (each no
    bigger than the files left over twice the workers); a long import keeps tasks of 16."""
    tasks = []
    for start in range(0, 80, CHUNK):
        size, files = task_size(80 - start, 2), min(CHUNK, 80 - start)
        tasks += [min(size, files - done) for done in range(0, files, size)]
    assert tasks == [16, 16, 12, 12, 8, 4, 4, 4, 4]
    assert task_size(10_000, 2) == TASK
    assert task_size(3, 4) == 2  # never below two files
