"""Key sources: PKCS#12 files, in-memory keys (parsed once) and a SoftHSM2 PKCS#11 token."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from signing._pyhanko import to_asn1
from signing.errors import KeySourceError
from signing.keys import LocalKeySource, Pkcs11KeySource, Pkcs12KeySource
from signing.pki import DemoPKI
from signing.seal import PadesLevel, Sealer
from tests.helpers.pki import MARKET_DEPT, embedded_tsa, sample_pdf
from tests.helpers.softhsm import softhsm_token


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


# -- PKCS#11: a real SoftHSM2 token ---------------------------------------------------------


@pytest.fixture(scope="module")
def softhsm() -> str:
    """The shared SoftHSM2 token "evault" (user PIN 1234) holding the vault seal's key."""
    return softhsm_token().module


def _open_hsm(pki: DemoPKI, module: str, **overrides: Any) -> Pkcs11KeySource:
    arguments: dict[str, Any] = {
        "token_label": "evault",
        "pin": "1234",
        "key_label": "vault-seal",
        "certificate": pki.vault_seal.certificate,
    }
    arguments.update(overrides)
    return Pkcs11KeySource.open(module=module, chain=pki.chain, **arguments)


def test_pkcs11_wrong_pin(pki: DemoPKI, softhsm: str) -> None:
    with pytest.raises(KeySourceError, match="cannot open PKCS#11 token 'evault': PinIncorrect"):
        _open_hsm(pki, softhsm, pin="0000")


def test_pkcs11_unknown_token(pki: DemoPKI, softhsm: str) -> None:
    with pytest.raises(KeySourceError, match=r"cannot open PKCS#11 token 'other': .*No token"):
        _open_hsm(pki, softhsm, token_label="other")


def test_pkcs11_unknown_key(pki: DemoPKI, softhsm: str) -> None:
    with pytest.raises(KeySourceError, match="no usable key 'nope' on PKCS#11 token 'evault'"):
        _open_hsm(pki, softhsm, key_label="nope")


def test_pkcs11_key_of_another_certificate(pki: DemoPKI, softhsm: str) -> None:
    with pytest.raises(
        KeySourceError,
        match="the key 'vault-seal' on PKCS#11 token 'evault' does not match the seal certificate "
        r"\(CN=evault Demo Timestamp Authority,",
    ):
        _open_hsm(pki, softhsm, certificate=pki.tsa.certificate)


def test_pkcs11_missing_module(pki: DemoPKI, tmp_path: Path) -> None:
    with pytest.raises(KeySourceError, match="PKCS#11 module not found"):
        _open_hsm(pki, str(tmp_path / "absent.so"))


def test_pkcs11_seal_validates(pki: DemoPKI, softhsm: str) -> None:
    source = _open_hsm(pki, softhsm)
    try:
        sealer = Sealer(source, timestamper=embedded_tsa(), crls=pki.crls())
        sealed = sealer.seal(sample_pdf(), level=PadesLevel.B_LT)
    finally:
        source.close()
    signature = PdfFileReader(io.BytesIO(sealed)).embedded_signatures[0]
    context = ValidationContext(trust_roots=[to_asn1(pki.root.certificate)], allow_fetching=False)
    status = validate_pdf_signature(signature, context)
    assert status.bottom_line
    assert status.signing_cert.dump() == pki.vault_seal.certificate.public_bytes(
        serialization.Encoding.DER
    )
