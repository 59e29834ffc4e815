"""Settings a production-mode app needs to start, for tests that serve a vault they opened.

Production refuses to start without its secrets, keys, trust bundle and TSA (see
``Settings.check_production``). Tests that hand ``create_app`` an open vault never use the
seal, the log key or the TSA, so these name files that need not exist and a TSA nobody
listens on; the secrets are fresh and random.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

__all__ = ["production_settings"]


def production_settings(tmp_path: Path, **overrides: Any) -> dict[str, Any]:
    """Keyword arguments for ``load_settings`` (or a ``DemoData.settings``) in production."""
    return {
        "mode": "production",
        "data_dir": tmp_path,
        "holder_key": secrets.token_hex(32),
        "blind_index_key": secrets.token_hex(32),
        "token_key": secrets.token_hex(32),
        "seal_pkcs12": tmp_path / "unused.p12",
        "log_key": tmp_path / "unused-log.pem",
        "trust_bundle": tmp_path / "unused-bundle.json",
        "tsa_url": "http://127.0.0.1:9/unused-tsa",
        **overrides,
    }
