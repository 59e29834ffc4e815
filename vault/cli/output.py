"""Shared CLI helpers: one-line errors with a non-zero exit, JSON output."""

from __future__ import annotations

import json
import sys
from typing import Any, NoReturn

import typer

__all__ = ["EXIT_USAGE", "fail", "print_json"]

EXIT_USAGE = 2


def fail(message: str, code: int = 1) -> NoReturn:
    """Print one line to stderr and exit with ``code``."""
    typer.echo(f"evault: {message}", err=True)
    raise typer.Exit(code)


def print_json(data: Any) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2, default=str)
    sys.stdout.write("\n")
