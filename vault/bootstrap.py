"""Open a vault from settings: engine, sessions, blob store, holder crypto, verifier.

The CLI and the API both start here::

    vault = open_vault(load_settings())
    with vault.session() as session:
        ...
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from vault.blobs import BlobStore, blob_store_from_settings
from vault.crypto import HolderCrypto
from vault.db.engine import make_engine, make_session_factory, session_scope
from vault.errors import ConfigError
from vault.services.intake import PdfVerifier
from vault.settings import Settings

__all__ = ["Vault", "build_verifier", "open_vault"]


@dataclass(frozen=True)
class Vault:
    """Everything a command or a request needs, built once per process."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    blobs: BlobStore
    crypto: HolderCrypto
    _verifier_factory: Callable[[], PdfVerifier] = field(repr=False)

    @functools.cached_property
    def verifier(self) -> PdfVerifier:
        """The intake verifier (built on first use: loading the trust bundle costs time)."""
        return self._verifier_factory()

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on error."""
        with session_scope(self.sessions) as session:
            yield session

    def close(self) -> None:
        self.engine.dispose()


def build_verifier(settings: Settings, *, isolation: str = "process") -> PdfVerifier:
    """The signing verifier with the trust bundle of the settings.

    ``isolation``: ``"process"`` (worker processes, killed on timeout) for long-lived
    processes; ``"inline"`` for a process that is itself a disposable worker verifying one
    file at a time (the bulk import's workers).
    """
    from signing.errors import TrustError
    from signing.trust import TrustBundle
    from signing.verify import Verifier

    path = settings.resolved_trust_bundle
    if path is None:
        raise ConfigError("no trust bundle for intake: set EVAULT_TRUST_BUNDLE")
    if not path.is_file():
        raise ConfigError(f"trust bundle {path} does not exist")
    try:
        bundle = TrustBundle.load(path)
    except TrustError as exc:
        raise ConfigError(f"trust bundle {path} is unusable: {exc}") from None
    verifier: PdfVerifier = Verifier(bundle, isolation=isolation)
    return verifier


def open_vault(
    settings: Settings,
    *,
    verifier: PdfVerifier | None = None,
    upgrade: bool | None = None,
) -> Vault:
    """Open the vault the settings describe.

    ``upgrade``: run the migrations first; by default only in demo mode (the embedded
    default upgrades itself; production runs ``evault db upgrade`` as a deploy step).
    """
    url = settings.resolved_database_url
    if upgrade or (upgrade is None and settings.is_demo):
        from vault.migrations import upgrade as run_upgrade

        run_upgrade(url)
    pool: dict[str, int] = {}
    if url.startswith("postgresql"):
        pool = {"pool_size": settings.db_pool_size, "max_overflow": settings.db_pool_size}
    engine = make_engine(url, **pool)
    factory: Callable[[], PdfVerifier]
    if verifier is not None:
        given = verifier

        def factory() -> PdfVerifier:
            return given
    else:
        factory = functools.partial(build_verifier, settings)
    return Vault(
        settings=settings,
        engine=engine,
        sessions=make_session_factory(engine),
        blobs=blob_store_from_settings(settings),
        crypto=HolderCrypto.from_settings(settings),
        _verifier_factory=factory,
    )
