"""Entry point of the ``evault`` console script: vault's CLI plus the commands that serve the API.

It lives in ``api`` because ``serve`` and ``demo`` run the web application, and nothing may
import ``api``; the console script is not an import.
"""

from __future__ import annotations

import sys

from vault.cli import build_app

__all__ = ["main"]


def main() -> None:
    app = build_app()
    app(prog_name="evault")


if __name__ == "__main__":  # pragma: no cover
    main()
    sys.exit(0)
