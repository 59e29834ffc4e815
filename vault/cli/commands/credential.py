"""``evault credential verify``: check a holder's SD-JWT presentation like any verifier.

Trust comes from the pinned trust bundle's ``credential_keys`` (``evault trust export
--credential-key``); the nonce and audience are the ones the verifier gave the holder. The
status comes from the status list token at the credential's ``status.status_list.uri``,
fetched (HTTP GET) unless ``--status-list FILE`` gives a saved copy (offline).

Exit 0: valid and not revoked; 1: not valid, revoked or suspended; 3: valid but the status
could not be read; 2: usage (unreadable file or bundle).
"""

from __future__ import annotations

import datetime as dt
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from vault.cli.output import EXIT_USAGE, fail, print_json

if TYPE_CHECKING:  # pragma: no cover - typing only
    from signing.credentials.verdict import CredentialVerdict

__all__ = ["app"]

_MAX_STATUS_LIST = 16 * 1024 * 1024


def _read(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"{what} {path}: {getattr(exc, 'strerror', None) or exc}", EXIT_USAGE)


def _fetch(uri: str) -> tuple[str | None, str | None]:
    """(the status list token at ``uri``, or None and why not)."""
    if not uri.startswith(("https://", "http://")):
        return None, f"status list {uri!r} is not an http(s) URL"
    request = urllib.request.Request(  # noqa: S310 - http(s) checked above
        uri, headers={"Accept": "application/statuslist+jwt"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - http(s) only
            data = answer.read(_MAX_STATUS_LIST + 1)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return None, f"cannot fetch the status list {uri}: {exc}"
    if len(data) > _MAX_STATUS_LIST:
        return None, f"the status list at {uri} is larger than 16 MiB"
    try:
        return data.decode("ascii").strip(), None
    except UnicodeDecodeError:
        return None, f"the status list at {uri} is not a JWT"


def _print(verdict: CredentialVerdict) -> None:
    from rich.console import Console
    from rich.markup import escape

    console = Console(highlight=False, soft_wrap=True)
    mark = "[green]ACCEPTED[/]" if verdict.accepted else "[red]NOT ACCEPTED[/]"
    check = verdict.check
    console.print(
        f"{mark}  signature/disclosures/key binding: {'valid' if check.valid else 'NOT valid'}"
        f"  status: {verdict.status.value}"
    )
    if check.issuer:
        console.print(f"  issuer {escape(check.issuer)}  type {escape(check.vct or '-')}")
    console.print(f"  disclosed ({len(check.disclosed)}):")
    for name, value in sorted(check.disclosed.items()):
        console.print(f"    {escape(name)}: {escape(str(value))}")
    for problem in verdict.to_json()["problems"]:
        console.print(f"  - {escape(problem)}")


app = typer.Typer(help="Holders' SD-JWT credentials (verifiable in a wallet).")


@app.command("verify")
def verify(
    presentation: Path = typer.Argument(..., help="file holding the SD-JWT+KB presentation"),
    trust: Path = typer.Option(..., "--trust", help="pinned trust bundle (credential keys)"),
    nonce: str = typer.Option(..., "--nonce", help="the nonce you gave the holder"),
    aud: str = typer.Option(..., "--aud", help="the audience you told the holder"),
    status_list: Path | None = typer.Option(
        None, "--status-list", help="a saved status list token (offline; default: fetch it)"
    ),
    as_json: bool = typer.Option(False, "--json", help="print the verdict as JSON"),
) -> None:
    """Verify a presentation: issuer signature, disclosures, key binding, status."""
    from signing.credentials.sdjwt import verify_presentation
    from signing.credentials.verdict import CredentialStatus, judge
    from signing.errors import TrustError
    from signing.trust import TrustBundle

    try:
        bundle = TrustBundle.load(trust)
    except TrustError as exc:
        fail(f"--trust {trust}: {exc}", EXIT_USAGE)
    if not bundle.credential_keys:
        fail(f"--trust {trust}: the bundle has no credential keys", EXIT_USAGE)
    text = _read(presentation, "presentation")
    token = _read(status_list, "--status-list") if status_list is not None else None
    now = dt.datetime.now(dt.UTC)
    trusted = list(bundle.credential_keys)
    check = verify_presentation(text, trusted_keys=trusted, audience=aud, nonce=nonce, now=now)
    problem = None
    if check.valid and check.status is not None and token is None:
        token, problem = _fetch(check.status.uri)
    verdict = judge(check, status_token=token, trusted_keys=trusted, now=now, fetch_problem=problem)
    if as_json:
        print_json(verdict.to_json())
    else:
        _print(verdict)
    if verdict.accepted:
        raise typer.Exit(0)
    if check.valid and verdict.status is CredentialStatus.UNKNOWN:
        raise typer.Exit(3)
    raise typer.Exit(1)
