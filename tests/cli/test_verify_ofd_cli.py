"""``evault verify FILE.ofd``: OFD files go through the same command, exit codes and JSON."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from signing.ofd.pki import Sm2DemoPKI, seal_image
from signing.ofd.sealer import OfdSealer
from signing.ofd.writer import sample_ofd
from vault.cli import build_app

runner = CliRunner()


def test_verify_an_ofd_license(tmp_path: Path) -> None:
    dept = "福州市市场监督管理局"
    pki = Sm2DemoPKI.build(departments=[(dept, "113501000036043600")])
    ofd = OfdSealer(pki.signers[dept], pki.seal_for(dept)).seal_ofd(
        sample_ofd("营业执照", ["名称：测试"], image=seal_image("样例"))
    )
    (tmp_path / "license.ofd").write_bytes(ofd)
    (tmp_path / "bundle.json").write_bytes(pki.trust_bundle().dump())
    tampered = ofd.replace(b"Signs/Sign_0/SignedValue.dat", b"Signs/Sign_0/SignedValue.dax", 1)
    (tmp_path / "broken.ofd").write_bytes(tampered)

    ok = runner.invoke(
        build_app(),
        [
            "verify",
            str(tmp_path / "license.ofd"),
            "--trust",
            str(tmp_path / "bundle.json"),
            "--json",
        ],
    )
    assert ok.exit_code == 0, ok.output
    data = json.loads(ok.output)
    assert data["file_format"] == "OFD" and data["indication"] == "TOTAL_PASSED"
    assert data["signatures"][0]["seal_name"] == f"{dept}电子印章"

    text = runner.invoke(build_app(), ["verify", str(tmp_path / "license.ofd")])
    assert text.exit_code == 3 and "Seal: SES_Signature V4" in text.output

    bad = runner.invoke(build_app(), ["verify", str(tmp_path / "broken.ofd")])
    assert bad.exit_code == 1, bad.output
