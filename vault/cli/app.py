"""Builds the typer application from the command modules."""

from __future__ import annotations

import importlib
import pkgutil

import typer

from vault.cli import commands

__all__ = ["build_app"]


def build_app() -> typer.Typer:
    app = typer.Typer(
        name="evault",
        help="evault: electronic license vault (电子证照库) with PAdES seals.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
    )
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        module.register(app)
    return app
