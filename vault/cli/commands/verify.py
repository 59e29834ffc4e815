"""``evault verify FILE... [--trust BUNDLE] [--json] [--at TIME] [--log-key KEY]
[--witness-key VKEY]... [--witnesses N]``.

The offline verifier. Needs no database, no settings and no network: only the files and,
optionally, a pinned trust bundle and the transparency log's public key. Exit status: 0
every file TOTAL_PASSED (and, with ``--log-key``, its log proof verified), 1 any
TOTAL_FAILED or failed log proof, 3 otherwise INDETERMINATE, 2 usage error. With
``--witness-key`` (repeatable) the proof's checkpoint must also carry the cosignatures of
``--witnesses`` N of those witnesses (default: all of them). Heavy modules are imported
inside the command.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from vault.cli.output import EXIT_USAGE, fail, print_json

if TYPE_CHECKING:  # pragma: no cover
    import datetime as dt

    from schemas.report import VerificationReport
    from signing.copies.log_proof import LogProofCheck
    from signing.trust import TrustBundle

__all__ = ["EXIT_FAILED", "EXIT_INDETERMINATE", "EXIT_PASSED", "verify"]

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


def report_json(report: VerificationReport, log: LogProofCheck | None = None) -> dict[str, Any]:
    """The JSON shape of one file's report (top level: file, sha256, indication, ...).

    With a log check, a ``log_proof`` object is added: verified, reason, index,
    checkpoint_size, event_type.
    """
    data: dict[str, Any] = report.model_dump(mode="json")
    if log is not None:
        from dataclasses import asdict

        data["log_proof"] = asdict(log)
    return data


def _witness_keys(values: list[str], required: int | None) -> tuple[list[Any], int]:
    """The ``--witness-key`` verifiers and the number required; exit 2 if unusable."""
    from signing.errors import KeySourceError, LogFormatError
    from signing.transparency.cosignature import CosignatureVerifier

    keys = []
    for value in values:
        path = Path(value)
        try:
            text = path.read_text(encoding="utf-8") if path.is_file() else value
            keys.append(CosignatureVerifier.from_vkey(text))
        except (KeySourceError, LogFormatError, OSError, UnicodeDecodeError) as exc:
            fail(f"--witness-key {value}: {exc}", EXIT_USAGE)
    need = len(keys) if required is None else required
    if not 0 < need <= len(keys) and keys:
        fail(f"--witnesses {need}: give between 1 and {len(keys)} (the witness keys)", EXIT_USAGE)
    if required is not None and not keys:
        fail("--witnesses needs --witness-key", EXIT_USAGE)
    return keys, need


def _check_log(
    data: bytes,
    report: VerificationReport,
    key: Any,
    witnesses: tuple[list[Any], int],
    bundle: TrustBundle | None = None,
) -> LogProofCheck:
    """The copy's log proof, accepted only inside a vault seal that covers the whole file:
    for an OFD copy, a seal of a certificate the trust bundle pins as the vault's OFD copy
    seal (``ofd_vault_seals``), not merely the last seal."""
    from schemas.report import FileFormat
    from signing.copies.log_proof import LogProofCheck, check_copy_log_proof
    from signing.copies.maker import COPY_FIELD_STEM

    sealed = any(
        (s.field_name or "").startswith(COPY_FIELD_STEM) and s.intact and s.covers_whole_file
        for s in report.signatures
    )
    if report.file_format is FileFormat.OFD:
        sealed = bundle is not None and any(
            s.vault_copy_seal and s.intact and s.covers_whole_file for s in report.signatures
        )
        if not sealed:
            return LogProofCheck(
                False,
                "no intact seal of the vault's pinned OFD copy seal (the trust bundle's "
                "ofd_vault_seals) covers the whole file and its proof",
            )
    if not sealed:
        return LogProofCheck(False, "no intact vault seal covers the whole file and its proof")
    return check_copy_log_proof(data, key, witnesses=witnesses[0], required=witnesses[1])


def _print_text(report: VerificationReport, log: LogProofCheck | None = None) -> None:
    from rich.console import Console
    from rich.markup import escape

    console = Console(highlight=False, soft_wrap=True, markup=True)
    e = escape
    colour = {"TOTAL_PASSED": "green", "TOTAL_FAILED": "red"}.get(report.indication.value, "yellow")
    sub = f" / {report.sub_indication.value}" if report.sub_indication else ""
    console.print(f"[bold]{e(report.file or '-')}[/]  [{colour}]{report.indication.value}{sub}[/]")
    console.print(f"  {report.file_format.value}  sha256 {report.sha256}  ({report.size} bytes)")
    for reason in report.reasons:
        console.print(f"  - {e(reason)}")
    for warning in report.warnings:
        console.print(f"  [yellow]! {e(warning)}[/]")
    for s in report.signatures:
        sub = f"/{s.sub_indication.value}" if s.sub_indication else ""
        console.print(
            f"  {e('[' + s.kind.value + ']')} {e(s.field_name or '?')}: {s.indication.value}{sub}"
            f"  level={s.pades_level or '-'}"
        )
        if s.ofd_type is not None:
            seal = f"  seal {e(s.seal_name)} ({e(s.seal_id or '-')})" if s.seal_name else ""
            console.print(f"      {s.ofd_type.value}: {e(s.signature_format or '-')}{seal}")
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
        for warning in s.warnings:
            console.print(f"      [yellow]! {e(warning)}[/]")
    if log is not None:
        mark = "[green]verified[/]" if log.verified else "[red]NOT verified[/]"
        console.print(f"  transparency log: {mark}: {e(log.reason)}")


def _load_trust(path: Path) -> TrustBundle:
    """The pinned trust bundle of ``--trust``; exit 2 when it cannot be used."""
    from signing.errors import TrustError
    from signing.trust import TrustBundle

    try:
        return TrustBundle.load(path)
    except TrustError as exc:
        fail(f"--trust {path}: {exc}", EXIT_USAGE)


def verify(
    files: list[Path] = typer.Argument(..., help="PDF or OFD files to verify"),
    trust: Path | None = typer.Option(
        None, "--trust", help="pinned trust bundle (evault trust export)"
    ),
    as_json: bool = typer.Option(False, "--json", help="print the report as JSON"),
    at: str | None = typer.Option(
        None, "--at", help="validation time, ISO 8601 (default: now; no zone = UTC)"
    ),
    log_key: str | None = typer.Option(
        None,
        "--log-key",
        help="the transparency log's public key (PEM file, vkey file or vkey, or a trust "
        "bundle: every log key it lists): also check that a certified copy was logged",
    ),
    witness_key: list[str] = typer.Option(
        [],
        "--witness-key",
        help="a witness's key (vkey of type 0x04, or a file holding it): the copy's log "
        "checkpoint must carry its cosignature; repeatable; needs --log-key",
    ),
    witnesses: int | None = typer.Option(
        None, "--witnesses", help="how many of the --witness-key cosignatures (default: all)"
    ),
) -> None:
    """Verify the seals on PDF or OFD files, offline. Exit 0 passed, 1 failed, 3
    indeterminate."""
    moment = _parse_time(at) if at is not None else None
    payloads = []
    for path in files:
        if not path.is_file():
            fail(f"no such file: {path}", EXIT_USAGE)
    from signing.verify import Verifier

    bundle = _load_trust(trust) if trust is not None else None
    key = None
    if log_key is not None:
        from vault.cli.commands.log import load_log_verifier

        key = load_log_verifier(log_key)
    elif witness_key:
        fail(
            "--witness-key needs --log-key (the witnesses cosign the log's checkpoint)",
            EXIT_USAGE,
        )
    cosigners = _witness_keys(witness_key, witnesses)
    # In-process: this command is a process of its own that ends when done, and a worker
    # process would add its start-up (~0.4 s) to every run; a runaway file is still
    # interrupted at the time bound.
    verifier = Verifier(bundle, isolation="inline")
    reports = []
    logs: list[LogProofCheck | None] = []
    for path in files:
        try:
            data = path.read_bytes()
        except OSError as exc:
            fail(f"cannot read {path}: {exc.strerror or exc}", EXIT_USAGE)
        report = verifier.verify(data, at=moment, file_name=str(path))
        reports.append(report)
        logs.append(_check_log(data, report, key, cosigners, bundle) if key is not None else None)
    if as_json:
        payloads = [report_json(r, g) for r, g in zip(reports, logs, strict=True)]
        print_json(payloads[0] if len(payloads) == 1 else payloads)
    else:
        for r, g in zip(reports, logs, strict=True):
            _print_text(r, g)
    names = {r.indication.value for r in reports}
    if "TOTAL_FAILED" in names or any(g is not None and not g.verified for g in logs):
        raise typer.Exit(EXIT_FAILED)
    if "INDETERMINATE" in names:
        raise typer.Exit(EXIT_INDETERMINATE)
    raise typer.Exit(EXIT_PASSED)
