"""Holder crypto: AES-256-GCM round trip, purpose binding, blind index, key handling."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from vault.crypto import HolderCrypto, HolderDataError, decode_key
from vault.errors import ConfigError
from vault.settings import load_settings

ID = "11010519491231002X"


def test_round_trip_and_random_nonce(crypto: HolderCrypto) -> None:
    a = crypto.encrypt(ID, purpose="id")
    b = crypto.encrypt(ID, purpose="id")
    assert a != b
    assert ID.encode() not in a
    assert crypto.decrypt(a, purpose="id") == ID


def test_purpose_is_bound(crypto: HolderCrypto) -> None:
    sealed = crypto.encrypt(ID, purpose="id")
    with pytest.raises(HolderDataError, match="stored name does not decrypt"):
        crypto.decrypt(sealed, purpose="name")


def test_tampering_is_detected(crypto: HolderCrypto) -> None:
    sealed = bytearray(crypto.encrypt(ID, purpose="id"))
    sealed[-1] ^= 1
    with pytest.raises(HolderDataError, match="wrong EVAULT_HOLDER_KEY or altered data"):
        crypto.decrypt(bytes(sealed), purpose="id")


def test_blind_index_is_keyed_and_normalized(crypto: HolderCrypto) -> None:
    index = crypto.blind_index("111", ID)
    assert len(index) == 32
    assert crypto.blind_index("111", " 11010519491231002x ") == index
    assert crypto.blind_index("001", ID) != index
    assert HolderCrypto.generate().blind_index("111", ID) != index


def test_decode_key_accepts_hex_and_base64() -> None:
    raw = bytes(range(32))
    assert decode_key(raw.hex(), name="k") == raw
    import base64

    assert decode_key(base64.b64encode(raw).decode(), name="k") == raw
    with pytest.raises(ConfigError, match="k must be 32 random bytes written as hex or base64"):
        decode_key("too short", name="k")


def test_same_key_twice_is_refused() -> None:
    with pytest.raises(ConfigError, match="holder_key and blind_index_key must differ"):
        HolderCrypto(bytes(32), bytes(32))


def test_production_needs_keys(tmp_path: Path) -> None:
    settings = load_settings(mode="production", data_dir=tmp_path)
    with pytest.raises(ConfigError, match="EVAULT_HOLDER_KEY is not set"):
        HolderCrypto.from_settings(settings)


def test_keys_from_settings(tmp_path: Path) -> None:
    settings = load_settings(
        mode="production",
        data_dir=tmp_path,
        holder_key=bytes(range(32)).hex(),
        blind_index_key=bytes(range(1, 33)).hex(),
    )
    crypto = HolderCrypto.from_settings(settings)
    assert crypto.holder_key == bytes(range(32))
    assert not (tmp_path / "keys").exists()


def test_demo_keys_are_generated_once_with_mode_0600(tmp_path: Path) -> None:
    settings = load_settings(mode="demo", data_dir=tmp_path)
    first = HolderCrypto.from_settings(settings)
    second = HolderCrypto.from_settings(settings)
    assert first == second
    for name in ("holder_key.hex", "blind_index_key.hex"):
        mode = stat.S_IMODE(os.stat(tmp_path / "keys" / name).st_mode)
        assert mode == 0o600
    assert first.holder_key.hex() not in repr(first)
