"""The transparency log's signing key and origin, from the settings."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from signing.errors import KeySourceError
from signing.transparency import LogSigner
from vault.errors import ConfigError
from vault.settings import Settings

__all__ = ["load_log_key", "log_origin"]

_DEMO_KEY_FILE = "log_key.pem"


def log_origin(settings: Settings) -> str:
    """The log's origin line and key name: ``EVAULT_LOG_ORIGIN``, else
    ``<host[:port]><path>/log`` of public_base_url. A checkpoint names its origin and the
    next one must name the same, so in demo mode the first run's origin is kept in data_dir:
    the demo served again on another address or port keeps signing its log."""
    if settings.log_origin:
        return settings.log_origin
    parts = urlsplit(settings.public_base_url)
    base = (parts.netloc or parts.path).rstrip("/")
    path = parts.path.rstrip("/") if parts.netloc else ""
    derived = f"{base}{path}/log"
    if not settings.is_demo:
        return derived
    kept = settings.data_dir / "keys" / "log_origin"
    try:
        return kept.read_text(encoding="ascii").strip() or derived
    except FileNotFoundError:
        kept.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = kept.with_suffix(".tmp")
        tmp.write_text(derived + "\n", encoding="ascii")
        tmp.replace(kept)
        return derived


def load_log_key(settings: Settings) -> LogSigner:
    """The log's signing key: ``settings.log_key`` (a PEM file), or an Ed25519 key in an HSM
    (``EVAULT_LOG_PKCS11_*``); in demo mode without either, generated into data_dir.

    When the trust bundle lists log keys (after a rotation), the signer knows the earlier
    ones (to check the checkpoints they signed), and its own key must be among them: a key
    that auditors cannot know is refused.
    """
    problem = settings.log_key_problem()
    if problem:
        raise ConfigError(problem)
    origin = log_origin(settings)
    if settings.log_pkcs11_module is not None:
        signer = _pkcs11_log_key(settings, origin)
    else:
        signer = _file_log_key(settings, origin)
    return _with_bundle_keys(settings, signer)


def _file_log_key(settings: Settings, origin: str) -> LogSigner:
    path = settings.log_key
    if path is None:
        assert settings.is_demo  # Settings.log_key_problem
        path = settings.data_dir / _DEMO_KEY_FILE
        if not path.exists():
            signer = LogSigner.generate(origin)
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass  # another process made it first: use theirs
            else:
                with os.fdopen(fd, "wb") as out:
                    out.write(signer.private_pem())
                return signer
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read the log key {path}: {exc.strerror}") from None
    try:
        return LogSigner.from_pem(data, origin)
    except KeySourceError as exc:
        raise ConfigError(f"log key {path}: {exc}") from None


def _pkcs11_log_key(settings: Settings, origin: str) -> LogSigner:
    from signing.hsm import Pkcs11Ed25519Key

    assert settings.log_pkcs11_module and settings.log_pkcs11_token and settings.log_pkcs11_key
    pin = settings.log_pin()
    try:
        key = Pkcs11Ed25519Key.open(
            module=settings.log_pkcs11_module,
            token_label=settings.log_pkcs11_token,
            pin=pin,
            key_label=settings.log_pkcs11_key,
        )
    except KeySourceError as exc:
        raise ConfigError(f"the log key is unusable: {exc}") from None
    return LogSigner(key, origin)


def _with_bundle_keys(settings: Settings, signer: LogSigner) -> LogSigner:
    from signing.errors import TrustError
    from signing.trust import TrustBundle

    path = settings.resolved_trust_bundle
    if path is None or not path.is_file():
        return signer
    try:
        keyring = TrustBundle.load(path).log_verifier()
    except TrustError as exc:
        raise ConfigError(f"trust bundle {path}: {exc}") from None
    if keyring is None:
        return signer
    own = signer.verifier().raw
    if not any(v.raw == own for v in keyring.verifiers):
        raise ConfigError(
            f"the log key is not among the log keys of the trust bundle {path}: add it "
            "with `evault keys log-rotate` before the service signs with it"
        )
    return signer.with_previous([v for v in keyring.verifiers if v.raw != own])
