"""Rotating the vault's seal key and the log key, in a real SoftHSM2 token: a copy and a
checkpoint made with keys A, the operator's commands (``evault keys seal-new``,
``seal-rotate``, ``log-new``, ``log-rotate``), a copy and a checkpoint made with keys B (the
new log key in the HSM, CKM_EDDSA); both copies and both checkpoints verify offline with the
exported trust bundle alone."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from api.cli import build_app
from signing.pki import DemoPKI
from signing.transparency import LogSigner
from signing.trust import TrustBundle
from signing.verify import Verifier
from tests.helpers.copyable import copyable_license
from tests.helpers.pki_server import PkiServer
from tests.helpers.softhsm import SoftHsmToken, softhsm_token
from vault.errors import ConfigError
from vault.settings import Settings, load_settings

USE = {"purpose": "住房保障资格审核"}
SEAL_B = "vault-seal-" + secrets.token_hex(4)  # the shared token outlives one test
LOG_B = "log-" + secrets.token_hex(4)


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


def _pem(*certificates: x509.Certificate) -> bytes:
    return b"".join(c.public_bytes(Encoding.PEM) for c in certificates)


def _values(tmp_path: Path, server: PkiServer, pki: DemoPKI, token: SoftHsmToken) -> dict[str, Any]:
    """Production settings: seal key A in the token, log key A in a file, a v1 trust bundle
    (roots, intermediates, CRLs and seal A: what a deployment has before any rotation)."""
    (tmp_path / "seal-a.pem").write_bytes(_pem(pki.vault_seal.certificate, *pki.chain))
    (tmp_path / "pin").write_text(token.pin + "\n")
    (tmp_path / "log-a.pem").write_bytes(LogSigner.generate("unused").private_pem())
    bundle = TrustBundle.from_certificates(
        roots=[pki.root.certificate],
        intermediates=[pki.issuing_ca.certificate],
        vault_seal=pki.vault_seal.certificate,
        crls=pki.crls(),
    )
    assert bundle.version == 1
    (tmp_path / "bundle.json").write_bytes(bundle.dump())
    return {
        "mode": "production",
        "data_dir": tmp_path / "data",
        "database_url": f"sqlite:///{tmp_path / 'evault.db'}",
        "public_base_url": "http://testserver",
        "holder_key": secrets.token_hex(32),
        "blind_index_key": secrets.token_hex(32),
        "token_key": secrets.token_hex(32),
        "log_key": tmp_path / "log-a.pem",
        "trust_bundle": tmp_path / "bundle.json",
        "checkpoint_interval_seconds": 0,
        "tsa_url": server.tsa_url,
        "seal_pkcs11_module": token.module,
        "seal_pkcs11_token": token.token_label,
        "seal_pkcs11_key": token.key_label,
        "seal_pkcs11_pin_file": tmp_path / "pin",
        "seal_certificates": tmp_path / "seal-a.pem",
    }


def _environment(monkeypatch: pytest.MonkeyPatch, values: dict[str, Any]) -> None:
    """The settings as the operator's environment, for the CLI."""
    for name, value in values.items():
        if value is None:
            monkeypatch.delenv(f"EVAULT_{name.upper()}", raising=False)
        else:
            monkeypatch.setenv(f"EVAULT_{name.upper()}", str(value))


def _cli(*args: str) -> Any:
    app = build_app()
    return CliRunner().invoke(app, list(args))


def _copy_and_checkpoint(
    settings: Settings, license_id: str, housing: int, case_no: str
) -> tuple[bytes, str]:
    """A certified copy made over the API by a service on ``settings`` for case
    ``case_no``, and the log's checkpoint after it."""
    app = create_app(settings)
    bearer = app.state.ctx.tokens.issue(
        client_id="test-housing", department_id=housing, scopes=frozenset({"licenses:use"})
    ).access_token
    headers = {"Authorization": f"Bearer {bearer}"}
    with TestClient(app) as client:
        made = client.post(
            f"/v1/licenses/{license_id}/copies", headers=headers, json={**USE, "case_no": case_no}
        )
        assert made.status_code == 201, made.text
        pdf = client.get(f"/v1/copies/{made.json()['id']}/pdf", headers=headers)
        assert pdf.status_code == 200
        checkpoint = client.get("/v1/log/checkpoint")
        assert checkpoint.status_code == 200, checkpoint.text
    return pdf.content, checkpoint.text


