"""Command modules of the ``evault`` CLI: each defines ``register(app: typer.Typer)``."""
