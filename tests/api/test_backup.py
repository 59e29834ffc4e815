"""Backups that restore (issue 14): a populated vault is backed up, restored into an empty
database and blob store, and then its log verifies and its API serves the same licenses and
copies, byte for byte. A damaged, partial or misdirected restore changes nothing."""

from __future__ import annotations

import json
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from tests.api.conftest import OTHER_HOLDER, Api
from tests.api.restored import cli_env, restored_client, run_cli
from tests.conftest import POSTGRES_URL
from tests.vault.conftest import schema_url
from tests.vault.test_blobs import s3_endpoint  # noqa: F401
from vault.blobs import LocalBlobStore
from vault.bootstrap import open_vault
from vault.cli import build_app
from vault.settings import load_settings

runner = CliRunner()
USE = {"purpose": "住房保障资格审核", "case_no": "ZJ-2026-000123"}


@pytest.fixture
def empty_url(db_url: str, tmp_path: Path) -> Iterator[str]:
    """An empty, never-migrated database of the same backend as ``db_url``."""
    if db_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored' / 'evault.db'}"
        return
    schema = f"evault_r_{secrets.token_hex(4)}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield schema_url(schema)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _populate(api: Api) -> dict[str, Any]:
    """Licenses of two holders, a status change, copies and reads: log entries of each kind."""
    ids = [api.push(n).json()["license"]["id"] for n in (1, 2)]
    ids.append(api.push(3, holder_id=OTHER_HOLDER).json()["license"]["id"])
    changed = api.client.patch(
        f"/v1/licenses/{ids[1]}/status",
        headers=api.dept("market"),
        json={"status": "暂扣", "reason": "核查中"},
    )
    assert changed.status_code == 200, changed.text
    copy = api.client.post(f"/v1/licenses/{ids[0]}/copies", headers=api.dept("housing"), json=USE)
    assert copy.status_code == 201, copy.text
    return {"licenses": ids, "copy": copy.json()["id"]}


def _served(client: TestClient, headers: dict[str, str], made: dict[str, Any]) -> dict[str, Any]:
    """What the API serves a holder: its licenses, their PDFs, the copy's PDF and status."""
    listing = client.get("/v1/me/licenses", headers=headers)
    assert listing.status_code == 200, listing.text
    pdfs = {}
    for lic in listing.json()["licenses"]:
        pdf = client.get(f"/v1/me/licenses/{lic['id']}/pdf", headers=headers)
        assert pdf.status_code == 200, pdf.text
        pdfs[lic["id"]] = pdf.content
    copy = client.get(f"/v1/copies/{made['copy']}/pdf", headers=headers)
    assert copy.status_code == 200, copy.text
    status = client.get(f"/v1/copies/{made['copy']}/status").json()
    return {
        "licenses": listing.json(),
        "pdfs": pdfs,
        "copy": copy.content,
        "copy_status": status,
    }


def test_backup_restores_into_an_empty_vault(api: Api, empty_url: str, tmp_path: Path) -> None:
    made = _populate(api)
    source = cli_env(tmp_path, str(api.ctx.settings.resolved_database_url))
    code, out = run_cli(source, "log", "checkpoint")
    assert code == 0, out
    before = _served(api.client, api.holder(), made)
    assert len(before["pdfs"]) == 2

    code, out = run_cli(source, "backup", str(tmp_path / "bk"))
    assert code == 0, out
    assert "keep the keys elsewhere" in out
    manifest = json.loads((tmp_path / "bk" / "manifest.json").read_text())
    assert manifest["blob_count"] == 4  # three licenses and one copy
    assert manifest["tables"]["log_entries"] >= 6
    assert not (tmp_path / "bk" / "secrets").exists()

    blob_dir = tmp_path / "restored-blobs"
    target = cli_env(tmp_path, empty_url, blob_dir)
    code, out = run_cli(target, "restore", str(tmp_path / "bk"))
    assert code == 0, out
    assert "restored" in out

    code, out = run_cli(target, "log", "export", "--out", str(tmp_path / "export"))
    assert code == 0, out
    code, out = run_cli(target, "log", "checkpoint")  # the log goes on under the same key
    assert code == 0, out
    export = tmp_path / "export"
    code, out = run_cli(
        target, "log", "verify", "--entries", str(export), "--log-key", str(export / "log-key.pem")
    )
    assert code == 0, out
    assert f"log verified: {manifest['tables']['log_entries']} entries" in out

    with restored_client(tmp_path, empty_url, blob_dir) as restored:
        holder = {"Authorization": f"Bearer {restored.ctx.holders.mint_demo(api_holder())}"}
        after = _served(restored.client, holder, made)
        assert after == before
        new = restored.client.post(
            f"/v1/me/licenses/{made['licenses'][0]}/copies",
            headers=holder,
            json={"purpose": "办理贷款", "recipient": "某银行"},
        )
        assert new.status_code == 201, new.text  # ids continue after the restored rows

    if not empty_url.startswith("sqlite"):  # a PostgreSQL vault moves to SQLite the same way
        lite, lite_blobs = f"sqlite:///{tmp_path / 'moved' / 'evault.db'}", tmp_path / "mb"
        code, out = run_cli(cli_env(tmp_path, lite, lite_blobs), "restore", str(tmp_path / "bk"))
        assert code == 0, out
        with restored_client(tmp_path, lite, lite_blobs) as moved:
            holder = {"Authorization": f"Bearer {moved.ctx.holders.mint_demo(api_holder())}"}
            assert _served(moved.client, holder, made) == before


