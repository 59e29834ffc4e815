"""Ed25519 private keys in PEM, shared by the log's key and the witnesses' keys."""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from signing.errors import KeySourceError

__all__ = ["load_private_pem", "private_pem"]


def load_private_pem(data: bytes, what: str, password: bytes | None = None) -> Ed25519PrivateKey:
    """An Ed25519 private key from PEM (PKCS#8); ``what`` names it in errors ("the log key")."""
    try:
        key = serialization.load_pem_private_key(data, password=password)
    except (ValueError, TypeError):
        raise KeySourceError(
            f"{what} is not a readable PEM private key (or the password is wrong)"
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeySourceError(f"{what} is not an Ed25519 key")
    return key


def private_pem(key: Ed25519PrivateKey) -> bytes:
    """The key as unencrypted PKCS#8 PEM (write it with mode 0600)."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
