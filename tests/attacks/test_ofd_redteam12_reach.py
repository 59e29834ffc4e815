"""Red team round 12, r12-01 and r12-02: issuer ink under the 加注 that placement did not see.

r12-01: an arc (``A``) was boxed by its end point widened by twice its larger radius, the
radii scaled by the CTM. (a) Radii smaller than half the chord are scaled up by every
endpoint-arc implementation (SVG 1.1 F.6.6): two arcs of radius 0.01 between (135, 180) and
(135, 290) draw a disk of radius 55 mm; (b) ofdrw's PDF converter applies the CTM to an
arc's end point only, not to its radii: ``A 55 55 ...`` under a CTM of scale 0.01 draws a
circle of radius 55 mm. r12-02: a text object drawn with an embedded font (``FontFile``)
whose glyph outline reaches 45 em below its baseline was placed in its em box. In each the
copy's 加注 went over the black shape and the copy verified TOTAL_PASSED.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from xml.etree.ElementTree import Element

import pytest

from schemas.report import Indication
from signing.errors import SealingError
from signing.ofd import fonts
from signing.ofd.fonts import EM_BOX, GlyphReach, font_reaches
from signing.ofd.package import Package
from signing.ofd.writer import sample_ofd, write_package
from tests.attacks.ofd_copy_forge import (
    add_annotation,
    annotation,
    page_annot,
    seal,
    vault_maker,
    vault_sealer,
)
from tests.attacks.ofd_fonts import PLAIN_DOT, composite_font, font, with_table
from tests.attacks.ofd_forge import GENUINE_LINES, passes, verify
from tests.attacks.ofd_pages import PAGE, annotation_box, flagged
from tests.helpers.ofd import ofd_parts, ofd_sealer
from tests.helpers.pki import MARKET_DEPT

RES = "Doc_0/PublicRes.xml"
Area = tuple[float, float, float, float]
"""left, top, right, bottom (mm) of what a reader paints."""


def _issued(objects: str, *, fonts: str = "", files: dict[str, bytes] | None = None) -> bytes:
    """The genuine license with ``objects`` added to its page (and ``fonts`` declared in
    its PublicRes, ``files`` added), sealed by the market regulator (stamp top-right)."""
    parts = ofd_parts(sample_ofd("食品经营许可证", GENUINE_LINES))
    parts[PAGE] = parts[PAGE].replace(b"</ofd:Layer>", objects.encode() + b"</ofd:Layer>", 1)
    parts[RES] = parts[RES].replace(b"</ofd:Fonts>", fonts.encode() + b"</ofd:Fonts>", 1)
    parts.update(files or {})
    at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    return ofd_sealer(MARKET_DEPT).seal_ofd(
        write_package(parts), boundary=(150, 100, 40, 40), at=at
    )


def _clear(box: tuple[float, ...], area: Area) -> bool:
    x, y, w, h = box
    return x + w <= area[0] or x >= area[2] or y + h <= area[1] or y >= area[3]


def _copy_stays_clear(lic: bytes, painted: Area, *, made: bool = False) -> None:
    """The license passes; the vault's copy is refused (no corner clear; not when
    ``made``) or its 加注 lies clear of ``painted`` and the copy passes."""
    assert passes(lic)
    try:
        copy = vault_maker().make(lic, annotation())
    except SealingError as exc:
        assert not made and "no corner of page 1 is clear" in str(exc)
        return
    box = annotation_box(copy)
    assert _clear(box, painted), box
    report = verify(copy)
    assert report.indication is Indication.TOTAL_PASSED, [s.reasons for s in report.signatures]


def _forged_over(lic: bytes, boundary: str) -> None:
    """A 加注 added by the vault's seal at ``boundary`` is flagged as covering content."""
    annot = page_annot(boundary, "")
    flagged(
        seal(add_annotation(lic, annot), vault_sealer(), box=(150, 150, 10, 10)),
        "covers the page's text",
    )


def _path(data: str, attrs: str = "") -> str:
    return (
        f'<ofd:PathObject ID="30" Boundary="0 0 210 297" Fill="true" Stroke="false"{attrs}>'
        f'<ofd:FillColor Value="0 0 0"/><ofd:AbbreviatedData>{data}</ofd:AbbreviatedData>'
        "</ofd:PathObject>"
    )


# r12-01 (a): a disk of radius 55 mm about (135, 235), drawn by arcs of radius 0.01
TINY_RADII = _path("M 135 180 A 0.01 0.01 0 0 0 135 290 A 0.01 0.01 0 0 0 135 180 C")
DISK: Area = (80, 180, 190, 290)
# r12-01 (b): radius 55 in a CTM of scale 0.01 (ofdrw-PDF: x 25..135, y 190..300)
SHRUNK = _path("M 0 0 A 55 55 0 1 0 0 110 C", ' CTM="0.01 0 0 0.01 135 245"')
SHRUNK_DISK: Area = (25, 190, 135, 297)


@pytest.mark.parametrize(("objects", "painted"), [(TINY_RADII, DISK), (SHRUNK, SHRUNK_DISK)])
def test_the_copy_keeps_clear_of_what_an_arc_draws(objects: str, painted: Area) -> None:
    _copy_stays_clear(_issued(objects), painted)


