"""SM2/SM3 cross-checked with the OpenSSL command line, and the SM2 path check."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import pytest
from asn1crypto import x509

from schemas.report import SubIndication
from signing.ofd.certpath import Sm2TrustStore, load_certificate
from signing.ofd.pki import Sm2DemoPKI
from signing.ofd.sm2 import SM2PrivateKey, sm2_verify, sm3
from tests.conftest import require_tool
from tests.signing.ofd.conftest import MARKET

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)


def test_sm3_known_answer() -> None:
    # GB/T 32905 appendix A, example 1.
    assert sm3(b"abc").hex() == ("66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0")


def _openssl_verify(tmp: Path, pub_pem: bytes, message: bytes, signature: bytes) -> bool:
    openssl = require_tool("openssl")
    (tmp / "pub.pem").write_bytes(pub_pem)
    (tmp / "msg").write_bytes(message)
    (tmp / "sig").write_bytes(signature)
    done = subprocess.run(
        [
            openssl,
            "pkeyutl",
            "-verify",
            "-pubin",
            "-inkey",
            tmp / "pub.pem",
            "-rawin",
            "-digest",
            "sm3",
            "-pkeyopt",
            "distid:1234567812345678",
            "-in",
            tmp / "msg",
            "-sigfile",
            tmp / "sig",
        ],
        capture_output=True,
        timeout=30,
        check=False,
    )
    return done.returncode == 0


def _pub_pem(cert_der: bytes) -> bytes:
    openssl = require_tool("openssl")
    return subprocess.run(
        [openssl, "x509", "-inform", "DER", "-pubkey", "-noout"],
        input=cert_der,
        capture_output=True,
        timeout=30,
        check=True,
    ).stdout


def test_our_signatures_verify_with_openssl(tmp_path: Path, sm2_pki: Sm2DemoPKI) -> None:
    signer = sm2_pki.signers[MARKET]
    message = "电子证照 OFD".encode() * 50
    signature = signer.key.sign(message)
    assert _openssl_verify(tmp_path, _pub_pem(signer.cert), message, signature)
    assert not _openssl_verify(tmp_path, _pub_pem(signer.cert), message + b"!", signature)


def test_certificate_signatures_verify_with_openssl(tmp_path: Path, sm2_pki: Sm2DemoPKI) -> None:
    cert = x509.Certificate.load(sm2_pki.ca.cert)
    assert _openssl_verify(
        tmp_path,
        _pub_pem(sm2_pki.root.cert),
        cert["tbs_certificate"].dump(),
        cert["signature_value"].native,
    )


def test_openssl_signatures_verify_with_ours(tmp_path: Path) -> None:
    openssl = require_tool("openssl")
    key = SM2PrivateKey.from_int(0x1234567890ABCDEF)
    (tmp_path / "k.pem").write_bytes(key.pem())
    (tmp_path / "msg").write_bytes(b"sealed by openssl")
    subprocess.run(
        [
            openssl,
            "pkeyutl",
            "-sign",
            "-inkey",
            tmp_path / "k.pem",
            "-rawin",
            "-digest",
            "sm3",
            "-pkeyopt",
            "distid:1234567812345678",
            "-in",
            tmp_path / "msg",
            "-out",
            tmp_path / "sig",
        ],
        capture_output=True,
        timeout=30,
        check=True,
    )
    signature = (tmp_path / "sig").read_bytes()
    assert sm2_verify(key.public_point, signature, b"sealed by openssl")
    assert not sm2_verify(key.public_point, signature, b"sealed by someone else")


def test_raw_r_s_signatures_are_read() -> None:
    from asn1crypto.algos import DSASignature

    key = SM2PrivateKey.from_int(7)
    sig = DSASignature.load(key.sign(b"m"))
    raw = sig["r"].native.to_bytes(32, "big") + sig["s"].native.to_bytes(32, "big")
    assert sm2_verify(key.public_point, raw, b"m")
    assert not sm2_verify(key.public_point, raw[:-1], b"m")
    assert not sm2_verify(b"\x04" + b"\x00" * 64, raw, b"m")


@pytest.fixture(scope="module")
def store(sm2_pki: Sm2DemoPKI) -> Sm2TrustStore:
    b = sm2_pki.trust_bundle()
    return Sm2TrustStore(b.root_certificates, b.intermediate_certificates, b.crl_objects)


def test_path_to_the_root(store: Sm2TrustStore, sm2_pki: Sm2DemoPKI) -> None:
    result = store.validate(load_certificate(sm2_pki.signers[MARKET].cert), at=NOW)
    assert result.trusted, result.message
    assert len(result.path) == 3


def test_no_path_from_a_foreign_pki(store: Sm2TrustStore) -> None:
    other = Sm2DemoPKI.build(seed=b"someone else", now=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    result = store.validate(load_certificate(other.signers[MARKET].cert), at=NOW)
    assert result.problem is SubIndication.NO_CERTIFICATE_CHAIN_FOUND


def test_a_signer_cannot_act_as_a_ca(sm2_pki: Sm2DemoPKI, store: Sm2TrustStore) -> None:
    """A certificate issued by an end-entity (no basicConstraints CA) is refused."""
    from signing.ofd.pki import _certificate, _name

    signer = sm2_pki.signers[MARKET]
    rogue_key = SM2PrivateKey.from_int(99)
    rogue = _certificate(
        subject=_name("rogue"),
        key=rogue_key,
        issuer=signer.certificate.subject,
        issuer_key=signer.key,
        serial=5,
        not_before=sm2_pki.now,
        days=3650,
        ca=False,
    )
    store.intermediates.append(signer.certificate)
    try:
        result = store.validate(load_certificate(rogue), at=NOW)
    finally:
        store.intermediates.pop()
    assert result.problem is SubIndication.CHAIN_CONSTRAINTS_FAILURE
    assert "is not a CA" in result.message


def test_not_yet_valid(store: Sm2TrustStore, sm2_pki: Sm2DemoPKI) -> None:
    result = store.validate(
        load_certificate(sm2_pki.signers[MARKET].cert), at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    )
    assert result.problem is SubIndication.NOT_YET_VALID


def test_missing_crl_is_unknown(sm2_pki: Sm2DemoPKI) -> None:
    b = sm2_pki.trust_bundle()
    store = Sm2TrustStore(b.root_certificates, b.intermediate_certificates, [])
    result = store.validate(load_certificate(sm2_pki.signers[MARKET].cert), at=NOW)
    assert result.trusted and result.revocation.value == "unknown"
