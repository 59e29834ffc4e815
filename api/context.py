"""What one application instance holds: settings, database, blob store, keys, limiters.

Built once by :func:`api.app.create_app` and kept on ``app.state.ctx``; there is no
module-level global. Expensive things that not every process needs (the vault's sealer
for certified copies, the trust store for verification) are built on first use.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from api.auth.holders import HolderAuthenticator
from api.auth.keys import token_signing_key
from api.auth.tokens import DepartmentTokens
from api.limits import RateLimiter
from api.observability import Metrics
from signing.credentials.keys import CredentialKey
from signing.transparency import LogSigner
from vault.blobs import BlobStore
from vault.credential_key import load_credential_key
from vault.crypto import HolderCrypto
from vault.log.keys import load_log_key
from vault.log.proofs import LogTreeCache
from vault.log.witnessing import WitnessClient, witness_clients
from vault.services.copies import CopyRenderer
from vault.services.intake import PdfVerifier
from vault.settings import Settings

__all__ = ["ApiContext", "Lazy", "build_context"]

T = TypeVar("T")


class Lazy(Generic[T]):
    """A value built once, on first use, thread-safely."""

    def __init__(self, factory: Callable[[], T]) -> None:
        self._factory = factory
        self._built = False
        self._value: T | None = None
        self._lock = threading.Lock()

    def get(self) -> T:
        if not self._built:
            with self._lock:
                if not self._built:
                    self._value = self._factory()
                    self._built = True
        return self._value  # type: ignore[return-value]  # T itself may include None


@dataclass
class ApiContext:
    """Everything routes need, built from settings (or given, in tests)."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    blobs: BlobStore
    crypto: HolderCrypto
    tokens: DepartmentTokens
    holders: HolderAuthenticator
    limiter: RateLimiter
    metrics: Metrics
    verifier: Lazy[PdfVerifier]
    renderer: Lazy[CopyRenderer]
    log_key: Lazy[LogSigner]
    """The transparency log's signing key (a file or an HSM), loaded on first use."""
    witnesses: Lazy[tuple[WitnessClient, ...]]
    """Clients of the configured witnesses, kept per application (they remember sizes)."""
    credential_key: Lazy[CredentialKey | None]
    """The key that signs holders' SD-JWT credentials; None: issuance not configured."""
    log_cache: LogTreeCache = field(default_factory=LogTreeCache)
    """The Merkle tree cache shared by this application's proof and checkpoint calls."""
    witness_lock: threading.Lock = field(default_factory=threading.Lock)
    """Requests offering a checkpoint to the witnesses take turns (they share the answer)."""
    oidc_endpoints: tuple[str, str] | None = None
    """The holders' identity provider's (authorization, token) endpoints, once discovered."""
    owns_vault: bool = True
    closers: list[Callable[[], None]] = field(default_factory=list)
    """Run by :meth:`close` (e.g. the vault sealer's HSM session, once built)."""

    def close(self) -> None:
        for close in self.closers:
            close()
        if self.owns_vault:
            self.engine.dispose()


def build_context(settings: Settings, vault: Any | None = None) -> ApiContext:
    """The context for ``settings``.

    ``vault``: an open :class:`vault.bootstrap.Vault` (or any object with ``engine``,
    ``sessions``, ``blobs``, ``crypto``, ``verifier`` and optionally ``copy_renderer``);
    default: :func:`vault.bootstrap.open_vault` on the settings. In production, a context
    that opens its own vault builds the vault's sealer now (HSM login, CRLs fetched), so a
    seal that cannot work refuses to start (:class:`vault.errors.ConfigError`); otherwise it
    is built on the first copy.
    """
    from vault.bootstrap import open_vault

    owns = vault is None
    opened = open_vault(settings) if vault is None else vault
    given_renderer = getattr(opened, "copy_renderer", None)
    closers: list[Callable[[], None]] = []

    def renderer() -> CopyRenderer:
        if given_renderer is not None:
            given: CopyRenderer = given_renderer
            return given
        from api.sealing import copy_renderer_from_settings

        built = copy_renderer_from_settings(settings)
        closers.append(built.close)
        return built

    def verifier() -> PdfVerifier:
        verifier: PdfVerifier = opened.verifier
        return verifier

    ctx = ApiContext(
        settings=settings,
        engine=opened.engine,
        sessions=opened.sessions,
        blobs=opened.blobs,
        crypto=opened.crypto,
        tokens=DepartmentTokens(
            token_signing_key(settings), ttl_seconds=settings.token_ttl_seconds
        ),
        holders=HolderAuthenticator(settings),
        limiter=RateLimiter(
            rate_per_minute=settings.rate_limit_per_minute, burst=settings.rate_limit_burst
        ),
        metrics=Metrics(),
        verifier=Lazy(verifier),
        renderer=Lazy(renderer),
        log_key=Lazy(lambda: load_log_key(settings)),
        witnesses=Lazy(
            lambda: witness_clients(settings.witnesses, settings.witness_timeout_seconds)
        ),
        credential_key=Lazy(lambda: load_credential_key(settings)),
        owns_vault=owns,
        closers=closers,
    )
    if owns and not settings.is_demo and given_renderer is None:
        try:
            ctx.renderer.get()
        except BaseException:
            ctx.close()
            raise
    return ctx
