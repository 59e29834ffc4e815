"""gc removes unreferenced blobs older than the grace period, and nothing else."""

from __future__ import annotations

import datetime as dt
import hashlib
import os

import pytest
from sqlalchemy.orm import Session

from tests.vault.licenses import license_pdf, make_catalog, metadata, verifier
from vault.blobs import LocalBlobStore
from vault.crypto import HolderCrypto
from vault.services.gc import blob_reference_columns, collect_garbage
from vault.services.intake import ingest

GRACE = dt.timedelta(hours=24)


def _age(blobs: LocalBlobStore, sha: str, hours: float) -> None:
    path = blobs.root / sha[:2] / sha[2:4] / sha
    when = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours)).timestamp()
    os.utime(path, (when, when))


def test_gc_keeps_referenced_and_young_removes_old_orphans(
    session: Session, blobs: LocalBlobStore, crypto: HolderCrypto
) -> None:
    cat = make_catalog(session)
    result = ingest(
        session=session,
        blobs=blobs,
        verifier=verifier(),
        crypto=crypto,
        metadata=metadata(200),
        pdf=license_pdf(200),
        pushed_by_department_id=cat.market,
    )
    referenced = result.version.blob_sha256
    old_orphan = blobs.put(b"a blob whose commit never happened")
    young_orphan = blobs.put(b"a blob whose commit is in flight")
    _age(blobs, referenced, 48)
    _age(blobs, old_orphan, 48)
    _age(blobs, young_orphan, 1)

    dry = collect_garbage(session=session, blobs=blobs, grace=GRACE, dry_run=True)
    assert dry.removed == (old_orphan,)
    assert blobs.exists(old_orphan)

    done = collect_garbage(session=session, blobs=blobs, grace=GRACE)
    assert (done.scanned, done.referenced, done.young, done.removed) == (3, 1, 1, (old_orphan,))
    assert not blobs.exists(old_orphan)
    assert blobs.exists(young_orphan)
    assert blobs.get(referenced) == license_pdf(200)


def test_a_blob_put_again_is_young_again(session: Session, blobs: LocalBlobStore) -> None:
    data = b"orphan about to be referenced again"
    sha = blobs.put(data)
    _age(blobs, sha, 48)
    assert blobs.put(data) == hashlib.sha256(data).hexdigest()
    result = collect_garbage(session=session, blobs=blobs, grace=GRACE)
    assert result.removed == () and result.young == 1


def test_reference_columns_come_from_the_models() -> None:
    names = {f"{c.table.name}.{c.name}" for c in blob_reference_columns()}
    assert "license_versions.blob_sha256" in names


def test_a_failure_before_commit_leaves_no_rows_and_gc_takes_the_blob(
    session: Session, blobs: LocalBlobStore, crypto: HolderCrypto, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The blob is written first; if the transaction then fails, nothing references it."""
    from sqlalchemy import func, select

    from vault.models import License, LicenseVersion
    from vault.services import intake

    cat = make_catalog(session)

    def crash(**_kwargs: object) -> None:
        raise RuntimeError("the process died before commit")

    # The last step before the commit is the transparency-log append: make it fail.
    monkeypatch.setattr(intake, "append_event", crash)
    with pytest.raises(RuntimeError, match="the process died before commit"):
        ingest(
            session=session,
            blobs=blobs,
            verifier=verifier(),
            crypto=crypto,
            metadata=metadata(201),
            pdf=license_pdf(201),
            pushed_by_department_id=cat.market,
        )
    assert session.scalar(select(func.count()).select_from(License)) == 0
    assert session.scalar(select(func.count()).select_from(LicenseVersion)) == 0
    sha = hashlib.sha256(license_pdf(201)).hexdigest()
    assert blobs.exists(sha)  # written before the failed commit, unreferenced
    assert collect_garbage(session=session, blobs=blobs, grace=GRACE).removed == ()
    _age(blobs, sha, 48)
    assert collect_garbage(session=session, blobs=blobs, grace=GRACE).removed == (sha,)
    monkeypatch.undo()
    # Pushing it again works: the license lands whole.
    again = ingest(
        session=session,
        blobs=blobs,
        verifier=verifier(),
        crypto=crypto,
        metadata=metadata(201),
        pdf=license_pdf(201),
        pushed_by_department_id=cat.market,
    )
    assert again.created and blobs.get(sha) == license_pdf(201)


def test_gc_deletes_ended_web_sessions_and_expired_idempotent_answers(session: Session) -> None:
    from sqlalchemy import select

    from vault.models import IdempotentAnswer, WebSession
    from vault.services.gc import collect_expired_rows

    now = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)
    idle = dt.timedelta(minutes=30)
    hour = dt.timedelta(hours=1)

    def web(name: str, *, seen: dt.timedelta, expires: dt.timedelta) -> WebSession:
        return WebSession(
            id=hashlib.sha256(name.encode()).hexdigest(),
            created_at=now - 2 * hour,
            last_seen_at=now - seen,
            expires_at=now + expires,
        )

    def answer(key: str, age: dt.timedelta) -> IdempotentAnswer:
        return IdempotentAnswer(
            caller="department:1",
            key=key,
            fingerprint="0" * 64,
            status=201,
            body=b"sealed",
            created_at=now - age,
        )

    alive = web("alive", seen=dt.timedelta(minutes=5), expires=hour)
    session.add_all(
        [
            alive,
            web("idle", seen=dt.timedelta(minutes=31), expires=hour),
            web("expired", seen=dt.timedelta(minutes=1), expires=-dt.timedelta(seconds=1)),
            answer("fresh", dt.timedelta(hours=23)),
            answer("old", dt.timedelta(hours=25)),
        ]
    )
    session.commit()

    removed = collect_expired_rows(session=session, idle=idle, now=now)
    session.commit()

    assert (removed.web_sessions, removed.idempotent_answers) == (2, 1)
    assert session.scalars(select(WebSession.id)).all() == [alive.id]
    assert session.scalars(select(IdempotentAnswer.key)).all() == ["fresh"]
    again = collect_expired_rows(session=session, idle=idle, now=now)
    assert (again.web_sessions, again.idempotent_answers) == (0, 0)
