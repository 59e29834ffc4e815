"""The keys the API signs with: department access tokens and, in demo mode, holder ID tokens.

Both are Ed25519 (JWS ``alg: EdDSA``): small, fast, and the public half can be published.

- Department tokens: the private key is derived from ``settings.token_key`` (any secret of
  32+ characters; SHA-256 with a domain label gives the 32-byte seed), so every worker and
  every restart signs and verifies with the same key. In demo mode, when no ``token_key`` is
  set, a random one is generated once into ``DATA_DIR/keys/token_key.hex`` (mode 0600).
- Demo identity provider (demo mode only): ``DATA_DIR/keys/demo_idp_key.hex``. It stands in for
  the national or provincial 统一身份认证 OIDC provider so the demo runs alone.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from vault.errors import ConfigError
from vault.settings import Settings

__all__ = ["demo_idp_key", "jwk_of", "key_id", "secret_file", "token_signing_key"]


def secret_file(path: Path) -> bytes:
    """Read the random secret at ``path``, creating it (0600, atomically) when absent."""
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_hex(32).encode()
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, value + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(tmp, path)  # fails if another process won the race: use theirs
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    return path.read_bytes().strip()


def _derive(label: bytes, secret: bytes) -> Ed25519PrivateKey:
    seed = hashlib.sha256(b"evault/" + label + b"/v1\0" + secret).digest()
    return Ed25519PrivateKey.from_private_bytes(seed)


def token_signing_key(settings: Settings) -> Ed25519PrivateKey:
    """The key that signs department access tokens."""
    if settings.token_key is not None:
        return _derive(b"token", settings.token_key.get_secret_value().encode())
    if not settings.is_demo:
        raise ConfigError("EVAULT_TOKEN_KEY is not set")
    return _derive(b"token", secret_file(settings.data_dir / "keys" / "token_key.hex"))


def demo_idp_key(settings: Settings) -> Ed25519PrivateKey:
    """The demo identity provider's key; refused outside demo mode."""
    if not settings.is_demo:
        raise ConfigError("the demo identity provider exists only in demo mode")
    return _derive(b"demo-idp", secret_file(settings.data_dir / "keys" / "demo_idp_key.hex"))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def key_id(key: Ed25519PrivateKey) -> str:
    """RFC 7638 thumbprint of the public key."""
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    canonical = f'{{"crv":"Ed25519","kty":"OKP","x":"{_b64(raw)}"}}'
    return _b64(hashlib.sha256(canonical.encode()).digest())


def jwk_of(key: Ed25519PrivateKey) -> dict[str, Any]:
    """The public JWK (for a JWKS document)."""
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": _b64(raw),
        "kid": key_id(key),
        "alg": "EdDSA",
        "use": "sig",
    }
