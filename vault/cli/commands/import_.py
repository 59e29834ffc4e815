"""``evault import DIR|ZIP``: bulk import of existing stock (存量证照), resumable, journaled.

``evault import --runs`` lists past runs; ``evault import --run N`` shows one run's refusals.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from vault.cli.output import EXIT_USAGE, fail, print_json, progress_bar

if TYPE_CHECKING:  # pragma: no cover - typing only
    from vault.models import ImportRun
    from vault.services.bulk import ImportOutcome, ImportSummary
    from vault.settings import Settings

__all__ = ["import_"]


def import_(
    source: Path | None = typer.Argument(None, help="a folder of PDFs or a ZIP file"),
    manifest: Path | None = typer.Option(
        None,
        "--manifest",
        help="CSV: a 'file' column plus the LicenseMetadata fields (else <name>.json sidecars)",
    ),
    workers: int = typer.Option(2, "--workers", min=1, help="verification processes"),
    max_files: int = typer.Option(
        10_000, "--max-files", min=1, help="most entries a ZIP may hold (checked first)"
    ),
    refusals: Path = typer.Option(
        Path("import-refusals.csv"), "--refusals", help="where to write refused files (CSV)"
    ),
    retry_refused: bool = typer.Option(
        False, "--retry-refused", help="verify files refused by earlier runs again"
    ),
    runs: bool = typer.Option(False, "--runs", help="list past runs instead of importing"),
    run: int | None = typer.Option(
        None, "--run", help="show one past run and its refusals instead of importing"
    ),
    as_json: bool = typer.Option(False, "--json", help="print the summary as JSON"),
) -> None:
    """Verify and ingest every PDF; run again after an interrupt (settled files are skipped).

    Files an earlier run stored or refused are not verified again; a refused file is
    tried again with --retry-refused, or by itself once its metadata, the trust bundle
    or the catalog changed. Exits 1 when some files stand refused (listed in the
    refusals CSV).
    """
    if runs or run is not None:
        if source is not None or (runs and run is not None):
            fail("--runs and --run take no folder and not each other", EXIT_USAGE)
        _history(run, as_json=as_json)
        return
    if source is None:
        fail("give a folder or a ZIP file to import (or --runs, --run N)", EXIT_USAGE)
    if not source.exists():
        fail(f"{source} does not exist", EXIT_USAGE)
    summary = _import(
        source,
        manifest=manifest,
        workers=workers,
        retry_refused=retry_refused,
        quiet=as_json,
        max_files=max_files,
    )
    if summary.refusals:
        from vault.services.bulk import write_refusals

        write_refusals(summary, refusals)
    if as_json:
        print_json(
            {
                "run": summary.run_id,
                "total": summary.total,
                "ingested": summary.ingested,
                "duplicates": summary.duplicates,
                "refused": dict(summary.refused),
                "settled_before": summary.settled_before,
                "settled_refused": summary.settled_refused,
                "refusals_csv": str(refusals) if summary.refusals else None,
                "seconds": round(summary.elapsed_seconds, 3),
            }
        )
    else:
        _print_summary(summary, refusals)
    if summary.refusals:
        raise typer.Exit(1)


def _import(
    source: Path,
    *,
    manifest: Path | None,
    workers: int,
    retry_refused: bool,
    quiet: bool,
    max_files: int,
) -> ImportSummary:
    import functools

    from vault.blobs import blob_store_from_settings
    from vault.bootstrap import build_verifier, open_vault
    from vault.errors import VaultError
    from vault.services.bulk import WRITE_BATCH, ArchiveLimits, import_stock
    from vault.settings import load_settings

    progress = progress_bar(transient=quiet)
    task = progress.add_task("importing", total=None)

    def started(files: int) -> None:
        # shown once the source passed its limits: a refusal stays one line
        progress.start()
        progress.update(task, total=files)

    try:
        settings = load_settings()
        fingerprint = _trust_fingerprint(settings)
        vault = open_vault(settings)
        try:
            try:
                return import_stock(
                    sessions=vault.sessions,
                    blobs=vault.blobs,
                    crypto=vault.crypto,
                    # each import worker is a process of its own: verify in its main thread
                    verifier_factory=functools.partial(
                        build_verifier, settings, isolation="inline"
                    ),
                    blobs_factory=functools.partial(blob_store_from_settings, settings),
                    source=source,
                    manifest=manifest,
                    workers=workers,
                    trust_fingerprint=fingerprint,
                    retry_refused=retry_refused,
                    on_start=started,
                    on_outcome=lambda _o: progress.advance(task),
                    require_revocation=settings.intake_require_revocation,
                    limits=ArchiveLimits(files=max_files, member_bytes=settings.upload_limit_bytes),
                    write_batch=WRITE_BATCH,
                )
            finally:
                progress.stop()
        finally:
            vault.close()
    except KeyboardInterrupt:
        fail("interrupted: run the same command again to resume (settled files are skipped)")
    except VaultError as exc:
        fail(str(exc))


def _trust_fingerprint(settings: Settings) -> str | None:
    """The fingerprint of the intake trust bundle (None when none is configured: the
    verifiers then refuse to start with the reason)."""
    from signing.errors import TrustError
    from signing.trust import TrustBundle
    from vault.errors import ConfigError

    path = settings.resolved_trust_bundle
    if path is None or not path.is_file():
        return None
    try:
        return TrustBundle.load(path).fingerprint
    except TrustError as exc:
        raise ConfigError(f"trust bundle {path} is unusable: {exc}") from None


def _print_summary(summary: ImportSummary, refusals: Path) -> None:
    rate = summary.total / summary.elapsed_seconds if summary.elapsed_seconds else 0.0
    typer.echo(
        f"run {summary.run_id}: {summary.total} files in {summary.elapsed_seconds:.1f} s "
        f"({rate:.1f}/s): {summary.ingested} ingested, {summary.duplicates} duplicates, "
        f"{summary.refused_total} refused"
    )
    if summary.settled_before:
        typer.echo(
            f"  {summary.settled_before} settled by earlier runs, not verified again "
            f"({summary.settled_refused} of them refused: --retry-refused verifies those again)"
        )
    for reason, count in sorted(summary.refused.items()):
        typer.echo(f"  refused {reason}: {count}")
    if summary.refusals:
        typer.echo(f"refusals written to {refusals}")


def _history(run_id: int | None, *, as_json: bool) -> None:
    from vault.bootstrap import open_vault
    from vault.errors import VaultError
    from vault.services.bulk import import_run_refusals, list_import_runs
    from vault.settings import load_settings

    try:
        vault = open_vault(load_settings())
        try:
            with vault.session() as session:
                if run_id is None:
                    runs = [_run_json(r) for r in list_import_runs(session=session)]
                    refused: list[ImportOutcome] = []
                else:
                    run, refused = import_run_refusals(session=session, run_id=run_id)
                    runs = [_run_json(run)]
        finally:
            vault.close()
    except VaultError as exc:
        fail(str(exc))
    if as_json:
        if run_id is None:
            print_json(runs)
        else:
            listed = [{"file": o.name, "reason": o.reason, "message": o.message} for o in refused]
            print_json(runs[0] | {"refusals": listed})
        return
    if not runs:
        typer.echo("no import runs yet")
    for r in runs:
        typer.echo(
            f"run {r['run']} {r['state']} {r['started_at']:%Y-%m-%d %H:%M:%S}Z {r['source']}: "
            f"{r['files']} files, {r['ingested']} ingested, {r['duplicates']} duplicates, "
            f"{r['refused']} refused, {r['settled_before']} settled before"
            + (" (--retry-refused)" if r["retry_refused"] else "")
        )
    for o in refused:
        typer.echo(f"  {o.name}: {o.reason}: {o.message}")


def _run_json(run: ImportRun) -> dict[str, object]:
    return {
        "run": run.id,
        "source": run.source,
        "state": run.state,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "retry_refused": run.retry_refused,
        "files": run.files,
        "ingested": run.ingested,
        "duplicates": run.duplicates,
        "refused": run.refused,
        "settled_before": run.settled_before,
    }
