"""A later seal's stamp over what an earlier signature signed (signing/ofd/stamps.py).

A stamp (``StampAnnot``: the seal's image in its ``Boundary``) is not page content, so no
earlier digest changes when a later seal puts one, a white image with other words say, over
the issuer's text. The rule: a later seal's stamp lies only where the earlier signature's
page is blank, else that signature reads modified after signing. Each forgery here is made
with a real later seal of a trusted department (公安局, chained to the test root): it is
intact, only its stamp's place is wrong. The genuine license's page 1 has its text at
y 30..76 (x 20..190) and the issuer's stamp at 150 230 40 40.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import pytest

from schemas.report import Indication
from signing.ofd.sealer import OfdSealer
from signing.ofd.writer import sample_ofd, write_package
from tests.attacks.ofd_copy_forge import (
    NS,
    add_annotation,
    annotation,
    other_department,
    page_annot,
    seal,
    vault_maker,
    vault_sealer,
    white,
)
from tests.attacks.ofd_forge import genuine, intake_refusal, passes, verify
from tests.attacks.ofd_pages import ONE_PX_PNG
from tests.helpers.ofd import ofd_parts, ofd_sealer
from tests.helpers.pki import MARKET_DEPT

VALIDITY = (20.0, 66.0, 170.0, 10.0)
"""The validity line of the genuine license (page 1, mm)."""
BLANK_SPOT = (150.0, 120.0, 40.0, 40.0)
"""A spot of page 1 where the genuine license shows nothing."""


class _Sealer(OfdSealer):
    """A real sealer whose Signature.xml's stamp is rewritten before it is signed (the
    later seal stays intact): ``stamp`` replaces the one ``StampAnnot`` element."""

    def __init__(self, base: OfdSealer, stamp: str) -> None:
        super().__init__(base.signer, base.seal)
        self.stamp = stamp

    def _signature_xml(self, parts: Mapping[str, bytes], *args: Any, **kwargs: Any) -> bytes:
        xml = super()._signature_xml(parts, *args, **kwargs)
        start = xml.index(b"<ofd:StampAnnot ")
        end = xml.index(b"/>", start) + 2
        return xml[:start] + self.stamp.encode() + xml[end:]


def _stamps(*boxes: str, page: str = "1", extra: str = "") -> str:
    return "".join(
        f'<ofd:StampAnnot ID="{i + 1}" PageRef="{page}" Boundary="{b}"{extra}/>'
        for i, b in enumerate(boxes)
    )


def _flagged(data: bytes) -> None:
    """The issuer's seal reads modified after signing; intake refuses the file so."""
    report = verify(data)
    assert report.indication is Indication.TOTAL_FAILED
    assert report.signatures[0].modified_after_signing
    assert "covers what this signature signed" in " ".join(report.signatures[0].reasons)
    assert intake_refusal(data) == "modified_after_signing"


# -- the rule holds: stamps over signed content ---------------------------------------


@pytest.mark.parametrize(
    "box",
    [
        pytest.param((20.0, 56.0, 40.0, 40.0), id="over-the-validity-line"),
        pytest.param((175.0, 70.0, 30.0, 30.0), id="partly-over-a-line-end"),
        pytest.param((150.0, 200.0, 40.0, 40.0), id="over-the-issuers-own-stamp"),
        pytest.param((-1e6, -1e6, 2e6, 2e6), id="huge"),
        pytest.param((60.0, 96.0, -40.0, -40.0), id="negative-size-mirrored"),
    ],
)
def test_later_stamp_over_signed_content_is_flagged(box: tuple[float, ...]) -> None:
    _flagged(seal(ofd_parts(genuine()), other_department(), box=box))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "stamp",
    [
        pytest.param(_stamps("20 56 NaN 40"), id="nan"),
        pytest.param(_stamps("20 56 inf 40"), id="infinite"),
        pytest.param(_stamps("20 56 40"), id="three-numbers"),
        pytest.param(_stamps("20 56 40 40", extra=' Clip="0 0 0 0"'), id="clip-claims-nothing"),
        pytest.param(_stamps("150 120 40 40", "20 60 40 40"), id="second-stamp-of-one-seal"),
    ],
)
def test_later_stamp_written_oddly_is_flagged(stamp: str) -> None:
    _flagged(seal(ofd_parts(genuine()), _Sealer(other_department(), stamp)))