def api_holder() -> str:
    from tests.api.conftest import HOLDER

    return HOLDER


@pytest.fixture
def backed_up(api_sqlite: Api, tmp_path: Path) -> Path:
    _populate(api_sqlite)
    source = cli_env(tmp_path, str(api_sqlite.ctx.settings.resolved_database_url))
    code, out = run_cli(source, "backup", str(tmp_path / "bk"))
    assert code == 0, out
    return tmp_path / "bk"


def _refused(tmp_path: Path, backup: Path, message: str) -> None:
    """Restore refuses with one line naming ``message``, and writes nothing."""
    target_db = tmp_path / "target" / "evault.db"
    blob_dir = tmp_path / "target-blobs"
    env = cli_env(tmp_path, f"sqlite:///{target_db}", blob_dir)
    result = runner.invoke(build_app(), ["restore", str(backup)], env=env)
    assert result.exit_code == 1, result.output
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not target_db.exists() or target_db.stat().st_size == 0
    assert not blob_dir.exists() or not list(LocalBlobStore(blob_dir).iter())


def test_a_damaged_blob_is_refused(backed_up: Path, tmp_path: Path) -> None:
    blob = next(p for p in (backed_up / "blobs").rglob("*") if p.is_file())
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 1
    blob.write_bytes(bytes(data))
    _refused(tmp_path, backed_up, f"backup is damaged: blob {blob.name} does not match")


def test_a_missing_blob_is_refused(backed_up: Path, tmp_path: Path) -> None:
    blob = next(p for p in (backed_up / "blobs").rglob("*") if p.is_file())
    blob.unlink()
    _refused(tmp_path, backed_up, f"backup is partial: blob {blob.name} is missing")


def test_an_unfinished_backup_is_refused(backed_up: Path, tmp_path: Path) -> None:
    (backed_up / "manifest.json").unlink()
    _refused(tmp_path, backed_up, "is not a complete backup")


def test_a_changed_row_is_refused(backed_up: Path, tmp_path: Path) -> None:
    rows = backed_up / "db" / "licenses.jsonl"
    rows.write_text(rows.read_text().replace("有效", "注销", 1))
    _refused(tmp_path, backed_up, "backup is damaged: db/licenses.jsonl does not match")


def test_a_forged_manifest_is_refused(backed_up: Path, tmp_path: Path) -> None:
    manifest = backed_up / "manifest.json"
    manifest.write_text(manifest.read_text().replace('"blob_count": 4', '"blob_count": 3'))
    _refused(tmp_path, backed_up, "manifest.json is damaged")


def test_restore_refuses_a_database_that_is_not_empty(
    backed_up: Path, api_sqlite: Api, tmp_path: Path
) -> None:
    url = str(api_sqlite.ctx.settings.resolved_database_url)
    before = Path(url.removeprefix("sqlite:///")).read_bytes()
    env = cli_env(tmp_path, url, tmp_path / "target-blobs")
    code, out = run_cli(env, "restore", str(backed_up))
    assert code == 1
    assert "the database is not empty (table" in out
    assert Path(url.removeprefix("sqlite:///")).read_bytes() == before
    assert not list(LocalBlobStore(tmp_path / "target-blobs").iter())


