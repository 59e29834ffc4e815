"""``evault import DIR|ZIP``: bulk import of existing stock (存量证照), resumable."""

from __future__ import annotations

from pathlib import Path

import typer

from vault.cli.output import EXIT_USAGE, fail, print_json

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    @app.command("import")
    def import_(
        source: Path = typer.Argument(..., help="a folder of PDFs or a ZIP file"),
        manifest: Path | None = typer.Option(
            None,
            "--manifest",
            help="CSV: a 'file' column plus the LicenseMetadata fields (else <name>.json sidecars)",
        ),
        workers: int = typer.Option(2, "--workers", min=1, help="verification processes"),
        refusals: Path = typer.Option(
            Path("import-refusals.csv"), "--refusals", help="where to write refused files (CSV)"
        ),
        as_json: bool = typer.Option(False, "--json", help="print the summary as JSON"),
    ) -> None:
        """Verify and ingest every PDF; run again after an interrupt (duplicates are skipped).

        Exits 1 when some files were refused (listed in the refusals CSV).
        """
        import functools

        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

        from vault.blobs import blob_store_from_settings
        from vault.bootstrap import build_verifier, open_vault
        from vault.errors import VaultError
        from vault.services.bulk import import_stock, write_refusals
        from vault.settings import load_settings

        if not source.exists():
            fail(f"{source} does not exist", EXIT_USAGE)
        console = Console(stderr=True, highlight=False)
        progress = Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=as_json,
        )
        task = progress.add_task("importing", total=None)
        try:
            settings = load_settings()
            vault = open_vault(settings)
            try:
                with progress:
                    summary = import_stock(
                        sessions=vault.sessions,
                        blobs=vault.blobs,
                        crypto=vault.crypto,
                        verifier_factory=functools.partial(build_verifier, settings),
                        blobs_factory=functools.partial(blob_store_from_settings, settings),
                        source=source,
                        manifest=manifest,
                        workers=workers,
                        on_start=lambda n: progress.update(task, total=n),
                        on_outcome=lambda _o: progress.advance(task),
                    )
            finally:
                vault.close()
        except KeyboardInterrupt:
            fail("interrupted: run the same command again to resume (stored files are skipped)")
        except VaultError as exc:
            fail(str(exc))
        if summary.refusals:
            write_refusals(summary, refusals)
        rate = summary.total / summary.elapsed_seconds if summary.elapsed_seconds else 0.0
        if as_json:
            print_json(
                {
                    "total": summary.total,
                    "ingested": summary.ingested,
                    "duplicates": summary.duplicates,
                    "refused": dict(summary.refused),
                    "refusals_csv": str(refusals) if summary.refusals else None,
                    "seconds": round(summary.elapsed_seconds, 3),
                }
            )
        else:
            typer.echo(
                f"{summary.total} files in {summary.elapsed_seconds:.1f} s ({rate:.1f}/s): "
                f"{summary.ingested} ingested, {summary.duplicates} duplicates, "
                f"{summary.refused_total} refused"
            )
            for reason, count in sorted(summary.refused.items()):
                typer.echo(f"  refused {reason}: {count}")
            if summary.refusals:
                typer.echo(f"refusals written to {refusals}")
        if summary.refusals:
            raise typer.Exit(1)
