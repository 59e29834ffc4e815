"""``evault recheck``: verify the stored licenses again under today's rules."""

from __future__ import annotations

import typer

from vault.cli.output import fail, in_vault, print_json

__all__ = ["recheck"]


def recheck(
    file_format: str | None = typer.Option(
        None, "--format", help="only licenses whose current version is PDF or OFD"
    ),
    type_code: str | None = typer.Option(None, "--type", help="only this license type (code)"),
    limit: int | None = typer.Option(None, "--limit", min=1, help="only the first N licenses"),
    as_json: bool = typer.Option(False, "--json", help="print JSON for machines"),
) -> None:
    """Verify the current version of each stored license again with today's verifier and
    intake rules, as of when it was first verified; list those refused today (exit 1).
    Changes nothing."""
    from vault.services.recheck import recheck_stock

    wanted = None if file_format is None else file_format.upper()
    if wanted not in (None, "PDF", "OFD"):
        fail(f"--format must be PDF or OFD, not {file_format!r}", 2)
    summary = in_vault(
        lambda vault, session: recheck_stock(
            session,
            vault.blobs,
            vault.verifier,
            file_format=wanted,
            type_code=type_code,
            limit=limit,
        )
    )
    if as_json:
        print_json(
            {
                "checked": summary.checked,
                "refused": [vars(f) for f in summary.findings],
            }
        )
    else:
        for f in summary.findings:
            typer.echo(f"{f.license_id} v{f.version} {f.file_format}: {f.reason}: {f.message}")
        typer.echo(
            f"{summary.checked} licenses checked, {len(summary.findings)} refused by today's rules"
        )
    if summary.findings:
        raise typer.Exit(1)
