"""Red team 3, c1 to c4: files a reader uses that the issuer's seal must cover itself.

c2: a colour space's ICC ``Profile`` (a file location in a resource file) was followed
neither by the drawn-parts walk (signing/ofd/uses.py) nor by the shown-parts walk
(signing/ofd/model.py): the issuer could leave it out, or name one missing, and an
attacker's ICC (black mapped to white hides the text) passed under another department's
later seal. Each forgery is made with the test SM2 PKI (tests/helpers/ofd.py).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from schemas.report import Indication
from signing.errors import SealingError
from signing.ofd.sealer import OfdSealer
from signing.ofd.writer import sample_ofd, write_package
from tests.attacks.ofd_copy_forge import other_department
from tests.attacks.ofd_forge import GENUINE_LINES, MARKET_NAME, passes, verify
from tests.helpers.ofd import ofd_parts, sm2_pki

RES = "Doc_0/PublicRes.xml"
DOC = "Doc_0/Document.xml"
ICC = "Doc_0/Res/srgb.icc"
"""Where the PublicRes (BaseLoc Res) colour space's Profile="srgb.icc" resolves."""
GENUINE_ICC = b"acsp genuine sRGB profile " * 30
FORGED_ICC = b"acsp forged profile: black->white " * 30


class _LeaveOut(OfdSealer):
    """The issuer's sealer, its References leaving ``left_out`` out."""

    left_out: tuple[str, ...] = ()

    def _signature_xml(self, parts: dict[str, bytes], *args: Any, **kwargs: Any) -> bytes:
        kept = {p: d for p, d in parts.items() if p not in self.left_out}
        return super()._signature_xml(kept, *args, **kwargs)


def _issued(body: dict[str, bytes], *left_out: str) -> dict[str, bytes]:
    pki = sm2_pki()
    sealer = _LeaveOut(pki.signers[MARKET_NAME], pki.seal_for(MARKET_NAME))
    sealer.left_out = left_out
    at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    return ofd_parts(sealer.seal_ofd(write_package(body), at=at))


def _insider(parts: dict[str, bytes]) -> bytes:
    """Another trusted department's seal over the whole package, on blank space."""
    at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    return other_department().seal_ofd(write_package(parts), boundary=(20, 150, 40, 40), at=at)


def _license() -> dict[str, bytes]:
    return ofd_parts(sample_ofd("食品经营许可证", GENUINE_LINES))


def _edited(*edits: tuple[str, bytes, bytes]) -> dict[str, bytes]:
    """The license, each (part, old, new) of ``edits`` replaced."""
    body = _license()
    for part, old, new in edits:
        body[part] = body[part].replace(old, new)
    return body


def _icc_body() -> dict[str, bytes]:
    colour = b'<ofd:ColorSpaces><ofd:ColorSpace ID="3" Type="RGB" Profile="srgb.icc"/>'
    body = _edited(
        (RES, b"<ofd:Fonts>", colour + b"</ofd:ColorSpaces><ofd:Fonts>"),
        (DOC, b"<ofd:PublicRes>", b"<ofd:DefaultCS>3</ofd:DefaultCS><ofd:PublicRes>"),
    )
    body[ICC] = GENUINE_ICC
    return body


def _not_covered_by_the_issuer(data: bytes, part: str = ICC) -> None:
    report = verify(data)
    assert report.indication is Indication.TOTAL_FAILED
    issuer = next(s for s in report.signatures if s.field_name == "1")
    assert issuer.indication is Indication.TOTAL_FAILED
    assert part in " ".join(issuer.reasons)


def test_c2_an_icc_profile_left_out_and_swapped_under_a_later_seal_is_flagged() -> None:
    parts = _issued(_icc_body(), ICC)
    parts[ICC] = FORGED_ICC
    _not_covered_by_the_issuer(_insider(parts))


def test_c2c_a_missing_icc_profile_supplied_under_a_later_seal_is_flagged() -> None:
    body = _icc_body()
    del body[ICC]
    parts = _issued(body)
    parts[ICC] = FORGED_ICC
    _not_covered_by_the_issuer(_insider(parts))


def test_an_icc_profile_the_issuer_covers_passes_and_a_swap_is_flagged() -> None:
    parts = _issued(_icc_body())
    assert passes(_insider(parts))
    parts[ICC] = FORGED_ICC
    assert not passes(_insider(parts))


# -- c1: one ID declared twice (readers differ: first or last wins) -------------------
TPL = "Doc_0/Tpls/Tpl_0/Content.xml"
TPL_A = "Doc_0/Tpls/Tpl_A/Content.xml"
CONTENT = "Doc_0/Pages/Page_0/Content.xml"
_PAGE = '<?xml version="1.0" encoding="UTF-8"?><ofd:Page xmlns:ofd="http://www.ofdspec.org/2016">'


