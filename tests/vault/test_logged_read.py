"""A department's read and its log row in one query (PostgreSQL): the same rows and leaves
as the usual path, the log contiguous under concurrent writers, and the usual path taken
whenever the one query cannot decide (grants to read) or does not apply."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from tests.helpers.permitted import push_permitted_license
from tests.vault.licenses import CITIZEN_TYPE, COMPANY_TYPE
from tests.vault.licenses import HOLDER as HOLDER_ID
from tests.vault.licenses import OTHER_HOLDER as OTHER_HOLDER_ID
from tests.vault.test_recording import check_log
from vault.blobs import LocalBlobStore
from vault.crypto import HolderCrypto
from vault.db.base import utcnow
from vault.errors import PermissionDenied
from vault.log.access_log import (
    EventValues,
    connection_idle,
    locked_then_flushed,
    record_and_commit,
    record_event,
)
from vault.models import AccessEvent, Department, Holder, License
from vault.services import catalog
from vault.services.access import (
    UseContext,
    read_license_for_department,
    read_license_pooled,
    search_for_department,
    search_pooled,
)
from vault.services.grants import create_grant
from vault.services.license_records import OF_HOLDER_FOR_DEPARTMENT
from vault.services.logged_read import HOLDER, LICENSE, read_one_and_record, read_rows

pytestmark = pytest.mark.parametrize("db_url", ["postgres"], indirect=True)

USE = UseContext('办理 "公积金" 提取 \\ 🙂', "GJJ-2025-0001")


def _stored(sessions: sessionmaker[Session], blobs: LocalBlobStore, crypto: HolderCrypto):
    with sessions() as s:
        pushed = push_permitted_license(s, blobs=blobs, crypto=crypto)
        return pushed.catalog, pushed.license.public_id


def _events(department_id: int, now: dt.datetime) -> dict[str, EventValues]:
    """The three events of a read, as ``access.read_license_for_department`` builds them."""

    def event(outcome: str, **extra: Any) -> EventValues:
        return EventValues(
            action="read",
            outcome=outcome,
            actor="department",
            at=now,
            department_id=department_id,
            use=USE,
            **extra,
        )

    return {
        "allowed": event(
            "allowed", basis="standing_permission", holder_id=HOLDER, license_id=LICENSE
        ),
        "denied": event(
            "denied", reason="no permission or consent", holder_id=HOLDER, license_id=LICENSE
        ),
        "missing": event("denied", reason="no such license"),
    }


def test_one_query_records_what_the_read_decides(
    sessions: sessionmaker[Session], blobs: LocalBlobStore, crypto: HolderCrypto
) -> None:
    cat, public_id = _stored(sessions, blobs, crypto)
    now = utcnow()
    for department, public in (
        (cat.housing, public_id),  # standing permission: allowed
        (cat.police, public_id),  # no permission, no grant: denied
        (cat.housing, public_id + "x"),  # no such license: denied
    ):
        with sessions() as s:
            params = {"department_id": department, "public_id": public, "now": now}
            logged = read_one_and_record(s, params, **_events(department, now))
            assert logged is not None and logged.recorded
            assert (logged.row is None) == public.endswith("x")
            s.commit()
    check_log(sessions)  # every leaf re-derives from its row, indexes contiguous
    with sessions() as s:
        rows = s.scalars(select(AccessEvent).order_by(AccessEvent.id)).all()
        assert [(r.outcome, r.basis, r.reason, r.department_id) for r in rows] == [
            ("allowed", "standing_permission", None, cat.housing),
            ("denied", None, "no permission or consent", cat.police),
            ("denied", None, "no such license", cat.housing),
        ]
        assert rows[0].license_id == rows[1].license_id is not None
        assert rows[2].license_id is None and rows[2].holder_id is None
        assert all(r.purpose == USE.purpose and r.case_no == USE.case_no for r in rows)


def test_an_open_transaction_takes_the_usual_path(
    sessions: sessionmaker[Session], blobs: LocalBlobStore, crypto: HolderCrypto
) -> None:
    cat, public_id = _stored(sessions, blobs, crypto)
    with sessions() as s:
        s.add(Department(name="某某局", credit_code="11350100MB0000000X"))
        s.flush()  # a transaction with a write in it
        now = utcnow()
        params = {"department_id": cat.housing, "public_id": public_id, "now": now}
        assert read_one_and_record(s, params, **_events(cat.housing, now)) is None


def test_concurrent_reads_and_writers_keep_the_log_contiguous(
    sessions: sessionmaker[Session], blobs: LocalBlobStore, crypto: HolderCrypto
) -> None:
    cat, public_id = _stored(sessions, blobs, crypto)

    def work(n: int) -> None:
        for k in range(12):
            with sessions() as s:
                if (n + k) % 3 == 0:
                    record_event(session=s, action="grant", outcome="allowed", actor="holder")
                    s.commit()
                elif (n + k) % 3 == 1:
                    read_license_for_department(
                        session=s, department_id=cat.housing, public_id=public_id, use=USE
                    )
                else:
                    with pytest.raises(PermissionDenied):
                        read_license_for_department(
                            session=s, department_id=cat.police, public_id=public_id, use=USE
                        )

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(work, range(8)))
    assert len(check_log(sessions)) == 1 + 96  # the intake, then every use


def test_rows_read_past_sqlalchemy_are_sqlalchemys(
    sessions: sessionmaker[Session], blobs: LocalBlobStore, crypto: HolderCrypto
) -> None:
    """``read_rows`` sends the search's query on the driver's cursor: the same rows, value
    for value and type for type (the time in UTC), as SQLAlchemy's execution gives, for
    one blind index and for two (a key rotation), and for a holder with nothing."""
    cat, _ = _stored(sessions, blobs, crypto)
    with sessions() as s:
        holder = s.scalars(select(License.holder_blind_index)).one()
        now = utcnow()
        for indexes in ([holder], [b"\x00" * 32, holder], [b"\x01" * 32]):
            params = {"department_id": cat.housing, "blind_indexes": indexes, "now": now}
            usual = [tuple(row) for row in s.execute(OF_HOLDER_FOR_DEPARTMENT, params).all()]
            s.commit()
            assert connection_idle(s.connection().connection.driver_connection)  # the plain path
            plain = [tuple(row) for row in read_rows(s, OF_HOLDER_FOR_DEPARTMENT, params)]
            assert plain == usual
            assert [[type(v) for v in row] for row in plain] == [
                [type(v) for v in row] for row in usual
            ]
            assert all(row[5].tzinfo is dt.UTC for row in plain)
        assert len(usual) == 0 and len(plain) == 0
        assert read_rows(s, OF_HOLDER_FOR_DEPARTMENT, {**params, "blind_indexes": [holder]})


def test_a_pooled_read_records_as_a_session_read(
    sessions: sessionmaker[Session], blobs: LocalBlobStore, crypto: HolderCrypto
) -> None:
    """``read_license_pooled`` (no session of the caller's) allows, refuses and records as
    ``read_license_for_department``; a read that needs the holder's grants takes a session."""
    cat, public_id = _stored(sessions, blobs, crypto)
    engine = sessions.kw["bind"]
    opened: list[Session] = []

    def counted() -> Session:
        opened.append(sessions())
        return opened[-1]

    def pooled(department: int, public: str) -> object:
        return read_license_pooled(
            engine=engine, sessions=counted, department_id=department, public_id=public, use=USE
        )

    with sessions() as s:  # a using department without a standing permission
        other = catalog.create_department(
            session=s, name="某某局", credit_code="11350100MB0000000Y", user=True
        ).id
        s.commit()
    record = pooled(cat.housing, public_id)
    with sessions() as s:
        assert record == read_license_for_department(
            session=s, department_id=cat.housing, public_id=public_id, use=USE
        )
    for department, public in ((other, public_id), (cat.housing, public_id + "x")):
        with pytest.raises(PermissionDenied):
            pooled(department, public)
    assert opened == []  # the one query decided each
    with sessions() as s:  # a live grant of the holder to it: the rules decide
        holder = s.scalars(select(Holder)).one()
        create_grant(
            session=s,
            holder=holder,
            department_id=other,
            expires_at=utcnow() + dt.timedelta(days=30),
        )
        s.commit()
    assert pooled(other, public_id) == record
    assert len(opened) == 1
    check_log(sessions)
    with sessions() as s:
        rows = s.scalars(
            select(AccessEvent).where(AccessEvent.action == "read").order_by(AccessEvent.id)
        ).all()
        assert [(r.outcome, r.basis, r.department_id) for r in rows] == [
            ("allowed", "standing_permission", cat.housing),
            ("allowed", "standing_permission", cat.housing),
            ("denied", None, other),
            ("denied", None, cat.housing),
            ("allowed", "consent", other),
        ]


def test_a_pooled_search_answers_and_records_as_a_session_search(
    sessions: sessionmaker[Session], blobs: LocalBlobStore, crypto: HolderCrypto
) -> None:
    """``search_pooled`` (the read and the log row on a pooled connection when the read
    decides; else the usual path) finds, refuses and records as ``search_for_department``:
    a standing permission, a type asked for or not held, no permission, an unknown holder,
    a holder's consent; the log's leaves re-derive from their rows."""
    cat, _ = _stored(sessions, blobs, crypto)
    engine = sessions.kw["bind"]
    with sessions() as s:
        other = catalog.create_department(
            session=s, name="某某局", credit_code="11350100MB0000000Y", user=True
        ).id
        s.commit()
    opened: list[Session] = []

    def counted() -> Session:
        opened.append(sessions())
        return opened[-1]

    def both(department: int, holder: str, type_code: str | None = None) -> list[Any]:
        """The answer of each path and the access-log row it wrote (ids and times aside)."""
        answers = []
        asked = {
            "crypto": crypto,
            "department_id": department,
            "holder_id": holder,
            "holder_id_type": None,
            "use": USE,
            "type_code": type_code,
        }
        for pooled in (True, False):
            try:
                if pooled:
                    found: object = search_pooled(engine=engine, sessions=counted, **asked)
                else:
                    with sessions() as s:
                        found = search_for_department(session=s, **asked)
            except PermissionDenied:
                found = "refused"
            with sessions() as s:
                row = s.scalars(select(AccessEvent).order_by(AccessEvent.id.desc())).first()
                assert row is not None
                written = {
                    k: v
                    for k, v in vars(row).items()
                    if k not in ("_sa_instance_state", "id", "at", "log_index")
                }
            answers.append((found, written))
        assert answers[0] == answers[1]
        return answers[0]  # type: ignore[no-any-return]

    found, row = both(cat.housing, HOLDER_ID)
    assert len(found) == 1 and (row["outcome"], row["basis"]) == ("allowed", "standing_permission")
    assert both(cat.housing, HOLDER_ID, CITIZEN_TYPE)[0] == found
    assert both(cat.housing, HOLDER_ID, COMPANY_TYPE)[1]["reason"] == "nothing visible"
    assert both(other, HOLDER_ID)[1]["reason"] == "nothing visible"
    assert opened == []  # the read decided each
    assert both(cat.housing, OTHER_HOLDER_ID)[1]["reason"] == "no such holder"
    assert len(opened) == 1
    with sessions() as s:  # a live grant of the holder to it: the rules decide
        create_grant(
            session=s,
            holder=s.scalars(select(Holder)).one(),
            department_id=other,
            expires_at=utcnow() + dt.timedelta(days=30),
        )
        s.commit()
    assert both(other, HOLDER_ID)[1]["basis"] == "consent"
    assert len(opened) == 2
    check_log(sessions)


@pytest.fixture
def flush_probe(engine: Engine) -> Iterator[Any]:
    """An idle psycopg connection of ``engine`` and a table ``flush_probe`` (dropped after)."""
    pooled = engine.raw_connection()
    raw = pooled.driver_connection
    assert raw is not None
    raw.execute("CREATE TABLE flush_probe (n integer)")
    raw.commit()
    try:
        yield raw
    finally:
        raw.rollback()
        raw.execute("DROP TABLE flush_probe")
        raw.commit()
        pooled.close()


def _flushed_past(raw: Any, written: str) -> bool:
    """Whether the server's WAL is flushed past ``written``; ends the transaction."""
    row = raw.execute("SELECT pg_current_wal_flush_lsn() >= %s::pg_lsn", (written,)).fetchone()
    sync = raw.execute("SHOW synchronous_commit").fetchone()  # off for an append alone
    raw.commit()
    assert sync == ("on",)
    return bool(row == (True,))


def test_an_append_is_durable_when_it_returns(flush_probe: Any) -> None:
    """The append commits without waiting for its flush (the lock goes at once), and
    ``locked_then_flushed`` returns only once the WAL is flushed past it."""
    for n in range(20):
        (written,) = locked_then_flushed(
            flush_probe,
            b"INSERT INTO flush_probe VALUES (%(n)s) RETURNING pg_current_wal_insert_lsn()",
            {"n": n},
        )
        assert _flushed_past(flush_probe, str(written)), n


def test_a_session_append_is_durable_when_it_returns(
    flush_probe: Any, sessions: sessionmaker[Session]
) -> None:
    """The same for ``record_and_commit`` in a session that wrote before (one query)."""
    with sessions() as s:
        for n in range(20):
            written = s.execute(
                text("INSERT INTO flush_probe VALUES (:n) RETURNING pg_current_wal_insert_lsn()"),
                {"n": n},
            ).scalar_one()
            record_and_commit(
                s, EventValues(action="grant", outcome="allowed", actor="holder", at=utcnow())
            )
            assert _flushed_past(flush_probe, str(written)), n
    assert len(check_log(sessions)) == 20


def test_a_failed_append_writes_nothing_and_leaves_the_connection_idle(engine: Engine) -> None:
    pooled = engine.raw_connection()
    try:
        raw = pooled.driver_connection
        assert raw is not None
        before = _log_size(raw)
        with pytest.raises(psycopg.errors.DivisionByZero):
            locked_then_flushed(raw, _APPEND_THEN_FAIL, {})
        assert connection_idle(raw) and not raw.autocommit
        assert _log_size(raw) == before
        with raw.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            assert cursor.fetchone() == ("on",)
        raw.commit()
    finally:
        pooled.close()


_APPEND_THEN_FAIL = b"""
WITH entry AS (
    INSERT INTO log_entries (idx, created_at, event_type, payload, leaf_hash)
    SELECT coalesce(max(idx), -1) + 1, now(), 'probe', '', '' FROM log_entries
    RETURNING idx
)
SELECT 1 / (count(*) - 1) FROM entry
"""


def _log_size(raw: Any) -> int:
    with raw.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM log_entries")
        row = cursor.fetchone()
    raw.commit()
    return int(row[0])
