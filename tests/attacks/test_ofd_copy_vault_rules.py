"""The 加注 exception's rules hold under the vault's own (pinned) copy seal too: a vault
key misused, or a copy maker bug, must not let additions hide or forge what the issuer
sealed. Variants of tests/attacks/test_ofd_copy_redteam.py, sealed by ``vault_sealer``;
and the pin itself (``ofd_vault_seals``) in the trust bundle and ``evault verify``."""

from __future__ import annotations

from pathlib import Path

import pytest

from schemas.report import Indication
from signing.ofd.copy import OfdCopyMaker
from signing.ofd.verifier import verify_ofd
from signing.trust import TrustBundle
from tests.attacks.ofd_copy_forge import (
    BLANK,
    NS,
    add_annotation,
    annotation,
    cli_verify,
    other_department,
    page_annot,
    seal,
    text,
    vault_copy,
    vault_sealer,
    white,
)
from tests.attacks.ofd_forge import genuine, passes, verify
from tests.attacks.test_ofd_copy_redteam import (
    VALIDITY,
    _box,
    _cover,
    _entity_decoy,
    _license_with_a_void_annotation,
)
from tests.helpers.ofd import VAULT_NAME, ofd_parts, sm2_bundle, sm2_pki, sm2_vault


def _line() -> bytes:
    # inside its appearance as far as a system font's glyphs reach (fonts.SYSTEM_BOX)
    return page_annot(_box(BLANK), text((2, 1, 160, 10), "加注"))


def test_a_clear_addition_under_the_vault_seal_passes() -> None:
    """The control: what the variants below change is what makes them fail."""
    assert passes(seal(add_annotation(genuine(), _line()), vault_sealer()))


def test_a_clear_addition_under_another_department_is_flagged() -> None:
    report = verify(seal(add_annotation(genuine(), _line()), other_department()))
    issuer = report.signatures[0]
    assert issuer.indication is Indication.TOTAL_FAILED and issuer.modified_after_signing
    assert any("ofd_vault_seals" in r for r in issuer.reasons)


def test_without_the_pin_the_genuine_copy_reads_modified() -> None:
    bundle = sm2_pki().trust_bundle()  # the same PKI, no ofd_vault_seals
    report = verify_ofd(vault_copy(), trust=bundle)
    assert report.indication is Indication.TOTAL_FAILED
    assert report.signatures[0].modified_after_signing


def test_attachment_added_to_the_issuers_list_by_another_department_is_flagged() -> None:
    lic = _license_with_a_void_annotation()
    parts = ofd_parts(lic)
    parts["Doc_0/Forged/Attachments.xml"] = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<ofd:Attachments xmlns:ofd="{NS}">'
        '<ofd:Attachment ID="960" Name="x.xml" Format="xml">'
        "<ofd:FileLoc>x.xml</ofd:FileLoc></ofd:Attachment></ofd:Attachments>"
    ).encode()
    parts["Doc_0/Forged/x.xml"] = b"<x/>"
    doc = parts["Doc_0/Document.xml"]
    at = doc.rindex(b"</ofd:Document>")
    link = b"<ofd:Attachments>/Doc_0/Forged/Attachments.xml</ofd:Attachments>"
    parts["Doc_0/Document.xml"] = doc[:at] + link + doc[at:]
    clear = (150, 180, 40, 40)  # not over the issuer's signed 本证已注销 (20 120 170 12)
    assert passes(seal(parts, vault_sealer(), box=clear))
    assert not passes(seal(parts, other_department(), box=clear))


@pytest.mark.parametrize(
    "objects",
    [
        pytest.param(white((0.0, VALIDITY[1] - BLANK[1], 170.0, 10.0)), id="offset"),
        pytest.param(white((0, 0, 170, 10), extra=' CTM="1 0 0 1 0 -34"'), id="ctm"),
        pytest.param(
            white((0, 0, 170, 10)).replace('Stroke="false"', 'Stroke="true" LineWidth="80"'),
            id="line-width",
        ),
        pytest.param(white((0, 0, 170, 10), extra=' CTM="1 0 0 1 0 NaN"'), id="ctm-nan"),
        pytest.param(
            '<ofd:CompositeObject ID="902" Boundary="0 0 10 10" ResourceID="1"/>', id="composite"
        ),
        pytest.param(
            '<ofd:PageBlock ID="903">' + white((0, -50, 170, 10)) + "</ofd:PageBlock>",
            id="page-block",
        ),
    ],
)
def test_objects_drawn_outside_the_box_are_flagged_under_the_vault_seal(objects: str) -> None:
    data = seal(add_annotation(genuine(), page_annot(_box(BLANK), objects)), vault_sealer())
    report = verify(data)
    assert report.indication is Indication.TOTAL_FAILED
    assert report.signatures[0].modified_after_signing


@pytest.mark.parametrize(
    "boundary",
    ["190 76 -170 -10", "20 66 NaN 10", "20 66 inf 10", "20 100 0 10", "20 100 170"],
)
def test_degenerate_boxes_are_flagged_under_the_vault_seal(boundary: str) -> None:
    data = seal(add_annotation(genuine(), page_annot(boundary, _cover(VALIDITY))), vault_sealer())
    assert verify(data).indication is Indication.TOTAL_FAILED


