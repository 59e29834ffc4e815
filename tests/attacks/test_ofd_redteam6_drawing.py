"""Red team round 6, drawing classes (redteam_ofd6 a13, a15, a07, o01, a12b): what a reader
draws where the verifier's geometry did not look, and one seal counted twice.

- a13: a TextObject draws its glyphs at its TextCode X/Y (and DeltaX/DeltaY), through its
  CTM, from its Boundary's origin; ofdrw does not clip text to the Boundary. The stamp rule
  and the 加注 rules placed text by its Boundary only.
- a15: the 加注 rules and the copy maker's corner choice looked at TextObjects only; text
  drawn as glyph outlines (PathObjects) ended up under the copy's white 加注 box.
- a07: the copy maker sized the page by Document.xml's first PhysicalBox, not the page's
  own Area, and put the 加注 and the vault's stamp below a 148 mm page.
- o01: one issuer seal listed twice (a byte copy of its Signature.xml) counted as two.

Every forgery is built from a genuine license the market regulator sealed (the test SM2
PKI) and sealed again, where needed, by a trusted department or the vault's pinned seal.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re

import pytest

from schemas.report import Indication
from signing.errors import SealingError
from signing.ofd.glyphs import GlyphPainter
from signing.ofd.writer import sample_ofd, write_package
from tests.attacks.ofd_copy_forge import (
    add_annotation,
    annotation,
    other_department,
    page_annot,
    seal,
    vault_maker,
    vault_sealer,
    white,
)
from tests.attacks.ofd_forge import (
    GENUINE_LINES,
    genuine,
    intake_refusal,
    passes,
    verify,
)
from tests.attacks.ofd_pages import (
    PAGE,
    flagged,
    genuine_page,
    issued,
    passing_copy,
)
from tests.helpers.ofd import ofd_parts, ofd_sealer
from tests.helpers.pki import MARKET_DEPT


def _validity_moved(boundary: str, code: str) -> bytes:
    """The page with its validity line (Boundary 20 66 170 10, TextCode X=0 Y=5) given
    another Boundary and TextCode attributes."""
    page, count = re.subn(
        rb'Boundary="20 66 170 10"(.*?)<ofd:TextCode X="0" Y="5">',
        f'Boundary="{boundary}"\\1<ofd:TextCode {code}>'.encode(),
        genuine_page(),
        count=1,
    )
    assert count == 1
    return page


# -- a13: text drawn outside its Boundary --------------------------------------------------

_OUTSIDE = {
    # glyphs at y 66..71 from a Boundary at the top of the page (redteam a13)
    "textcode-y": ("20 0 170 10", 'X="0" Y="71"'),
    # a 10 mm Boundary whose DeltaX spreads the 16 glyphs over x 20..100
    "delta-x": ("20 66 10 10", 'X="0" Y="5" DeltaX="g 15 5"'),
    # a CTM moving the glyphs 60 mm right of a Boundary at x 20
    "ctm": ("20 66 10 10", 'X="0" Y="5"'),
}


def _a13(kind: str) -> bytes:
    boundary, code = _OUTSIDE[kind]
    page = _validity_moved(boundary, code)
    if kind == "ctm":
        page = page.replace(b'Boundary="20 66 10 10"', b'Boundary="20 66 10 10" CTM="1 0 0 1 60 0"')
    return issued(content=page)


_STAMP_ON_GLYPHS = {"textcode-y": (20, 64.5, 170, 13), "delta-x": (60, 64, 30, 14)}


@pytest.mark.parametrize("kind", sorted(_OUTSIDE))
def test_later_stamp_over_text_drawn_outside_its_boundary_is_flagged(kind: str) -> None:
    lic = _a13(kind)
    assert passes(lic)
    box = _STAMP_ON_GLYPHS.get(kind, (80, 64, 30, 14))
    flagged(seal(ofd_parts(lic), other_department(), box=box))


def test_later_stamp_clear_of_moved_text_still_passes() -> None:
    lic = _a13("textcode-y")
    assert passes(seal(ofd_parts(lic), other_department(), box=(150, 120, 40, 40)))


@pytest.mark.parametrize("delta", ["g 15 \uff15", "5 5 1_0", "g \uff11\uff15 5"])
def test_glyph_deltas_outside_the_ascii_number_grammar_lie_anywhere(delta: str) -> None:
    # Python's float() takes a fullwidth digit or "1_0", which ofdrw reads otherwise
    # (red team 6, a02): such a DeltaX places the glyphs nowhere known, so a later stamp
    # even on blank space lies over them.
    lic = issued(content=_validity_moved("20 66 10 10", f'X="0" Y="5" DeltaX="{delta}"'))
    assert passes(lic)
    flagged(seal(ofd_parts(lic), other_department(), box=(150, 120, 40, 40)))


def test_vault_annotation_over_text_drawn_outside_its_boundary_is_flagged() -> None:
    box = (20.0, 64.5, 170.0, 10.0)
    objects = white((0, 0, box[2], box[3]))
    cover = page_annot(" ".join(f"{v:g}" for v in box), objects)
    data = seal(add_annotation(_a13("textcode-y"), cover), vault_sealer(), box=(150, 120, 40, 40))
    flagged(data, "covers the page's text or other content")


def test_copy_keeps_clear_of_text_drawn_outside_its_boundary() -> None:
    """The validity glyphs (x 20..100) moved into the bottom-left corner (where the 加注
    goes first) from a Boundary at the top: the bottom corners are taken (the glyphs, the
    issuer's stamp), the top ones by the text, so the copy maker refuses."""
    lic = issued(content=_validity_moved("20 0 170 10", 'X="0" Y="270"'))
    assert passes(lic)
    with pytest.raises(SealingError, match="no corner of page 1 is clear"):
        vault_maker().make(lic, annotation())


# -- a15: text drawn as outlines -----------------------------------------------------------


def _outlined() -> bytes:
    """The license with its dates drawn as glyph outlines in the bottom-left corner."""
    ids = itertools.count(100)
    glyphs = GlyphPainter()
    paths = glyphs.text(
        "发证日期：2026年12月1日", 15, 262, 5, fill="0 0 0", next_id=lambda: next(ids)
    )
    paths += glyphs.text(
        "有效期至：2027年12月31日", 15, 272, 5, fill="0 0 0", next_id=lambda: next(ids)
    )
    page = genuine_page().replace(b"</ofd:Layer>", "".join(paths).encode() + b"</ofd:Layer>")
    return issued(content=page, stamp=(150, 90, 40, 40))


def test_copy_keeps_clear_of_text_drawn_as_outlines() -> None:
    x, y, w, h = passing_copy(_outlined())
    assert x > 85 and y + h > 255, (x, y, w, h)  # bottom right, clear of the outlines (x < 85)


def test_vault_annotation_over_outlined_text_is_flagged() -> None:
    box = (10.0, 250.0, 120.0, 30.0)
    cover = page_annot(" ".join(f"{v:g}" for v in box), white((0, 0, box[2], box[3])))
    data = seal(add_annotation(_outlined(), cover), vault_sealer(), box=(150, 120, 40, 40))
    flagged(data, "covers the page's text or other content")


@pytest.mark.parametrize(
    "obj",
    [
        pytest.param(
            '<ofd:ImageObject ID="700" ResourceID="3" Boundary="20 250 60 30" '
            'CTM="60 0 0 30 0 0"/>',
            id="image",
        ),
        pytest.param(
            '<ofd:PathObject ID="700" Boundary="20 250 60 30"><ofd:AbbreviatedData>'
            "M 0 0 L 60 30</ofd:AbbreviatedData></ofd:PathObject>",
            id="path",
        ),
    ],
)
def test_vault_annotation_over_an_image_or_path_is_flagged(obj: str) -> None:
    lic = issued(
        genuine_page().replace(b"</ofd:Layer>", obj.encode() + b"</ofd:Layer>"), image=True
    )
    box = (10.0, 245.0, 100.0, 40.0)
    cover = page_annot(" ".join(f"{v:g}" for v in box), white((0, 0, box[2], box[3])))
    data = seal(add_annotation(lic, cover), vault_sealer(), box=(150, 120, 40, 40))
    flagged(data, "covers the page's text or other content")


# -- a07: the page's own size ------------------------------------------------------------


def _a5_page() -> bytes:
    page = genuine_page().replace(
        b"<ofd:Content>",
        b"<ofd:Area><ofd:PhysicalBox>0 0 210 148</ofd:PhysicalBox></ofd:Area><ofd:Content>",
    )
    parts = ofd_parts(sample_ofd("食品经营许可证", GENUINE_LINES))
    parts[PAGE] = page
    at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    return ofd_sealer(MARKET_DEPT).seal_ofd(write_package(parts), boundary=(150, 90, 40, 40), at=at)


def test_copy_of_a_page_with_its_own_area_stays_on_the_page() -> None:
    x, y, w, h = passing_copy(_a5_page())
    assert x >= 0 and x + w <= 210 and y >= 0 and y + h <= 148, (x, y, w, h)


def test_vault_annotation_off_the_page_is_flagged() -> None:
    box = (10.0, 226.0, 120.0, 50.0)  # on an A4 page, below the 148 mm page
    cover = page_annot(" ".join(f"{v:g}" for v in box), white((0, 0, box[2], box[3])))
    data = seal(add_annotation(_a5_page(), cover), vault_sealer(), box=(20, 236, 30, 30))
    flagged(data, "outside the page")


def test_vault_stamp_off_the_page_is_flagged() -> None:
    """A 加注 on the page, the vault's stamp below it (on an A4 page's blank space, off
    this 148 mm page): the copy would show no vault seal."""
    box = (10.0, 100.0, 100.0, 40.0)
    objects = white((0, 0, box[2], box[3]))
    clear = page_annot(" ".join(f"{v:g}" for v in box), objects)
    data = seal(add_annotation(_a5_page(), clear), vault_sealer(), box=(20, 200, 30, 30))
    flagged(data, "lies outside the page")


def test_copy_maker_refuses_a_page_too_small_by_its_own_area() -> None:
    page = genuine_page().replace(
        b"<ofd:Content>",
        b"<ofd:Area><ofd:PhysicalBox>0 0 100 60</ofd:PhysicalBox></ofd:Area><ofd:Content>",
    )
    lic = issued(content=page)
    with pytest.raises(SealingError, match="too small"):
        vault_maker().make(lic, annotation())


# -- o01: one seal listed twice -----------------------------------------------------------


def test_one_seal_listed_twice_is_refused() -> None:
    parts = ofd_parts(genuine())
    parts["Doc_0/Signs/Copy/Signature.xml"] = parts["Doc_0/Signs/Sign_0/Signature.xml"]
    parts["Doc_0/Signs/Signatures.xml"] = parts["Doc_0/Signs/Signatures.xml"].replace(
        b"</ofd:Signatures>",
        b'<ofd:Signature ID="2" Type="Seal" BaseLoc="/Doc_0/Signs/Copy/Signature.xml"/>'
        b"</ofd:Signatures>",
    )
    data = write_package(parts)
    report = verify(data)
    assert report.indication is not Indication.TOTAL_PASSED
    assert sum(s.indication is Indication.TOTAL_PASSED for s in report.signatures) <= 1
    assert "listed twice" in " ".join(r for s in report.signatures for r in s.reasons)
    assert intake_refusal(data) is not None


# -- containers that move what they hold ---------------------------------------------------


def test_later_stamp_over_a_layer_moved_by_its_boundary_is_flagged() -> None:
    """ofdrw moves a Layer's objects by a ``Boundary`` attribute on the Layer
    (``AWTMaker.writeContent``): the text lines (y 30..76 by their own Boundaries) are drawn
    at y 130..176, where the later stamp lies."""
    page = genuine_page().replace(b'<ofd:Layer ID="8">', b'<ofd:Layer ID="8" Boundary="0 100 0 0">')
    lic = issued(content=page)
    assert passes(lic)
    flagged(seal(ofd_parts(lic), other_department(), box=(20, 140, 40, 20)))


def test_vault_annotation_with_a_moved_page_block_is_flagged() -> None:
    """An added appearance whose objects sit in a PageBlock with a Boundary: ofdrw draws
    them 34 mm higher, over the validity line, outside the appearance's box."""
    box = (20.0, 100.0, 170.0, 12.0)
    objects = (
        f'<ofd:PageBlock ID="940" Boundary="0 -34 0 0">{white((0, 0, 170, 10))}</ofd:PageBlock>'
    )
    cover = page_annot(" ".join(f"{v:g}" for v in box), objects)
    data = seal(add_annotation(genuine(), cover), vault_sealer(), box=(150, 120, 40, 40))
    report = verify(data)
    assert report.indication is Indication.TOTAL_FAILED
    assert "its PageBlock cannot be placed" in " ".join(report.signatures[0].reasons)


def test_later_stamp_over_a_signed_annotations_objects_is_flagged() -> None:
    """The issuer signed an annotation whose appearance box is small but whose text draws
    40 mm below it (a reader does not clip appearance objects to the box)."""
    body = ofd_parts(sample_ofd("食品经营许可证", GENUINE_LINES))
    note = page_annot("20 90 20 10", text_at((0, 0, 20, 10), "注：本证正本", y=45))
    body["Doc_0/Annots/Note.xml"] = note.replace(b'ID="950"', b'ID="31"')
    body["Doc_0/Annots/Annotations.xml"] = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<ofd:Annotations xmlns:ofd="http://www.ofdspec.org/2016">'
        b'<ofd:Page PageID="1"><ofd:FileLoc>Note.xml</ofd:FileLoc></ofd:Page></ofd:Annotations>'
    )
    doc = body["Doc_0/Document.xml"]
    at = doc.rindex(b"</ofd:Document>")
    link = b"<ofd:Annotations>Annots/Annotations.xml</ofd:Annotations>"
    body["Doc_0/Document.xml"] = doc[:at] + link + doc[at:]
    when = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    lic = ofd_sealer(MARKET_DEPT).seal_ofd(
        write_package(body), boundary=(150, 230, 40, 40), at=when
    )
    assert passes(lic)
    assert passes(seal(ofd_parts(lic), other_department(), box=(100, 150, 40, 40)))
    flagged(seal(ofd_parts(lic), other_department(), box=(20, 128, 60, 12)))


def text_at(box: tuple[float, ...], line: str, *, y: float) -> str:
    """A TextObject (font 2) in ``box`` whose TextCode puts the line's baseline at ``y``."""
    b = " ".join(f"{v:g}" for v in box)
    return (
        f'<ofd:TextObject ID="900" Boundary="{b}" Font="2" Size="5">'
        f'<ofd:FillColor Value="0 0 0"/><ofd:TextCode X="0" Y="{y:g}">{line}</ofd:TextCode>'
        "</ofd:TextObject>"
    )
