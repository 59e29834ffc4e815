"""``evault log``: export the transparency log, sign a checkpoint, verify it all offline.

``evault log verify`` needs no database: signed checkpoint files, the log's public key, and
the entries (an export, or an evault server's ``/v1/log`` API). See docs/audit.md.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from vault.cli.output import EXIT_USAGE, fail, print_json

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from signing.transparency import (
        AuditResult,
        ExportedEntry,
        LogKeyring,
        LogVerifier,
        SignedCheckpoint,
    )
    from vault.settings import Settings

__all__ = ["ENTRIES_FILE", "app"]

#: Names inside an export directory.
ENTRIES_FILE = "entries.jsonl"
CHECKPOINT_FILE = "checkpoint.txt"
CHECKPOINTS_DIR = "checkpoints"
PUBLIC_KEY_PEM = "log-key.pem"
PUBLIC_KEY_VKEY = "log-key.vkey"
_PAGE = 1000


class _Unreadable(Exception):
    def __init__(self, index: int, where: str, reason: str) -> None:
        super().__init__(reason)
        self.index, self.where, self.reason = index, where, reason


def load_log_verifier(value: str) -> LogVerifier | LogKeyring:
    """The log key of ``--log-key``: a PEM file, a vkey file or a vkey, or a trust bundle
    (its log keys: the current one and those retired by rotations); exit 2 if unusable."""
    from signing.errors import KeySourceError, TrustError
    from signing.transparency import LogVerifier
    from signing.trust import BUNDLE_FORMAT, TrustBundle

    path = Path(value)
    try:
        data = path.read_bytes() if path.is_file() else value.encode("utf-8")
        if BUNDLE_FORMAT.encode() in data[:4096] and data.lstrip().startswith(b"{"):
            keyring = TrustBundle.load(data).log_verifier()
            if keyring is None:
                fail(f"--log-key {value}: the trust bundle holds no log key", EXIT_USAGE)
            return keyring
        return LogVerifier.load(data)
    except (KeySourceError, TrustError, OSError) as exc:
        fail(f"--log-key {value}: {exc}", EXIT_USAGE)


def _verify_checkpoint(
    verifier: LogVerifier | LogKeyring, text: str, where: str, origin: str | None
) -> SignedCheckpoint:
    from signing.errors import LogVerificationError

    try:
        return verifier.verify(text, origin=origin)
    except LogVerificationError as exc:
        fail(f"checkpoint {where} is forged or broken: {exc}")


def _read_text(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read {what} {path}: {exc}", EXIT_USAGE)


def _file_entries(path: Path) -> Iterator[ExportedEntry]:
    from signing.errors import LogFormatError
    from signing.transparency import ExportedEntry

    count = 0
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        fail(f"cannot read entries {path}: {exc.strerror}", EXIT_USAGE)
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                entry = ExportedEntry.from_line(line)
            except (LogFormatError, UnicodeDecodeError) as exc:
                raise _Unreadable(count, f"{path.name} line {number}", str(exc)) from None
            count += 1
            yield entry


def _http_get(url: str, token: str | None) -> bytes:
    import urllib.error
    import urllib.request

    if not url.startswith(("https://", "http://")):
        fail(f"--url must be http(s): {url}", EXIT_USAGE)
    request = urllib.request.Request(url)  # noqa: S310 - scheme checked above
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            body: bytes = response.read()
            return body
    except urllib.error.HTTPError as exc:
        fail(f"GET {url}: HTTP {exc.code}")
    except (urllib.error.URLError, OSError) as exc:
        fail(f"GET {url}: {exc}")


def _url_entries(base: str, token: str | None, until: int) -> Iterator[ExportedEntry]:
    from signing.errors import LogFormatError
    from signing.transparency import ExportedEntry

    start = 0
    while start < until:
        end = min(start + _PAGE, until)
        url = f"{base}/v1/log/entries?start={start}&end={end}"
        try:
            page = json.loads(_http_get(url, token))
            items = page["entries"]
            if not isinstance(items, list):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            fail(f"GET {url}: not {{'entries': [...]}} JSON")
        if not items:
            return
        last = start - 1
        for item in items:
            try:
                entry = ExportedEntry.from_json(item)
            except LogFormatError as exc:
                raise _Unreadable(last + 1, url, str(exc)) from None
            last = entry.event.idx
            yield entry
        if last < start:
            return  # the server went backwards; the audit has already flagged the order
        start = last + 1


def _settings(database_url: str | None) -> Settings:
    from vault.errors import ConfigError
    from vault.settings import load_settings

    try:
        return load_settings(**({"database_url": database_url} if database_url else {}))
    except ConfigError as exc:
        fail(str(exc), EXIT_USAGE)


def _session(settings: Settings) -> Session:
    from vault.db import make_engine, make_session_factory

    return make_session_factory(make_engine(settings.resolved_database_url))()


def _report(
    result: AuditResult, signed: list[SignedCheckpoint], *, entries_given: bool, as_json: bool
) -> None:
    """Print the audit's outcome (text or JSON); exit 1 when it failed."""
    import base64

    sizes = sorted({s.checkpoint.size for s in signed})
    if as_json:
        print_json(
            {
                "ok": result.ok,
                "entries_checked": result.entries_checked,
                "checkpoint_sizes": sizes,
                "checkpoints_matched": list(result.checkpoints_matched),
                "root_hash": base64.b64encode(result.root_hash).decode("ascii"),
                "first_bad_index": result.problem.index if result.problem else None,
                "reason": result.problem.reason if result.problem else None,
            }
        )
        if not result.ok:
            raise typer.Exit(1)
        return
    if result.problem is not None:
        fail(f"log verification failed: {result.problem.reason}")
    if not entries_given:
        typer.echo(
            f"{len(signed)} checkpoint(s) signed by the log key, sizes "
            f"{', '.join(map(str, sizes))}; no entries given, so no tree was re-computed"
        )
        return
    typer.echo(
        f"log verified: {result.entries_checked} entries re-hashed; checkpoints of size "
        f"{', '.join(map(str, sizes))} signed and reproduced, consistent with each other"
    )
    if result.entries_checked > sizes[-1]:
        typer.echo(
            f"note: entries {sizes[-1]}..{result.entries_checked - 1} are not yet covered "
            "by a signed checkpoint"
        )


