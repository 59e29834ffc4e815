"""``evault version``."""

from __future__ import annotations

import typer

__all__ = ["version"]


def version() -> None:
    """Print evault's version and those of the libraries that seal and verify."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as v

    def ver(name: str) -> str:
        try:
            return v(name)
        except PackageNotFoundError:
            return "not installed"

    typer.echo(f"evault {ver('evault')}")
    for lib in ("pyhanko", "pyhanko-certvalidator", "cryptography"):
        typer.echo(f"  {lib} {ver(lib)}")
