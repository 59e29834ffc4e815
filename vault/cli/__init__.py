"""The ``evault`` command line (typer + rich).

The commands are listed in :mod:`vault.cli.app`; the modules of :mod:`vault.cli.commands` import
their heavy dependencies inside the commands so that ``evault verify`` starts quickly.
"""

from vault.cli.app import build_app

__all__ = ["build_app"]
