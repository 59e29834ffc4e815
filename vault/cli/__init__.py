"""The ``evault`` command line (typer + rich).

Each module in :mod:`vault.cli.commands` has ``register(app)``; modules import their heavy
dependencies inside the commands so that ``evault verify`` starts quickly.
"""

from vault.cli.app import build_app

__all__ = ["build_app"]
