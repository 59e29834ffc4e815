"""Key sources: PKCS#12 files and in-memory keys, each parsed once."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from signing.errors import KeySourceError
from signing.keys import LocalKeySource, Pkcs12KeySource
from signing.pki import DemoPKI
from tests.helpers.pki import MARKET_DEPT


@pytest.fixture(scope="module")
def p12_dir(pki: DemoPKI, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return pki.save(tmp_path_factory.mktemp("pki"), "correct horse")


def test_pkcs12_load_gives_certificate_and_ordered_chain(pki: DemoPKI, p12_dir: Path) -> None:
    source = Pkcs12KeySource.load(p12_dir / f"seal-{MARKET_DEPT}.p12", b"correct horse")
    assert source.certificate == pki.issuing_department_seal(MARKET_DEPT).certificate
    assert source.chain == (pki.issuing_ca.certificate, pki.root.certificate)
    assert source.signer is source.signer  # built once


def test_signer_signs_with_the_loaded_key(pki: DemoPKI, p12_dir: Path) -> None:
    source = Pkcs12KeySource.load(p12_dir / "vault-seal.p12", "correct horse")
    signature = asyncio.run(source.signer.async_sign_raw(b"data", "sha256"))
    public = source.certificate.public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey)
    public.verify(signature, b"data", ec.ECDSA(hashes.SHA256()))


def test_wrong_password(p12_dir: Path) -> None:
    path = p12_dir / "vault-seal.p12"
    with pytest.raises(KeySourceError, match=r"cannot open PKCS#12 file .*wrong password"):
        Pkcs12KeySource.load(path, "not it")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(KeySourceError, match=r"PKCS#12 file not found: .*absent\.p12"):
        Pkcs12KeySource.load(tmp_path / "absent.p12", "x")


def test_not_a_pkcs12_file(tmp_path: Path) -> None:
    path = tmp_path / "junk.p12"
    path.write_bytes(b"this is not DER")
    with pytest.raises(KeySourceError, match="wrong password or not a PKCS#12 file"):
        Pkcs12KeySource.load(path, "x")


def test_certificate_without_key(pki: DemoPKI, tmp_path: Path) -> None:
    path = tmp_path / "certonly.p12"
    path.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"c", None, pki.root.certificate, None, serialization.NoEncryption()
        )
    )
    with pytest.raises(KeySourceError, match="does not hold a key with its certificate"):
        Pkcs12KeySource.load(path, None)


def test_key_must_match_certificate(pki: DemoPKI) -> None:
    with pytest.raises(KeySourceError, match="does not match the certificate's public key"):
        LocalKeySource(
            certificate=pki.vault_seal.certificate,
            private_key=pki.tsa.private_key,
            chain=pki.chain,
        )


def test_rsa_keys_sign_too() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "rsa test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    source = LocalKeySource(certificate=cert, private_key=key)
    signature = asyncio.run(source.signer.async_sign_raw(b"data", "sha256"))
    key.public_key().verify(signature, b"data", padding.PKCS1v15(), hashes.SHA256())
    assert source.chain == ()
