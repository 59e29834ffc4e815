"""The vault's ``evault`` commands, all listed here; :mod:`api.cli` adds those that serve the
API and is the console script's entry point.

Each module of :mod:`vault.cli.commands` holds its commands at module level: a command group
is the module's typer ``app``, a top-level command a plain function. The modules import
their heavy dependencies inside the commands so that ``evault verify`` starts quickly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import typer

from vault.cli.commands import (
    backup,
    catalog,
    credential,
    db,
    dept,
    fields,
    gc,
    holders,
    ids,
    import_,
    keys,
    log,
    ltv,
    materials,
    pki,
    recheck,
    trust,
    verify,
    version,
)

__all__ = ["COMMANDS", "GROUPS", "add_commands", "build_app"]

#: The top-level commands, by name, in the order ``evault --help`` lists them.
COMMANDS: dict[str, Callable[..., Any]] = {
    "backup": backup.backup,
    "restore": backup.restore,
    "gc": gc.gc,
    "import": import_.import_,
    "recheck": recheck.recheck,
    "seal": pki.seal,
    "verify": verify.verify,
    "version": version.version,
}

#: The command groups (``evault NAME COMMAND``), by name, in the order help lists them.
GROUPS: dict[str, typer.Typer] = {
    "catalog": catalog.app,
    "credential": credential.app,
    "db": db.app,
    "dept": dept.app,
    "fields": fields.app,
    "holders": holders.app,
    "id": ids.app,
    "keys": keys.app,
    "log": log.app,
    "ltv": ltv.app,
    "materials": materials.app,
    "pki": pki.app,
    "trust": trust.app,
}


def add_commands(
    app: typer.Typer,
    commands: Mapping[str, Callable[..., Any]],
    groups: Mapping[str, typer.Typer],
) -> typer.Typer:
    """Add ``commands`` and ``groups`` to ``app``, by their names; return ``app``."""
    for name, command in commands.items():
        app.command(name)(command)
    for name, group in groups.items():
        app.add_typer(group, name=name)
    return app


def build_app() -> typer.Typer:
    """The vault's commands (without ``serve``, ``demo``, ``dev-token`` and ``witness``)."""
    app = typer.Typer(
        name="evault",
        help="evault: electronic license vault (电子证照库) with PAdES seals.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
    )
    return add_commands(app, COMMANDS, GROUPS)
