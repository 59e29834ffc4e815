"""Shared CLI helpers: one-line errors with a non-zero exit, JSON output."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import typer

if TYPE_CHECKING:  # pragma: no cover - typing only
    from rich.progress import Progress
    from sqlalchemy.orm import Session

    from vault.bootstrap import Vault

T = TypeVar("T")

__all__ = ["EXIT_USAGE", "fail", "in_vault", "print_json", "progress_bar"]

EXIT_USAGE = 2


def fail(message: str, code: int = 1) -> NoReturn:
    """Print one line to stderr and exit with ``code``."""
    typer.echo(f"evault: {message}", err=True)
    raise typer.Exit(code)


def in_vault(work: Callable[[Vault, Session], T]) -> T:
    """``work`` in one session of the vault the settings describe (committed when it
    returns, rolled back when it raises), the vault closed after; a :class:`VaultError`
    (bad settings, an unreachable database) is one line and exit 1."""
    from vault.bootstrap import open_vault
    from vault.errors import VaultError
    from vault.settings import load_settings

    try:
        vault = open_vault(load_settings())
        try:
            with vault.session() as session:
                return work(vault, session)
        finally:
            vault.close()
    except VaultError as exc:
        fail(str(exc))


def print_json(data: Any) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2, default=str)
    sys.stdout.write("\n")


def progress_bar(*, transient: bool) -> Progress:
    """A progress bar on stderr (done/total, time left); ``transient`` clears it at the end."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True, highlight=False),
        transient=transient,
    )
