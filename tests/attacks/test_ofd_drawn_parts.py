"""Red team redteam-ofd2: a22, a12, a19, a14, a16 and a13.

a22/a12: an issuer seal that leaves a part its pages draw with out of its References (the
embedded font file; PublicRes.xml), another trusted department's later seal covering the
swapped part: the issuer's seal passed, as the later seal "covered" it. a19: the stricter
rules for an unsigned OFD.xml (no Cover) were skipped when a later seal covered OFD.xml.
a14/a16: forged DocInfo metadata in an OFD.xml the issuer did not sign was accepted by
intake, and the vault's copy seal then made it look sealed. a13: a later seal's picture on
blank space is that signer's own statement; the issuer's row now says so. Each forgery is
made with the test SM2 PKI (tests/helpers/ofd.py).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from schemas.report import Indication
from signing.errors import SealingError
from signing.ofd.sealer import OfdSealer
from signing.ofd.writer import sample_ofd, write_package
from tests.attacks.ofd_copy_forge import annotation, other_department, vault_maker, vault_sealer
from tests.attacks.ofd_fonts import PLAIN_DOT, font
from tests.attacks.ofd_forge import (
    GENUINE_LINES,
    MARKET_NAME,
    genuine,
    intake_refusal,
    passes,
    verify,
)
from tests.helpers.ofd import ofd_parts, sm2_pki

FONT = "Doc_0/Res/font_2.ttf"
RES = "Doc_0/PublicRes.xml"
SONG = 'FamilyName="宋体"'.encode()


class _LeaveOut(OfdSealer):
    """A sealer whose References leave ``left_out`` out (as KingGrid's leave OFD.xml)."""

    left_out: tuple[str, ...] = ()

    def _signature_xml(self, parts: dict[str, bytes], *args: Any, **kwargs: Any) -> bytes:
        kept = {p: d for p, d in parts.items() if p not in self.left_out}
        return super()._signature_xml(kept, *args, **kwargs)


def _issuer(*left_out: str) -> OfdSealer:
    pki = sm2_pki()
    sealer = _LeaveOut(pki.signers[MARKET_NAME], pki.seal_for(MARKET_NAME))
    sealer.left_out = left_out
    return sealer


def _earlier(minutes: int) -> dt.datetime:
    return dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes)


def _with_font_file() -> bytes:
    body = ofd_parts(sample_ofd("食品经营许可证", GENUINE_LINES))
    body[RES] = body[RES].replace(
        SONG + b"/>", SONG + b"><ofd:FontFile>font_2.ttf</ofd:FontFile></ofd:Font>"
    )
    assert b"FontFile" in body[RES]
    body[FONT] = font(PLAIN_DOT)  # a font whose glyphs' reach can be read (red team 12)
    return write_package(body)


def _a22() -> bytes:
    parts = ofd_parts(_issuer(FONT).seal_ofd(_with_font_file(), at=_earlier(5)))
    parts[FONT] = b"\x00\x01\x00\x00 glyph-swapped font " * 40
    return other_department().seal_ofd(write_package(parts), at=_earlier(1))


def _a12() -> bytes:
    body = sample_ofd("食品经营许可证", GENUINE_LINES)
    parts = ofd_parts(_issuer(RES).seal_ofd(body, at=_earlier(5)))
    parts[RES] = parts[RES].replace(
        SONG + b"/>", SONG + b"><ofd:FontFile>font_2.ttf</ofd:FontFile></ofd:Font>"
    )
    parts[FONT] = b"\x00\x01\x00\x00 glyph-swapped font " * 40
    return other_department().seal_ofd(write_package(parts), at=_earlier(1))


@pytest.mark.parametrize(("make", "part"), [(_a22, FONT), (_a12, RES)], ids=["a22", "a12"])
def test_a_part_the_pages_draw_with_left_out_and_covered_by_another_seal_is_flagged(
    make: Any, part: str
) -> None:
    data = make()
    report = verify(data)
    assert report.indication is Indication.TOTAL_FAILED
    issuer, other = report.signatures
    assert issuer.indication is Indication.TOTAL_FAILED and issuer.modified_after_signing
    assert part in " ".join(issuer.reasons)
    assert other.indication is Indication.TOTAL_PASSED  # the later seal signed what it saw
    assert intake_refusal(data) == "modified_after_signing"


def test_a_font_file_the_issuer_covers_with_a_later_seal_still_passes() -> None:
    """The control: the issuer covers its font file; another department seals after."""
    data = _issuer().seal_ofd(_with_font_file(), at=_earlier(5))
    assert passes(other_department().seal_ofd(data, at=_earlier(1)))


