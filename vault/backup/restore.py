"""``evault restore``: check the whole backup, then load it into an empty vault.

Nothing is written until every check has passed: the manifest and its digest, every
file's digest, every blob's SHA-256 and size, every row decoded, every blob a row refers
to present, the keys the data needs configured, the database empty (or never migrated) at
the backup's schema revision, the blob store holding no blob outside the backup. Then the
rows go in one transaction, the blobs are stored before it commits; a failure rolls the
database back and leaves at most some of the backup's own blobs, which a second restore of
the same backup accepts (and gc removes after its grace period otherwise).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError

from vault.backup.keys import check_key_references
from vault.backup.manifest import BackupRefused, Manifest, blob_path, read_blob_list
from vault.backup.rows import (
    Codec,
    column_kinds,
    count_rows,
    insert_rows,
    reflect_tables,
    reset_sequences,
)
from vault.blobs.base import BlobStore
from vault.crypto import HolderCrypto
from vault.db.engine import make_engine
from vault.settings import Settings

__all__ = ["RestoreSummary", "restore_backup", "verify_backup"]


@dataclass(frozen=True)
class RestoreSummary:
    tables: dict[str, int]
    blob_count: int
    notes: tuple[str, ...]


def verify_backup(src: Path) -> tuple[Manifest, dict[str, int]]:
    """Check the backup at ``src`` completely; return its manifest and blob sizes."""
    manifest = Manifest.read(src)
    manifest.check_files(src)
    blobs: dict[str, int] = {}
    for sha256, size in read_blob_list(src):
        path = blob_path(src, sha256)
        try:
            data = path.read_bytes()
        except OSError:
            raise BackupRefused(f"backup is partial: blob {sha256} is missing") from None
        if len(data) != size or hashlib.sha256(data).hexdigest() != sha256:
            raise BackupRefused(f"backup is damaged: blob {sha256} does not match its digest")
        blobs[sha256] = size
    if len(blobs) != manifest.blob_count or sum(blobs.values()) != manifest.blob_bytes:
        raise BackupRefused("backup is damaged: its blob list does not match the manifest")
    _check_rows(src, manifest, set(blobs))
    return manifest, blobs


def _check_rows(src: Path, manifest: Manifest, blobs: set[str]) -> None:
    if set(manifest.columns) != set(manifest.tables):
        raise BackupRefused("backup is damaged: its manifest's tables and columns differ")
    for name, kinds in manifest.columns.items():
        codec = Codec(name, kinds)
        refs = manifest.blob_refs.get(name, [])
        count = 0
        with (src / "db" / f"{name}.jsonl").open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, start=1):
                try:
                    row = codec.decode(line)
                except ValueError:
                    raise BackupRefused(
                        f"backup is damaged: db/{name}.jsonl line {number}"
                    ) from None
                for ref in refs:
                    if row[ref] and row[ref] not in blobs:
                        raise BackupRefused(f"backup is partial: blob {row[ref]} is missing")
                count += 1
        if count != manifest.tables[name]:
            raise BackupRefused(f"backup is damaged: db/{name}.jsonl has {count} rows")


def _revision(url: str) -> str | None:
    """The target's schema revision; None when never migrated (a SQLite file not created)."""
    from sqlalchemy.engine import make_url

    from vault.migrations import current

    parsed = make_url(url)
    database = parsed.database or ""
    if parsed.get_backend_name() == "sqlite" and database and not Path(database).exists():
        return None  # do not create it before every check has passed
    return current(url)


def _check_known(url: str, manifest: Manifest) -> None:
    """The backup's schema revision must be one of this version's migrations."""
    from alembic.script import ScriptDirectory
    from alembic.util.exc import CommandError

    from vault.migrations import alembic_config

    try:
        known = ScriptDirectory.from_config(alembic_config(url)).get_revision(
            manifest.schema_revision
        )
    except CommandError:
        known = None
    if known is None:
        raise BackupRefused(
            f"the backup's schema {manifest.schema_revision} is unknown to this evault version:"
            f" restore it with the version that made it ({manifest.evault_version}) or newer"
        )


def _check_target(url: str, manifest: Manifest, blobs: BlobStore, backed_up: set[str]) -> bool:
    """Refuse a target that is not empty; return True when it must be migrated first."""
    _check_known(url, manifest)
    revision = _revision(url)
    if revision is not None:
        if revision != manifest.schema_revision:
            raise BackupRefused(
                f"the database is at schema {revision}, the backup at "
                f"{manifest.schema_revision}: restore into an empty, never-migrated database"
            )
        engine = make_engine(url)
        try:
            with engine.connect() as conn:
                for table in reflect_tables(conn):
                    if count_rows(conn, table):
                        raise BackupRefused(
                            f"the database is not empty (table {table.name} has rows): "
                            "restore only into an empty database"
                        )
        finally:
            engine.dispose()
    for info in blobs.iter():
        if info.sha256 not in backed_up:
            raise BackupRefused(
                f"the blob store ({blobs.description}) is not empty: restore only into an "
                "empty blob store"
            )
    return revision is None


def _load(conn: Connection, src: Path, manifest: Manifest) -> None:
    tables = reflect_tables(conn)
    found = {t.name: column_kinds(t) for t in tables}
    if found != manifest.columns:
        raise BackupRefused(
            f"the database at schema {manifest.schema_revision} does not have the backup's "
            "tables and columns: restore with the evault version that made the backup "
            f"({manifest.evault_version})"
        )
    for table in tables:
        codec = Codec(table.name, found[table.name])
        with (src / "db" / f"{table.name}.jsonl").open(encoding="utf-8") as lines:
            insert_rows(conn, table, codec, lines)
    reset_sequences(conn, tables)


def restore_backup(
    *, settings: Settings, src: Path, blobs: BlobStore, crypto: HolderCrypto
) -> RestoreSummary:
    """Restore the backup at ``src`` into the (empty) database and blob store of settings,
    then migrate the database to this version's newest schema."""
    from vault.migrations import upgrade

    manifest, sizes = verify_backup(src)
    notes = check_key_references(manifest.keys, settings, crypto)
    url = settings.resolved_database_url
    if _check_target(url, manifest, blobs, set(sizes)):
        upgrade(url, manifest.schema_revision)
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            _load(conn, src, manifest)
            for sha256 in sorted(sizes):
                if blobs.put(blob_path(src, sha256).read_bytes()) != sha256:
                    raise BackupRefused(f"blob {sha256} changed while it was restored")
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or type(exc).__name__).splitlines()[0]
        raise BackupRefused(f"restore failed, the database is unchanged: {reason}") from None
    finally:
        engine.dispose()
    upgrade(url)
    return RestoreSummary(dict(manifest.tables), len(sizes), tuple(notes))
