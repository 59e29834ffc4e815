"""The log key's settings: a PEM file or an Ed25519 key in an HSM, never both, never half."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from vault.errors import ConfigError
from vault.settings import load_settings

HSM = {
    "log_pkcs11_module": "/usr/lib/softhsm/libsofthsm2.so",
    "log_pkcs11_token": "evault",
    "log_pkcs11_key": "log-2027",
    "log_pkcs11_pin_file": "/run/secrets/pin",
}


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for key in list(os.environ):
        if key.startswith("EVAULT_"):
            monkeypatch.delenv(key)


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        ({}, "EVAULT_LOG_KEY is not set (or EVAULT_LOG_PKCS11_MODULE for an HSM)"),
        ({"log_key": "/etc/evault/log.pem"}, None),
        (HSM, None),
        ({**HSM, "log_key": "/k.pem"}, "EVAULT_LOG_KEY and EVAULT_LOG_PKCS11_MODULE are both"),
        ({**HSM, "log_pkcs11_key": None}, "EVAULT_LOG_PKCS11_KEY is not set (the PKCS#11 log"),
        ({**HSM, "log_pkcs11_pin": "9" * 12}, "give the token's PIN in exactly one of"),
        ({**HSM, "log_pkcs11_pin_file": None}, "give the token's PIN in exactly one of"),
        ({"log_pkcs11_token": "evault"}, "EVAULT_LOG_PKCS11_TOKEN is set but EVAULT_LOG_PKCS11"),
    ],
)
def test_log_key_problems(tmp_path: Path, values: dict[str, Any], problem: str | None) -> None:
    settings = load_settings(data_dir=tmp_path, **values)
    found = settings.log_key_problem()
    assert (found is None) if problem is None else (found or "").startswith(problem)
    if problem is not None:
        with pytest.raises(ConfigError, match="production mode refuses to start"):
            settings.check_production()


def test_demo_mode_generates_a_log_key_without_settings(tmp_path: Path) -> None:
    assert load_settings(mode="demo", data_dir=tmp_path).log_key_problem() is None


def test_the_pin_file_is_read_and_checked(tmp_path: Path) -> None:
    (tmp_path / "pin").write_text("4321\n")
    (tmp_path / "empty").write_text("\n")
    settings = load_settings(data_dir=tmp_path, **{**HSM, "log_pkcs11_pin_file": tmp_path / "pin"})
    assert settings.log_pin() == "4321"
    empty = settings.model_copy(update={"log_pkcs11_pin_file": tmp_path / "empty"})
    with pytest.raises(ConfigError, match=r"EVAULT_LOG_PKCS11_PIN_FILE .* is empty"):
        empty.log_pin()
    absent = settings.model_copy(update={"log_pkcs11_pin_file": tmp_path / "absent"})
    with pytest.raises(ConfigError, match="cannot read EVAULT_LOG_PKCS11_PIN_FILE"):
        absent.log_pin()
