"""The access log's writers: every row's leaf is the leaf the log format defines.

:func:`record_and_commit` on PostgreSQL has the server complete and hash the leaf (row id
and index are only known under the lock); these tests hold it to the same bytes as
:class:`signing.transparency.LogEvent`, on both databases, alone and under concurrency.
"""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from vault.db.base import utcnow
from vault.log.access_log import (
    EventValues,
    UseContext,
    record_and_commit,
    record_event,
)
from vault.log.proofs import exported_entry
from vault.models import AccessEvent, Department
from vault.models.log import LogEntry

EVENTS = [
    EventValues(action="read", outcome="denied", actor="department", at=utcnow()),
    EventValues(
        action="search",
        outcome="allowed",
        actor="department",
        at=utcnow(),
        use=UseContext('办理公积金提取 "quoted" \\ 与 emoji 🙂', "GJJ-2025-0001"),
        reason="2 license(s)",
    ),
    EventValues(
        action="read",
        outcome="allowed",
        actor="department",
        at=dt.datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=dt.timezone(dt.timedelta(hours=8))),
        basis="standing_permission",
        use=UseContext("p", "c\nwith a newline"),
    ),
]


def _check_log(sessions: sessionmaker[Session]) -> list[LogEntry]:
    """Every leaf re-derives from its row, indexes are 0..n-1, rows and leaves name each other."""
    with sessions() as s:
        rows = list(s.scalars(select(LogEntry).order_by(LogEntry.idx)))
        events = {e.id: e for e in s.scalars(select(AccessEvent))}
    assert [row.idx for row in rows] == list(range(len(rows)))
    for row in rows:
        entry = exported_entry(row)
        assert entry.event.leaf_hash() == entry.recorded_leaf_hash, row.idx
        event = events[entry.event.payload["access_event"]]
        assert event.log_index == row.idx
        assert entry.event.payload["action"] == event.action
        assert entry.event.payload.get("purpose") == event.purpose
    return rows


def test_record_and_commit_writes_the_defined_leaf(sessions: sessionmaker[Session]) -> None:
    recorded = []
    for event in EVENTS:
        with sessions() as s:
            recorded.append(record_and_commit(s, event))
    assert [r.log_index for r in recorded] == [0, 1, 2]
    rows = _check_log(sessions)  # committed: a new session sees them
    assert [row.event_type for row in rows] == ["access.read", "access.search", "access.read"]
    with sessions() as s:
        third = s.get(AccessEvent, recorded[2].id)
        assert third is not None and third.case_no == "c\nwith a newline"
        assert third.at == EVENTS[2].at


def test_both_writers_interleave_in_one_log(sessions: sessionmaker[Session]) -> None:
    for n in range(6):
        with sessions() as s:
            if n % 2:
                record_and_commit(s, EVENTS[n % 3])
            else:
                record_event(session=s, action="grant", outcome="allowed", actor="holder")
                s.commit()
    assert len(_check_log(sessions)) == 6


def test_record_and_commit_commits_the_session_writes_with_the_row(
    sessions: sessionmaker[Session],
) -> None:
    with sessions() as s:
        s.add(Department(name="某某局", credit_code="11350100MB0000000X"))
        record_and_commit(s, EVENTS[0])
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Department)) == 1


def test_a_refused_row_writes_nothing(sessions: sessionmaker[Session]) -> None:
    bad = EventValues(
        action="read", outcome="denied", actor="department", at=utcnow(), holder_id=999
    )
    with sessions() as s:
        s.add(Department(name="某某局", credit_code="11350100MB0000000X"))
        with pytest.raises(IntegrityError):
            record_and_commit(s, bad)  # no such holder
        s.rollback()
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(LogEntry)) == 0
        assert s.scalar(select(func.count()).select_from(AccessEvent)) == 0
        assert s.scalar(select(func.count()).select_from(Department)) == 0
    with sessions() as s:  # and the log goes on from index 0
        assert record_and_commit(s, EVENTS[0]).log_index == 0


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_concurrent_writers_keep_the_log_contiguous(sessions: sessionmaker[Session]) -> None:
    def work(n: int) -> None:
        for k in range(15):
            with sessions() as s:
                if (n + k) % 4:
                    record_and_commit(s, EVENTS[k % 3])
                else:
                    record_event(session=s, action="grant", outcome="allowed", actor="holder")
                    s.commit()

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(work, range(8)))
    assert len(_check_log(sessions)) == 120