def test_a_flood_of_stamps_is_refused_quickly() -> None:
    """40000 clear stamps against a page of 60 objects: refused past the comparison budget
    (2 million) rather than compared one by one."""
    parts = ofd_parts(sample_ofd("食品经营许可证", [f"第{i}行" for i in range(1, 60)]))
    lic = _issued(parts, boundary=(0, 0, 1, 1))
    stamps = _stamps(*["200 290 1 1"] * 40000)
    data = seal(ofd_parts(lic), _Sealer(other_department(), stamps))
    report = verify(data)
    assert "stamps cannot be checked" in " ".join(report.signatures[0].reasons)
    assert report.signatures[0].modified_after_signing


def test_several_later_seals_one_over_the_text_is_flagged() -> None:
    first = seal(ofd_parts(genuine()), other_department(), box=BLANK_SPOT)
    assert passes(first)
    _flagged(seal(ofd_parts(first), other_department(), box=(20, 40, 30, 30)))


def _issued(parts: dict[str, bytes], **kwargs: Any) -> bytes:
    """``parts`` sealed by the market regulator five minutes ago."""
    at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    return ofd_sealer(MARKET_DEPT).seal_ofd(write_package(parts), at=at, **kwargs)


def _two_page_license() -> bytes:
    """The market regulator's license with a second page (ID 2) of text at y 30..40."""
    parts = ofd_parts(sample_ofd("食品经营许可证", ["许可证编号：JY00000001"]))
    page = parts["Doc_0/Pages/Page_0/Content.xml"].replace(
        "许可证编号".encode(), "附页说明".encode()
    )
    parts["Doc_0/Pages/Page_1/Content.xml"] = page
    doc = parts["Doc_0/Document.xml"]
    at = doc.index(b"</ofd:Pages>")
    entry = b'<ofd:Page ID="2" BaseLoc="Pages/Page_1/Content.xml"/>'
    parts["Doc_0/Document.xml"] = doc[:at] + entry + doc[at:]
    return _issued(parts)


def test_later_stamp_on_the_second_page_is_flagged() -> None:
    lic = _two_page_license()
    assert passes(lic)
    assert passes(
        seal(ofd_parts(lic), _Sealer(other_department(), _stamps("20 100 40 40", page="2")))
    )
    _flagged(seal(ofd_parts(lic), _Sealer(other_department(), _stamps("20 20 40 40", page="2"))))


def _license_with(objects: str) -> bytes:
    """The market regulator's license with ``objects`` drawn on page 1 (and an image)."""
    parts = ofd_parts(sample_ofd("食品经营许可证", ["许可证编号：JY00000001"], image=ONE_PX_PNG))
    content = parts["Doc_0/Pages/Page_0/Content.xml"]
    at = content.index(b"</ofd:Layer>")
    parts["Doc_0/Pages/Page_0/Content.xml"] = content[:at] + objects.encode() + content[at:]
    return _issued(parts, boundary=(20, 250, 30, 30))


def test_later_stamp_over_an_image_is_flagged() -> None:
    lic = _license_with("")
    assert passes(lic)
    _flagged(
        seal(ofd_parts(lic), other_department(), box=(170, 220, 30, 30))
    )  # image 150 200 40 40


def test_later_stamp_over_a_path_is_flagged() -> None:
    lic = _license_with(white((100, 120, 60, 2), oid=700).replace("255 255 255", "0 0 0"))
    assert passes(lic)
    assert passes(seal(ofd_parts(lic), other_department(), box=(100, 130, 30, 30)))
    _flagged(seal(ofd_parts(lic), other_department(), box=(100, 100, 30, 30)))


def test_later_stamp_over_a_path_drawn_by_its_ctm_is_flagged() -> None:
    """The path's Boundary is blank space; its CTM moves what it draws under the stamp."""
    moved = white((20, 120, 20, 2), oid=700, extra=' CTM="1 0 0 1 0 -40"')
    lic = _license_with(moved)
    assert passes(lic)
    _flagged(seal(ofd_parts(lic), other_department(), box=(20, 82, 15, 6)))


