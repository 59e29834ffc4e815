"""``evault verify copy.ofd --trust BUNDLE --log-key KEY``: an OFD certified copy checked
offline, both seals and its log proof, as for PDF copies."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from signing.ofd.copy import OfdCopyMaker
from signing.ofd.pki import Sm2DemoPKI
from signing.ofd.sealer import OfdSealer
from signing.ofd.writer import sample_ofd
from tests.signing.ofd.conftest import MARKET, VAULT, VAULT_CODE
from tests.signing.ofd.test_copy import LOG, _annotation
from vault.cli import build_app

runner = CliRunner()


def test_cli_verifies_an_ofd_copy_and_its_log_proof(tmp_path: Path) -> None:
    sm2_pki = Sm2DemoPKI.build(departments=[(MARKET, "113501000036043600"), (VAULT, VAULT_CODE)])
    original = sample_ofd("营业执照", ["名称：福州某某科技有限公司"])
    sealed = OfdSealer(sm2_pki.signers[MARKET], sm2_pki.seal_for(MARKET)).seal_ofd(original)
    copy = OfdCopyMaker(sm2_pki.signers[VAULT], sm2_pki.seal_for(VAULT)).make(sealed, _annotation())
    (tmp_path / "copy.ofd").write_bytes(copy)
    bundle = sm2_pki.trust_bundle(vault_seals=[sm2_pki.signers[VAULT].cert])
    (tmp_path / "bundle.json").write_bytes(bundle.dump())
    (tmp_path / "log.pem").write_bytes(LOG.verifier().public_pem())
    args = ["verify", str(tmp_path / "copy.ofd"), "--trust", str(tmp_path / "bundle.json")]
    result = runner.invoke(build_app(), [*args, "--log-key", str(tmp_path / "log.pem"), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["indication"] == "TOTAL_PASSED"
    assert len(report["signatures"]) == 2
    assert report["log_proof"]["verified"] is True

    tampered = copy.replace(b"evault-copy.json", b"evault-copy.jsoN")
    (tmp_path / "copy.ofd").write_bytes(tampered)
    result = runner.invoke(build_app(), [*args, "--log-key", str(tmp_path / "log.pem")])
    assert result.exit_code != 0
