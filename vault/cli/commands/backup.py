"""``evault backup`` and ``evault restore``: a consistent copy of the vault, and its return.

See docs/operations.md ("Backup and restore") for what a backup holds and what must be
kept elsewhere (the keys, unless ``--include-secrets``).
"""

from __future__ import annotations

from pathlib import Path

import typer

from vault.cli.output import fail, print_json

__all__ = ["backup", "restore"]


def backup(
    dest: Path = typer.Argument(..., help="a new (or empty) directory to write"),
    include_secrets: bool = typer.Option(
        False,
        "--include-secrets",
        help="also write the holder, blind-index, token and log keys into DEST/secrets",
    ),
    as_json: bool = typer.Option(False, "--json", help="print JSON for machines"),
) -> None:
    """Back up the database (one snapshot) and every blob it references, with a
    manifest of digests and the keys' public references."""
    from vault.backup import create_backup
    from vault.bootstrap import open_vault
    from vault.errors import VaultError
    from vault.settings import load_settings

    try:
        vault = open_vault(load_settings(), upgrade=False)
        try:
            summary = create_backup(vault=vault, dest=dest, include_secrets=include_secrets)
        finally:
            vault.close()
    except VaultError as exc:
        fail(str(exc))
    rows = sum(summary.tables.values())
    if as_json:
        print_json(
            {
                "path": str(summary.path),
                "tables": summary.tables,
                "blobs": summary.blob_count,
                "blob_bytes": summary.blob_bytes,
                "secrets_included": summary.secrets_included,
            }
        )
        return
    typer.echo(
        f"backup written to {summary.path}: {rows} rows in {len(summary.tables)} tables, "
        f"{summary.blob_count} blobs ({summary.blob_bytes} bytes)"
    )
    if summary.secrets_included:
        typer.echo(f"it holds the vault's secret keys in {summary.path}/secrets: guard it")
    else:
        typer.echo("keep the keys elsewhere: the backup holds only their references")


def restore(
    src: Path = typer.Argument(..., help="a backup directory written by evault backup"),
    check: bool = typer.Option(
        False, "--check", help="only verify the backup completely; change nothing"
    ),
    as_json: bool = typer.Option(False, "--json", help="print JSON for machines"),
) -> None:
    """Restore a backup into an empty database and an empty blob store (the settings'),
    after checking every digest; refuse, changing nothing, when anything is wrong."""
    from vault.backup import restore_backup, verify_backup
    from vault.blobs import blob_store_from_settings
    from vault.crypto import HolderCrypto
    from vault.errors import VaultError
    from vault.settings import load_settings

    try:
        if check:
            manifest, blobs = verify_backup(src)
            typer.echo(
                f"backup {src} is complete and intact: {sum(manifest.tables.values())} "
                f"rows, {len(blobs)} blobs, schema {manifest.schema_revision}"
            )
            return
        settings = load_settings()
        summary = restore_backup(
            settings=settings,
            src=src,
            blobs=blob_store_from_settings(settings),
            crypto=HolderCrypto.from_settings(settings),
        )
    except VaultError as exc:
        fail(str(exc))
    if as_json:
        print_json({"tables": summary.tables, "blobs": summary.blob_count, "notes": summary.notes})
        return
    for note in summary.notes:
        typer.echo(f"note: {note}")
    typer.echo(
        f"restored {sum(summary.tables.values())} rows and {summary.blob_count} blobs from {src}"
    )
