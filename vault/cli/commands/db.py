"""``evault db``: run the migrations, show the revision, check models against migrations."""

from __future__ import annotations

import typer

from vault.cli.output import fail

__all__ = ["app"]


app = typer.Typer(help="The database: migrations (SQLite embedded, PostgreSQL).")


@app.command("upgrade")
def upgrade(
    revision: str = typer.Option("head", "--revision", help="target revision"),
) -> None:
    """Bring the database to the newest schema (safe to run again)."""
    from vault.errors import VaultError
    from vault.migrations import current
    from vault.migrations import upgrade as run_upgrade
    from vault.settings import load_settings

    try:
        url = load_settings().resolved_database_url
        run_upgrade(url, revision)
        typer.echo(f"database at revision {current(url)}")
    except VaultError as exc:
        fail(str(exc))


@app.command("current")
def show_current() -> None:
    """Print the database's revision ("none" if never migrated)."""
    from vault.errors import VaultError
    from vault.migrations import current
    from vault.settings import load_settings

    try:
        typer.echo(current(load_settings().resolved_database_url) or "none")
    except VaultError as exc:
        fail(str(exc))


@app.command("check")
def check() -> None:
    """Fail if the models differ from what the migrations build (alembic check)."""
    from vault.errors import VaultError
    from vault.migrations import check as run_check
    from vault.settings import load_settings

    try:
        run_check(load_settings().resolved_database_url)
    except VaultError as exc:
        fail(f"models and migrations differ: {exc}")
    typer.echo("models and migrations agree")