def test_restore_refuses_a_blob_store_that_is_not_empty(backed_up: Path, tmp_path: Path) -> None:
    blob_dir = tmp_path / "target-blobs"
    LocalBlobStore(blob_dir).put(b"someone else's blob")
    env = cli_env(tmp_path, f"sqlite:///{tmp_path / 'target' / 'evault.db'}", blob_dir)
    code, out = run_cli(env, "restore", str(backed_up))
    assert code == 1
    assert "the blob store (local folder" in out and "is not empty" in out
    assert not (tmp_path / "target" / "evault.db").exists()


def test_restore_refuses_other_holder_keys(backed_up: Path, tmp_path: Path) -> None:
    other = tmp_path / "elsewhere"
    shutil.copytree(tmp_path / "data", other / "data", ignore=shutil.ignore_patterns("keys"))
    env = cli_env(other, f"sqlite:///{other / 'evault.db'}", other / "blobs")
    code, out = run_cli(env, "restore", str(backed_up))
    assert code == 1
    assert "this vault's settings do not have: set EVAULT_HOLDER_KEY" in out
    assert not (other / "evault.db").exists()


def test_secrets_only_when_asked(api_sqlite: Api, tmp_path: Path) -> None:
    source = cli_env(tmp_path, str(api_sqlite.ctx.settings.resolved_database_url))
    code, out = run_cli(source, "backup", str(tmp_path / "bk"), "--include-secrets")
    assert code == 0, out
    keys = (tmp_path / "bk" / "secrets" / "keys.env").read_text()
    held = (tmp_path / "data" / "keys" / "holder_key.hex").read_text().strip()
    assert f"EVAULT_HOLDER_KEY={held}" in keys
    assert (tmp_path / "bk" / "secrets" / "keys.env").stat().st_mode & 0o077 == 0
    code, out = run_cli(source, "restore", "--check", str(tmp_path / "bk"))
    assert code == 0 and "complete and intact" in out
    code, out = run_cli(source, "backup", str(tmp_path / "bk"))
    assert code == 1 and "exists and is not an empty directory" in out