def test_later_stamp_over_template_text_is_flagged() -> None:
    parts = ofd_parts(sample_ofd("食品经营许可证", []))
    content = parts["Doc_0/Pages/Page_0/Content.xml"]
    parts["Doc_0/Tpl/Content.xml"] = content.replace(
        "食品经营许可证".encode(), "有效期至：2021年01月01日".encode()
    )
    doc = parts["Doc_0/Document.xml"]
    at = doc.index(b"</ofd:CommonData>")
    tpl = b'<ofd:TemplatePage ID="40" BaseLoc="Tpl/Content.xml"/>'
    parts["Doc_0/Document.xml"] = doc[:at] + tpl + doc[at:]
    empty = f'<?xml version="1.0" encoding="UTF-8"?>\n<ofd:Page xmlns:ofd="{NS}">'
    parts["Doc_0/Pages/Page_0/Content.xml"] = (
        empty + '<ofd:Template TemplateID="40"/></ofd:Page>'
    ).encode()
    lic = _issued(parts)
    assert passes(lic)
    _flagged(seal(ofd_parts(lic), other_department(), box=(20, 20, 30, 30)))


def test_later_stamp_over_an_annotation_the_issuer_signed_is_flagged() -> None:
    from tests.attacks.test_ofd_copy_redteam import _license_with_a_void_annotation

    lic = _license_with_a_void_annotation()  # 本证已注销 at 20 120 170 12, sealed by the issuer
    _flagged(seal(ofd_parts(lic), other_department(), box=(60, 110, 30, 30)))


def test_stamp_annotation_added_by_a_later_seal_over_text_is_flagged() -> None:
    """The stamp drawn as a later annotation (a Stamp Annot in an appended list) instead."""
    cover = white((0, 0, 40, 40))
    data = seal(add_annotation(genuine(), page_annot("20 56 40 40", cover)), other_department())
    assert verify(data).indication is Indication.TOTAL_FAILED
    assert intake_refusal(data) == "modified_after_signing"


# -- what stays allowed ---------------------------------------------------------------


def test_later_stamp_on_blank_space_passes() -> None:
    assert passes(seal(ofd_parts(genuine()), other_department(), box=BLANK_SPOT))


def test_the_issuers_own_later_seal_over_its_text_passes() -> None:
    """The same signer certificate continue-signing its own document (corpus h.ofd)."""
    data = seal(ofd_parts(genuine()), ofd_sealer(MARKET_DEPT), box=(20, 56, 40, 40))
    report = verify(data)
    assert report.indication is Indication.TOTAL_PASSED, report.signatures[0].reasons


def test_the_vaults_copy_verifies_with_its_stamp_on_a_background_image() -> None:
    """The vault's stamp lies on its own 加注 (accepted by the 加注 rules), which may lie on
    a page-sized background image: what the stamp covers there is the 加注."""
    lic = _license_with(
        '<ofd:ImageObject ID="701" ResourceID="3" Boundary="0 0 210 297" CTM="210 0 0 297 0 0"/>'
    )
    assert passes(lic)
    report = verify(vault_maker().make(lic, annotation()))
    assert report.indication is Indication.TOTAL_PASSED, [s.reasons for s in report.signatures]


def test_the_vaults_stamp_outside_its_addition_is_flagged() -> None:
    """Under the vault's pinned seal too: a stamp over the text, with no 加注 under it."""
    _flagged(seal(ofd_parts(genuine()), vault_sealer(), box=(20, 56, 40, 40)))


# -- page references resolved as numbers (red team F6) ----------------------------------


@pytest.mark.parametrize(
    "page",
    [
        pytest.param("01", id="leading-zero"),
        pytest.param(" 1 ", id="spaces"),
        pytest.param("+1", id="plus-sign"),
    ],
)
def test_later_stamp_with_a_page_ref_spelled_otherwise_is_flagged(page: str) -> None:
    """ST_RefID is a number: ofdrw reads ``Long.parseLong(s.trim())``, which puts each of
    these stamps on page 1, over the validity line; the rule looked the page up by string.
    (A fullwidth ``１``, which Java also reads as 1, is refused: test_ofd_redteam6_parse.)"""
    stamp = _stamps("20 56 40 40", page=page)
    _flagged(seal(ofd_parts(genuine()), _Sealer(other_department(), stamp)))


def test_later_stamp_naming_no_page_is_flagged() -> None:
    data = seal(
        ofd_parts(genuine()), _Sealer(other_department(), _stamps("20 56 40 40", page="x1"))
    )
    report = verify(data)
    assert report.signatures[0].modified_after_signing
    assert "names no page of the document" in " ".join(report.signatures[0].reasons)
    assert intake_refusal(data) == "modified_after_signing"