def test_the_same_signer_may_cover_what_its_earlier_seal_left_out() -> None:
    """As the corpus files converter-testImageOverridePage.ofd and testPathClip.ofd do: the
    signer's first signature leaves a part out, its own later signature covers it."""
    first = _issuer(RES).seal_ofd(sample_ofd("食品经营许可证", GENUINE_LINES), at=_earlier(5))
    assert passes(_issuer().seal_ofd(first, at=_earlier(1)))


# -- a19: the stricter rules for an unsigned OFD.xml, per signature -----------------------


def _kinggrid_with(extra: bytes, **parts: bytes) -> dict[str, bytes]:
    lic = ofd_parts(genuine(cover_ofd_xml=False))
    lic["OFD.xml"] = lic["OFD.xml"].replace(b"</ofd:DocInfo>", extra + b"</ofd:DocInfo>")
    assert extra in lic["OFD.xml"]
    return {**lic, **parts}


def test_a19_a_cover_image_in_an_ofd_xml_a_later_seal_covers_is_flagged() -> None:
    parts = _kinggrid_with(b"<ofd:Cover>cover.png</ofd:Cover>", **{"cover.png": b"\x89PNG x"})
    data = other_department().seal_ofd(write_package(parts), at=_earlier(1))
    report = verify(data)
    issuer, other = report.signatures
    assert issuer.indication is Indication.TOTAL_FAILED
    assert any("cover image (Cover)" in r for r in issuer.reasons)
    assert other.indication is Indication.TOTAL_PASSED  # it covers OFD.xml, Cover and all
    assert intake_refusal(data) == "modified_after_signing"


# -- a14, a16: unsigned DocInfo a viewer shows ---------------------------------------------

CUSTOM = (
    '<ofd:CustomDatas><ofd:CustomData Name="经营者名称">李四</ofd:CustomData>'
    '<ofd:CustomData Name="有效期至">2099-12-31</ofd:CustomData></ofd:CustomDatas>'
).encode()


def _a14() -> bytes:
    return write_package(_kinggrid_with(CUSTOM))


def test_a14_forged_docinfo_verifies_with_its_note_but_intake_refuses() -> None:
    data = _a14()
    report = verify(data)
    assert report.indication is Indication.TOTAL_PASSED  # the corpus needs the note only
    assert any("DocInfo: " in r and "CustomDatas" in r for r in report.reasons)
    issuer = report.signatures[0]
    assert "CustomDatas" in issuer.unsigned_metadata
    assert any("does not cover OFD.xml" in r for r in issuer.reasons)
    assert intake_refusal(data) == "unsigned_document_info"


def test_the_kinggrid_layout_with_only_a_docid_is_accepted() -> None:
    """The control: OFD.xml unsigned, but its DocInfo holds nothing a reader shows."""
    lic = ofd_parts(genuine(cover_ofd_xml=False))
    start = lic["OFD.xml"].index(b"<ofd:Title>")
    end = lic["OFD.xml"].index(b"</ofd:DocInfo>")
    lic["OFD.xml"] = lic["OFD.xml"][:start] + lic["OFD.xml"][end:]
    data = write_package(lic)
    assert verify(data).signatures[0].unsigned_metadata == []
    assert intake_refusal(data) is None


def test_a16_the_copy_maker_refuses_an_original_with_unsigned_docinfo() -> None:
    with pytest.raises(SealingError, match=r"does not cover OFD\.xml"):
        vault_maker().make(_a14(), annotation())


def test_a16_a_later_seal_over_ofd_xml_keeps_the_issuers_unsigned_metadata_note() -> None:
    """The vault's own seal (misused to seal a14 whole) covers OFD.xml: the issuer's row
    still says its DocInfo is unsigned, and intake still refuses it."""
    data = vault_sealer().seal_ofd(_a14(), at=_earlier(1))
    report = verify(data)
    issuer = report.signatures[0]
    assert issuer.unsigned_metadata == ["Creator", "CustomDatas", "Title"]
    assert any("does not cover OFD.xml" in r for r in issuer.reasons)
    assert not report.signatures[1].unsigned_metadata
    assert intake_refusal(data) is not None


# -- a13: another signer's stamp on blank space ---------------------------------------------


def test_a13_the_issuers_row_says_another_signer_draws_on_its_pages() -> None:
    data = other_department().seal_ofd(genuine(), at=_earlier(1))
    report = verify(data)
    assert report.indication is Indication.TOTAL_PASSED  # by design: its own statement
    issuer, other = report.signatures
    said = [r for r in issuer.reasons if r.startswith("a later seal by another signer")]
    assert said and "signature " + other.field_name in said[0], issuer.reasons
    assert not any(r.startswith("a later seal by another signer") for r in other.reasons)