app = typer.Typer(help="The transparency log: export it, sign checkpoints, verify.")


@app.command("verify")
def verify(
    checkpoint: list[Path] = typer.Option(
        [], "--checkpoint", help="signed checkpoint file (repeatable)"
    ),
    entries: Path | None = typer.Option(
        None, "--entries", help="an export directory or its entries.jsonl"
    ),
    url: str | None = typer.Option(
        None, "--url", help="an evault server: fetch its checkpoint and entries"
    ),
    log_key: str = typer.Option(
        ...,
        "--log-key",
        help="the log's public key: PEM file, vkey file or vkey; or a trust bundle (every "
        "log key it lists)",
    ),
    origin: str | None = typer.Option(None, "--origin", help="require this log origin"),
    token: str | None = typer.Option(
        None, "--token", envvar="EVAULT_TOKEN", help="bearer token for --url"
    ),
    as_json: bool = typer.Option(False, "--json", help="print JSON for machines"),
) -> None:
    """Re-compute the tree from the entries and check every checkpoint against it.

    Every checkpoint's signature, its root, the consistency between checkpoints, and the
    entries' order and content. Exits 1 at the first tampered or missing entry (named by
    index) or forged checkpoint; 0 when everything verifies.
    """
    from signing.transparency import audit_entries

    if entries is not None and url is not None:
        fail("give --entries or --url, not both", EXIT_USAGE)
    verifier = load_log_verifier(log_key)
    signed = [
        _verify_checkpoint(verifier, _read_text(p, "checkpoint"), str(p), origin)
        for p in checkpoint
    ]
    source: Iterator[ExportedEntry] | None = None
    base = url.rstrip("/") if url else None
    if entries is not None:
        entries_file = entries
        if entries.is_dir():
            entries_file = entries / ENTRIES_FILE
            exported = entries / CHECKPOINTS_DIR
            if exported.is_dir():
                for p in sorted(exported.glob("*.txt")):
                    text = _read_text(p, "checkpoint")
                    signed.append(_verify_checkpoint(verifier, text, str(p), origin))
        source = _file_entries(entries_file)
    elif base is not None:
        text = _http_get(f"{base}/v1/log/checkpoint", token).decode("utf-8", "replace")
        signed.append(_verify_checkpoint(verifier, text, f"{base}/v1/log/checkpoint", origin))
    if not signed:
        fail("no checkpoint to verify against: give --checkpoint (or --url)", EXIT_USAGE)
    if base is not None:
        source = _url_entries(base, token, max(s.checkpoint.size for s in signed))
    try:
        result = audit_entries(source if source is not None else iter(()), signed)
    except _Unreadable as exc:
        reason = f"entry {exc.index} is unreadable ({exc.where}): {exc.reason}"
        if as_json:
            print_json({"ok": False, "first_bad_index": exc.index, "reason": reason})
            raise typer.Exit(1) from None
        fail(f"log verification failed: {reason}")
    _report(result, signed, entries_given=source is not None, as_json=as_json)