def _new_seal_certificate(tmp_path: Path, server: PkiServer, pki: DemoPKI) -> Path:
    """``evault keys seal-new``: key B in the token and its request; the CA certifies it."""
    done = _cli("keys", "seal-new", "--label", SEAL_B, "--csr", str(tmp_path / "b.csr"))
    assert done.exit_code == 0, done.output
    request = x509.load_pem_x509_csr((tmp_path / "b.csr").read_bytes())
    assert request.is_signature_valid
    assert request.subject == pki.vault_seal.certificate.subject
    public = request.public_key()
    assert isinstance(public, type(pki.vault_seal.certificate.public_key()))
    certificate = pki.certify_vault_seal(
        public,  # type: ignore[arg-type]
        serial=0x0E7A_1200,
        crl_base_url=server.base_url + "crl/",
    )
    (tmp_path / "seal-b.pem").write_bytes(_pem(certificate, *pki.chain))
    return tmp_path / "seal-b.pem"


def test_seal_and_log_keys_rotate_and_old_copies_and_checkpoints_still_verify(
    tmp_path: Path, server: PkiServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = softhsm_token()
    pki = server.publish()
    values = _values(tmp_path, server, pki, token)
    settings_a = load_settings(**values)
    license_id, housing = copyable_license(settings_a)
    copy_a, checkpoint_a = _copy_and_checkpoint(settings_a, license_id, housing, "ZJ-A")

    _environment(monkeypatch, values)
    chain_b = _new_seal_certificate(tmp_path, server, pki)
    rotated = _cli("keys", "seal-rotate", "--certificates", str(chain_b))
    assert rotated.exit_code == 0, rotated.output
    made = _cli("keys", "log-new", "--pkcs11-key", LOG_B)
    assert made.exit_code == 0, made.output
    vkey_b = made.output.strip()
    rotated = _cli("keys", "log-rotate", "--new-key", vkey_b)
    assert rotated.exit_code == 0, rotated.output

    values_b = {
        **values,
        "seal_pkcs11_key": SEAL_B,
        "seal_certificates": chain_b,
        "log_key": None,
        "log_pkcs11_module": token.module,
        "log_pkcs11_token": token.token_label,
        "log_pkcs11_key": LOG_B,
        "log_pkcs11_pin_file": tmp_path / "pin",
    }
    copy_b, checkpoint_b = _copy_and_checkpoint(
        load_settings(**values_b), license_id, housing, "ZJ-B"
    )
    assert checkpoint_b != checkpoint_a

    _environment(monkeypatch, values_b)
    exported = _cli("trust", "export", "--out", str(tmp_path / "exported.json"))
    assert exported.exit_code == 0, exported.output
    bundle = TrustBundle.load(tmp_path / "exported.json")
    seal_b = x509.load_pem_x509_certificates(chain_b.read_bytes())[0]
    assert bundle.vault_seal == seal_b.public_bytes(Encoding.DER)
    assert bundle.previous_vault_seals == (pki.vault_seal.certificate.public_bytes(Encoding.DER),)
    assert len(bundle.log_keys) == 2 and bundle.log_keys[0] == vkey_b

    report_a, report_b = (Verifier(bundle).verify(c) for c in (copy_a, copy_b))
    for report, seal in ((report_a, pki.vault_seal.certificate), (report_b, seal_b)):
        assert report.indication == "TOTAL_PASSED", report.reasons
        assert report.signatures[-1].signer_fingerprint == seal.fingerprint(hashes.SHA256()).hex()

    (tmp_path / "a.pdf").write_bytes(copy_a)
    (tmp_path / "b.pdf").write_bytes(copy_b)
    (tmp_path / "a.txt").write_text(checkpoint_a)
    (tmp_path / "b.txt").write_text(checkpoint_b)
    exported_path = str(tmp_path / "exported.json")
    copies = [str(tmp_path / "a.pdf"), str(tmp_path / "b.pdf")]
    verified = _cli("verify", *copies, "--trust", exported_path, "--log-key", exported_path)
    assert verified.exit_code == 0, verified.output
    exported_log = _cli("log", "export", "--out", str(tmp_path / "log"))
    assert exported_log.exit_code == 0, exported_log.output
    assert len(list((tmp_path / "log" / "checkpoints").glob("*.txt"))) >= 2
    args = ["log", "verify", "--entries", str(tmp_path / "log")]
    args += ["--checkpoint", str(tmp_path / "a.txt"), "--checkpoint", str(tmp_path / "b.txt")]
    both = _cli(*args, "--log-key", exported_path)
    assert both.exit_code == 0, both.output
    only_new = _cli(*args, "--log-key", vkey_b)
    assert only_new.exit_code == 1
    assert "a.txt is forged or broken: the checkpoint carries no signature by the log" in (
        only_new.output
    )


def test_a_log_key_the_bundle_does_not_list_is_refused(
    tmp_path: Path, server: PkiServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a rotation the bundle lists the log keys: a service switched to a key that
    auditors cannot know refuses to sign."""
    token = softhsm_token()
    pki = server.publish()
    values = _values(tmp_path, server, pki, token)
    _environment(monkeypatch, values)
    made = _cli("keys", "log-new", "--out", str(tmp_path / "log-b.pem"))
    assert made.exit_code == 0, made.output
    assert _cli("keys", "log-rotate", "--new-key", made.output.strip()).exit_code == 0
    (tmp_path / "log-c.pem").write_bytes(LogSigner.generate("unused").private_pem())

    from vault.log.keys import load_log_key

    signer = load_log_key(load_settings(**{**values, "log_key": tmp_path / "log-b.pem"}))
    assert signer.keyring().verifiers[0].vkey() == made.output.strip()
    with pytest.raises(ConfigError, match="the log key is not among the log keys of the trust"):
        load_log_key(load_settings(**{**values, "log_key": tmp_path / "log-c.pem"}))


def test_rotation_refuses_what_would_break_verification(
    tmp_path: Path, server: PkiServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = softhsm_token()
    pki = server.publish()
    values = _values(tmp_path, server, pki, token)
    _environment(monkeypatch, values)
    before = (tmp_path / "bundle.json").read_bytes()
    foreign = DemoPKI.generate(seed=b"another", departments=[], now=pki.now)
    (tmp_path / "foreign.pem").write_bytes(_pem(foreign.vault_seal.certificate, *foreign.chain))
    refused = _cli("keys", "seal-rotate", "--certificates", str(tmp_path / "foreign.pem"))
    assert refused.exit_code == 2
    assert "does not chain to a root of the trust bundle" in refused.output
    again = _cli("keys", "seal-rotate", "--certificates", str(tmp_path / "seal-a.pem"))
    assert again.exit_code == 2 and "already the vault's seal" in again.output
    current = LogSigner.from_pem((tmp_path / "log-a.pem").read_bytes(), "x").verifier()
    (tmp_path / "log-a.pub").write_bytes(current.public_pem())
    same = _cli("keys", "log-rotate", "--new-key", str(tmp_path / "log-a.pub"))
    assert same.exit_code == 2 and "is the log's current key" in same.output
    assert (tmp_path / "bundle.json").read_bytes() == before


def test_trust_export_builds_a_bundle_with_previous_seals_and_log_keys(tmp_path: Path) -> None:
    from tests.helpers.pki import demo_pki

    pki = demo_pki()
    other = DemoPKI.generate(seed=b"an earlier seal", departments=[], now=pki.now)
    (tmp_path / "root.pem").write_bytes(_pem(pki.root.certificate))
    (tmp_path / "old.pem").write_bytes(_pem(other.vault_seal.certificate))
    vkey = LogSigner.generate("vault.test/log").verifier().vkey()
    (tmp_path / "log.vkey").write_text(vkey + "\n")
    args = ["trust", "export", "--root", str(tmp_path / "root.pem")]
    args += ["--previous-vault-seal", str(tmp_path / "old.pem")]
    args += ["--log-key", str(tmp_path / "log.vkey"), "--out", str(tmp_path / "b.json")]
    done = _cli(*args)
    assert done.exit_code == 0, done.output
    bundle = TrustBundle.load(tmp_path / "b.json")
    assert bundle.version == 2 and bundle.log_keys == (vkey,)
    assert bundle.previous_vault_seals == (other.vault_seal.certificate.public_bytes(Encoding.DER),)
    bad = _cli("trust", "export", "--root", str(tmp_path / "root.pem"), "--log-key", "nope")
    assert bad.exit_code == 2 and "--log-key nope: a log vkey is" in bad.output


def test_serve_refuses_an_unusable_log_key_in_one_line(
    tmp_path: Path, server: PkiServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = softhsm_token()
    values = _values(tmp_path, server, server.publish(), token)
    hsm_log = {
        "log_key": None,
        "log_pkcs11_module": token.module,
        "log_pkcs11_token": token.token_label,
        "log_pkcs11_key": "absent",
        "log_pkcs11_pin_file": tmp_path / "pin",
    }
    _environment(monkeypatch, {**values, **hsm_log})
    result = _cli("serve")
    assert result.exit_code == 1
    assert result.output.startswith(
        "evault: the log key is unusable: no usable Ed25519 key 'absent' on PKCS#11 token "
        "'evault': "
    )
    assert result.output.count("\n") == 1
