"""Concurrent pushes: the same license 20 times at once lands once (19 duplicates);
different licenses of one new holder all land, with one holder row."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.vault.licenses import license_pdf, make_catalog, metadata, verifier
from vault.blobs import LocalBlobStore
from vault.crypto import HolderCrypto
from vault.models import Holder, License, LicenseVersion
from vault.services.intake import IntakeResult, ingest

CLIENTS = 20


def _run_together(count: int, push: Callable[[int], IntakeResult]) -> list[IntakeResult]:
    barrier = threading.Barrier(count)

    def client(i: int) -> IntakeResult:
        barrier.wait()
        return push(i)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(client, range(count)))


def _count(sessions: sessionmaker[Session], model: type) -> int:
    with sessions() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def test_same_license_pushed_by_20_clients_lands_once(
    sessions: sessionmaker[Session], blobs: LocalBlobStore, crypto: HolderCrypto
) -> None:
    with sessions() as s:
        cat = make_catalog(s)
    pdf = license_pdf(300)
    v = verifier()

    def push(_: int) -> IntakeResult:
        with sessions() as session:
            return ingest(
                session=session,
                blobs=blobs,
                verifier=v,
                crypto=crypto,
                metadata=metadata(300),
                pdf=pdf,
                pushed_by_department_id=cat.market,
            )

    results = _run_together(CLIENTS, push)
    assert sum(r.created for r in results) == 1
    assert sum(not r.created for r in results) == CLIENTS - 1
    assert len({r.version.id for r in results}) == 1
    assert (_count(sessions, License), _count(sessions, LicenseVersion)) == (1, 1)
    assert _count(sessions, Holder) == 1


def test_different_licenses_pushed_at_once_all_land(
    sessions: sessionmaker[Session], blobs: LocalBlobStore, crypto: HolderCrypto
) -> None:
    with sessions() as s:
        cat = make_catalog(s)
    count = 10
    pdfs = [license_pdf(400 + i) for i in range(count)]
    v = verifier()

    def push(i: int) -> IntakeResult:
        with sessions() as session:
            return ingest(
                session=session,
                blobs=blobs,
                verifier=v,
                crypto=crypto,
                metadata=metadata(400 + i),  # one holder, a new one: its row is raced too
                pdf=pdfs[i],
                pushed_by_department_id=cat.market,
            )

    results = _run_together(count, push)
    assert all(r.created for r in results)
    assert len({r.license.id for r in results}) == count
    assert (_count(sessions, License), _count(sessions, LicenseVersion)) == (count, count)
    assert _count(sessions, Holder) == 1
