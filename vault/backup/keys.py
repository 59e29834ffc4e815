"""The keys a backup depends on: their public references, and (only when asked) the secrets.

A restored database is only readable with the keys that wrote it: holder ID numbers and
names are sealed under the holder key, looked up through the blind-index key, and the
log's checkpoints are signed by the log key. The manifest records each key's public id (a
one-way fingerprint) and the log's public key, never the keys; restore refuses a vault
whose settings lack one of them.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from vault.backup.manifest import BackupRefused, file_digest, write_durably
from vault.crypto import HolderCrypto
from vault.settings import Settings

__all__ = ["check_key_references", "key_references", "write_secrets"]


def key_references(settings: Settings, crypto: HolderCrypto) -> dict[str, Any]:
    """Public references of every key the backup's data depends on (no secret)."""
    from vault.log.keys import load_log_key

    refs: dict[str, Any] = {
        "holder_key_ids": [crypto.holder_key_id, *crypto.old_holder_key_ids],
        "blind_index_key_ids": [crypto.blind_index_key_id, *crypto.old_blind_index_key_ids],
        "log_key": load_log_key(settings).verifier().vkey(),
        "token_key_id": None,
        "seal": {
            "pkcs12": str(settings.seal_pkcs12) if settings.seal_pkcs12 else None,
            "pkcs11_module": (
                str(settings.seal_pkcs11_module) if settings.seal_pkcs11_module else None
            ),
            "pkcs11_key": settings.seal_pkcs11_key,
        },
        "trust_bundle_sha256": None,
    }
    if settings.token_key is not None:
        secret = settings.token_key.get_secret_value().encode()
        refs["token_key_id"] = hashlib.sha256(b"evault-token-key-id\0" + secret).hexdigest()[:16]
    bundle = settings.resolved_trust_bundle
    if bundle is not None and bundle.is_file():
        refs["trust_bundle_sha256"] = file_digest(bundle)[0]
    return refs


def check_key_references(
    recorded: dict[str, Any], settings: Settings, crypto: HolderCrypto
) -> list[str]:
    """Refuse when the target lacks a key the data needs; return notes on the others."""
    have = key_references(settings, crypto)
    for kind, env in (
        ("holder_key_ids", "EVAULT_HOLDER_KEY or EVAULT_OLD_HOLDER_KEYS"),
        ("blind_index_key_ids", "EVAULT_BLIND_INDEX_KEY or EVAULT_OLD_BLIND_INDEX_KEYS"),
    ):
        missing = [k for k in recorded.get(kind, []) if k not in have[kind]]
        if missing:
            raise BackupRefused(
                f"the backup's holder data needs key {missing[0]} ({kind[:-4]}), which this "
                f"vault's settings do not have: set {env} to it"
            )
    if recorded.get("log_key") != have["log_key"]:
        raise BackupRefused(
            "this vault's log key or origin is not the backup's (its checkpoints are signed "
            f"by {recorded.get('log_key')}): set EVAULT_LOG_KEY and EVAULT_PUBLIC_BASE_URL to match"
        )
    notes = []
    if recorded.get("token_key_id") != have["token_key_id"]:
        notes.append("the token key differs: API tokens issued before the backup no longer work")
    if recorded.get("trust_bundle_sha256") != have["trust_bundle_sha256"]:
        notes.append("the trust bundle differs from the one in use when the backup was taken")
    return notes


def write_secrets(root: Path, settings: Settings, crypto: HolderCrypto) -> dict[str, Path]:
    """Write the secret keys into ``root/secrets`` (mode 0600); return what was written."""
    from vault.log.keys import load_log_key

    lines = [
        f"EVAULT_HOLDER_KEY={crypto.holder_key.hex()}",
        f"EVAULT_BLIND_INDEX_KEY={crypto.blind_index_key.hex()}",
    ]
    if crypto.old_holder_keys:
        lines.append("EVAULT_OLD_HOLDER_KEYS=" + ",".join(k.hex() for k in crypto.old_holder_keys))
    if crypto.old_blind_index_keys:
        old = ",".join(k.hex() for k in crypto.old_blind_index_keys)
        lines.append(f"EVAULT_OLD_BLIND_INDEX_KEYS={old}")
    if settings.token_key is not None:
        lines.append(f"EVAULT_TOKEN_KEY={settings.token_key.get_secret_value()}")
    written = {
        "secrets/keys.env": "\n".join(lines) + "\n",
        "secrets/log-key.pem": load_log_key(settings).private_pem().decode("ascii"),
    }
    paths: dict[str, Path] = {}
    (root / "secrets").mkdir(mode=0o700, exist_ok=True)
    for rel, content in written.items():
        path = root / rel
        write_durably(path, content.encode())
        path.chmod(0o600)
        paths[rel] = path
    return paths
