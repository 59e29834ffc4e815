"""The vault's OFD seal from settings: production files (EVAULT_OFD_SEAL_*), the demo's
SM2 PKI, and the copy renderer choosing PDF or OFD by the original's first bytes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import pem

from api.demo.ofd import sm2_seed
from api.ofd_seal import DEMO_VAULT_CODE, ofd_copy_maker_from_settings
from api.sealing import copy_renderer_from_settings
from schemas.report import Indication
from signing.copies import CopyAnnotation
from signing.errors import SealingError
from signing.ofd import verify_ofd
from signing.ofd.pki import Sm2DemoPKI
from signing.ofd.sealer import OfdSealer
from signing.ofd.writer import sample_ofd
from signing.seal import PadesLevel
from signing.verify import Verifier
from tests.helpers.pki import MARKET_DEPT, demo_pki, demo_trust_bundle, sample_pdf, sealer
from vault.errors import ConfigError
from vault.settings import Settings, load_settings

ISSUER = "福州市市场监督管理局"
VAULT_NAME = "evault 电子证照库"
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for key in list(os.environ):
        if key.startswith("EVAULT_"):
            monkeypatch.delenv(key)


def _annotation() -> CopyAnnotation:
    return CopyAnnotation(
        copy_id="k2mR4tW8xY1bAq7Vd0cJ9Z",
        made_at=NOW,
        maker=VAULT_NAME,
        department="福州市住房和城乡建设局",
        purpose="商品房预售许可申请",
        case_no="FZ-2026-00012345",
        valid_until=NOW + dt.timedelta(days=30),
        verify_url="https://vault.example.gov.cn/v/k2mR4tW8xY1bAq7Vd0cJ9Z",
    )


def _sealed(pki: Sm2DemoPKI) -> bytes:
    original = sample_ofd("营业执照", ["名称：福州某某科技有限公司"])
    return OfdSealer(pki.signers[ISSUER], pki.seal_for(ISSUER)).seal_ofd(original)


@pytest.fixture(scope="module")
def pki() -> Sm2DemoPKI:
    return Sm2DemoPKI.build(
        departments=[(ISSUER, "113501000036043600"), (VAULT_NAME, "12350000MB0000035Q")]
    )


def _files(tmp_path: Path, pki: Sm2DemoPKI, *, der: bool = False) -> dict[str, Any]:
    vault = pki.signers[VAULT_NAME]
    key = vault.key.pem()
    cert = pem.armor("CERTIFICATE", vault.cert)
    if der:
        key, cert = pem.unarmor(key)[2], vault.cert
    (tmp_path / "ofd.key").write_bytes(key)
    (tmp_path / "ofd.crt").write_bytes(cert)
    (tmp_path / "ofd.esl").write_bytes(pki.seal_for(VAULT_NAME))
    return {
        "ofd_seal_key": tmp_path / "ofd.key",
        "ofd_seal_certificate": tmp_path / "ofd.crt",
        "ofd_seal_esl": tmp_path / "ofd.esl",
    }


def _settings(tmp_path: Path, **values: Any) -> Settings:
    return load_settings(data_dir=tmp_path / "data", **values)


@pytest.mark.parametrize("der", [False, True], ids=["pem", "der"])
def test_production_files_make_copies_that_verify(
    tmp_path: Path, pki: Sm2DemoPKI, der: bool
) -> None:
    maker = ofd_copy_maker_from_settings(_settings(tmp_path, **_files(tmp_path, pki, der=der)))
    assert maker is not None
    bundle = pki.trust_bundle(vault_seals=[maker.signer_certificate])
    report = verify_ofd(maker.make(_sealed(pki), _annotation()), trust=bundle)
    assert report.indication is Indication.TOTAL_PASSED, report.reasons
    assert [s.seal_name for s in report.signatures] == [
        f"{ISSUER}电子印章",
        f"{VAULT_NAME}电子印章",
    ]


def test_production_without_an_ofd_seal_has_none(tmp_path: Path) -> None:
    assert ofd_copy_maker_from_settings(_settings(tmp_path)) is None


def _p256_pem() -> bytes:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    return ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"ofd_seal_esl": None}, "EVAULT_OFD_SEAL_ESL is not set (the OFD seal needs"),
        ({"ofd_seal_key": None}, "EVAULT_OFD_SEAL_KEY is not set (the OFD seal needs"),
        ({"ofd_seal_key": Path("/nonexistent/key")}, "cannot read EVAULT_OFD_SEAL_KEY"),
        ({"ofd_seal_esl": "CERT"}, "the vault's OFD seal is unusable: not a usable seal"),
        ({"ofd_seal_key": "ISSUER_KEY"}, "the vault's OFD seal is unusable: the SM2 key is not"),
        ({"ofd_seal_esl": "ISSUER_SEAL"}, "the vault's OFD seal is unusable: the signer's cert"),
        ({"ofd_seal_certificate": "KEY"}, "the vault's OFD seal is unusable: not a PEM or DER"),
        ({"ofd_seal_key": "P256"}, "the vault's OFD seal is unusable: the PEM key is not an SM2"),
        ({"ofd_seal_key": "CERT"}, "the vault's OFD seal is unusable: not an unencrypted DER"),
    ],
)
def test_bad_ofd_seal_settings_are_refused(
    tmp_path: Path, pki: Sm2DemoPKI, change: dict[str, Any], message: str
) -> None:
    values = _files(tmp_path, pki)
    others = {
        "CERT": ("other.bin", pki.signers[VAULT_NAME].cert),
        "ISSUER_KEY": ("issuer.key", pki.signers[ISSUER].key.pem()),
        "ISSUER_SEAL": ("issuer.esl", pki.seal_for(ISSUER)),
        "KEY": ("key.bin", pki.signers[VAULT_NAME].key.pem()),
        "P256": ("p256.key", _p256_pem()),
    }
    for name, value in change.items():
        if isinstance(value, str):
            file_name, data = others[value]
            (tmp_path / file_name).write_bytes(data)
            value = tmp_path / file_name
        values[name] = value
    settings = _settings(tmp_path, **values)
    with pytest.raises(ConfigError) as info:
        ofd_copy_maker_from_settings(settings)
    assert str(info.value).startswith(message)
    if "is not set" in message:
        with pytest.raises(ConfigError, match=message.split(" (")[0]):
            settings.check_production()


def test_demo_renderer_copies_pdf_and_ofd_by_their_first_bytes(tmp_path: Path) -> None:
    """Demo mode: one renderer; a PDF gets the PAdES copy, an OFD the SM2 one, whose
    vault seal chains to the demo's SM2 root (same derived keys as the demo's issuers)."""
    data = tmp_path / "data"
    password = "0123456789abcdef" * 4
    demo_pki().save(data / "pki", password)
    (data / "keys").mkdir()
    (data / "keys" / "pki_password.hex").write_text(password + "\n")
    settings = load_settings(mode="demo", data_dir=data)
    renderer = copy_renderer_from_settings(settings)
    vault = ofd_copy_maker_from_settings(settings)
    assert vault is not None
    issuers = Sm2DemoPKI.build(
        seed=sm2_seed(password), departments=[(ISSUER, "113501000036043600")]
    )
    try:
        ofd_copy = renderer.make(_sealed(issuers), _annotation())
        pdf_copy = renderer.make(
            sealer(MARKET_DEPT).seal(sample_pdf(), level=PadesLevel.B_B), _annotation()
        )
    finally:
        renderer.close()
    bundle = issuers.trust_bundle(vault_seals=[vault.signer_certificate])
    report = verify_ofd(ofd_copy, trust=bundle)
    assert report.indication is Indication.TOTAL_PASSED, report.reasons
    assert report.signatures[1].seal_name == f"{VAULT_NAME}电子印章"
    assert pdf_copy.startswith(b"%PDF")
    pdf_report = Verifier(demo_trust_bundle(crls=True)).verify(pdf_copy)
    assert len(pdf_report.signatures) == 2


def test_the_demo_vault_code_is_the_demos() -> None:
    from api.demo.samples import VAULT

    assert VAULT[1] == DEMO_VAULT_CODE


def test_without_an_ofd_seal_an_ofd_copy_is_refused_clearly(
    tmp_path: Path, pki: Sm2DemoPKI
) -> None:
    from api.sealing import VaultCopyRenderer

    renderer = VaultCopyRenderer(maker=None)  # type: ignore[arg-type]
    with pytest.raises(SealingError, match="this vault has no OFD seal"):
        renderer.make(_sealed(pki), _annotation())
