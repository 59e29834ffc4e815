"""Holder crypto: AES-256-GCM round trip, purpose binding, blind index, key handling."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from vault.crypto import HolderCrypto, HolderDataError, decode_key, key_id
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


# Key ids and rotation ------------------------------------------------------------------------
OLD_H, OLD_B = bytes(range(100, 132)), bytes(range(140, 172))
NEW_H, NEW_B = bytes(range(200, 232)), bytes(range(10, 42))


def _v1(key: bytes, plaintext: str, purpose: str) -> bytes:
    """A ciphertext in the format written before key ids (version byte 1)."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = os.urandom(12)
    aad = b"evault/holder/" + purpose.encode()
    return b"\x01" + nonce + AESGCM(key).encrypt(nonce, plaintext.encode(), aad)


def test_ciphertext_names_its_key_and_old_keys_still_decrypt() -> None:
    old = HolderCrypto(OLD_H, OLD_B)
    rotated = HolderCrypto(NEW_H, NEW_B, old_holder_keys=(OLD_H,), old_blind_index_keys=(OLD_B,))
    sealed_old = old.encrypt(ID, purpose="id")
    assert old.sealed_key_id(sealed_old) == key_id(OLD_H) == old.holder_key_id
    assert rotated.decrypt(sealed_old, purpose="id") == ID
    sealed_new = rotated.encrypt(ID, purpose="id")
    assert rotated.sealed_key_id(sealed_new) == key_id(NEW_H) != key_id(OLD_H)
    # Without the old key listed, the old ciphertext names a key that is not there.
    with pytest.raises(HolderDataError) as info:
        HolderCrypto(NEW_H, NEW_B).decrypt(sealed_old, purpose="id")
    assert str(info.value) == (
        f"stored id is encrypted under holder key {key_id(OLD_H)}, which is not configured "
        "(EVAULT_HOLDER_KEY or EVAULT_OLD_HOLDER_KEYS)"
    )
    # The key id in the header is authenticated: pointing it at another key fails.
    forged = sealed_old[:1] + bytes.fromhex(key_id(NEW_H)) + sealed_old[9:]
    with pytest.raises(HolderDataError, match="does not decrypt"):
        rotated.decrypt(forged, purpose="id")


def test_old_format_ciphertexts_decrypt_under_any_configured_key() -> None:
    legacy = _v1(OLD_H, ID, "id")
    rotated = HolderCrypto(NEW_H, NEW_B, old_holder_keys=(OLD_H,))
    assert rotated.sealed_key_id(legacy) is None
    assert rotated.decrypt(legacy, purpose="id") == ID
    assert HolderCrypto(OLD_H, OLD_B).decrypt(legacy, purpose="id") == ID
    with pytest.raises(HolderDataError, match="wrong EVAULT_HOLDER_KEY or altered data"):
        HolderCrypto(NEW_H, NEW_B).decrypt(legacy, purpose="id")
    with pytest.raises(HolderDataError, match="wrong EVAULT_HOLDER_KEY"):
        rotated.decrypt(_v1(OLD_H, ID, "name"), purpose="id")  # purpose still bound


def test_blind_indexes_cover_every_index_key_current_first() -> None:
    old = HolderCrypto(OLD_H, OLD_B)
    new = HolderCrypto(NEW_H, NEW_B)
    rotated = HolderCrypto(NEW_H, NEW_B, old_blind_index_keys=(OLD_B,))
    assert rotated.blind_index("111", ID) == new.blind_index("111", ID)
    assert rotated.blind_indexes("111", ID) == (
        new.blind_index("111", ID),
        old.blind_index("111", ID),
    )
    assert new.blind_indexes("111", ID) == (new.blind_index("111", ID),)


def test_a_key_given_twice_is_refused() -> None:
    with pytest.raises(ConfigError, match="a key is given twice"):
        HolderCrypto(NEW_H, NEW_B, old_holder_keys=(NEW_H,))
    with pytest.raises(ConfigError, match="a key is given twice"):
        HolderCrypto(NEW_H, NEW_B, old_blind_index_keys=(NEW_H,))
    with pytest.raises(ConfigError, match="old_holder_keys must be 32 bytes"):
        HolderCrypto(NEW_H, NEW_B, old_holder_keys=(b"short",))


def test_old_keys_from_settings_comma_separated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EVAULT_OLD_HOLDER_KEYS", f"{OLD_H.hex()}, {bytes(range(50, 82)).hex()}")
    monkeypatch.setenv("EVAULT_OLD_BLIND_INDEX_KEYS", OLD_B.hex())
    monkeypatch.setenv("EVAULT_HOLDER_KEY", NEW_H.hex())
    monkeypatch.setenv("EVAULT_BLIND_INDEX_KEY", NEW_B.hex())
    settings = load_settings(mode="production", data_dir=tmp_path)
    crypto = HolderCrypto.from_settings(settings)
    assert crypto.old_holder_keys == (OLD_H, bytes(range(50, 82)))
    assert crypto.old_blind_index_keys == (OLD_B,)
    assert OLD_H.hex() not in repr(crypto) and OLD_H.hex() not in repr(settings)
    monkeypatch.setenv("EVAULT_OLD_BLIND_INDEX_KEYS", "not-a-key")
    with pytest.raises(ConfigError, match="EVAULT_OLD_BLIND_INDEX_KEYS entry 1 must be 32"):
        HolderCrypto.from_settings(load_settings(mode="production", data_dir=tmp_path))


def test_digest_is_keyed_and_purpose_bound() -> None:
    a, b = HolderCrypto(OLD_H, OLD_B), HolderCrypto(NEW_H, NEW_B)
    assert a.digest(b"row", purpose="x") == a.digest(b"row", purpose="x")
    assert a.digest(b"row", purpose="x") != a.digest(b"row", purpose="y")
    assert a.digest(b"row", purpose="x") != b.digest(b"row", purpose="x")
    import hashlib

    assert a.digest(b"row", purpose="x") != hashlib.sha256(b"row").hexdigest()
