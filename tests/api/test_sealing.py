"""The vault's sealer from settings: a seal key in a real SoftHSM2 token, a TSA and the
seal chain's CRLs fetched from an HTTP server on loopback; misconfigurations refused at
start with one error naming the problem."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from api.cli import build_app
from api.sealing import VaultCopyRenderer, copy_renderer_from_settings
from signing.pki import DemoPKI
from signing.transparency import LogSigner
from signing.trust import TrustBundle
from signing.verify import Verifier
from tests.helpers.copyable import copyable_license
from tests.helpers.pki_server import PkiServer
from tests.helpers.softhsm import SoftHsmToken, softhsm_token
from tests.vault.licenses import trust_bundle
from vault.errors import ConfigError
from vault.migrations import upgrade
from vault.settings import Settings, load_settings

USE = {"purpose": "住房保障资格审核", "case_no": "ZJ-2026-000123"}


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for key in list(os.environ):
        if key.startswith("EVAULT_"):
            monkeypatch.delenv(key)


@pytest.fixture
def server() -> Iterator[PkiServer]:
    with PkiServer() as running:
        yield running


@pytest.fixture
def published(server: PkiServer) -> DemoPKI:
    """The test PKI, its CRLs and TSA served by ``server``."""
    return server.publish()


@pytest.fixture(scope="module")
def token() -> SoftHsmToken:
    return softhsm_token()


def _pem(*certificates: Any) -> bytes:
    return b"".join(c.public_bytes(Encoding.PEM) for c in certificates)


def _production(
    tmp_path: Path, server: PkiServer, pki: DemoPKI, token: SoftHsmToken, **overrides: Any
) -> Settings:
    """Production settings with the seal key in the SoftHSM2 token (PIN in a file)."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "seal-chain.pem").write_bytes(_pem(pki.vault_seal.certificate, *pki.chain))
    (tmp_path / "pin").write_text(token.pin + "\n")
    (tmp_path / "log.pem").write_bytes(LogSigner.generate("test").private_pem())
    (tmp_path / "bundle.json").write_bytes(trust_bundle().dump())
    values: dict[str, Any] = {
        "mode": "production",
        "data_dir": tmp_path / "data",
        "database_url": f"sqlite:///{tmp_path / 'evault.db'}",
        "public_base_url": "http://testserver",
        "holder_key": secrets.token_hex(32),
        "blind_index_key": secrets.token_hex(32),
        "token_key": secrets.token_hex(32),
        "log_key": tmp_path / "log.pem",
        "trust_bundle": tmp_path / "bundle.json",
        "checkpoint_interval_seconds": 0,
        "tsa_url": server.tsa_url,
        "seal_pkcs11_module": token.module,
        "seal_pkcs11_token": token.token_label,
        "seal_pkcs11_key": token.key_label,
        "seal_pkcs11_pin_file": tmp_path / "pin",
        "seal_certificates": tmp_path / "seal-chain.pem",
    }
    values.update(overrides)
    return load_settings(**values)


def _build(settings: Settings) -> VaultCopyRenderer:
    renderer = copy_renderer_from_settings(settings)
    renderer.close()
    return renderer


def test_create_app_seals_copies_with_the_hsm_key_and_fetched_crls(
    tmp_path: Path, server: PkiServer, published: DemoPKI, token: SoftHsmToken
) -> None:
    settings = _production(tmp_path, server, published, token)
    license_id, housing = copyable_license(settings)

    app = create_app(settings)  # production: logs in to the token and fetches the CRLs now
    assert server.fetches == {"/crl/issuing-ca.crl": 1, "/crl/root-ca.crl": 1}
    ctx = app.state.ctx
    bearer = ctx.tokens.issue(
        client_id="test-housing", department_id=housing, scopes=frozenset({"licenses:use"})
    ).access_token
    headers = {"Authorization": f"Bearer {bearer}"}
    with TestClient(app) as client:
        made = client.post(f"/v1/licenses/{license_id}/copies", headers=headers, json=USE)
        assert made.status_code == 201, made.text
        pdf = client.get(f"/v1/copies/{made.json()['id']}/pdf", headers=headers)
        assert pdf.status_code == 200
    assert server.fetches == {"/crl/issuing-ca.crl": 1, "/crl/root-ca.crl": 1}

    bundle = TrustBundle.from_certificates(
        roots=[published.root.certificate], intermediates=[published.issuing_ca.certificate]
    )
    report = Verifier(bundle).verify(pdf.content)
    assert report.indication == "TOTAL_PASSED", report.reasons
    issuer_seal, vault_seal = report.signatures
    assert issuer_seal.indication == vault_seal.indication == "TOTAL_PASSED"
    assert vault_seal.signer_fingerprint == (
        published.vault_seal.certificate.fingerprint(hashes.SHA256()).hex()
    )
    assert vault_seal.pades_level == "B-LT" and vault_seal.revocation == "good"
    assert published.crl() in pdf.content and published.root_crl() in pdf.content


