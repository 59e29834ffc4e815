"""``evault credential verify``: offline with a saved status list, exit codes, usage errors."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from jwcrypto import jwk
from sd_jwt.holder import SDJWTHolder
from typer.testing import CliRunner

from signing.credentials.keys import CredentialKey
from signing.credentials.sdjwt import issue_sd_jwt_vc
from signing.credentials.status_list import Status, StatusList
from signing.credentials.tokens import sign_status_list_token
from signing.trust import TrustBundle
from tests.vault.licenses import trust_bundle
from vault.cli import build_app

runner = CliRunner()
KEY = CredentialKey.generate()
WALLET = jwk.JWK.generate(kty="EC", crv="P-256")
ISSUER = "https://vault.example"
URI = f"{ISSUER}/credentials/status/1"
NONCE, AUD = "n-42", "https://verifier.example"


def _status_file(tmp: Path, status: Status) -> Path:
    path = tmp / f"status-{status.name}.jwt"
    listing = StatusList.build([(7, int(status))], bits=2, size=64)
    path.write_text(
        sign_status_list_token(
            key=KEY,
            uri=URI,
            issuer=ISSUER,
            status_list=listing,
            now=dt.datetime.now(dt.UTC),
            ttl=300,
        )
    )
    return path


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    credential = issue_sd_jwt_vc(
        key=KEY,
        clear={
            "iss": ISSUER,
            "vct": f"{ISSUER}/t",
            "status": {"status_list": {"idx": 7, "uri": URI}},
        },
        disclosable={"license_number": "N-7", "license_name": "营业执照", "holder_name": "李四"},
        holder_jwk=WALLET.export_public(as_dict=True),
    )
    holder = SDJWTHolder(credential)
    holder.create_presentation(
        {"license_number": True, "holder_name": True}, nonce=NONCE, aud=AUD, holder_key=WALLET
    )
    out = {
        "presentation": tmp_path / "presentation.txt",
        "bundle": tmp_path / "bundle.json",
        "bare": tmp_path / "bare.json",
        "valid": _status_file(tmp_path, Status.VALID),
        "revoked": _status_file(tmp_path, Status.INVALID),
    }
    out["presentation"].write_text(holder.sd_jwt_presentation)
    roots = trust_bundle().roots
    out["bundle"].write_bytes(TrustBundle(roots=roots, credential_keys=(KEY.public_jwk(),)).dump())
    out["bare"].write_bytes(TrustBundle(roots=roots).dump())
    return out


def _run(files: dict[str, Path], *extra: str, nonce: str = NONCE) -> object:
    args = ["credential", "verify", str(files["presentation"]), "--trust", str(files["bundle"])]
    return runner.invoke(build_app(), [*args, "--nonce", nonce, "--aud", AUD, *extra])


def test_accepted_with_exactly_the_disclosed_fields(files: dict[str, Path]) -> None:
    result = _run(files, "--status-list", str(files["valid"]), "--json")
    assert result.exit_code == 0, result.output
    verdict = json.loads(result.output)
    assert verdict["disclosed"] == {"license_number": "N-7", "holder_name": "李四"}
    assert verdict["status"] == "valid" and verdict["accepted"] is True


def test_revoked_exits_one(files: dict[str, Path]) -> None:
    result = _run(files, "--status-list", str(files["revoked"]))
    assert result.exit_code == 1, result.output
    assert "NOT ACCEPTED" in result.output and "status: revoked" in result.output
    assert "license_number: N-7" in result.output


def test_wrong_nonce_exits_one(files: dict[str, Path]) -> None:
    result = _run(files, "--status-list", str(files["valid"]), nonce="replayed")
    assert result.exit_code == 1 and "NOT valid" in result.output


def test_unreachable_status_list_is_indeterminate(files: dict[str, Path]) -> None:
    result = _run(files)  # vault.example does not resolve here: the status is unknown
    assert result.exit_code == 3, result.output
    assert "status: unknown" in result.output and "cannot fetch" in result.output


def test_usage_errors(files: dict[str, Path], tmp_path: Path) -> None:
    result = runner.invoke(
        build_app(),
        ["credential", "verify", str(files["presentation"]), "--trust", str(files["bare"]),
         "--nonce", NONCE, "--aud", AUD],
    )  # fmt: skip
    assert result.exit_code == 2 and "has no credential keys" in result.output
    result = runner.invoke(
        build_app(),
        ["credential", "verify", str(tmp_path / "none"), "--trust", str(files["bundle"]),
         "--nonce", NONCE, "--aud", AUD],
    )  # fmt: skip
    assert result.exit_code == 2 and "presentation" in result.output


def test_trust_export_adds_the_vaults_credential_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cryptography.hazmat.primitives.serialization import Encoding

    from tests.helpers.pki import demo_pki

    root = tmp_path / "root.pem"
    root.write_bytes(demo_pki().root.certificate.public_bytes(Encoding.PEM))
    key_file = tmp_path / "credential.pem"
    key_file.write_bytes(KEY.private_pem())
    monkeypatch.setenv("EVAULT_CREDENTIAL_KEY", str(key_file))
    out = tmp_path / "bundle.json"
    args = ["trust", "export", "--root", str(root), "--credential-key", "--out", str(out)]
    result = runner.invoke(build_app(), args)
    assert result.exit_code == 0, result.output
    assert TrustBundle.load(out).credential_keys[0]["kid"] == KEY.kid
    monkeypatch.delenv("EVAULT_CREDENTIAL_KEY")
    monkeypatch.setenv("EVAULT_MODE", "production")
    result = runner.invoke(build_app(), args)
    assert result.exit_code == 2 and "EVAULT_CREDENTIAL_KEY is not set" in result.output


def test_production_refuses_a_credential_key_that_is_not_there(tmp_path: Path) -> None:
    from tests.helpers.production import production_settings
    from vault.errors import ConfigError
    from vault.settings import load_settings

    settings = load_settings(
        **production_settings(tmp_path), credential_key=tmp_path / "missing.pem"
    )
    with pytest.raises(ConfigError, match=r"EVAULT_CREDENTIAL_KEY .* is not a readable file"):
        settings.check_production()
