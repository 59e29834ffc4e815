"""Checkpoints made concurrently by two workers (SQLite and PostgreSQL).

Regression: ``make_checkpoint`` read the tree and then the latest checkpoint in separate
statements, so a checkpoint committed by another worker in between looked like a rewritten
history ("log entry N is missing: the checkpoint of size M covers it; refusing to sign")
and the copy request that needed the checkpoint failed. Checkpointing is now serialized.

The interleaving is forced rather than hoped for: right after the first worker has read
the tree, a second worker appends an entry and makes its own checkpoint. With the fix the
second worker waits for the first one's commit; without it, it slips in between.
"""

from __future__ import annotations

import itertools
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session, sessionmaker

from signing.transparency import LogSigner, verify_consistency
from vault.log.append import append_event
from vault.log.checkpoints import latest_checkpoint, make_checkpoint
from vault.log.keys import load_log_key
from vault.log.proofs import LogTreeCache, consistency_proof
from vault.models.log import LogCheckpoint
from vault.settings import load_settings

#: How long the first worker gives the second one to slip in (it cannot, with the fix).
SLIP_IN_SECONDS = 1.0


@pytest.fixture
def signer(tmp_path: Path) -> LogSigner:
    return load_log_key(load_settings(mode="demo", data_dir=tmp_path / "data"))


def _append(sessions: sessionmaker[Session], n: int) -> None:
    with sessions() as s:
        for i in range(n):
            append_event(session=s, event_type="copy.issued", payload={"i": i})
        s.commit()


def test_a_checkpoint_between_reading_the_tree_and_signing_is_no_rewritten_history(
    engine: Engine, sessions: sessionmaker[Session], signer: LogSigner
) -> None:
    _append(sessions, 5)
    with sessions() as s:
        make_checkpoint(session=s, log_key=signer)
        s.commit()
    _append(sessions, 3)

    first = threading.current_thread()
    other_errors: list[BaseException] = []
    fired = threading.Event()

    def other_worker() -> None:
        try:
            _append(sessions, 2)
            with sessions() as s:
                make_checkpoint(session=s, log_key=signer, cache=LogTreeCache())
                s.commit()
        except BaseException as exc:  # reported below
            other_errors.append(exc)

    def after_tree_read(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if threading.current_thread() is not first or fired.is_set():
            return
        if "log_entries.idx >=" in statement:
            fired.set()
            other = threading.Thread(target=other_worker)
            other.start()
            other.join(SLIP_IN_SECONDS)
            threads.append(other)

    threads: list[threading.Thread] = []
    event.listen(engine, "after_cursor_execute", after_tree_read)
    try:
        with sessions() as s:
            row = make_checkpoint(session=s, log_key=signer, cache=LogTreeCache())
            s.commit()
    finally:
        event.remove(engine, "after_cursor_execute", after_tree_read)
        for t in threads:
            t.join()
    assert fired.is_set()
    assert other_errors == []
    assert row.tree_size == 8  # the first worker signed the tree it read

    with sessions() as s:
        rows = s.scalars(
            select(LogCheckpoint).order_by(LogCheckpoint.tree_size, LogCheckpoint.id)
        ).all()
        assert [r.tree_size for r in rows] == [5, 8, 10]
        verifier = signer.verifier()
        signed = [verifier.verify(r.signed_note, origin=signer.name).checkpoint for r in rows]
        for before, after in itertools.pairwise(signed):
            verify_consistency(
                first=before.size,
                second=after.size,
                first_hash=before.root_hash,
                second_hash=after.root_hash,
                consistency_path=consistency_proof(session=s, first=before.size, second=after.size),
            )


def test_the_latest_checkpoint_is_read_as_one_row(
    engine: Engine, sessions: sessionmaker[Session], signer: LogSigner
) -> None:
    """A copy reads the latest checkpoint; with a checkpoint per copy, it must not read all."""
    for _ in range(3):
        _append(sessions, 1)
        with sessions() as s:
            make_checkpoint(session=s, log_key=signer)
            s.commit()
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "log_checkpoints" in statement:
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        with sessions() as s:
            latest = latest_checkpoint(session=s)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert latest is not None and latest.tree_size == 3
    assert len(statements) == 1 and "LIMIT" in statements[0].upper()