def _template(objects: str) -> bytes:
    layer = f'<ofd:Layer ID="6">{objects}</ofd:Layer>'
    return f"{_PAGE}<ofd:Content>{layer}</ofd:Content></ofd:Page>".encode()


_FRAME = _template(
    '<ofd:PathObject ID="7" Boundary="5 5 200 20" LineWidth="0.5">'
    "<ofd:AbbreviatedData>M 0 0 L 200 0 L 200 20 L 0 20 C</ofd:AbbreviatedData></ofd:PathObject>"
)
_FORGED_TEMPLATE = _template(
    '<ofd:PathObject ID="30" Boundary="20 54 170 22" Fill="true" Stroke="false">'
    '<ofd:FillColor Value="255 255 255"/><ofd:AbbreviatedData>M 0 0 L 170 0 L 170 22 L 0 22 C'
    '</ofd:AbbreviatedData></ofd:PathObject><ofd:TextObject ID="40" Boundary="20 54 170 10" '
    'Font="2" Size="5"><ofd:TextCode X="0" Y="5">经营者名称：李四</ofd:TextCode></ofd:TextObject>'
)


def _two_templates_with_one_id(first: str = "5") -> dict[str, bytes]:
    """Document.xml declares TemplatePage ID 5 twice (the first spelt ``first``): first
    Tpl_A (not in the package), then Tpl_0 (a frame), which the page draws in the
    foreground."""
    twice = (
        f'<ofd:TemplatePage ID="{first}" BaseLoc="Tpls/Tpl_A/Content.xml"/>'.encode()
        + b'<ofd:TemplatePage ID="5" BaseLoc="Tpls/Tpl_0/Content.xml"/>'
    )
    drawn = b'<ofd:Template TemplateID="5" ZOrder="Foreground"/><ofd:Content>'
    body = _edited(
        (DOC, b"</ofd:CommonData>", twice + b"</ofd:CommonData>"),
        (CONTENT, b"<ofd:Content>", drawn),
    )
    body[TPL] = _FRAME
    return body


def _declared_twice(data: bytes) -> None:
    report = verify(data)
    assert report.indication is Indication.TOTAL_FAILED
    assert all(s.indication is Indication.TOTAL_FAILED for s in report.signatures)
    assert "is declared twice" in " ".join(report.signatures[0].reasons)


@pytest.mark.parametrize("first", ["5", "05", "+5"])
def test_c1_a_template_id_declared_twice_the_first_supplied_under_a_later_seal(
    first: str,
) -> None:
    """Red team 4, f1/f1c/f1d: "05" and "+5" are the ID 5 to the lookups (and to
    readers), so to the duplicate rule too. (The fullwidth "５", 5 to Java, is no ID at
    all now: the next test.)"""
    parts = _issued(_two_templates_with_one_id(first))
    parts[TPL_A] = _FORGED_TEMPLATE
    _declared_twice(_insider(parts))


def test_c1_a_fullwidth_template_id_is_refused() -> None:
    """Red team 4, f1d / red team 6: ``５`` is 5 to Java's ``Long.parseLong``, no number
    to other readers: the document cannot even be sealed (the verifier reads it alike)."""
    with pytest.raises(SealingError, match="readers differ on the ID"):
        _issued(_two_templates_with_one_id("\uff15"))


def test_c1_a_template_id_declared_twice_is_refused_even_all_signed() -> None:
    body = _two_templates_with_one_id()
    body[TPL_A] = _FRAME
    _declared_twice(write_package(_issued(body)))


def test_a_resource_id_declared_in_two_resource_files_is_refused() -> None:
    """Font ID 2 in PublicRes and again (another font) in DocumentRes."""
    body = _license()
    res = "Doc_0/DocumentRes.xml"
    body[res] = body[res].replace(
        b"</ofd:Res>",
        '<ofd:Fonts><ofd:Font ID="2" FontName="楷体" FamilyName="楷体"/></ofd:Fonts>'.encode()
        + b"</ofd:Res>",
    )
    assert body[res].count(b"<ofd:Font ") == 1
    _declared_twice(write_package(_issued(body)))


def test_a_page_id_declared_twice_is_refused() -> None:
    body = _license()
    body[DOC] = body[DOC].replace(
        b"</ofd:Pages>", b'<ofd:Page ID="1" BaseLoc="Pages/Page_0/Content.xml"/></ofd:Pages>'
    )
    _declared_twice(write_package(_issued(body)))


# -- c3, c4: custom tags and attachments, shown beside the pages ----------------------
TAGS, TAG = "Doc_0/Tags/CustomTags.xml", "Doc_0/Tags/License.xml"
ATTACHS, ATT = "Doc_0/Attachs/Attachments.xml", "Doc_0/Attachs/license.xml"
_HEAD = b'<?xml version="1.0" encoding="UTF-8"?>'
_NS = b'xmlns:ofd="http://www.ofdspec.org/2016"'


