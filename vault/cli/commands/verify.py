"""``evault verify FILE... [--trust BUNDLE] [--json] [--at TIME]``: the offline verifier.

Needs no database, no settings and no network: only the files and, optionally, a pinned
trust bundle. Exit status: 0 every file TOTAL_PASSED, 1 any TOTAL_FAILED, 3 otherwise
INDETERMINATE, 2 usage error. Heavy modules are imported inside the command.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from vault.cli.output import EXIT_USAGE, fail, print_json

if TYPE_CHECKING:  # pragma: no cover
    import datetime as dt

    from schemas.report import VerificationReport

__all__ = ["EXIT_FAILED", "EXIT_INDETERMINATE", "EXIT_PASSED", "register"]

EXIT_PASSED = 0
EXIT_FAILED = 1
EXIT_INDETERMINATE = 3


def _parse_time(value: str) -> dt.datetime:
    import datetime as dt

    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        fail(f"--at: not an ISO 8601 time: {value!r}", EXIT_USAGE)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment


def report_json(report: VerificationReport) -> dict[str, Any]:
    """The JSON shape of one file's report (top level: file, sha256, indication, ...)."""
    data: dict[str, Any] = report.model_dump(mode="json")
    return data


def _print_text(report: VerificationReport) -> None:
    from rich.console import Console
    from rich.markup import escape

    console = Console(highlight=False, soft_wrap=True, markup=True)
    e = escape
    colour = {"TOTAL_PASSED": "green", "TOTAL_FAILED": "red"}.get(report.indication.value, "yellow")
    sub = f" / {report.sub_indication.value}" if report.sub_indication else ""
    console.print(f"[bold]{e(report.file or '-')}[/]  [{colour}]{report.indication.value}{sub}[/]")
    console.print(f"  sha256 {report.sha256}  ({report.size} bytes)")
    for reason in report.reasons:
        console.print(f"  - {e(reason)}")
    for s in report.signatures:
        sub = f"/{s.sub_indication.value}" if s.sub_indication else ""
        console.print(
            f"  {e('[' + s.kind.value + ']')} {e(s.field_name or '?')}: {s.indication.value}{sub}"
            f"  level={s.pades_level or '-'}"
        )
        console.print(f"      signer      {e(s.signer_subject or '-')}")
        if s.signer_credit_code:
            console.print(f"      信用代码    {s.signer_credit_code}")
        console.print(f"      cert sha256 {s.signer_fingerprint or '-'}")
        console.print(
            f"      signed at   {s.signing_time.isoformat() if s.signing_time else '-'}"
            f"   timestamp {s.timestamp_time.isoformat() if s.timestamp_time else '-'}"
        )
        console.print(
            f"      intact={s.intact} coverage={s.coverage.value} "
            f"modified_after_signing={s.modified_after_signing} ({s.modification_level}) "
            f"chain_trusted={s.chain_trusted} revocation={s.revocation.value}"
        )
        for reason in s.reasons:
            console.print(f"      - {e(reason)}")


def register(app: typer.Typer) -> None:
    @app.command("verify")
    def verify(
        files: list[Path] = typer.Argument(..., help="PDF files to verify"),
        trust: Path | None = typer.Option(
            None, "--trust", help="pinned trust bundle (evault trust export)"
        ),
        as_json: bool = typer.Option(False, "--json", help="print the report as JSON"),
        at: str | None = typer.Option(
            None, "--at", help="validation time, ISO 8601 (default: now; no zone = UTC)"
        ),
    ) -> None:
        """Verify the seals on PDF files, offline. Exit 0 passed, 1 failed, 3 indeterminate."""
        moment = _parse_time(at) if at is not None else None
        payloads = []
        for path in files:
            if not path.is_file():
                fail(f"no such file: {path}", EXIT_USAGE)
        from signing.errors import TrustError
        from signing.trust import TrustBundle
        from signing.verify import Verifier

        bundle = None
        if trust is not None:
            try:
                bundle = TrustBundle.load(trust)
            except TrustError as exc:
                fail(f"--trust {trust}: {exc}", EXIT_USAGE)
        verifier = Verifier(bundle)
        reports = []
        for path in files:
            try:
                data = path.read_bytes()
            except OSError as exc:
                fail(f"cannot read {path}: {exc.strerror or exc}", EXIT_USAGE)
            reports.append(verifier.verify(data, at=moment, file_name=str(path)))
        if as_json:
            payloads = [report_json(r) for r in reports]
            print_json(payloads[0] if len(payloads) == 1 else payloads)
        else:
            for r in reports:
                _print_text(r)
        names = {r.indication.value for r in reports}
        if "TOTAL_FAILED" in names:
            raise typer.Exit(EXIT_FAILED)
        if "INDETERMINATE" in names:
            raise typer.Exit(EXIT_INDETERMINATE)
        raise typer.Exit(EXIT_PASSED)