def test_given_crls_are_used_as_given_and_nothing_is_fetched(
    tmp_path: Path, server: PkiServer, published: DemoPKI, token: SoftHsmToken
) -> None:
    (tmp_path / "issuing.crl").write_bytes(published.crl())
    settings = _production(tmp_path, server, published, token, seal_crls=[tmp_path / "issuing.crl"])
    assert _build(settings).refresher is None
    assert server.fetches == {}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"seal_pkcs11_token": None}, "EVAULT_SEAL_PKCS11_TOKEN is not set (the PKCS#11 seal "),
        ({"seal_certificates": None}, "EVAULT_SEAL_CERTIFICATES is not set (the PKCS#11 seal "),
        (
            {"seal_pkcs11_pin": "1234"},
            "give the token's PIN in exactly one of EVAULT_SEAL_PKCS11_PIN and "
            "EVAULT_SEAL_PKCS11_PIN_FILE",
        ),
        (
            {"seal_pkcs11_pin_file": None},
            "give the token's PIN in exactly one of EVAULT_SEAL_PKCS11_PIN and ",
        ),
        (
            {"seal_pkcs12": Path("seal.p12")},
            "EVAULT_SEAL_PKCS12 and EVAULT_SEAL_PKCS11_MODULE are both set: give one seal key",
        ),
        (
            {"seal_pkcs11_module": None},
            "EVAULT_SEAL_PKCS11_TOKEN is set but EVAULT_SEAL_PKCS11_MODULE is not",
        ),
        ({"tsa_url": None}, "EVAULT_TSA_URL is not set: B-LT copies need a timestamp"),
    ],
)
def test_incomplete_settings_are_refused(
    tmp_path: Path,
    server: PkiServer,
    published: DemoPKI,
    token: SoftHsmToken,
    overrides: dict[str, Any],
    message: str,
) -> None:
    settings = _production(tmp_path, server, published, token, **overrides)
    with pytest.raises(ConfigError) as info:
        _build(settings)
    assert str(info.value).startswith(message)


def test_without_a_seal_key_production_refuses_and_demo_uses_its_pki(tmp_path: Path) -> None:
    production = load_settings(data_dir=tmp_path)
    with pytest.raises(
        ConfigError, match=r"^no seal key: set EVAULT_SEAL_PKCS12 or EVAULT_SEAL_PKCS11_MODULE$"
    ):
        copy_renderer_from_settings(production)
    with pytest.raises(ConfigError, match="; no seal key: set EVAULT_SEAL_PKCS12 or"):
        production.check_production()
    placeholder = load_settings(data_dir=tmp_path, seal_pkcs11_pin="demo-pin")
    with pytest.raises(ConfigError, match="EVAULT_SEAL_PKCS11_PIN is a placeholder"):
        placeholder.check_production()


