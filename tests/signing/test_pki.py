"""The demo PKI: deterministic, well-formed certificates, revocation, files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from schemas.identifiers import CreditCode
from signing.errors import KeySourceError, SigningError
from signing.keys import Pkcs12KeySource
from signing.pki import DemoPKI, is_demo_root, subject_credit_code
from tests.helpers.pki import DEPARTMENTS, MARKET_DEPT, SEED, VAULT_CODE

NOW = dt.datetime(2026, 3, 1, 8, 30, tzinfo=dt.UTC)


def _generate(seed: bytes = SEED) -> DemoPKI:
    return DemoPKI.generate(seed=seed, departments=DEPARTMENTS, now=NOW)


def _all_der(pki: DemoPKI) -> list[bytes]:
    return [identity.certificate.public_bytes(Encoding.DER) for _, identity in pki.identities()]


def test_same_seed_gives_the_same_bytes() -> None:
    first, second = _generate(), _generate()
    assert _all_der(first) == _all_der(second)
    assert first.crl() == second.crl()
    assert first.root_crl() == second.root_crl()


def test_other_seed_gives_other_keys() -> None:
    first, other = _generate(), _generate(b"another seed")
    assert first.root.certificate.public_key() != other.root.certificate.public_key()
    assert first.root.serial == other.root.serial


def test_root_says_demo_and_chain_links_up(pki: DemoPKI) -> None:
    root, issuing = pki.root.certificate, pki.issuing_ca.certificate
    assert root.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == (
        "evault Demo Root CA"
    )
    assert is_demo_root(root)
    assert not is_demo_root(pki.vault_seal.certificate)
    root.verify_directly_issued_by(root)
    issuing.verify_directly_issued_by(root)
    for stem, identity in pki.identities():
        if stem not in ("root-ca", "issuing-ca"):
            identity.certificate.verify_directly_issued_by(issuing)
    constraints = issuing.extensions.get_extension_for_class(x509.BasicConstraints).value
    assert constraints.ca and constraints.path_length == 0


def test_department_seal_subject_and_usage(pki: DemoPKI) -> None:
    cert = pki.issuing_department_seal(MARKET_DEPT).certificate
    subject = cert.subject
    assert subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "福州市市场监督管理局"
    assert subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)[0].value == "CN"
    assert subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value == MARKET_DEPT
    assert (
        subject.get_attributes_for_oid(NameOID.ORGANIZATION_IDENTIFIER)[0].value
        == "NTRCN-" + MARKET_DEPT
    )
    assert subject_credit_code(cert) == MARKET_DEPT
    assert CreditCode.parse(MARKET_DEPT) == MARKET_DEPT
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical
    assert usage.value.digital_signature and usage.value.content_commitment
    assert not usage.value.key_cert_sign
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert subject_credit_code(pki.vault_seal.certificate) == VAULT_CODE


def test_unknown_department_is_a_key_error(pki: DemoPKI) -> None:
    with pytest.raises(KeyError, match="no demo department with credit code 91350100M000100Y43"):
        pki.issuing_department_seal("91350100M000100Y43")


def test_tsa_has_critical_timestamping_eku(pki: DemoPKI) -> None:
    eku = pki.tsa.certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert eku.critical
    assert list(eku.value) == [ExtendedKeyUsageOID.TIME_STAMPING]


def test_validity_follows_now() -> None:
    pki = _generate()
    seal = pki.vault_seal.certificate
    assert seal.not_valid_before_utc == NOW - dt.timedelta(days=1)
    assert seal.not_valid_after_utc <= pki.issuing_ca.certificate.not_valid_after_utc
    crl = x509.load_der_x509_crl(pki.crl())
    assert crl.last_update_utc == NOW
    assert crl.next_update_utc == NOW + dt.timedelta(days=365)


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="aware datetime"):
        DemoPKI.generate(seed=SEED, departments=DEPARTMENTS, now=dt.datetime(2026, 1, 1))


def test_duplicate_departments_are_refused() -> None:
    with pytest.raises(SigningError, match="must be unique"):
        DemoPKI.generate(seed=SEED, departments=[*DEPARTMENTS, DEPARTMENTS[0]], now=NOW)


def test_revoke_gives_a_new_pki_whose_crl_lists_the_serial() -> None:
    pki = _generate()
    serial = pki.issuing_department_seal(MARKET_DEPT).serial
    at = NOW + dt.timedelta(days=10)
    revoked = pki.revoke(serial, at)
    assert pki.revocations == ()  # the original is untouched
    crl = x509.load_der_x509_crl(revoked.crl())
    assert crl.is_signature_valid(pki.issuing_ca.certificate.public_key())
    entry = crl.get_revoked_certificate_by_serial_number(serial)
    assert entry is not None
    assert entry.revocation_date_utc == at
    assert crl.last_update_utc == at  # a CRL is never older than what it lists
    assert (
        x509.load_der_x509_crl(pki.crl()).get_revoked_certificate_by_serial_number(serial) is None
    )
    assert revoked.revoke(serial, at) is revoked


def test_revoking_a_foreign_serial_is_refused(pki: DemoPKI) -> None:
    with pytest.raises(SigningError, match="was not issued by the demo issuing CA"):
        pki.revoke(pki.root.serial, NOW)


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    pki = _generate().revoke(_generate().vault_seal.serial, NOW)
    pki.save(tmp_path, "secret pass")
    names = {p.name for p in tmp_path.iterdir()}
    assert {"root-ca.p12", "root-ca.pem", "chain.pem", "issuing-ca.crl", "pki.json"} <= names
    assert f"seal-{MARKET_DEPT}.p12" in names
    loaded = DemoPKI.load(tmp_path, "secret pass")
    assert _all_der(loaded) == _all_der(pki)
    assert loaded.revocations == pki.revocations
    assert loaded.crl() == pki.crl()
    assert loaded.department_names == pki.department_names
    source = Pkcs12KeySource.load(tmp_path / f"seal-{MARKET_DEPT}.p12", "secret pass")
    assert source.certificate == pki.issuing_department_seal(MARKET_DEPT).certificate
    assert source.chain == pki.chain


def test_load_with_wrong_password_fails_clearly(tmp_path: Path) -> None:
    _generate().save(tmp_path, b"right")
    with pytest.raises(KeySourceError, match="wrong password or not a PKCS#12 file"):
        DemoPKI.load(tmp_path, b"wrong")


def test_load_from_an_empty_directory_fails_clearly(tmp_path: Path) -> None:
    with pytest.raises(KeySourceError, match="no readable demo PKI manifest"):
        DemoPKI.load(tmp_path, b"x")


def test_empty_password_is_refused(tmp_path: Path) -> None:
    with pytest.raises(KeySourceError, match="must not be empty"):
        _generate().save(tmp_path, "")


# -- evault pki init ---------------------------------------------------------------------------


def test_cli_pki_init_writes_a_loadable_pki(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from vault.cli import build_app

    target = tmp_path / "pki"
    env = {"EVAULT_PKI_PASSWORD": "cli pass"}
    arguments = ["pki", "init", str(target), "-d", f"福州市市场监督管理局={MARKET_DEPT}"]
    result = CliRunner().invoke(build_app(), arguments, env=env)
    assert result.exit_code == 0, result.output
    assert "root: CN=evault Demo Root CA" in result.output
    loaded = DemoPKI.load(target, "cli pass")
    assert loaded.department_names == {MARKET_DEPT: "福州市市场监督管理局"}
    again = CliRunner().invoke(build_app(), arguments, env=env)
    assert again.exit_code == 2
    assert "already holds a PKI (use --force to replace it)" in again.output


def test_cli_pki_init_refuses_bad_input(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from vault.cli import build_app

    runner = CliRunner()
    no_password = runner.invoke(build_app(), ["pki", "init", str(tmp_path)], env={})
    assert no_password.exit_code == 2
    assert "set the password in the environment variable EVAULT_PKI_PASSWORD" in (
        no_password.output
    )
    bad_code = runner.invoke(
        build_app(),
        ["pki", "init", str(tmp_path), "-d", "某局=11350100003604367A"],
        env={"EVAULT_PKI_PASSWORD": "x"},
    )
    assert bad_code.exit_code == 2
    assert "统一社会信用代码" in bad_code.output
    assert not (tmp_path / "pki.json").exists()
