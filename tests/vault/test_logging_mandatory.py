"""Logging cannot be skipped: every caller of the vault services gets its events logged.

There is no hook to pass and none to forget: intake (the API, the bulk import, a script),
status changes (the API or an operator) and every department read append to the
transparency log themselves, and the department reads commit that record before they
return or refuse (SQLite and PostgreSQL).
"""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.helpers.permitted import push_permitted_license
from tests.vault.licenses import (
    HOLDER,
    OTHER_HOLDER,
    license_pdf,
    make_catalog,
    metadata,
    trust_bundle,
    verifier,
)
from tests.vault.test_bulk import GOOD, make_stock
from vault.blobs import LocalBlobStore
from vault.bootstrap import build_verifier
from vault.crypto import HolderCrypto
from vault.db.base import utcnow
from vault.errors import PermissionDenied
from vault.log.proofs import entries, exported_entry
from vault.models import AccessEvent, Holder
from vault.models.log import LogEntry
from vault.services import grants, lifecycle
from vault.services.access import (
    DENIED,
    UseContext,
    read_license_for_department,
    search_for_department,
)
from vault.services.bulk import import_stock
from vault.services.intake import ingest
from vault.settings import load_settings

USE = UseContext("办理公积金提取", "GJJ-2025-0001")


def _types(sessions: sessionmaker[Session]) -> list[str]:
    with sessions() as s:
        return list(s.scalars(select(LogEntry.event_type).order_by(LogEntry.idx)))


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_bulk_import_logs_every_license_it_stores(
    sessions: sessionmaker[Session],
    blobs: LocalBlobStore,
    crypto: HolderCrypto,
    tmp_path: Path,
) -> None:
    with sessions() as s:
        make_catalog(s)
    bundle = tmp_path / "trust-bundle.json"
    bundle.write_bytes(trust_bundle().dump())
    summary = import_stock(
        sessions=sessions,
        blobs=blobs,
        crypto=crypto,
        verifier_factory=functools.partial(build_verifier, load_settings(trust_bundle=bundle)),
        source=tmp_path / "stock",
        manifest=make_stock(tmp_path / "stock"),
        workers=1,
    )
    assert summary.ingested == GOOD
    assert _types(sessions) == ["license.ingested"] * GOOD  # duplicates and refusals: none


def test_an_operator_status_change_is_logged(
    sessions: sessionmaker[Session], blobs: LocalBlobStore, crypto: HolderCrypto
) -> None:
    with sessions() as s:
        cat = make_catalog(s)
        result = ingest(
            session=s,
            blobs=blobs,
            verifier=verifier(),
            crypto=crypto,
            metadata=metadata(1),
            pdf=license_pdf(1),
            pushed_by_department_id=cat.market,
        )
        lifecycle.change_status(
            session=s,
            public_id=result.license.public_id,
            to="暂扣",
            reason="行政处罚",
            by_department_id=None,
            actor="cli:operator",
        )
        s.commit()  # the test is the edge
    assert _types(sessions) == ["license.ingested", "license.status_changed"]


def test_department_reads_are_committed_with_their_leaves_even_when_refused(
    sessions: sessionmaker[Session], blobs: LocalBlobStore, crypto: HolderCrypto
) -> None:
    with sessions() as s:
        pushed = push_permitted_license(s, blobs=blobs, crypto=crypto)
        cat, license_id, public_id = pushed.catalog, pushed.license.id, pushed.license.public_id

    # Each call in a session that is closed without a commit of its own.
    with sessions() as s:
        found = search_for_department(
            session=s,
            crypto=crypto,
            department_id=cat.housing,
            holder_id=HOLDER,
            holder_id_type=None,
            use=USE,
        )
        assert [(r.id, r.version, r.holder_masked_id) for r in found] == [
            (license_id, 1, HOLDER[:6] + "********" + HOLDER[-4:])
        ]
    with sessions() as s:
        read = read_license_for_department(
            session=s, department_id=cat.housing, public_id=public_id, use=USE
        )
        assert read.id == license_id and read.public_id == public_id
    for refused in (
        lambda s: search_for_department(
            session=s,
            crypto=crypto,
            department_id=cat.housing,
            holder_id=OTHER_HOLDER,
            holder_id_type=None,
            use=USE,
        ),
        lambda s: read_license_for_department(
            session=s, department_id=cat.market, public_id=public_id, use=USE
        ),
        lambda s: read_license_for_department(
            session=s, department_id=cat.housing, public_id=public_id + "x", use=USE
        ),
    ):
        with sessions() as s, pytest.raises(PermissionDenied, match=f"^{DENIED}$"):
            refused(s)

    with sessions() as s:
        events = s.scalars(select(AccessEvent).order_by(AccessEvent.id)).all()
        assert [(e.action, e.outcome, e.reason) for e in events] == [
            ("search", "allowed", "1 license(s)"),
            ("read", "allowed", None),
            ("search", "denied", "no such holder"),
            ("read", "denied", "no permission or consent"),
            ("read", "denied", "no such license"),
        ]
        size = s.scalar(select(func.count()).select_from(LogEntry))
        assert size == 1 + len(events)  # the intake, then one leaf per decision
        for exported in entries(session=s, start=0, end=size):
            assert exported.event.leaf_hash() == exported.recorded_leaf_hash
        for e in events:
            assert e.log_index is not None
            leaf = exported_entry(s.get_one(LogEntry, e.log_index)).event
            assert leaf.event_type == f"access.{e.action}"
            assert leaf.payload["access_event"] == e.id
            assert leaf.payload["outcome"] == e.outcome
            assert leaf.payload["case_no"] == USE.case_no


def test_grant_services_log_the_holders_consent_themselves(
    sessions: sessionmaker[Session], blobs: LocalBlobStore, crypto: HolderCrypto
) -> None:
    with sessions() as s:
        cat = make_catalog(s)
        ingest(
            session=s,
            blobs=blobs,
            verifier=verifier(),
            crypto=crypto,
            metadata=metadata(1),
            pdf=license_pdf(1),
            pushed_by_department_id=cat.market,
        )
        holder = s.scalars(select(Holder)).one()
        now = utcnow()
        grant = grants.create_grant(
            session=s,
            holder=holder,
            department_id=cat.housing,
            expires_at=now + dt.timedelta(days=1),
            now=now,
        )
        code = grants.create_share_code(
            session=s, holder=holder, expires_at=now + dt.timedelta(hours=1), now=now
        )
        grants.revoke_grant(session=s, holder_id=holder.id, public_id=grant.public_id)
        s.commit()
    with sessions() as s:
        events = s.scalars(select(AccessEvent).order_by(AccessEvent.id)).all()
        assert [(e.action, e.grant_id, e.department_id) for e in events] == [
            ("grant", grant.id, cat.housing),
            ("grant", code.grant.id, None),
            ("grant_revoke", grant.id, cat.housing),
        ]
        leaves = [s.get_one(LogEntry, e.log_index).event_type for e in events if e.log_index]
        assert leaves == ["access.grant", "access.grant", "access.grant_revoke"]
