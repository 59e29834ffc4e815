"""Command modules of the ``evault`` CLI: a group is a module's typer ``app``, a top-level
command a plain function; :mod:`vault.cli.app` lists them all."""