# a disk of radius 15 about (40, 265), in the bottom-left corner only: the copy's 加注 goes
# to the bottom-right one (an arc whose reach could not be told would take the page)
SMALL_DISK: Area = (25, 250, 55, 280)
SMALL_CASES = [
    _path("M 40 250 A 0.01 0.01 0 0 0 40 280 A 0.01 0.01 0 0 0 40 250 C"),
    _path("M 0 0 A 15 15 0 1 0 0 30 C", ' CTM="0.01 0 0 0.01 40 250"'),
]


@pytest.mark.parametrize("objects", SMALL_CASES, ids=["tiny-radii", "ctm-shrunk"])
def test_the_copy_goes_to_a_corner_clear_of_a_small_arc(objects: str) -> None:
    _copy_stays_clear(_issued(objects), SMALL_DISK, made=True)


@pytest.mark.parametrize("objects", [TINY_RADII, SHRUNK])
def test_an_added_annotation_over_an_arc_is_flagged(objects: str) -> None:
    _forged_over(_issued(objects), "20 250 90 30")


def test_an_arc_with_fitting_radii_still_leaves_the_corner() -> None:
    """A small arc (radius 2, chord 4) at the page's middle does not take a corner."""
    lic = _issued(_path("M 100 150 A 2 2 0 0 0 104 150 C"))
    assert passes(lic)
    copy = vault_maker().make(lic, annotation())
    assert verify(copy).indication is Indication.TOTAL_PASSED