def _with_list(name: str, listed: str, entry: bytes, file: str, data: bytes) -> dict[str, bytes]:
    """The license with Document.xml's ``name`` list (``listed``) of one ``entry`` naming
    ``file`` (``data``)."""
    body = _license()
    loc = listed.removeprefix("Doc_0/")
    body[DOC] = body[DOC].replace(
        b"</ofd:Document>", f"<ofd:{name}>{loc}</ofd:{name}></ofd:Document>".encode()
    )
    body[listed] = _HEAD + f"<ofd:{name} ".encode() + _NS + b">" + entry + f"</ofd:{name}>".encode()
    body[file] = data
    return body


def _tags() -> dict[str, bytes]:
    entry = b'<ofd:CustomTag NameSpace="urn:license"><ofd:FileLoc>License.xml</ofd:FileLoc>'
    data = "<license><holder>张三</holder><valid>2027-01-01</valid></license>".encode()
    return _with_list("CustomTags", TAGS, entry + b"</ofd:CustomTag>", TAG, data)


def _attachments() -> dict[str, bytes]:
    entry = (
        b'<ofd:Attachment ID="30" Name="license.xml" Format="xml">'
        b"<ofd:FileLoc>license.xml</ofd:FileLoc></ofd:Attachment>"
    )
    return _with_list("Attachments", ATTACHS, entry, ATT, "<license>张三</license>".encode())


def test_c3_a_custom_tag_file_left_out_and_swapped_under_a_later_seal_is_flagged() -> None:
    parts = _issued(_tags(), TAG)
    parts[TAG] = "<license><holder>李四</holder><valid>2099-12-31</valid></license>".encode()
    _not_covered_by_the_issuer(_insider(parts), TAG)


def test_c3b_a_missing_custom_tag_file_supplied_under_a_later_seal_is_flagged() -> None:
    body = _tags()
    del body[TAG]
    parts = _issued(body)
    parts[TAG] = "<license><holder>李四</holder></license>".encode()
    _not_covered_by_the_issuer(_insider(parts), TAG)


def test_c4_an_attachment_left_out_and_swapped_under_a_later_seal_is_flagged() -> None:
    parts = _issued(_attachments(), ATT)
    parts[ATT] = "<license>李四</license>".encode()
    _not_covered_by_the_issuer(_insider(parts), ATT)


def test_custom_tags_and_attachments_the_issuer_covers_pass_under_a_later_seal() -> None:
    body = _tags()
    body.update({k: v for k, v in _attachments().items() if k != DOC})
    body[DOC] = body[DOC].replace(
        b"</ofd:Document>",
        b"<ofd:Attachments>Attachs/Attachments.xml</ofd:Attachments></ofd:Document>",
    )
    assert passes(_insider(_issued(body)))


def _split_common_data() -> dict[str, bytes]:
    """Red team 4, f5: TemplatePage ID 5 declared once in each of two CommonData."""
    body = _two_templates_with_one_id()
    doc = body[DOC].decode()
    first = '<ofd:TemplatePage ID="5" BaseLoc="Tpls/Tpl_A/Content.xml"/>'
    doc = doc.replace(first, "").replace(
        "</ofd:CommonData>", f"</ofd:CommonData><ofd:CommonData>{first}</ofd:CommonData>", 1
    )
    body[DOC] = doc.encode()
    assert body[DOC].count(b"<ofd:CommonData>") == 2
    return body


def _two_sections(data: bytes, name: str) -> None:
    report = verify(data)
    assert report.indication is Indication.TOTAL_FAILED
    assert all(s.indication is Indication.TOTAL_FAILED for s in report.signatures)
    assert f"has 2 {name} elements" in " ".join(report.signatures[0].reasons)


def test_f5_a_template_id_split_across_two_common_data_is_refused() -> None:
    parts = _issued(_split_common_data())
    parts[TPL_A] = _FORGED_TEMPLATE
    _two_sections(_insider(parts), "CommonData")


def test_f5_two_pages_elements_are_refused_even_all_signed() -> None:
    body = _license()
    body[DOC] = body[DOC].replace(
        b"</ofd:Pages>",
        b'</ofd:Pages><ofd:Pages><ofd:Page ID="9" BaseLoc="Pages/Page_0/Content.xml"/></ofd:Pages>',
    )
    _two_sections(write_package(_issued(body)), "Pages")


# -- f2-f4: what the pages draw with cannot be told: the signatures fail --------------
ANNOTS, ANNOT = "Doc_0/Annots/Annotations.xml", "Doc_0/Annots/Page_0/Annotation.xml"


