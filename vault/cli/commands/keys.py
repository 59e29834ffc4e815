"""``evault keys``: the holder keys' ids, and their rotation (re-seal every holder row)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

import typer

from vault.cli.output import fail, print_json, progress_bar
from vault.cli.signing_keys import COMMANDS as SIGNING_KEY_COMMANDS

if TYPE_CHECKING:  # pragma: no cover - typing only
    from sqlalchemy.orm import Session, sessionmaker

    from vault.crypto import HolderCrypto
    from vault.services.key_rotation import KeyStatus

__all__ = ["app"]


app = typer.Typer(help="Holder, seal and log keys: which are in use, their rotation.")
for _name, _command in SIGNING_KEY_COMMANDS.items():
    app.command(_name)(_command)


@app.command("status")
def status(
    as_json: bool = typer.Option(False, "--json", help="print JSON for machines"),
) -> None:
    """The configured keys (by id) and how many holder rows each one seals.

    Exits 0 when every row is under the current keys, 1 while a rotation is due.
    """
    from vault.errors import VaultError
    from vault.services.key_rotation import key_status

    try:
        with _opened() as (sessions, crypto), sessions() as session:
            result = key_status(session=session, crypto=crypto)
    except VaultError as exc:
        fail(str(exc))
    if as_json:
        print_json(_status_json(result))
    else:
        _print_status(result)
    if not result.complete:
        raise typer.Exit(1)


@app.command("rotate")
def rotate(
    batch_size: int = typer.Option(500, "--batch-size", min=1, help="rows per transaction"),
    as_json: bool = typer.Option(False, "--json", help="print JSON for machines"),
) -> None:
    """Re-encrypt and re-index every holder row under the current keys (resumable).

    Make the new keys current and list the previous ones in EVAULT_OLD_HOLDER_KEYS and
    EVAULT_OLD_BLIND_INDEX_KEYS first, on every process; holders stay readable and
    findable throughout. Run it again after an interrupt.
    """
    from vault.errors import VaultError
    from vault.services.key_rotation import key_status, rotate_holder_keys
    from vault.services.license_fields import reseal_field_values

    progress = progress_bar(transient=as_json)
    done = 0

    def advance(rows: int) -> None:
        nonlocal done
        done += rows
        progress.advance(task, rows)

    try:
        with _opened() as (sessions, crypto):
            with sessions() as session:
                before = key_status(session=session, crypto=crypto)
            task = progress.add_task("re-sealing holder rows", total=before.remaining)
            with progress:
                result = rotate_holder_keys(
                    sessions=sessions, crypto=crypto, batch_size=batch_size, on_batch=advance
                )
            fields = reseal_field_values(sessions=sessions, crypto=crypto, batch_size=batch_size)
            with sessions() as session:
                after = key_status(session=session, crypto=crypto)
    except KeyboardInterrupt:
        fail(f"interrupted after {done} rows: run the same command again to resume")
    except VaultError as exc:
        fail(str(exc))
    if as_json:
        print_json(
            {
                "resealed": result.resealed,
                "resealed_field_values": fields,
                "batches": result.batches,
                "seconds": round(result.seconds, 3),
                **_status_json(after),
            }
        )
    else:
        typer.echo(
            f"re-sealed {result.resealed} holder rows in {result.batches} batches "
            f"({result.seconds:.1f} s), and the field values of {fields} licenses"
        )
        _print_status(after)
    if not after.complete:
        raise typer.Exit(1)


@contextlib.contextmanager
def _opened() -> Iterator[tuple[sessionmaker[Session], HolderCrypto]]:
    """Sessions and holder crypto from the settings (no blob store, no verifier)."""
    from vault.crypto import HolderCrypto
    from vault.db import make_engine, make_session_factory
    from vault.settings import load_settings

    settings = load_settings()
    crypto = HolderCrypto.from_settings(settings)
    engine = make_engine(settings.resolved_database_url)
    try:
        yield make_session_factory(engine), crypto
    finally:
        engine.dispose()


def _status_json(status: KeyStatus) -> dict[str, object]:
    return {
        "holder_key_id": status.holder_key_id,
        "blind_index_key_id": status.blind_index_key_id,
        "old_holder_key_ids": list(status.old_holder_key_ids),
        "old_blind_index_key_ids": list(status.old_blind_index_key_ids),
        "holders": status.holders,
        "current": status.current,
        "remaining": status.remaining,
        "unconfigured": status.unconfigured,
        "complete": status.complete,
        "rows_by_keys": [
            {"holder_key_id": h, "blind_index_key_id": b, "rows": n}
            for (h, b), n in sorted(status.rows_by_keys.items(), key=lambda kv: str(kv[0]))
        ],
    }


def _print_status(status: KeyStatus) -> None:
    old_h = ", ".join(status.old_holder_key_ids) or "none"
    old_b = ", ".join(status.old_blind_index_key_ids) or "none"
    typer.echo(f"holder key {status.holder_key_id} (old: {old_h})")
    typer.echo(f"blind-index key {status.blind_index_key_id} (old: {old_b})")
    for (h, b), n in sorted(status.rows_by_keys.items(), key=lambda kv: str(kv[0])):
        sealed, indexed = h or "with no key id", b or "with no key id"
        typer.echo(f"  {n} holder rows: sealed {sealed}, indexed {indexed}")
    if status.unconfigured:
        typer.echo(
            f"{status.unconfigured} holder rows name a key that is not configured: they can be "
            "neither read nor found until it is listed again"
        )
    if status.complete:
        typer.echo(
            f"complete: all {status.holders} holder rows are under the current keys"
            + ("; the old keys may be removed" if old_h != "none" or old_b != "none" else "")
        )
    else:
        typer.echo(
            f"{status.remaining} of {status.holders} holder rows still to re-seal: "
            "run `evault keys rotate`"
        )
