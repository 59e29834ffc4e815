"""Issue 14, faults: the blob store fails during intake or a certified copy.

Each test checks "acknowledged ⇒ present, refused ⇒ absent": a refused request leaves no
license row, no log entry for the license, no copy row and no blob; the same request
succeeds once the store is back, without restarting anything.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from httpx import Response
from sqlalchemy import text

from tests.api.conftest import Api, _make_api
from tests.faults.conftest import RestartableS3, TinyDisk, row_counts
from tests.vault.conftest import sqlite_template  # noqa: F401

PROBLEM = "application/problem+json"
USE = {"purpose": "住房保障资格审核", "case_no": "ZJ-1"}


def _assert_storage_unavailable(answer: Response) -> None:
    assert answer.status_code == 503, answer.text
    assert answer.headers["content-type"] == PROBLEM
    assert answer.headers["retry-after"] == "30"  # when to try again (RFC 9110, 10.2.3)
    body = answer.json()
    assert body["type"] == "urn:evault:problem:storage-unavailable"
    assert "/" not in body["detail"] and "127.0.0.1" not in answer.text  # no paths, no hosts


def _log_actions(api: Api) -> list[str]:
    with api.ctx.engine.connect() as conn:
        rows = conn.execute(text("SELECT action FROM access_events ORDER BY id")).scalars()
        return [str(action) for action in rows]


def _blobs(api: Api) -> set[str]:
    return {blob.sha256 for blob in api.ctx.blobs.iter()}


@pytest.mark.s3
def test_intake_while_s3_is_down_is_503_and_writes_nothing(
    s3_api: Api, s3_server: RestartableS3
) -> None:
    api = s3_api
    before = row_counts(api)
    s3_server.stop()

    _assert_storage_unavailable(api.push(1))
    assert row_counts(api) == before
    assert api.client.get("/readyz").status_code == 503

    s3_server.start()
    assert _blobs(api) == set()  # refused ⇒ absent
    pushed = api.push(1)
    assert pushed.status_code == 201, pushed.text  # recovers without a restart
    stored = pushed.json()["license"]
    assert _blobs(api) == {stored["sha256"]}  # acknowledged ⇒ present
    after = row_counts(api)
    assert after["licenses"] == before["licenses"] + 1
    assert after["log_entries"] == before["log_entries"] + 1
    pdf = api.client.get(f"/v1/me/licenses/{stored['id']}/pdf", headers=api.holder())
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert api.client.get("/readyz").status_code == 200


@pytest.mark.s3
def test_a_copy_while_s3_is_down_is_503_and_makes_no_copy(
    s3_api: Api, s3_server: RestartableS3
) -> None:
    api = s3_api
    pushed = api.push(1)
    assert pushed.status_code == 201, pushed.text
    license_id = pushed.json()["license"]["id"]
    blobs_before = _blobs(api)
    before = row_counts(api)
    s3_server.stop()

    refused = api.client.post(
        f"/v1/licenses/{license_id}/copies", headers=api.dept("housing"), json=USE
    )
    _assert_storage_unavailable(refused)
    after = row_counts(api)
    assert after["certified_copies"] == 0
    # logged before sealing (to carry its inclusion proof), then its failure: no copy exists
    assert after["log_entries"] == before["log_entries"] + 2
    assert _log_actions(api)[-2:] == ["copy", "copy_failed"]

    s3_server.start()
    assert _blobs(api) == blobs_before  # no copy's bytes
    made = api.client.post(
        f"/v1/licenses/{license_id}/copies", headers=api.dept("housing"), json=USE
    )
    assert made.status_code == 201, made.text
    assert row_counts(api)["certified_copies"] == 1
    copy_pdf = api.client.get(f"/v1/copies/{made.json()['id']}/pdf", headers=api.dept("housing"))
    assert copy_pdf.status_code == 200 and copy_pdf.content.startswith(b"%PDF")
    assert len(_blobs(api)) == len(blobs_before) + 1


def test_intake_on_a_full_blob_disk_is_503_and_writes_nothing(
    sqlite_template: Path,  # noqa: F811
    tiny_disk: TinyDisk,
    tmp_path: Path,
) -> None:
    import shutil

    target = tmp_path / "evault.db"  # the database is not on the full disk
    shutil.copyfile(sqlite_template, target)
    with _make_api(f"sqlite:///{target}", tmp_path) as api:
        before = row_counts(api)
        tiny_disk.fill()

        _assert_storage_unavailable(api.push(1))
        assert row_counts(api) == before
        assert _blobs(api) == set()
        assert list((tiny_disk.root / "tmp").iterdir()) == []  # no partial file left
        assert api.client.get("/readyz").status_code == 503

        tiny_disk.free()
        pushed = api.push(1)
        assert pushed.status_code == 201, pushed.text
        assert _blobs(api) == {pushed.json()["license"]["sha256"]}
        assert row_counts(api)["licenses"] == before["licenses"] + 1
        assert api.client.get("/readyz").status_code == 200
