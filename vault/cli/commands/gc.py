"""``evault gc``: remove blobs that no license references, after the grace period, and
ended web sessions and idempotent answers past their window."""

from __future__ import annotations

import typer

from vault.cli.output import fail, print_json

__all__ = ["gc"]


def gc(
    dry_run: bool = typer.Option(False, "--dry-run", help="list what would go, remove nothing"),
    grace: int | None = typer.Option(
        None, "--grace", min=0, help="seconds (default: EVAULT_GC_GRACE_SECONDS, 24 h)"
    ),
    as_json: bool = typer.Option(False, "--json", help="print JSON for machines"),
) -> None:
    """Remove unreferenced blobs older than the grace period (left by failed commits),
    ended web sessions and expired idempotent answers."""
    import datetime as dt

    from vault.bootstrap import open_vault
    from vault.errors import VaultError
    from vault.services.gc import collect_expired_rows, collect_garbage
    from vault.settings import load_settings

    try:
        settings = load_settings()
        vault = open_vault(settings)
        try:
            seconds = settings.gc_grace_seconds if grace is None else grace
            with vault.session() as session:
                result = collect_garbage(
                    session=session,
                    blobs=vault.blobs,
                    grace=dt.timedelta(seconds=seconds),
                    dry_run=dry_run,
                )
                rows = None
                if not dry_run:
                    idle = dt.timedelta(seconds=settings.web_session_idle_seconds)
                    rows = collect_expired_rows(session=session, idle=idle)
                    session.commit()
        finally:
            vault.close()
    except VaultError as exc:
        fail(str(exc))
    if as_json:
        print_json(
            {
                "dry_run": result.dry_run,
                "scanned": result.scanned,
                "referenced": result.referenced,
                "young": result.young,
                "removed": list(result.removed),
                "temp_files_removed": result.temp_files_removed,
                "web_sessions_removed": rows.web_sessions if rows else 0,
                "idempotent_answers_removed": rows.idempotent_answers if rows else 0,
            }
        )
        return
    verb = "would remove" if dry_run else "removed"
    for sha in result.removed:
        typer.echo(f"{verb} {sha}")
    typer.echo(
        f"{result.scanned} blobs: {result.referenced} referenced, {result.young} within the "
        f"grace period, {len(result.removed)} {verb}"
    )
    if rows is not None:
        typer.echo(
            f"removed {rows.web_sessions} ended web sessions and "
            f"{rows.idempotent_answers} expired idempotent answers"
        )
