"""Red team round 7 (redteam_ofd7 b01-b06), against the round-6 fixes: glyphs a reader
places where the verifier's geometry did not, a page a reader shows elsewhere, and a delta
list read whole for every seal.

- b01/b04: ofdrw steps through a TextCode by Java chars; a character beyond the BMP (𠮷)
  is two and takes two deltas, so later glyphs sit one step further than the verifier put
  them (a later stamp there passed; the copy maker put its 加注 over them).
- b02: a negative Size or HScale mirrors the glyphs (ofdrw scales by them as written); a
  CGTransform's Glyphs padded to its GlyphCount take more deltas than its list holds.
- b03: a DeltaX of 3.9M values was read whole for one glyph, again for each of 12 seals.
- b05: a page without an Area of its own, whose two templates give different Areas (ofdrw
  takes the TemplatePage's highest ZOrder): the copy's 加注 fell below ofdrw's page.
- b06: PhysicalBox "-120 0 210 297": ofdrw draws the page from (0, 0), whatever the origin.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest

from signing.ofd.drawn import _delta_reach
from signing.ofd.package import DrawingBudget
from signing.ofd.writer import sample_ofd, write_package
from tests.attacks.ofd_copy_forge import other_department, seal
from tests.attacks.ofd_forge import GENUINE_LINES, passes
from tests.attacks.ofd_pages import PAGE, flagged, genuine_page, issued, passing_copy
from tests.helpers.ofd import ofd_parts, ofd_sealer
from tests.helpers.pki import MARKET_DEPT


def _validity(text: str, attrs: str = "", inner: str = "", delta: str = "g 20 5") -> bytes:
    """The page with its validity line (the last text object, at y 66) drawn from x 20
    with a 60 mm Boundary, ``attrs`` on its TextObject and ``inner`` before its TextCode."""
    page, count = re.subn(
        rb'<ofd:TextObject ID="13" Boundary="20 66 170 10" Font="2" Size="5">.*?</ofd:TextObject>',
        (
            f'<ofd:TextObject ID="13" Boundary="20 66 60 10" Font="2" Size="5" {attrs}>'
            f'{inner}<ofd:TextCode X="0" Y="5" DeltaX="{delta}">{text}</ofd:TextCode>'
            "</ofd:TextObject>"
        ).encode(),
        genuine_page(),
        count=1,
    )
    assert count == 1
    return page


@pytest.mark.parametrize(
    ("page", "stamp"),
    [
        # b01: 15 characters but 20 Java chars: glyph origins to x 20 + 19 * 5 = 115 (the
        # verifier had them end at 90 and the line at 95)
        pytest.param(_validity("有效期至：𠮷𠮷𠮷𠮷𠮷2027年"), (97, 64, 10, 8), id="beyond-bmp"),
        # b02: mirrored glyphs reach left of (and below) their origin at x 20
        pytest.param(
            _validity("有效期至", 'HScale="-1"', delta="5 5 5"), (14, 66, 5.5, 4), id="hscale"
        ),
        pytest.param(
            _validity("有效期至", delta="5 5 5").replace(b'Size="5" >', b'Size="-5" >'),
            (14, 69, 5.5, 4),
            id="size",
        ),
        # b02: one Glyphs value padded to a GlyphCount of 20, each taking a 5 mm step: to
        # x 120 (the verifier had the glyphs end at x 30, the Boundary at 80)
        pytest.param(
            _validity(
                "A",
                inner='<ofd:CGTransform CodePosition="0" CodeCount="1" GlyphCount="20">'
                "<ofd:Glyphs>1</ofd:Glyphs></ofd:CGTransform>",
            ),
            (85, 64, 10, 8),
            id="glyph-count",
        ),
    ],
)
def test_later_stamp_over_glyphs_a_reader_places_elsewhere_is_flagged(
    page: bytes, stamp: tuple[float, ...]
) -> None:
    lic = issued(content=page)
    assert passes(lic)
    flagged(seal(ofd_parts(lic), other_department(), box=stamp))


def test_later_stamp_clear_of_the_placed_glyphs_still_passes() -> None:
    lic = issued(content=_validity("有效期至：𠮷𠮷𠮷𠮷𠮷2027年"))
    assert passes(seal(ofd_parts(lic), other_department(), box=(150, 120, 40, 40)))


def test_a_long_delta_list_is_read_only_as_far_as_the_glyphs_reach() -> None:
    # b03: values past the glyphs are not read (a reader that fails on them hides the text:
    # the safe way), so 4M values behind 3 glyphs cost nothing; within reach, the grammar.
    tail = " ".join(["1.5"] * 4_000_000)
    work = DrawingBudget(4)
    assert _delta_reach(f"5 5 {tail}", 20.0, 2, work) == [20.0, 30.0]
    assert _delta_reach("5 \uff15", 20.0, 2, work) is None
    assert work.left == 0  # two values each (red team 8, r8-03: the file's budget)


def _sealed(parts: dict[str, bytes]) -> bytes:
    at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    return ofd_sealer(MARKET_DEPT).seal_ofd(write_package(parts), boundary=(150, 60, 40, 40), at=at)


def test_copy_stays_where_every_template_area_agrees() -> None:
    # b05: A4 listed first without a ZOrder, 210 x 148 with ZOrder Body (ofdrw's choice)
    parts = ofd_parts(sample_ofd("食品经营许可证", GENUINE_LINES))
    templates = (
        '<ofd:TemplatePage ID="901" BaseLoc="Tpls/Tpl_0/Content.xml"/>'
        '<ofd:TemplatePage ID="902" BaseLoc="Tpls/Tpl_1/Content.xml" ZOrder="Body"/>'
    )
    doc = parts["Doc_0/Document.xml"]
    parts["Doc_0/Document.xml"] = doc.replace(
        b"</ofd:CommonData>", templates.encode() + b"</ofd:CommonData>", 1
    )
    for name, size in (("Tpl_0", "210 297"), ("Tpl_1", "210 148")):
        parts[f"Doc_0/Tpls/{name}/Content.xml"] = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<ofd:Page xmlns:ofd="http://www.ofdspec.org/2016"><ofd:Area>'
            f"<ofd:PhysicalBox>0 0 {size}</ofd:PhysicalBox></ofd:Area>"
            "<ofd:Content/></ofd:Page>"
        ).encode()
    parts[PAGE] = parts[PAGE].replace(
        b"<ofd:Content>",
        b'<ofd:Template TemplateID="901"/><ofd:Template TemplateID="902"/><ofd:Content>',
        1,
    )
    x, y, w, h = passing_copy(_sealed(parts))
    assert y + h <= 148, (x, y, w, h)


def test_copy_stays_on_the_page_a_reader_draws_from_its_origin() -> None:
    # b06: ofdrw shows x 0..210 of a page written as x -60..150: the copy keeps to 0..150
    page = genuine_page().replace(
        b"<ofd:Content>",
        b"<ofd:Area><ofd:PhysicalBox>-60 0 210 297</ofd:PhysicalBox></ofd:Area><ofd:Content>",
    )
    x, y, w, h = passing_copy(issued(content=page))
    assert x >= 0 and x + w <= 150, (x, y, w, h)
