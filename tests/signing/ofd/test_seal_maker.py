"""Who may make a seal (印章制作单位): only a seal maker the trust bundle designates
(``seal_makers``, pinned by key), never the seal's own signer; and a seal binds its signer
through its certList."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from schemas.report import Indication, SubIndication
from signing.errors import TrustError
from signing.ofd.pki import Sm2DemoPKI, Sm2Identity, make_seal, seal_image
from signing.ofd.sealer import OfdSealer
from signing.ofd.verifier import verify_ofd
from signing.trust import TrustBundle
from tests.signing.ofd.conftest import AT, MARKET, POLICE


def _bundle(pki: Sm2DemoPKI, makers: list[bytes]) -> TrustBundle:
    return TrustBundle.from_certificates(
        roots=[pki.root.cert],
        intermediates=[pki.ca.cert],
        crls=pki.crls(),
        seal_makers=makers,
    )


def _sealed_with(pki: Sm2DemoPKI, maker: Sm2Identity, license_ofd: bytes) -> bytes:
    signer = pki.signers[MARKET]
    seal = make_seal(
        maker=maker,
        name=f"{MARKET}电子印章",
        es_id="MAKERTEST0001",
        signer_certs=[signer.cert],
        image=seal_image(MARKET),
        valid_from=pki.now,
        valid_to=pki.now.replace(year=pki.now.year + 2),
    )
    return OfdSealer(signer, seal).seal_ofd(license_ofd, at=AT.replace(month=3))


def test_the_designated_maker_passes(sealed: bytes, sm2_bundle: TrustBundle) -> None:
    assert sm2_bundle.seal_makers
    assert verify_ofd(sealed, trust=sm2_bundle, at=AT).indication is Indication.TOTAL_PASSED


def test_no_designated_maker_is_indeterminate(sealed: bytes, sm2_pki: Sm2DemoPKI) -> None:
    report = verify_ofd(sealed, trust=_bundle(sm2_pki, []), at=AT)
    assert report.indication is Indication.INDETERMINATE
    assert report.sub_indication is SubIndication.CHAIN_CONSTRAINTS_FAILURE
    assert "designates no seal maker" in report.reasons[0]
    assert report.signatures[0].intact and report.signatures[0].chain_trusted


def test_a_maker_under_the_trusted_root_but_not_designated_is_indeterminate(
    sm2_pki: Sm2DemoPKI, sm2_bundle: TrustBundle, license_ofd: bytes
) -> None:
    """The police's signer (a certificate of the trusted CA) makes the market a seal."""
    data = _sealed_with(sm2_pki, sm2_pki.signers[POLICE], license_ofd)
    report = verify_ofd(data, trust=sm2_bundle, at=AT)
    assert report.indication is Indication.INDETERMINATE
    assert "is not a seal maker the trust bundle designates" in report.reasons[0]


def test_a_seal_made_by_its_own_signer_is_refused_even_if_designated(
    sm2_pki: Sm2DemoPKI, license_ofd: bytes
) -> None:
    signer = sm2_pki.signers[MARKET]
    bundle = _bundle(sm2_pki, [sm2_pki.maker.cert, signer.cert])
    report = verify_ofd(_sealed_with(sm2_pki, signer, license_ofd), trust=bundle, at=AT)
    assert report.indication is Indication.INDETERMINATE
    assert "made by its own signer's key" in " ".join(report.reasons)


def test_a_renewed_maker_certificate_with_the_same_key_stays_designated(
    sm2_pki: Sm2DemoPKI, sm2_bundle: TrustBundle, license_ofd: bytes
) -> None:
    again = Sm2DemoPKI.build(
        departments=[(MARKET, "113501000036043600"), (POLICE, "11350000003591037R")],
        now=sm2_pki.now.replace(day=3),
    )
    assert again.maker.cert != sm2_pki.maker.cert
    data = _sealed_with(sm2_pki, again.maker, license_ofd)
    assert verify_ofd(data, trust=sm2_bundle, at=AT).indication is Indication.TOTAL_PASSED


def test_a_designated_maker_outside_the_trusted_chain_is_indeterminate(
    sm2_pki: Sm2DemoPKI, license_ofd: bytes
) -> None:
    rogue = Sm2DemoPKI.build(seed=b"rogue maker", departments=[(MARKET, "113501000036043600")])
    bundle = _bundle(sm2_pki, [rogue.maker.cert])
    report = verify_ofd(_sealed_with(sm2_pki, rogue.maker, license_ofd), trust=bundle, at=AT)
    assert report.indication is Indication.INDETERMINATE
    assert "the seal maker's certificate: no chain" in " ".join(report.reasons)


