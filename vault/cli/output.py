"""Shared CLI helpers: one-line errors with a non-zero exit, JSON output."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any, NoReturn

import typer

if TYPE_CHECKING:  # pragma: no cover - typing only
    from rich.progress import Progress

__all__ = ["EXIT_USAGE", "fail", "print_json", "progress_bar"]

EXIT_USAGE = 2


def fail(message: str, code: int = 1) -> NoReturn:
    """Print one line to stderr and exit with ``code``."""
    typer.echo(f"evault: {message}", err=True)
    raise typer.Exit(code)


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
