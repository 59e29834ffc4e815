"""Licenses referenced as materials of a department's case: concurrent references of one
case and version make one reference, and every one is logged."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.helpers.permitted import push_permitted_license
from vault.blobs import LocalBlobStore
from vault.crypto import HolderCrypto
from vault.log.access_log import UseContext
from vault.models import AccessEvent, CaseLicense
from vault.services.case_licenses import reference_license

pytestmark = pytest.mark.parametrize("db_url", ["postgres"], indirect=True)

USE = UseContext("办理公积金提取", "GJJ-2026-0042")


def test_concurrent_references_of_one_case_make_one(
    sessions: sessionmaker[Session], blobs: LocalBlobStore, crypto: HolderCrypto
) -> None:
    with sessions() as s:
        pushed = push_permitted_license(s, blobs=blobs, crypto=crypto)
    department, public_id = pushed.catalog.housing, pushed.license.public_id

    def reference(_: int) -> bool:
        with sessions() as s:
            view = reference_license(
                session=s, department_id=department, public_id=public_id, use=USE
            )
            s.commit()
            return view.created

    with ThreadPoolExecutor(max_workers=20) as pool:
        created = list(pool.map(reference, range(20)))

    assert created.count(True) == 1
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(CaseLicense)) == 1
        reasons = s.scalars(
            select(AccessEvent.reason).where(AccessEvent.action == "case_reference")
        ).all()
        assert sorted(reasons, key=str) == sorted([None] + ["already referenced"] * 19, key=str)