@app.command("export")
def export(
    out: Path = typer.Option(..., "--out", help="directory to write (created)"),
    database_url: str | None = typer.Option(
        None, "--database-url", help="default: from settings (EVAULT_DATABASE_URL)"
    ),
) -> None:
    """Write every entry, every signed checkpoint and the log's public key to a directory."""
    import base64

    from sqlalchemy import select
    from sqlalchemy.exc import SQLAlchemyError

    from vault.errors import DatabaseUnavailable, LogCorrupted, VaultError
    from vault.log.keys import load_log_key
    from vault.log.proofs import exported_entry
    from vault.models.log import LogCheckpoint, LogEntry

    settings = _settings(database_url)
    try:
        verifier = load_log_key(settings).verifier()
    except VaultError as exc:
        fail(str(exc), EXIT_USAGE)
    (out / CHECKPOINTS_DIR).mkdir(parents=True, exist_ok=True)
    session = _session(settings)
    count = 0
    try:
        with (out / ENTRIES_FILE).open("w", encoding="utf-8") as handle:
            rows = session.scalars(
                select(LogEntry).order_by(LogEntry.idx).execution_options(yield_per=2000)
            )
            for row in rows:
                line: dict[str, Any]
                try:
                    line = exported_entry(row).to_json()
                except LogCorrupted:
                    # Export what is there; `evault log verify` will name it.
                    line = {
                        "idx": row.idx,
                        "created_at": row.created_at.isoformat(),
                        "event_type": row.event_type,
                        "payload_raw": base64.b64encode(row.payload).decode("ascii"),
                        "leaf_hash": base64.b64encode(row.leaf_hash).decode("ascii"),
                    }
                handle.write(
                    json.dumps(line, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
                    + "\n"
                )
                count += 1
        checkpoints = session.scalars(
            select(LogCheckpoint).order_by(LogCheckpoint.tree_size, LogCheckpoint.id)
        ).all()
    except (SQLAlchemyError, DatabaseUnavailable) as exc:
        fail(f"cannot read the log from the database: {type(exc).__name__}")
    finally:
        session.close()
    for cp in checkpoints:
        (out / CHECKPOINTS_DIR / f"{cp.tree_size:012d}-{cp.id}.txt").write_text(
            cp.signed_note, encoding="utf-8"
        )
    if checkpoints:
        (out / CHECKPOINT_FILE).write_text(checkpoints[-1].signed_note, encoding="utf-8")
    (out / PUBLIC_KEY_PEM).write_bytes(verifier.public_pem())
    (out / PUBLIC_KEY_VKEY).write_text(verifier.vkey() + "\n", encoding="utf-8")
    typer.echo(f"exported {count} entries and {len(checkpoints)} checkpoint(s) to {out}")


@app.command("checkpoint")
def checkpoint_cmd(
    database_url: str | None = typer.Option(
        None, "--database-url", help="default: from settings (EVAULT_DATABASE_URL)"
    ),
) -> None:
    """Sign a checkpoint of the log now, store it and print it."""
    from sqlalchemy.exc import SQLAlchemyError

    from vault.errors import VaultError
    from vault.log.checkpoints import make_checkpoint
    from vault.log.keys import load_log_key

    settings = _settings(database_url)
    session = _session(settings)
    try:
        row = make_checkpoint(session=session, log_key=load_log_key(settings))
        session.commit()
    except VaultError as exc:
        fail(str(exc))
    except SQLAlchemyError as exc:
        fail(f"cannot write the checkpoint: {type(exc).__name__}")
    finally:
        session.close()
    typer.echo(row.signed_note, nl=False)
