from __future__ import annotations

import re
from pathlib import Path

import pytest

from vault.errors import ConfigError
from vault.settings import Mode, load_settings

STRONG = "q" * 8 + "9f3a1c7e5b2d4f6a8c0e1b3d5f7a9c2e"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for key in list(os.environ):
        if key.startswith("EVAULT_"):
            monkeypatch.delenv(key)


def test_production_is_the_default_and_refuses_missing_secrets(tmp_path: Path) -> None:
    s = load_settings(data_dir=tmp_path)
    assert s.mode is Mode.PRODUCTION
    with pytest.raises(ConfigError, match="EVAULT_HOLDER_KEY is not set") as info:
        s.check_production()
    assert "run `evault demo`" in str(info.value)


def test_production_refuses_placeholder_and_short_secrets(tmp_path: Path) -> None:
    s = load_settings(
        data_dir=tmp_path,
        holder_key="demo-" + STRONG,
        blind_index_key="short",
        token_key=STRONG,
        seal_pkcs12=tmp_path / "seal.p12",
    )
    with pytest.raises(ConfigError) as info:
        s.check_production()
    msg = str(info.value)
    assert "EVAULT_HOLDER_KEY is a placeholder or demo value" in msg
    assert "EVAULT_BLIND_INDEX_KEY is shorter than 32 characters" in msg
    assert "TOKEN_KEY" not in msg


def test_demo_mode_is_explicit_and_needs_no_secrets(tmp_path: Path) -> None:
    s = load_settings(data_dir=tmp_path, mode="demo")
    s.check_production()  # no error in demo mode
    assert s.resolved_database_url == f"sqlite:///{tmp_path / 'evault.db'}"
    assert s.resolved_blob_dir == tmp_path / "blobs"


def test_environment_overrides_toml_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "evault.toml"
    cfg.write_text('mode = "demo"\nupload_limit_bytes = 1000\ncopy_default_days = 7\n')
    monkeypatch.setenv("EVAULT_CONFIG", str(cfg))
    monkeypatch.setenv("EVAULT_COPY_DEFAULT_DAYS", "9")
    s = load_settings()
    assert s.mode is Mode.DEMO
    assert s.upload_limit_bytes == 1000
    assert s.copy_default_days == 9


def test_bad_values_give_one_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVAULT_UPLOAD_LIMIT_BYTES", "-5")
    with pytest.raises(ConfigError, match="invalid setting upload_limit_bytes"):
        load_settings()
    monkeypatch.delenv("EVAULT_UPLOAD_LIMIT_BYTES")
    monkeypatch.setenv("EVAULT_CONFIG", str(tmp_path / "missing.toml"))
    with pytest.raises(ConfigError, match="not a readable file"):
        load_settings()


def test_unparseable_values_and_files_give_one_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EVAULT_SEAL_CRLS", "/etc/evault/a.crl")  # a list, not in JSON
    with pytest.raises(ConfigError, match=r"invalid setting EVAULT_SEAL_CRLS: not parseable"):
        load_settings()
    monkeypatch.delenv("EVAULT_SEAL_CRLS")
    cfg = tmp_path / "evault.toml"
    cfg.write_text('mode = "demo\n', encoding="utf-8")
    monkeypatch.setenv("EVAULT_CONFIG", str(cfg))
    with pytest.raises(ConfigError, match=r"evault.toml is not valid TOML: .*line 1"):
        load_settings()


def test_production_needs_a_trust_bundle_and_a_tsa(tmp_path: Path) -> None:
    s = load_settings(data_dir=tmp_path)
    with pytest.raises(ConfigError) as info:
        s.check_production()
    assert "EVAULT_TRUST_BUNDLE is not set" in str(info.value)
    assert "EVAULT_TSA_URL is not set" in str(info.value)
    given = load_settings(
        data_dir=tmp_path, trust_bundle=tmp_path / "bundle.json", tsa_url="http://tsa.example"
    )
    with pytest.raises(ConfigError) as info:
        given.check_production()
    assert "TRUST_BUNDLE" not in str(info.value) and "TSA_URL" not in str(info.value)


def test_secrets_are_not_shown_in_repr(tmp_path: Path) -> None:
    s = load_settings(data_dir=tmp_path, holder_key=STRONG)
    assert STRONG not in repr(s)


def test_old_keys_are_checked_like_current_ones(tmp_path: Path) -> None:
    s = load_settings(
        data_dir=tmp_path,
        holder_key=STRONG,
        blind_index_key=STRONG[::-1],
        token_key=STRONG,
        seal_pkcs12=tmp_path / "seal.p12",
        log_key=tmp_path / "log.pem",
        old_holder_keys=f"{STRONG}, short",
        old_blind_index_keys=["example-" + STRONG],
    )
    assert len(s.old_holder_keys) == 2
    with pytest.raises(ConfigError) as info:
        s.check_production()
    msg = str(info.value)
    assert "EVAULT_OLD_HOLDER_KEYS entry 2 is shorter than 32 characters" in msg
    assert "EVAULT_OLD_BLIND_INDEX_KEYS entry 1 is a placeholder or demo value" in msg
    assert "entry 1 is" not in msg.split("EVAULT_OLD_BLIND_INDEX_KEYS")[0]
    assert load_settings(data_dir=tmp_path).old_holder_keys == []  # no default key, any mode


def test_witnesses_are_url_and_witness_vkey(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from signing.transparency.cosignature import CosignatureSigner

    vkey = CosignatureSigner.generate("w.example/1").verifier().vkey()
    monkeypatch.setenv("EVAULT_WITNESSES", f'["http://127.0.0.1:8100 {vkey}"]')
    assert load_settings(mode="demo", data_dir=tmp_path).witnesses == [
        f"http://127.0.0.1:8100 {vkey}"
    ]
    log_vkey = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
    for bad, reason in (
        (f"ftp://w.example {vkey}", "not '<http"),
        (vkey, "not '<http"),
        (f"https://w.example {log_vkey}", "signature type 0x04"),
    ):
        monkeypatch.setenv("EVAULT_WITNESSES", f'["{bad}"]')
        with pytest.raises(ConfigError, match=r"invalid setting witnesses.*" + re.escape(reason)):
            load_settings(mode="demo", data_dir=tmp_path)
