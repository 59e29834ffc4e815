"""open_vault: the embedded default in demo mode builds everything from settings alone."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from tests.vault.licenses import trust_bundle
from vault.blobs import LocalBlobStore
from vault.bootstrap import build_verifier, open_vault
from vault.errors import ConfigError
from vault.migrations import current
from vault.settings import load_settings


def test_demo_vault_from_settings(tmp_path: Path) -> None:
    (tmp_path / "trust-bundle.json").write_bytes(trust_bundle().dump())
    settings = load_settings(mode="demo", data_dir=tmp_path)
    vault = open_vault(settings)
    try:
        assert current(settings.resolved_database_url) is not None  # upgraded on open
        assert isinstance(vault.blobs, LocalBlobStore)
        assert (tmp_path / "keys" / "holder_key.hex").is_file()
        with vault.session() as session:
            assert session.execute(text("SELECT count(*) FROM licenses")).scalar() == 0
        assert vault.verifier is vault.verifier  # built once
    finally:
        vault.close()


def test_production_needs_a_trust_bundle(tmp_path: Path) -> None:
    settings = load_settings(mode="production", data_dir=tmp_path)
    with pytest.raises(ConfigError, match="no trust bundle for intake: set EVAULT_TRUST_BUNDLE"):
        build_verifier(settings)
    missing = load_settings(mode="production", data_dir=tmp_path, trust_bundle=tmp_path / "x")
    with pytest.raises(ConfigError, match=r"trust bundle .*x does not exist"):
        build_verifier(missing)
