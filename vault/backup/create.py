"""``evault backup``: one consistent copy of the database and the blobs it references.

Order matters. The database is read in one snapshot transaction (REPEATABLE READ on
PostgreSQL, one read transaction on SQLite's WAL), which fixes the set of blobs the backup
needs; those blobs are copied afterwards. Blobs are content-addressed and never rewritten,
and gc removes only blobs that nothing references, so every blob the snapshot references
is still there unless its row was deleted after the snapshot and gc ran meanwhile: then
the backup fails (and says so) rather than leave out a blob. Writes go on during a backup;
what they add after the snapshot is in the next backup.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, create_engine, event, text
from sqlalchemy.exc import SQLAlchemyError

from vault.backup.keys import key_references, write_secrets
from vault.backup.manifest import (
    BLOB_LIST,
    BackupRefused,
    Manifest,
    blob_path,
    file_digest,
    write_durably,
)
from vault.backup.rows import (
    Codec,
    blob_reference_names,
    column_kinds,
    read_rows,
    reflect_tables,
)
from vault.bootstrap import Vault
from vault.db.base import utcnow
from vault.errors import BlobNotFound

__all__ = ["BackupSummary", "create_backup"]


@dataclass(frozen=True)
class BackupSummary:
    """What a backup holds (counts only: no holder data)."""

    path: Path
    tables: dict[str, int]
    blob_count: int
    blob_bytes: int
    secrets_included: bool


@contextlib.contextmanager
def snapshot(url: str) -> Iterator[Connection]:
    """A read-only connection that sees one instant of the database."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None

        @event.listens_for(engine, "begin")
        def _begin(connection: Connection) -> None:
            connection.exec_driver_sql("BEGIN")  # deferred: a read snapshot, no write lock

        options: dict[str, Any] = {}
    else:
        engine = create_engine(url)
        options = {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
    try:
        with engine.connect() as conn, conn.execution_options(**options).begin():
            yield conn
    finally:
        engine.dispose()


def _prepare(dest: Path) -> None:
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise BackupRefused(f"{dest} exists and is not an empty directory")
    try:
        dest.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise BackupRefused(f"cannot create {dest}: {exc.strerror}") from None


@dataclass(frozen=True)
class _Dump:
    revision: str
    tables: dict[str, int]
    columns: dict[str, dict[str, str]]
    blob_refs: dict[str, list[str]]
    referenced: set[str]


def _dump_database(conn: Connection, dest: Path) -> _Dump:
    """Write every table as it is in the database (reflected, at its own revision)."""
    revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one_or_none()
    if revision is None:
        raise BackupRefused("the database has never been migrated: nothing to back up")
    known_refs = blob_reference_names()
    dump = _Dump(str(revision), {}, {}, {}, set())
    (dest / "db").mkdir(exist_ok=True)
    for table in reflect_tables(conn):
        kinds = column_kinds(table)
        codec = Codec(table.name, kinds)
        refs = [c for c in known_refs.get(table.name, []) if c in kinds]
        count = 0
        with (dest / "db" / f"{table.name}.jsonl").open("w", encoding="utf-8") as out:
            for row in read_rows(conn, table):
                out.write(codec.encode(row) + "\n")
                dump.referenced.update(row[name] for name in refs if row[name])
                count += 1
        dump.tables[table.name] = count
        dump.columns[table.name] = kinds
        if refs:
            dump.blob_refs[table.name] = refs
    return dump


def _copy_blobs(vault: Vault, dest: Path, referenced: set[str]) -> tuple[int, int]:
    total = 0
    lines = []
    for sha256 in sorted(referenced):
        try:
            data = vault.blobs.get(sha256)
        except BlobNotFound:
            raise BackupRefused(
                f"blob {sha256}, referenced by the database snapshot, is missing from "
                f"{vault.blobs.description} (removed since the snapshot?): run the backup again"
            ) from None
        write_durably(blob_path(dest, sha256), data)
        lines.append(f"{sha256} {len(data)}\n")
        total += len(data)
    write_durably(dest / BLOB_LIST, "".join(lines).encode("ascii"))
    return len(lines), total


def create_backup(*, vault: Vault, dest: Path, include_secrets: bool = False) -> BackupSummary:
    """Back up the vault into the new directory ``dest``; the manifest is written last."""
    from importlib.metadata import version

    _prepare(dest)
    settings = vault.settings
    keys = key_references(settings, vault.crypto)
    try:
        with snapshot(settings.resolved_database_url) as conn:
            dump = _dump_database(conn, dest)
    except SQLAlchemyError as exc:
        raise BackupRefused(f"cannot read the database: {type(exc).__name__}") from None
    blob_count, blob_bytes = _copy_blobs(vault, dest, dump.referenced)
    if include_secrets:
        write_secrets(dest, settings, vault.crypto)
    files: dict[str, dict[str, Any]] = {}
    for path in sorted(p for p in dest.rglob("*") if p.is_file()):
        rel = path.relative_to(dest).as_posix()
        if not rel.startswith("blobs/"):
            digest, size = file_digest(path)
            files[rel] = {"sha256": digest, "size": size}
    manifest = Manifest(
        created_at=utcnow().isoformat(),
        evault_version=version("evault"),
        schema_revision=dump.revision,
        source_database=vault.engine.dialect.name,
        source_blobs=settings.blob_backend.value,
        tables=dump.tables,
        columns=dump.columns,
        blob_refs=dump.blob_refs,
        files=files,
        blob_count=blob_count,
        blob_bytes=blob_bytes,
        keys=keys,
        secrets_included=include_secrets,
    )
    manifest.write(dest)
    return BackupSummary(dest, dump.tables, blob_count, blob_bytes, include_secrets)