# 0..16 em right, 35..45 em below the baseline (units 500)
DROPPED = [(0, -22500), (0, -17500), (8000, -17500), (8000, -22500)]
HALVED = [(x // 2, y // 2) for x, y in DROPPED]
"""The same reach in units 250."""
FONT = (
    '<ofd:Font ID="5" FontName="Evil" FamilyName="Evil">'
    "<ofd:FontFile>evil.ttf</ofd:FontFile></ofd:Font>"
)
# one "." at Size 5 at (15, 65): paints x 15..95, y 240..290
DOT = (
    '<ofd:TextObject ID="40" Boundary="15 60 10 10" Font="5" Size="5">'
    '<ofd:FillColor Value="0 0 0"/><ofd:TextCode X="0" Y="5">.</ofd:TextCode></ofd:TextObject>'
)
DROPPED_INK: Area = (15, 240, 95, 290)


def _with_font(data: bytes, objects: str = DOT) -> bytes:
    return _issued(objects, fonts=FONT, files={"Doc_0/Res/evil.ttf": data})


@pytest.mark.parametrize(
    "made",
    [
        pytest.param(lambda: font(DROPPED), id="truetype"),
        pytest.param(lambda: font(DROPPED, head=True), id="truetype-head-lies"),
        pytest.param(lambda: font(DROPPED, cff=True), id="cff"),
    ],
)
def test_the_copy_keeps_clear_of_an_embedded_fonts_glyphs(made: Callable[[], bytes]) -> None:
    _copy_stays_clear(_with_font(made()), DROPPED_INK)


# 0..3 em right, 35..45 em below (units 250: within the ±16384 units a TrueType glyph
# may reach, red team 13): x 15..30, y 240..290, the bottom-left corner only
NARROW = [(0, -11250), (0, -8750), (750, -8750), (750, -11250)]
NARROW_INK: Area = (15, 240, 30, 290)


@pytest.mark.parametrize("cff", [False, True], ids=["truetype", "cff"])
def test_the_copy_goes_to_a_corner_clear_of_an_embedded_fonts_glyph(cff: bool) -> None:
    _copy_stays_clear(_with_font(font(NARROW, cff=cff, units=250)), NARROW_INK, made=True)


def test_an_added_annotation_over_an_embedded_fonts_glyph_is_flagged() -> None:
    _forged_over(_with_font(font(DROPPED)), "20 250 70 30")


def test_an_unreadable_embedded_font_reaches_anywhere() -> None:
    lic = _with_font(b"not a font at all")
    assert passes(lic)
    with pytest.raises(SealingError, match="no corner of page 1 is clear"):
        vault_maker().make(lic, annotation())


def test_an_ordinary_embedded_font_leaves_the_corner() -> None:
    """A glyph inside its em box (0..0.5 em right, 0..0.7 em up) does not take a corner."""
    lic = _with_font(font(PLAIN_DOT))
    assert passes(lic)
    copy = vault_maker().make(lic, annotation())
    assert verify(copy).indication is Indication.TOTAL_PASSED


def _reach(data: bytes | None, *, missing: bool = False) -> GlyphReach | None:
    """How far the glyphs of font 5 reach in the license that embeds ``data`` (its
    FontFile naming a part that is not there when ``missing``)."""
    files = {} if missing else {"Doc_0/Res/evil.ttf": data or b""}
    parts = ofd_parts(sample_ofd("食品经营许可证", GENUINE_LINES))
    parts[RES] = parts[RES].replace(b"</ofd:Fonts>", FONT.encode() + b"</ofd:Fonts>", 1)
    with Package(write_package({**parts, **files})) as pkg:
        text = Element("TextObject", Font="5")
        return font_reaches(pkg, "Doc_0/Document.xml", [PAGE]).reach(text)


@pytest.mark.parametrize(
    ("data", "reach"),
    [
        pytest.param(font(HALVED, units=250), GlyphReach(0, 16, 45, 1), id="truetype"),
        pytest.param(font(HALVED, units=250, head=True), GlyphReach(0, 16, 45, 1), id="head-lies"),
        pytest.param(font(HALVED, units=250, cff=True), GlyphReach(0, 16, 45, 1), id="cff"),
        pytest.param(font(PLAIN_DOT), EM_BOX, id="plain"),
        # a 10 em square (up to 10 em), scaled 1.5 times (15 em) and moved 30 em down, or
        # 45 em by a reader that scales the offset too (SCALED_COMPONENT_OFFSET)
        pytest.param(
            composite_font(1.5, -7500, units=250), GlyphReach(0, 15, 45, 10), id="composite"
        ),
        # TrueType points past ±16384 units (a Java short's half: ofdrw's viewer wraps
        # them at 32768, red team 13 r13-03), as placed or through a composite
        pytest.param(font(DROPPED), None, id="truetype-past-a-short"),
        # CFF points too: FreeType wraps them past 32767 units (red team 14, r14-01)
        pytest.param(font(DROPPED, cff=True), None, id="cff-past-a-short"),
        pytest.param(composite_font(1.5, -15000), None, id="composite-past-a-short"),
        pytest.param(b"not a font at all", None, id="unreadable"),
        # a CFF FontMatrix of 0.01 draws a unit as 1/100 em, not 1/500: five times larger
        pytest.param(
            font(PLAIN_DOT, cff=True, matrix=[0.01, 0, 0, 0.01, 0, 0]),
            GlyphReach(0, 2.5, 0.3, 3.5),
            id="cff-matrix",
        ),
        pytest.param(
            font(PLAIN_DOT, cff=True, matrix=[0.002, 0, 0.001, 0.002, 0, 0]),
            None,
            id="cff-slanted-matrix",
        ),
    ],
)
def test_an_embedded_font_reaches_as_far_as_its_outlines(
    data: bytes, reach: GlyphReach | None
) -> None:
    assert _reach(data) == reach


@pytest.mark.parametrize("tag", ["GPOS", "kern", "fvar", "COLR", "SVG ", "sbix"])
def test_a_font_drawn_otherwise_than_by_its_outlines_cannot_be_told(tag: str) -> None:
    assert _reach(with_table(font(PLAIN_DOT), tag)) is None


def test_a_font_file_not_in_the_package_is_drawn_with_a_system_font() -> None:
    assert _reach(None, missing=True) == EM_BOX


def test_fonts_past_the_files_budget_cannot_be_told(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fonts, "MAX_FONT_BYTES", 50)  # the font takes 92
    assert _reach(font(PLAIN_DOT)) is None


# A glyph 60 mm high (Size 60) whose CTM squashes it to a strip 0.8 mm high at y 289.5,
# under the bottom-left 加注's box; ofdrw's PDF converter draws it upright at Size times
# sqrt(a² + c²) = 60 mm from its origin through the CTM, (80, 290.1): x 80..140, y 230..308
SQUASHED = (
    '<ofd:TextObject ID="41" Boundary="20 289.5 1 1" CTM="0.01 0 1 0.01 0 0" Font="2" '
    'Size="60"><ofd:FillColor Value="0 0 0"/><ofd:TextCode X="0" Y="60">国</ofd:TextCode>'
    "</ofd:TextObject>"
)
SQUASHED_INK: Area = (80, 230, 140, 297)


def test_the_copy_keeps_clear_of_a_glyph_drawn_at_its_size_times_the_ctms_scale() -> None:
    _copy_stays_clear(_issued(SQUASHED), SQUASHED_INK)


def test_an_added_annotation_over_a_glyph_drawn_at_the_ctms_scale_is_flagged() -> None:
    _forged_over(_issued(SQUASHED), "85 240 50 40")


# Four glyphs a CTM turns a quarter (b = 1): the CTM sets them down a column at x 130,
# y 260..290, right of the bottom-left 加注's box (its x ends at 122.9); ofdrw's PDF
# converter turns each glyph's position again about the first's, laying them along y 260
# at x 130, 120, 110, 100: inside that box (issuer text among the vault's 加注 lines).
TURNED = (
    '<ofd:TextObject ID="42" Boundary="128 258 1 1" CTM="0 1 -1 0 2 2" Font="2" Size="5">'
    '<ofd:FillColor Value="0 0 0"/><ofd:TextCode X="0" Y="0" DeltaX="10 10 10">长期有效'
    "</ofd:TextCode></ofd:TextObject>"
)
TURNED_INK: Area = (95, 250, 135, 270)


def test_the_copy_keeps_clear_of_glyphs_turned_about_the_first() -> None:
    _copy_stays_clear(_issued(TURNED), TURNED_INK)