def test_token_problems_are_refused(
    tmp_path: Path, server: PkiServer, published: DemoPKI, token: SoftHsmToken
) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        (
            {"seal_pkcs11_pin": "0000", "seal_pkcs11_pin_file": None},
            "the vault's seal is unusable: cannot open PKCS#11 token 'evault': PinIncorrect",
        ),
        (
            {"seal_pkcs11_pin_file": tmp_path / "absent"},
            f"cannot read EVAULT_SEAL_PKCS11_PIN_FILE {tmp_path / 'absent'}: No such file",
        ),
        (
            {"seal_pkcs11_key": "other"},
            "the vault's seal is unusable: no usable key 'other' on PKCS#11 token 'evault'",
        ),
        (
            {"seal_pkcs11_module": tmp_path / "absent.so"},
            "the vault's seal is unusable: PKCS#11 module not found",
        ),
    ]
    for overrides, message in cases:
        settings = _production(tmp_path / "s", server, published, token, **overrides)
        with pytest.raises(ConfigError) as info:
            _build(settings)
        assert str(info.value).startswith(message), (overrides, str(info.value))
    (tmp_path / "empty").write_text("\n")
    settings = _production(tmp_path / "s", server, published, token)
    settings = settings.model_copy(update={"seal_pkcs11_pin_file": tmp_path / "empty"})
    with pytest.raises(ConfigError, match=r"EVAULT_SEAL_PKCS11_PIN_FILE .*empty is empty"):
        _build(settings)


def test_certificate_files_that_do_not_fit_the_key_are_refused(
    tmp_path: Path, server: PkiServer, published: DemoPKI, token: SoftHsmToken
) -> None:
    settings = _production(tmp_path, server, published, token)
    assert settings.seal_certificates is not None
    chain = settings.seal_certificates
    chain.write_bytes(_pem(published.tsa.certificate, *published.chain))
    with pytest.raises(
        ConfigError,
        match="the key 'vault-seal' on PKCS#11 token 'evault' does not match the seal "
        "certificate \\(CN=evault Demo Timestamp Authority",
    ):
        _build(settings)
    chain.write_bytes(
        _pem(
            published.vault_seal.certificate,
            published.root.certificate,
            published.issuing_ca.certificate,
        )
    )
    with pytest.raises(ConfigError, match="the key source's chain is broken: CN=evault"):
        _build(settings)
    chain.write_bytes(b"not PEM")
    with pytest.raises(ConfigError, match=r"EVAULT_SEAL_CERTIFICATES .* holds no PEM certificate"):
        _build(settings)


def test_unobtainable_crls_refuse_to_start(
    tmp_path: Path, server: PkiServer, published: DemoPKI, token: SoftHsmToken
) -> None:
    server.failing.add("root-ca.crl")
    settings = _production(tmp_path, server, published, token)
    message = (
        r"^EVAULT_SEAL_CRLS is not set and the seal's CRLs cannot be fetched: cannot obtain the "
        r"CRL of CN=evault Demo Issuing CA,.*root-ca\.crl: HTTP 503 Service Unavailable$"
    )
    with pytest.raises(ConfigError, match=message):
        _build(settings)
    upgrade(settings.resolved_database_url)
    with pytest.raises(ConfigError, match=message):
        create_app(settings)


def test_a_revoked_seal_refuses_to_start(
    tmp_path: Path, server: PkiServer, published: DemoPKI, token: SoftHsmToken
) -> None:
    revoked = published.revoke(published.vault_seal.serial, published.now)
    server.crls["issuing-ca.crl"] = revoked.crl()
    settings = _production(tmp_path, server, published, token)
    with pytest.raises(
        ConfigError, match=r"the vault's seal is unusable: certificate .* is revoked"
    ):
        _build(settings)


def test_serve_refuses_a_broken_seal_in_one_line(
    tmp_path: Path, server: PkiServer, published: DemoPKI, token: SoftHsmToken
) -> None:
    settings = _production(tmp_path, server, published, token)
    (tmp_path / "pin").write_text("0000\n")  # a wrong PIN
    names = [
        *("mode", "data_dir", "database_url", "log_key", "trust_bundle", "tsa_url"),
        *("holder_key", "blind_index_key", "token_key", "seal_certificates"),
        *("seal_pkcs11_module", "seal_pkcs11_token", "seal_pkcs11_key", "seal_pkcs11_pin_file"),
    ]
    env = {f"EVAULT_{name.upper()}": _text(getattr(settings, name)) for name in names}
    app = build_app()
    result = CliRunner().invoke(app, ["serve"], env=env)
    assert result.exit_code == 1
    assert result.output == (
        "evault: the vault's seal is unusable: cannot open PKCS#11 token 'evault': PinIncorrect\n"
    )


def _text(value: Any) -> str:
    secret = getattr(value, "get_secret_value", None)
    return str(secret() if secret else value)