# -- the bundle ----------------------------------------------------------------------------


def test_seal_makers_are_in_the_fingerprint_only_when_present(sm2_pki: Sm2DemoPKI) -> None:
    without = _bundle(sm2_pki, [])
    assert "seal_makers" not in json.loads(without.dump())
    assert b"seal_makers" not in without._canonical()
    pinned = _bundle(sm2_pki, [sm2_pki.maker.cert])
    assert pinned.fingerprint != without.fingerprint
    loaded = TrustBundle.load(pinned.dump())
    assert loaded.seal_makers == (sm2_pki.maker.cert,)
    assert loaded.fingerprint == pinned.fingerprint


def test_a_seal_maker_removed_from_the_file_breaks_its_fingerprint(sm2_pki: Sm2DemoPKI) -> None:
    doc = json.loads(_bundle(sm2_pki, [sm2_pki.maker.cert]).dump())
    del doc["seal_makers"]
    with pytest.raises(TrustError, match="fingerprint mismatch"):
        TrustBundle.load(json.dumps(doc).encode())


def test_trust_export_pins_seal_makers(tmp_path: Path, sealed: bytes, sm2_pki: Sm2DemoPKI) -> None:
    from vault.cli import build_app

    files = {
        "root": sm2_pki.root.cert,
        "ca": sm2_pki.ca.cert,
        "maker": sm2_pki.maker.cert,
        "crl1": sm2_pki.crls()[0],
        "crl2": sm2_pki.crls()[1],
    }
    for name, der in files.items():
        (tmp_path / name).write_bytes(der)
    base = ["trust", "export", "--root", str(tmp_path / "root")]
    base += ["--intermediate", str(tmp_path / "ca")]
    base += ["--crl", str(tmp_path / "crl1"), "--crl", str(tmp_path / "crl2")]
    runner = CliRunner()
    for pinned in (True, False):
        out = tmp_path / f"bundle-{pinned}.json"
        args = [*base, "--out", str(out)]
        if pinned:
            args += ["--seal-maker", str(tmp_path / "maker")]
        result = runner.invoke(build_app(), args)
        assert result.exit_code == 0, result.output
        bundle = TrustBundle.load(out)
        want = Indication.TOTAL_PASSED if pinned else Indication.INDETERMINATE
        assert verify_ofd(sealed, trust=bundle, at=AT).indication is want
    missing = runner.invoke(build_app(), [*base, "--seal-maker", str(tmp_path / "none")])
    assert missing.exit_code == 2 and "Traceback" not in missing.output


def test_trust_export_adds_seal_makers_to_the_configured_bundle(
    tmp_path: Path, sealed: bytes, sm2_pki: Sm2DemoPKI, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vault.cli import build_app

    configured = tmp_path / "configured.json"
    configured.write_bytes(_bundle(sm2_pki, []).dump())
    (tmp_path / "maker.pem").write_bytes(sm2_pki.maker.cert)
    monkeypatch.setenv("EVAULT_TRUST_BUNDLE", str(configured))
    out = tmp_path / "out.json"
    args = ["trust", "export", "--seal-maker", str(tmp_path / "maker.pem"), "--out", str(out)]
    result = CliRunner().invoke(build_app(), args)
    assert result.exit_code == 0, result.output
    bundle = TrustBundle.load(out)
    assert bundle.seal_makers == (sm2_pki.maker.cert,)
    assert bundle.roots == TrustBundle.load(configured).roots
    assert verify_ofd(sealed, trust=bundle, at=AT).indication is Indication.TOTAL_PASSED


def test_intake_refuses_a_seal_when_the_bundle_designates_no_maker() -> None:
    from signing.ofd.verifier import OfdVerifier
    from tests.attacks.ofd_forge import genuine, intake_refusal
    from tests.helpers.ofd import sm2_pki

    pki = sm2_pki()
    verifier = OfdVerifier(_bundle(pki, []))
    assert intake_refusal(genuine(), verifier=verifier) == "verification_failed"
    assert intake_refusal(genuine(), verifier=OfdVerifier(_bundle(pki, [pki.maker.cert]))) is None
