"""Keys made and used inside a real SoftHSM2 token: an Ed25519 log key (CKM_EDDSA) that signs
checkpoints, a seal key and its certificate request signed in the token, protection
attributes, and one login shared by the seal's and the log's sessions."""

from __future__ import annotations

import secrets

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from signing.errors import KeySourceError
from signing.hsm import (
    Pkcs11Ed25519Key,
    generate_log_key,
    generate_seal_key,
    open_token,
    private_key_protection,
    seal_key_csr,
)
from signing.transparency import Checkpoint, LogSigner, LogVerifier
from tests.helpers.softhsm import SoftHsmToken, softhsm_token


@pytest.fixture(scope="module")
def token() -> SoftHsmToken:
    return softhsm_token()


def _label(stem: str) -> str:
    return f"{stem}-{secrets.token_hex(4)}"  # the token is shared by the whole test run


def test_an_ed25519_log_key_in_the_token_signs_checkpoints(token: SoftHsmToken) -> None:
    label = _label("log")
    session = open_token(module=token.module, token_label=token.token_label, pin=token.pin)
    try:
        public = generate_log_key(session, label)
        protection = private_key_protection(session, label)
        with pytest.raises(KeySourceError, match="already holds an object labelled"):
            generate_log_key(session, label)
    finally:
        session.close()
    assert (protection.sensitive, protection.extractable, protection.never_extractable) == (
        True,
        False,
        True,
    )
    key = Pkcs11Ed25519Key.open(
        module=token.module, token_label=token.token_label, pin=token.pin, key_label=label
    )
    try:
        signer = LogSigner(key, "vault.test/log")
        note = signer.sign(Checkpoint(origin="vault.test/log", size=1, root_hash=b"\1" * 32))
        assert LogVerifier(public, "vault.test/log").verify(note).checkpoint.size == 1
        with pytest.raises(KeySourceError, match="in an HSM: it cannot be written out"):
            signer.private_pem()
    finally:
        key.close()


def test_a_seal_key_in_the_token_and_its_request(token: SoftHsmToken) -> None:
    label = _label("seal")
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "evault 电子证照库")])
    session = open_token(module=token.module, token_label=token.token_label, pin=token.pin)
    try:
        public = generate_seal_key(session, label)
        request = seal_key_csr(session, label, subject)
        assert private_key_protection(session, label).extractable is False
    finally:
        session.close()
    assert isinstance(public.curve, ec.SECP256R1)
    assert request.is_signature_valid and request.subject == subject
    assert request.public_key() == public


def test_absent_keys_and_wrong_pins_are_refused(token: SoftHsmToken) -> None:
    with pytest.raises(KeySourceError, match="no usable Ed25519 key 'absent' on PKCS#11 token"):
        Pkcs11Ed25519Key.open(
            module=token.module, token_label=token.token_label, pin=token.pin, key_label="absent"
        )
    with pytest.raises(KeySourceError, match="not found"):
        open_token(module="/nonexistent/libp11.so", token_label="x", pin="1")
    held = open_token(module=token.module, token_label=token.token_label, pin=token.pin)
    try:  # logged in already: a second session shares the login, but only with its PIN
        open_token(module=token.module, token_label=token.token_label, pin=token.pin).close()
        with pytest.raises(KeySourceError, match="PinIncorrect"):
            open_token(module=token.module, token_label=token.token_label, pin="0000")
    finally:
        held.close()
