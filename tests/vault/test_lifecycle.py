"""Status changes, computed expiry and the recorded history, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from schemas.license import LicenseStatus
from tests.vault.licenses import Catalog, license_pdf, make_catalog, metadata, verifier
from vault.blobs import LocalBlobStore
from vault.crypto import HolderCrypto
from vault.errors import ConflictError, InvalidInput, NotFound
from vault.services import lifecycle
from vault.services.intake import IntakeResult, ingest

S = LicenseStatus


@pytest.fixture
def pushed(
    session: Session, blobs: LocalBlobStore, crypto: HolderCrypto
) -> tuple[Catalog, IntakeResult]:
    cat = make_catalog(session)
    result = ingest(
        session=session,
        blobs=blobs,
        verifier=verifier(),
        crypto=crypto,
        metadata=metadata(100, valid_until=dt.date(2030, 6, 30)),
        pdf=license_pdf(100),
        pushed_by_department_id=cat.market,
    )
    return cat, result


def test_transitions_and_history(session: Session, pushed: tuple[Catalog, IntakeResult]) -> None:
    cat, result = pushed
    license_id, public_id = result.license.id, result.license.public_id
    lifecycle.change_status(
        session=session,
        public_id=public_id,
        to=S.SUSPENDED,
        reason="整改",
        by_department_id=cat.market,
    )
    lifecycle.change_status(
        session=session,
        public_id=public_id,
        to="valid",
        reason="整改完成",
        by_department_id=cat.market,
    )
    change = lifecycle.change_status(
        session=session,
        public_id=public_id,
        to="注销",
        reason="申请注销",
        by_department_id=None,
        actor="cli:ops",
    )
    assert change.actor == "cli:ops"
    history = lifecycle.status_history(session=session, license_id=license_id)
    assert [(h.from_status, h.to_status, h.reason) for h in history] == [
        ("有效", "暂扣", "整改"),
        ("暂扣", "有效", "整改完成"),
        ("有效", "注销", "申请注销"),
    ]
    assert history[0].actor == f"department:{cat.market}"
    assert lifecycle.get_license(session=session, license_id=license_id).status == "注销"
    with pytest.raises(ConflictError) as exc:
        lifecycle.change_status(
            session=session,
            public_id=public_id,
            to=S.VALID,
            reason="x",
            by_department_id=cat.market,
        )
    assert str(exc.value) == f"license {public_id} is 注销: it cannot become 有效 (allowed: none)"


def test_refused_changes(session: Session, pushed: tuple[Catalog, IntakeResult]) -> None:
    cat, result = pushed
    license_id, public_id = result.license.id, result.license.public_id
    # another department's license is not there for it: the answer for a missing one
    with pytest.raises(NotFound) as denied:
        lifecycle.change_status(
            session=session,
            public_id=public_id,
            to=S.REVOKED,
            reason="x",
            by_department_id=cat.police,
        )
    assert str(denied.value) == "no such license among this department's licenses"
    with pytest.raises(InvalidInput) as expired:
        lifecycle.change_status(
            session=session,
            public_id=public_id,
            to=S.EXPIRED,
            reason="x",
            by_department_id=cat.market,
        )
    assert str(expired.value) == "失效 (expired) cannot be set: it follows from 有效期截止"
    with pytest.raises(InvalidInput, match="a status change needs a reason"):
        lifecycle.change_status(
            session=session,
            public_id=public_id,
            to=S.REVOKED,
            reason=" ",
            by_department_id=cat.market,
        )
    with pytest.raises(InvalidInput, match="证照状态 'bogus' is not one of"):
        lifecycle.change_status(
            session=session,
            public_id=public_id,
            to="bogus",
            reason="x",
            by_department_id=cat.market,
        )
    with pytest.raises(NotFound, match="no such license among this department's licenses"):
        lifecycle.change_status(
            session=session, public_id="l_nothing", to=S.REVOKED, reason="x", by_department_id=None
        )
    assert lifecycle.status_history(session=session, license_id=license_id) == []


def test_expiry_is_computed_not_stored(
    session: Session, pushed: tuple[Catalog, IntakeResult]
) -> None:
    _, result = pushed
    license = result.license
    version = result.version
    cst = lifecycle.CHINA_TZ
    last_day = dt.datetime(2030, 6, 30, 23, 59, tzinfo=cst)
    next_day = dt.datetime(2030, 7, 1, 0, 1, tzinfo=cst)
    assert lifecycle.effective_status(license=license, version=version, now=last_day).usable
    after = lifecycle.effective_status(license=license, version=version, now=next_day)
    assert after.status is S.EXPIRED and after.stored_status is S.VALID and not after.usable
    assert lifecycle.get_license(session=session, license_id=license.id).status == "有效"


def test_allowed_transitions_table() -> None:
    assert lifecycle.ALLOWED_TRANSITIONS[S.VALID] == {
        S.SUSPENDED,
        S.WITHDRAWN,
        S.CANCELLED,
        S.REVOKED,
    }
    assert lifecycle.ALLOWED_TRANSITIONS[S.SUSPENDED] == {
        S.VALID,
        S.WITHDRAWN,
        S.CANCELLED,
        S.REVOKED,
    }
    for final in lifecycle.FINAL_STATUSES:
        assert lifecycle.ALLOWED_TRANSITIONS[final] == frozenset()
