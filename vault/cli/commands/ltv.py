"""``evault ltv renew``: the long-term archive job (B-LTA renewal of stored licenses).

Run it on a schedule (daily is plenty); see docs/operations.md ("Long-term archive").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from vault.cli.output import in_vault, print_json

if TYPE_CHECKING:
    from vault.services.archive import Renew
    from vault.settings import Settings

__all__ = ["app"]


def _renewer(settings: Settings) -> Renew:
    """Appends DSS + a document timestamp from the settings' TSA (demo: the demo PKI's)."""
    from signing.archive import renew_archive
    from signing.errors import SigningError
    from signing.timestamps import EmbeddedTSA, HttpTSA
    from vault.errors import ConfigError

    crls: list[bytes] = []
    if settings.is_demo and not settings.tsa_url:
        from signing.pki import DemoPKI

        try:
            password = settings.demo_pki_password_file.read_bytes().strip().decode()
            pki = DemoPKI.load(settings.demo_pki_dir, password)
        except (OSError, UnicodeDecodeError, SigningError) as exc:
            raise ConfigError(f"no usable demo PKI in {settings.demo_pki_dir}: {exc}") from None
        tsa: EmbeddedTSA | HttpTSA = EmbeddedTSA(
            certificate=pki.tsa.certificate, private_key=pki.tsa.private_key, chain=pki.chain
        )
        crls = list(pki.crls())
    else:
        if not settings.tsa_url:
            raise ConfigError("EVAULT_TSA_URL is not set: renewal needs a timestamp authority")
        tsa = HttpTSA(settings.tsa_url)
        for path in settings.seal_crls:
            try:
                crls.append(path.read_bytes())
            except OSError as exc:
                raise ConfigError(f"cannot read CRL {path}: {exc.strerror}") from None

    def renew(pdf: bytes) -> bytes:
        return renew_archive(pdf, timestamper=tsa, crls=crls)

    return renew


app = typer.Typer(help="Long-term archive: keep stored licenses' seals provable.")


@app.command("renew")
def renew(
    margin_days: int = typer.Option(
        90, "--margin-days", min=1, help="renew what stops proving within this many days"
    ),
    limit: int | None = typer.Option(None, "--limit", min=1, help="renew at most this many"),
    as_json: bool = typer.Option(False, "--json", help="print JSON for machines"),
) -> None:
    """Add validation data and a new document timestamp to every stored license whose
    latest timestamp stops proving within the margin; keep the old file."""
    import datetime as dt

    from vault.services.archive import renew_archives_and_commit

    report = in_vault(
        lambda vault, session: renew_archives_and_commit(
            session=session,
            blobs=vault.blobs,
            renew=_renewer(vault.settings),
            verifier=vault.verifier,
            margin=dt.timedelta(days=margin_days),
            limit=limit,
        )
    )
    if as_json:
        print_json(
            {
                "scanned": report.scanned,
                "renewed": report.renewed,
                "not_due": report.not_due,
                "not_timestamped": report.not_timestamped,
                "not_pdf": report.not_pdf,
                "failed": [{"license": n, "reason": r} for n, r in report.failed],
                "skipped_concurrent": report.skipped_concurrent,
            }
        )
    else:
        for name in report.renewed:
            typer.echo(f"renewed {name}")
        for name, reason in report.failed:
            typer.echo(f"failed {name}: {reason}")
        typer.echo(
            f"{report.scanned} files: {len(report.renewed)} renewed, {report.not_due} not "
            f"due, {report.not_timestamped} without a timestamp, {report.not_pdf} not PDF, "
            f"{len(report.failed)} failed"
        )
    if report.failed:
        raise typer.Exit(1)
