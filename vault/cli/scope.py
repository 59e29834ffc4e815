"""The session scope of the CLI's commands: the edge that commits."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = ["vault_session"]


@contextlib.contextmanager
def vault_session() -> Iterator[Session]:
    """A session of the configured vault (settings from the environment), committed when
    the block succeeds, rolled back when it raises; the vault is closed either way."""
    from vault.bootstrap import open_vault
    from vault.settings import load_settings

    vault = open_vault(load_settings())
    try:
        with vault.session() as session:
            yield session
    finally:
        vault.close()
