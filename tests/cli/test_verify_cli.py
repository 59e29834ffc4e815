"""``evault verify`` and ``evault trust export``: output, exit status, usage errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from typer.testing import CliRunner

from signing.seal import PadesLevel
from tests.helpers.pki import MARKET_DEPT, demo_pki, sealed_pdf
from vault.cli import build_app

runner = CliRunner()


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("verify")
    pki = demo_pki()
    out = {
        "root": d / "root.pem",
        "ica": d / "ica.pem",
        "seal": d / "seal.pem",
        "blt": d / "blt.pdf",
        "broken": d / "broken.pdf",
        "bundle": d / "bundle.json",
    }
    out["root"].write_bytes(pki.root.certificate.public_bytes(Encoding.PEM))
    out["ica"].write_bytes(pki.issuing_ca.certificate.public_bytes(Encoding.PEM))
    out["seal"].write_bytes(pki.vault_seal.certificate.public_bytes(Encoding.PEM))
    out["blt"].write_bytes(sealed_pdf(PadesLevel.B_LT, MARKET_DEPT))
    out["broken"].write_bytes(b"%PDF-1.7 this is not a PDF")
    result = runner.invoke(
        build_app(),
        [
            "trust", "export",
            "--root", str(out["root"]),
            "--intermediate", str(out["ica"]),
            "--vault-seal", str(out["seal"]),
            "--out", str(out["bundle"]),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "fingerprint sha256:" in result.output
    return out


def test_passed_with_the_bundle_exits_zero(files: dict[str, Path]) -> None:
    result = runner.invoke(
        build_app(), ["verify", str(files["blt"]), "--trust", str(files["bundle"])]
    )
    assert result.exit_code == 0, result.output
    assert "TOTAL_PASSED" in result.output
    assert "[signature] Seal1" in result.output
    assert MARKET_DEPT in result.output


def test_json_shape_and_indeterminate_without_bundle(files: dict[str, Path]) -> None:
    result = runner.invoke(build_app(), ["verify", str(files["blt"]), "--json"])
    assert result.exit_code == 3, result.output
    doc = json.loads(result.stdout)
    assert {"file", "sha256", "indication", "sub_indication", "signatures"} <= set(doc)
    assert doc["indication"] == "INDETERMINATE"
    assert doc["sub_indication"] == "NO_CERTIFICATE_CHAIN_FOUND"
    sig = doc["signatures"][0]
    for key in (
        "field_name", "kind", "signer_subject", "signer_fingerprint", "signing_time",
        "timestamp_time", "pades_level", "intact", "covers_whole_file", "coverage",
        "modified_after_signing", "chain_trusted", "revocation", "indication",
        "sub_indication", "reasons",
    ):  # fmt: skip
        assert key in sig


def test_several_files_give_a_list_and_the_worst_exit(files: dict[str, Path]) -> None:
    result = runner.invoke(
        build_app(),
        [
            "verify",
            str(files["blt"]),
            str(files["broken"]),
            "--trust",
            str(files["bundle"]),
            "--json",
        ],
    )
    assert result.exit_code == 1
    docs = json.loads(result.stdout)
    assert [d["indication"] for d in docs] == ["TOTAL_PASSED", "TOTAL_FAILED"]
    assert docs[1]["sub_indication"] == "FORMAT_FAILURE"


def test_at_before_the_certificate(files: dict[str, Path]) -> None:
    at = (demo_pki().now.replace(year=demo_pki().now.year - 1)).isoformat()
    result = runner.invoke(
        build_app(),
        ["verify", str(files["blt"]), "--trust", str(files["bundle"]), "--at", at, "--json"],
    )
    assert result.exit_code == 1, result.output
    assert json.loads(result.stdout)["sub_indication"] == "NOT_YET_VALID"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["verify", "/nonexistent.pdf"], "evault: no such file: /nonexistent.pdf"),
        (["verify", "{blt}", "--trust", "{broken}"], "trust bundle is not valid JSON"),
        (["verify", "{blt}", "--at", "yesterday"], "--at: not an ISO 8601 time"),
        (["trust", "export"], "no trust bundle configured (set EVAULT_TRUST_BUNDLE)"),
        (["trust", "export", "--intermediate", "{blt}"], "give at least one --root certificate"),
        (["trust", "export", "--root", "{broken}"], "not a valid X.509 certificate"),
    ],
)
def test_usage_errors_exit_two_with_one_line(
    files: dict[str, Path], args: list[str], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EVAULT_TRUST_BUNDLE", raising=False)
    monkeypatch.delenv("EVAULT_MODE", raising=False)
    argv = [a.format(blt=files["blt"], broken=files["broken"]) for a in args]
    result = runner.invoke(build_app(), argv)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_trust_export_without_certificates_exports_the_configured_bundle(
    files: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EVAULT_TRUST_BUNDLE", str(files["bundle"]))
    out = tmp_path / "exported.json"
    result = runner.invoke(build_app(), ["trust", "export", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == files["bundle"].read_bytes()


def test_real_console_script_is_offline_and_exits_per_indication(files: dict[str, Path]) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", "from api.cli import main; main()", "verify", str(files["blt"]),
         "--trust", str(files["bundle"])],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "TOTAL_PASSED" in proc.stdout
    assert proc.stderr == ""
