"""Concurrent copy requests: 20 identical requests at once make one copy (19 reuse it);
different cases at once each get their own; the reuse key's lock holds across processes."""

from __future__ import annotations

import subprocess
import sys
import threading
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from signing.copies import CopyAnnotation, CopyMaker
from tests.conftest import ROOT
from tests.helpers.permitted import push_permitted_license
from tests.helpers.pki import sealer
from tests.vault.conftest import schema_url
from tests.vault.together import run_together
from vault.blobs import LocalBlobStore
from vault.crypto import HolderCrypto
from vault.db import make_engine, make_session_factory
from vault.db.keylock import key_lock
from vault.errors import ConflictError
from vault.models import AccessEvent, CertifiedCopy
from vault.services.access import UseContext
from vault.services.copies import CopyPolicy, MadeCopy, copy_for_department, copy_for_holder

CLIENTS = 20
POLICY = CopyPolicy(
    maker_name="evault 电子证照库",
    public_base_url="http://testserver",
    default_days=30,
    max_days=90,
)


class CountingRenderer:
    """The real copy maker, counting the copies it seals."""

    def __init__(self) -> None:
        self._maker = CopyMaker(sealer())
        self._lock = threading.Lock()
        self.made = 0

    def make(self, original: bytes, annotation: CopyAnnotation) -> bytes:
        with self._lock:
            self.made += 1
        return self._maker.make(original, annotation)


def _stored_license(
    sessions: sessionmaker[Session], blobs: LocalBlobStore, crypto: HolderCrypto
) -> tuple[int, str, Any]:
    """(housing department id, license public id, holder), with a standing permission for
    housing."""
    with sessions() as session:
        pushed = push_permitted_license(session, blobs=blobs, crypto=crypto)
        return pushed.catalog.housing, pushed.license.public_id, pushed.license.holder


def _department_copy(
    sessions: sessionmaker[Session],
    blobs: LocalBlobStore,
    renderer: CountingRenderer,
    department_id: int,
    license_id: str,
    use: UseContext,
) -> MadeCopy:
    with sessions() as session:
        return copy_for_department(
            session=session,
            blobs=blobs,
            renderer=lambda: renderer,
            policy=POLICY,
            department_id=department_id,
            public_id=license_id,
            use=use,
        )


def _count(sessions: sessionmaker[Session], model: type) -> int:
    with sessions() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def test_20_identical_requests_make_one_copy(
    sessions: sessionmaker[Session], blobs: LocalBlobStore, crypto: HolderCrypto
) -> None:
    housing, license_id, _ = _stored_license(sessions, blobs, crypto)
    renderer = CountingRenderer()
    use = UseContext("住房保障资格审核", "ZJ-2026-000123")

    def request(_: int) -> MadeCopy:
        return _department_copy(sessions, blobs, renderer, housing, license_id, use)

    results = run_together(CLIENTS, request)
    assert sum(not r.reused for r in results) == 1
    assert sum(r.reused for r in results) == CLIENTS - 1
    assert len({r.copy.id for r in results}) == 1
    assert renderer.made == 1
    assert _count(sessions, CertifiedCopy) == 1
    with sessions() as s:
        events = s.scalars(select(AccessEvent).where(AccessEvent.action == "copy")).all()
    assert {e.copy_id for e in events} == {results[0].copy.id}
    assert sorted(str(e.reason) for e in events) == ["None"] + ["reused"] * (CLIENTS - 1)


def test_identical_holder_requests_make_one_copy(
    sessions: sessionmaker[Session], blobs: LocalBlobStore, crypto: HolderCrypto
) -> None:
    _, license_id, holder = _stored_license(sessions, blobs, crypto)
    renderer = CountingRenderer()

    def request(_: int) -> MadeCopy:
        with sessions() as session:
            return copy_for_holder(
                session=session,
                blobs=blobs,
                renderer=lambda: renderer,
                policy=POLICY,
                holder=holder,
                public_id=license_id,
                purpose=" 办理贷款 ",  # normalized before the lock: the same key as "办理贷款"
            )

    results = run_together(8, request)
    assert (sum(not r.reused for r in results), len({r.copy.id for r in results})) == (1, 1)
    assert renderer.made == 1 and _count(sessions, CertifiedCopy) == 1


def test_different_cases_at_once_each_get_a_copy(
    sessions: sessionmaker[Session], blobs: LocalBlobStore, crypto: HolderCrypto
) -> None:
    housing, license_id, _ = _stored_license(sessions, blobs, crypto)
    renderer = CountingRenderer()
    count = 4

    def request(i: int) -> MadeCopy:
        use = UseContext("住房保障资格审核", f"ZJ-2026-{i:06d}")
        return _department_copy(sessions, blobs, renderer, housing, license_id, use)

    results = run_together(count, request)
    assert not any(r.reused for r in results)
    assert len({r.copy.id for r in results}) == count == renderer.made
    assert _count(sessions, CertifiedCopy) == count


_OTHER_PROCESS = """
import sys
from vault.db import make_engine, make_session_factory
from vault.db import make_engine, make_session_factory
from vault.db.keylock import key_lock
from vault.errors import ConflictError

sessions = make_session_factory(make_engine(sys.argv[1]))
try:
    with sessions() as session, key_lock(session, "test", 1, wait=0.3):
        print("acquired")
except ConflictError as exc:
    print(exc)
"""


def _other_process(db_url: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", _OTHER_PROCESS, db_url],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": ""},
        check=True,
    )
    return result.stdout.strip()


def test_the_lock_holds_across_processes_and_times_out(
    sessions: sessionmaker[Session], db_url: str
) -> None:
    with sessions() as session, key_lock(session, "test", 1):
        assert _other_process(db_url) == (
            "an identical request is still being served (waited 0.3 s): try again"
        )
        with sessions() as other, key_lock(other, "test", 2, wait=0.3):
            pass  # another key is free meanwhile, in this process too
    assert _other_process(db_url) == "acquired"


def test_a_waiting_thread_times_out_with_a_conflict(sessions: sessionmaker[Session]) -> None:
    with sessions() as session, key_lock(session, "test", 3):
        failures: list[str] = []

        def other() -> None:
            with sessions() as s:
                try:
                    with key_lock(s, "test", 3, wait=0.2):
                        pass
                except ConflictError as exc:
                    failures.append(str(exc))

        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
    assert failures == ["an identical request is still being served (waited 0.2 s): try again"]


def test_the_lock_is_released_after_an_error(sessions: sessionmaker[Session]) -> None:
    with (
        pytest.raises(RuntimeError, match="boom"),
        sessions() as session,
        key_lock(session, "test", 4),
    ):
        raise RuntimeError("boom")
    with sessions() as session, key_lock(session, "test", 4, wait=0.2):
        pass


@pytest.mark.postgres
def test_lock_timeout_applies_to_the_lock_only(postgres_schema: str) -> None:
    engine = make_engine(schema_url(postgres_schema))
    sessions = make_session_factory(engine)
    held = text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = :pid")
    try:
        with sessions() as session, key_lock(session, "test", 5, wait=7) as locked:
            assert locked.execute(text("SHOW lock_timeout")).scalar() == "0"
            pid = locked.execute(text("SELECT pg_backend_pid()")).scalar()
            assert locked.execute(held, {"pid": pid}).scalar() == 1
        with sessions() as other:
            assert other.execute(held, {"pid": pid}).scalar() == 0  # unlocked, not just idle
    finally:
        engine.dispose()
