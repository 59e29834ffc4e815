"""Interop: poppler's pdfsig (NSS) validates evault seals once the demo root is trusted.

pdfsig is an independent verifier (C++, NSS); it prints, per signature,
"Signature Validation: Signature is Valid." and "Certificate Validation: Certificate is
Trusted." when both hold.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from signing.pki import DemoPKI
from signing.seal import PadesLevel
from tests.conftest import require_tool
from tests.helpers.pki import MARKET_DEPT, sealed_pdf

pytestmark = pytest.mark.pdfsig

VALID = "Signature Validation: Signature is Valid."
TRUSTED = "Certificate Validation: Certificate is Trusted."


def _nss_db(directory: Path, root_pem: bytes | None) -> str:
    certutil = require_tool("certutil")
    directory.mkdir()
    subprocess.run(
        [certutil, "-N", "-d", f"sql:{directory}", "--empty-password"],
        check=True,
        capture_output=True,
    )
    if root_pem is not None:
        (directory / "root.pem").write_bytes(root_pem)
        add = ["-A", "-d", f"sql:{directory}", "-n", "evault-demo-root", "-t", "CT,C,C"]
        subprocess.run(
            [certutil, *add, "-i", str(directory / "root.pem")],
            check=True,
            capture_output=True,
        )
    return f"sql:{directory}"


@pytest.fixture(scope="module")
def trusting_db(pki: DemoPKI, tmp_path_factory: pytest.TempPathFactory) -> str:
    root = pki.root.certificate.public_bytes(Encoding.PEM)
    return _nss_db(tmp_path_factory.mktemp("nss") / "db", root)


def _pdfsig(nss: str, data: bytes, tmp_path: Path) -> str:
    pdfsig = require_tool("pdfsig")
    path = tmp_path / "sealed.pdf"
    path.write_bytes(data)
    result = subprocess.run(
        [pdfsig, "-nssdir", nss, str(path)], capture_output=True, text=True, timeout=60
    )
    return result.stdout


@pytest.mark.parametrize("level", [PadesLevel.B_B, PadesLevel.B_LT, PadesLevel.B_LTA])
def test_pdfsig_says_valid_and_trusted(trusting_db: str, tmp_path: Path, level: PadesLevel) -> None:
    out = _pdfsig(trusting_db, sealed_pdf(level, MARKET_DEPT), tmp_path)
    first = out.split("Signature #2:")[0]
    assert "Signature #1:" in first
    assert "Signature Field Name: Seal1" in first
    assert "Signature Type: ETSI.CAdES.detached" in first
    assert "Signer Certificate Common Name: 福州市市场监督管理局" in first
    assert VALID in first
    assert TRUSTED in first
    if level is PadesLevel.B_B:
        assert "Total document signed" in first


def test_pdfsig_without_the_root_does_not_trust(tmp_path: Path) -> None:
    untrusting = _nss_db(tmp_path / "empty", None)
    out = _pdfsig(untrusting, sealed_pdf(PadesLevel.B_B, MARKET_DEPT), tmp_path)
    assert VALID in out
    assert TRUSTED not in out
    assert "Certificate issuer isn't Trusted." in out


def test_pdfsig_detects_a_changed_byte(trusting_db: str, tmp_path: Path) -> None:
    data = bytearray(sealed_pdf(PadesLevel.B_B, MARKET_DEPT))
    index = data.index(b"evault sample license")
    data[index] ^= 0x20  # 'e' -> 'E' inside the signed range
    out = _pdfsig(trusting_db, bytes(data), tmp_path)
    assert VALID not in out
    assert "Digest Mismatch." in out