def test_entity_decoy_is_flagged_under_the_vault_seal() -> None:
    parts = _entity_decoy(genuine(), page_annot(_box(VALIDITY), _cover(VALIDITY)))
    assert not passes(seal(parts, vault_sealer()))


def test_second_annotations_list_is_flagged_under_the_vault_seal() -> None:
    parts = ofd_parts(_license_with_a_void_annotation())
    parts["Doc_0/Forged/Annotations.xml"] = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<ofd:Annotations xmlns:ofd="{NS}">'
        '<ofd:Page PageID="1"><ofd:FileLoc>Annot.xml</ofd:FileLoc></ofd:Page></ofd:Annotations>'
    ).encode()
    parts["Doc_0/Forged/Annot.xml"] = page_annot("20 200 10 10", "")
    doc = parts["Doc_0/Document.xml"]
    at = doc.rindex(b"</ofd:Document>")  # last, after the issuer's list: still two lists
    link = b"<ofd:Annotations>Forged/Annotations.xml</ofd:Annotations>"
    parts["Doc_0/Document.xml"] = doc[:at] + link + doc[at:]
    assert not passes(seal(parts, vault_sealer()))


def test_issuers_annotation_covered_under_the_vault_seal_is_flagged() -> None:
    parts = add_annotation(
        _license_with_a_void_annotation(), page_annot("20 120 170 12", white((0, 0, 170, 12)))
    )
    report = verify(seal(parts, vault_sealer()))
    assert report.indication is Indication.TOTAL_FAILED
    assert "an added annotation on page 1 covers an earlier annotation" in (
        report.signatures[0].reasons
    )


def test_an_entry_inserted_before_the_issuers_entries_is_flagged() -> None:
    """Additions are one run before the list's closing tag, nothing else."""
    parts = ofd_parts(_license_with_a_void_annotation())
    parts["Doc_0/Forged/Annot.xml"] = _line()
    listed = parts["Doc_0/Annots/Annotations.xml"]
    at = listed.index(b"<ofd:Page ")
    entry = b'<ofd:Page PageID="1"><ofd:FileLoc>../Forged/Annot.xml</ofd:FileLoc></ofd:Page>'
    parts["Doc_0/Annots/Annotations.xml"] = listed[:at] + entry + listed[at:]
    assert not passes(seal(parts, vault_sealer()))


def test_a_later_addition_over_the_copys_annotation_is_flagged() -> None:
    """The 加注 box counts as a stamp: nothing later may cover the copy's QR or text, even
    under the vault's seal."""
    qr = (85.494, 249.606, 35.278, 35.278)
    data = seal(add_annotation(vault_copy(), page_annot(_box(qr), white((0, 0, 35, 35)))), None)
    data = seal(ofd_parts(data), vault_sealer())
    report = verify(data)
    assert report.indication is Indication.TOTAL_FAILED
    copy_seal = report.signatures[1]
    assert "an added annotation on page 1 covers an earlier annotation" in copy_seal.reasons


# -- the log proof counts only under the pinned vault seal -----------------------------


def test_log_proof_without_a_trust_bundle_is_not_verified(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from tests.attacks.ofd_copy_forge import LOG
    from vault.cli import build_app

    (tmp_path / "copy.ofd").write_bytes(vault_copy())
    (tmp_path / "log.pem").write_bytes(LOG.verifier().public_pem())
    args = ["verify", str(tmp_path / "copy.ofd"), "--log-key", str(tmp_path / "log.pem")]
    result = CliRunner().invoke(build_app(), [*args, "--json"])
    assert result.exit_code != 0
    assert '"verified": false' in result.output


def test_copy_by_another_department_has_no_verified_log_proof(tmp_path: Path) -> None:
    dept = other_department()
    fake = OfdCopyMaker(dept.signer, dept.seal).make(genuine(), annotation(days=3650))
    code, report = cli_verify(fake, tmp_path)
    assert code != 0
    assert report["log_proof"]["verified"] is False
    assert "ofd_vault_seals" in report["log_proof"]["reason"]


# -- the pin in the trust bundle ---------------------------------------------------------


def test_the_pin_round_trips_and_counts_in_the_fingerprint() -> None:
    plain = sm2_pki().trust_bundle()
    pinned = sm2_bundle()
    assert "ofd_vault_seals" not in plain.dump().decode()
    assert plain.fingerprint != pinned.fingerprint
    again = TrustBundle.load(pinned.dump())
    assert again.ofd_vault_seals == pinned.ofd_vault_seals
    assert again.fingerprint == pinned.fingerprint
    assert TrustBundle.load(plain.dump()).fingerprint == plain.fingerprint


def test_trust_export_pins_the_ofd_vault_seal(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from vault.cli import build_app

    pki = sm2_pki()
    cert = sm2_vault().signers[VAULT_NAME].cert
    (tmp_path / "root.der").write_bytes(pki.root.cert)
    (tmp_path / "vault.der").write_bytes(cert)
    out = tmp_path / "bundle.json"
    args = ["trust", "export", "--root", str(tmp_path / "root.der"), "--out", str(out)]
    result = CliRunner().invoke(
        build_app(), [*args, "--ofd-vault-seal", str(tmp_path / "vault.der")]
    )
    assert result.exit_code == 0, result.output
    assert TrustBundle.load(out).ofd_vault_seals == (cert,)
    missing = CliRunner().invoke(build_app(), [*args, "--ofd-vault-seal", str(tmp_path / "no")])
    assert missing.exit_code == 2