@pytest.mark.s3
def test_restore_into_s3_and_back_up_from_it(
    backed_up: Path,
    s3_endpoint: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    s3 = {
        "EVAULT_BLOB_BACKEND": "s3",
        "EVAULT_S3_ENDPOINT": s3_endpoint,
        "EVAULT_S3_ACCESS_KEY": "testing",
        "EVAULT_S3_SECRET_KEY": "testing",
        "EVAULT_S3_SECURE": "false",
        "EVAULT_S3_REGION": "us-east-1",
        "EVAULT_S3_BUCKET": f"restore-{secrets.token_hex(4)}",
    }
    env = {**cli_env(tmp_path, f"sqlite:///{tmp_path / 's3vault' / 'evault.db'}"), **s3}
    code, out = run_cli(env, "restore", str(backed_up))
    assert code == 0, out
    code, out = run_cli(env, "backup", str(tmp_path / "again"))
    assert code == 0, out
    first, second = backed_up / "blobs.txt", tmp_path / "again" / "blobs.txt"
    assert first.read_bytes() == second.read_bytes()
    for table in json.loads((backed_up / "manifest.json").read_text())["tables"]:
        rel = f"db/{table}.jsonl"
        assert (backed_up / rel).read_bytes() == (tmp_path / "again" / rel).read_bytes(), rel
    elsewhere = {**env, "EVAULT_DATABASE_URL": f"sqlite:///{tmp_path / 'other' / 'evault.db'}"}
    code, out = run_cli(elsewhere, "restore", str(backed_up))  # same backup, same bucket: fine
    assert code == 0, out
    code, out = run_cli(
        {**elsewhere, **{"EVAULT_S3_BUCKET": s3["EVAULT_S3_BUCKET"]}},
        "restore",
        str(tmp_path / "again"),
    )
    assert code == 1 and "the database is not empty" in out


def test_writes_during_a_backup_stay_out_of_it(
    api: Api, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A push that lands between the snapshot and the blob copy is not in the backup, and
    the backup still restores; a referenced blob that vanishes fails the backup."""
    import vault.backup.create as create

    _populate(api)
    copy_blobs = create._copy_blobs

    def push_meanwhile(vault: Any, dest: Path, referenced: set[str]) -> tuple[int, int]:
        assert api.push(9).status_code == 201
        return copy_blobs(vault, dest, referenced)

    monkeypatch.setattr(create, "_copy_blobs", push_meanwhile)
    settings = load_settings(
        mode="demo",
        data_dir=tmp_path / "data",
        database_url=db_url,
        public_base_url="http://testserver",
    )
    vault = open_vault(settings, upgrade=False)
    try:
        summary = create.create_backup(vault=vault, dest=tmp_path / "bk")
        assert summary.tables["licenses"] == 3  # not the fourth, pushed after the snapshot
        assert summary.blob_count == 4

        def lose_one(vault: Any, dest: Path, referenced: set[str]) -> tuple[int, int]:
            vault.blobs.delete(sorted(referenced)[0])
            return copy_blobs(vault, dest, referenced)

        monkeypatch.setattr(create, "_copy_blobs", lose_one)
        with pytest.raises(create.BackupRefused, match="missing from local folder"):
            create.create_backup(vault=vault, dest=tmp_path / "bk2")
        assert not (tmp_path / "bk2" / "manifest.json").exists()
    finally:
        vault.close()
    target = cli_env(tmp_path, f"sqlite:///{tmp_path / 'target' / 'evault.db'}", tmp_path / "tb")
    code, out = run_cli(target, "restore", str(tmp_path / "bk"))
    assert code == 0, out


def test_an_older_backup_restores_and_is_migrated(tmp_path: Path) -> None:
    """A backup of a database at an earlier schema restores into that schema, then the
    database is brought to this version's newest; a schema this version does not know is
    refused."""
    import hashlib

    from alembic.script import ScriptDirectory

    from vault.db import make_engine, make_session_factory
    from vault.migrations import alembic_config, current, upgrade
    from vault.services import catalog

    old = "0104_idempotent_answers"
    source_url = f"sqlite:///{tmp_path / 'old' / 'evault.db'}"
    upgrade(source_url, old)
    engine = make_engine(source_url)
    with make_session_factory(engine)() as session:
        catalog.create_department(
            session=session, name="审计局", credit_code="11350100MB0000043C", user=True
        )
        session.commit()
    engine.dispose()
    code, out = run_cli(cli_env(tmp_path, source_url), "backup", str(tmp_path / "bk"))
    assert code == 0, out
    manifest_path = tmp_path / "bk" / "manifest.json"
    assert json.loads(manifest_path.read_text())["schema_revision"] == old

    target_url = f"sqlite:///{tmp_path / 'new' / 'evault.db'}"
    code, out = run_cli(
        cli_env(tmp_path, target_url, tmp_path / "nb"), "restore", str(tmp_path / "bk")
    )
    assert code == 0, out
    head = ScriptDirectory.from_config(alembic_config(target_url)).get_current_head()
    assert current(target_url) == head != old
    engine = make_engine(target_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM departments")).scalar_one() == 1
    engine.dispose()

    forged = manifest_path.read_text().replace(old, "0999_from_the_future")
    manifest_path.write_text(forged)
    digest = hashlib.sha256(forged.encode()).hexdigest()
    (tmp_path / "bk" / "manifest.sha256").write_text(f"{digest}  manifest.json\n")
    other = f"sqlite:///{tmp_path / 'other' / 'evault.db'}"
    code, out = run_cli(cli_env(tmp_path, other, tmp_path / "ob"), "restore", str(tmp_path / "bk"))
    assert code == 1 and "0999_from_the_future is unknown to this evault version" in out
    assert not (tmp_path / "other" / "evault.db").exists()


def test_a_restore_that_fails_midway_leaves_no_rows_and_can_run_again(
    backed_up: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vault.errors import BlobStoreError

    put = LocalBlobStore.put
    calls: list[int] = []

    def failing_put(self: LocalBlobStore, data: bytes) -> str:
        calls.append(1)
        if len(calls) == 3:
            raise BlobStoreError("cannot write blob: No space left on device")
        return put(self, data)

    monkeypatch.setattr(LocalBlobStore, "put", failing_put)
    url = f"sqlite:///{tmp_path / 'target' / 'evault.db'}"
    env = cli_env(tmp_path, url, tmp_path / "tb")
    code, out = run_cli(env, "restore", str(backed_up))
    assert code == 1 and "No space left on device" in out
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM licenses")).scalar_one() == 0
        assert conn.execute(text("SELECT count(*) FROM log_entries")).scalar_one() == 0
    engine.dispose()
    assert len(list(LocalBlobStore(tmp_path / "tb").iter())) == 2  # the backup's own

    monkeypatch.setattr(LocalBlobStore, "put", put)
    code, out = run_cli(env, "restore", str(backed_up))
    assert code == 0, out
    assert len(list(LocalBlobStore(tmp_path / "tb").iter())) == 4