class _NoStamp(OfdSealer):
    """Another department's genuine seal drawing no stamp on any page."""

    def _signature_xml(self, *args: Any, **kwargs: Any) -> bytes:
        xml = super()._signature_xml(*args, **kwargs)
        start = xml.index(b"<ofd:StampAnnot")
        return xml[:start] + xml[xml.index(b"/>", start) + 2 :]


def _insider_without_stamp(parts: dict[str, bytes]) -> bytes:
    at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    seal = other_department()
    sealer = _NoStamp(seal.signer, seal.seal)
    return sealer.seal_ofd(write_package(parts), boundary=(20, 150, 40, 40), at=at)


def _cannot_be_told(data: bytes) -> None:
    report = verify(data)
    assert report.indication is Indication.TOTAL_FAILED
    issuer = next(s for s in report.signatures if s.field_name == "1")
    assert issuer.indication is Indication.TOTAL_FAILED
    assert "draw with cannot be told" in " ".join(issuer.reasons)


_FONT = 'FamilyName="宋体"'


def test_f3_a_template_leaving_the_package_does_not_hide_a_supplied_font() -> None:
    """Red team 4, f3: an unused TemplatePage whose BaseLoc leaves the package made the
    page lookup fail, and the drawn parts shrank to Document.xml: a font file missing at
    signing, supplied under a stamp-less later seal, passed."""
    escaping = b'<ofd:TemplatePage ID="77" BaseLoc="../../../x.xml"/></ofd:CommonData>'
    font_file = f"{_FONT}><ofd:FontFile>font.ttf</ofd:FontFile></ofd:Font>"
    body = _edited(
        (DOC, b"</ofd:CommonData>", escaping),
        (RES, f"{_FONT}/>".encode(), font_file.encode()),
    )
    assert b"FontFile" in body[RES]
    parts = _issued(body)
    parts["Doc_0/Res/font.ttf"] = b"\x00\x01\x00\x00 a forged glyph-swapping font" * 20
    _cannot_be_told(_insider_without_stamp(parts))


def _annotations(*locs: str) -> bytes:
    entries = "".join(
        f'<ofd:Page PageID="1"><ofd:FileLoc>{loc}</ofd:FileLoc></ofd:Page>' for loc in locs
    )
    return _HEAD + b"<ofd:Annotations " + _NS + b">" + entries.encode() + b"</ofd:Annotations>"


_FORGED_ANNOT = (
    '<ofd:Annot ID="90" Type="Stamp"><ofd:Appearance Boundary="0 0 210 297">'
    '<ofd:TextObject ID="91" Boundary="20 54 170 10" Font="2" Size="5">'
    '<ofd:TextCode X="0" Y="5">经营者名称：李四</ofd:TextCode></ofd:TextObject>'
    "</ofd:Appearance></ofd:Annot>"
)


def test_f4_an_annotation_entry_leaving_the_package_does_not_hide_the_list() -> None:
    """Red team 4, f4: one Annotations entry leaving the package dropped the whole list
    from the drawn parts: page 1's annotation file, missing at signing, supplied under a
    stamp-less later seal, passed."""
    listed = b"</ofd:Pages><ofd:Annotations>Annots/Annotations.xml</ofd:Annotations>"
    body = _edited((DOC, b"</ofd:Pages>", listed))
    body[ANNOTS] = _annotations("Page_0/Annotation.xml", "../../../../x.xml")
    parts = _issued(body)
    parts[ANNOT] = (
        _HEAD + b"<ofd:PageAnnot " + _NS + b">" + _FORGED_ANNOT.encode() + b"</ofd:PageAnnot>"
    )
    _cannot_be_told(_insider_without_stamp(parts))


def test_f2_a_second_page_of_id_01_missing_at_signing_supplied_later_is_flagged() -> None:
    """Red team 4, f2: page "01" beside page "1" (its file missing at signing): the
    duplicate rule compared strings, the page lookup failed and the drawn parts shrank to
    Document.xml, so a forged page 2 supplied under a stamp-less later seal passed. Both
    rules now fail every signature."""
    second = b'<ofd:Page ID="01" BaseLoc="Pages/Page_1/Content.xml"/></ofd:Pages>'
    parts = _issued(_edited((DOC, b"</ofd:Pages>", second)))
    parts["Doc_0/Pages/Page_1/Content.xml"] = _FORGED_TEMPLATE
    report = verify(_insider_without_stamp(parts))
    assert report.indication is Indication.TOTAL_FAILED
    assert all(s.indication is Indication.TOTAL_FAILED for s in report.signatures)
    reasons = " ".join(report.signatures[0].reasons)
    assert "is declared twice" in reasons
    assert "draw with cannot be told" in reasons
