"""Red team round 12, r12-05, r12-06, r12-07: ofdrw paints further than the placement
counted, over the vault's 加注 in a copy of an issuer-sealed license.

- r12-05: ofdrw draws nothing for an arc (``A``) and leaves the pen where it was
  (``AWTMaker.buildPath`` ``case "A": break;``; ``ItextMaker``/``PdfboxMaker`` have no
  case for it), so ``M 10 200 A … 200 100 L 130 295`` is one line from (10, 200) to
  (130, 295), through the bottom-left corner, where the placement boxed (10, 200)..(200,
  100) and (200, 100)..(130, 295).
- r12-06: ofdrw's viewer strokes any text that has a stroke colour (its own StrokeColor
  or a DrawParam's), whatever its ``Stroke`` says, ``15 × LineWidth`` wide in glyph units
  (the font's em is its units per em); the placement counted text as stroked only with
  ``Stroke="true"``.
- r12-07: ofdrw's viewer strokes paths with Java's ``BasicStroke(width)``: miter limit
  10, whatever ``MiterLimit`` says; the placement let a miter join reach 2 widths.

Each forgery below: the copy maker does not put its 加注 over the paint, and a copy sealed
by the vault with the 加注 there (bottom left, where the maker used to put it) is flagged.
"""

from __future__ import annotations

import math
from xml.etree.ElementTree import fromstring

import pytest

from signing.ofd.drawn import drawn_extent, ink_boxes
from signing.ofd.package import DrawingBudget
from signing.ofd.writer import NS
from tests.attacks.ofd_copy_forge import (
    add_annotation,
    other_department,
    page_annot,
    seal,
    vault_sealer,
)
from tests.attacks.ofd_forge import passes
from tests.attacks.ofd_pages import flagged
from tests.attacks.test_ofd_redteam10_drawing import (
    _COPY_BOX,
    _COPY_STAMP,
    _corner_kept,
    _covered,
    _kept_off,
    _license,
    _params,
    _path,
)
from tests.helpers.ofd import ofd_parts


def _data(path: str) -> str:
    return f"<ofd:AbbreviatedData>{path}</ofd:AbbreviatedData>"


_ARC = "A 0.5 0.5 0 0 0"
# r12-07's V: 12 degrees, its vertex at (60, 200) pointing down; a miter join under
# Java's limit 10 reaches (w/2) / sin(6°) = 95.7 mm below it with LineWidth 20.
_HALF = math.tan(math.radians(6)) * 60
_VEE = _data(f"M {60 - _HALF:.3f} 140 L 60 200 L {60 + _HALF:.3f} 140")


def _glyph(attrs: str, colour: str = '<ofd:StrokeColor Value="0 0 0"/>') -> str:
    """r12-06's text: one 章 (5 mm) whose em box lies clear of the bottom-left corner."""
    return (
        f'<ofd:TextObject ID="40" Boundary="60 220 10 10" Font="2" Size="5" {attrs}>'
        f'<ofd:FillColor Value="0 0 0"/>{colour}'
        '<ofd:TextCode X="0" Y="5">章</ofd:TextCode></ofd:TextObject>'
    )


_STROKE_PARAM = '<ofd:DrawParam ID="60"><ofd:StrokeColor Value="0 0 0"/></ofd:DrawParam>'

FORGED = [
    # r12-05 as found (3 mm: its miter reach alone now also reaches the corner)
    pytest.param(
        _path('LineWidth="3"', _data(f"M 10 200 {_ARC} 200 100 L 130 295")), {}, id="r12-05"
    ),
    # the same line 1 mm wide: only the reading that skips the arc reaches the corner
    pytest.param(
        _path('LineWidth="1"', _data(f"M 10 200 {_ARC} 200 100 L 130 295")), {}, id="arc-thin"
    ),
    # a run of arcs: the pen stays before the first
    pytest.param(
        _path('LineWidth="1"', _data(f"M 10 200 {_ARC} 200 100 {_ARC} 190 90 L 130 295")),
        {},
        id="arc-run",
    ),
    # a close after an arc: ofdrw closes from the last point before it
    pytest.param(
        _path('LineWidth="1"', _data(f"M 10 200 L 200 100 L 130 295 {_ARC} 200 100 C")),
        {},
        id="arc-close",
    ),
    # r12-06 as found: a StrokeColor, no Stroke attribute
    pytest.param(_glyph('LineWidth="1500"'), {}, id="r12-06"),
    # Stroke="false" written: ofdrw never reads it
    pytest.param(_glyph('LineWidth="1500" Stroke="false"'), {}, id="text-stroke-false"),
    # the stroke colour from the text's DrawParam
    pytest.param(
        _glyph('LineWidth="1500" DrawParam="60"', ""),
        {"public": _params(_STROKE_PARAM)},
        id="text-param-colour",
    ),
    # the stroke colour from the DrawParam its DrawParam is Relative to
    pytest.param(
        _glyph('LineWidth="1500" DrawParam="61"', ""),
        {"public": _params(_STROKE_PARAM, '<ofd:DrawParam ID="61" Relative="60"/>')},
        id="text-relative-colour",
    ),
    # the stroke colour from its Layer's DrawParam
    pytest.param(
        _glyph('LineWidth="1500"', ""),
        {"public": _params(_STROKE_PARAM), "layer": 'DrawParam="60"'},
        id="text-layer-colour",
    ),
    # r12-07 as found: the default MiterLimit
    pytest.param(_path('LineWidth="20"', _VEE), {}, id="r12-07"),
    # a MiterLimit of 1 written: ofdrw's viewer never reads it
    pytest.param(_path('LineWidth="20" MiterLimit="1"', _VEE), {}, id="miter-written"),
]


@pytest.mark.parametrize(("objects", "where"), FORGED)
def test_copy_maker_keeps_the_annotation_off_what_ofdrw_paints(
    objects: str, where: dict[str, str]
) -> None:
    _kept_off(_license(objects, **where))


@pytest.mark.parametrize(("objects", "where"), FORGED)
def test_vault_sealed_annotation_over_what_ofdrw_paints_is_flagged(
    objects: str, where: dict[str, str]
) -> None:
    flagged(_covered(_license(objects, **where)), "covers the page's text or other content")


CLEAR = [
    # arcs, drawn or skipped, far from the corner (a short chord: an arc whose radii are
    # too small for its chord is counted on the ellipse scaled up to span it, r12-01, out
    # to that ellipse's diameter from its end point)
    pytest.param(
        _path('LineWidth="1"', _data(f"M 10 100 {_ARC} 20 100 L 130 150")), {}, id="arc-away"
    ),
    # text with a stroke colour and the default LineWidth
    pytest.param(_glyph(""), {}, id="text-colour-default-width"),
    # a V with the default MiterLimit, 1 mm wide: its join reaches 5 mm under limit 10
    pytest.param(_path('LineWidth="1"', _VEE), {}, id="thin-vee"),
]


@pytest.mark.parametrize(("objects", "where"), CLEAR)
def test_what_ofdrw_paints_clear_of_the_corner_leaves_it_free(
    objects: str, where: dict[str, str]
) -> None:
    """The rules above do not refuse a corner these leave free (the tests above can fail):
    the 加注 goes bottom left, and the copy with it there passes."""
    _corner_kept(_license(objects, **where))


def _ink(xml: str) -> list[tuple[float, float, float, float]]:
    el = fromstring(xml.replace("<ofd:PathObject ", f'<ofd:PathObject xmlns:ofd="{NS}" ', 1))
    return ink_boxes(el, DrawingBudget(1_000_000))


@pytest.mark.parametrize(
    ("data", "pen", "end"),
    [
        (f"M 10 200 {_ARC} 200 100 L 130 295", (10, 200), (130, 295)),
        (f"M 10 200 {_ARC} 200 100 {_ARC} 190 90 L 130 295", (10, 200), (130, 295)),
        (f"M 10 200 L 200 100 L 130 295 {_ARC} 200 100 C", (130, 295), (10, 200)),
        # a move ends a run of arcs: nothing is drawn from before it (a short chord, so
        # that the arc's own box, out to its scaled-up ellipse's diameter, r12-01, stays
        # clear of the move's line)
        (f"M 10 200 {_ARC} 20 200 M 150 10 L 160 10", None, None),
    ],
)
def test_a_stroke_after_arcs_is_boxed_from_where_the_pen_stayed(
    data: str, pen: tuple[float, float] | None, end: tuple[float, float] | None
) -> None:
    """The segment ofdrw draws after a run of arcs (from the point before the run) is one
    of the boxes, as well as those of the arcs drawn (1 mm, miter limit 10: 5 mm reach)."""
    boxes = _ink(_path('LineWidth="1"', _data(data)))
    spans = {
        (round(x + 5, 6), round(y + 5, 6), round(x + w - 5, 6), round(y + h - 5, 6))
        for x, y, w, h in boxes
    }
    if pen is None or end is None:
        assert all(top > 95 or left > 140 for left, top, _, _ in spans), spans
        return
    (x0, y0), (x1, y1) = pen, end
    assert (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)) in spans, spans


def test_text_with_a_stroke_colour_reaches_ofdrws_outline_stroke() -> None:
    """15 × LineWidth glyph units, 16 units per em at the least, miter limit 10:
    75 × 2 × 5 / 16 = 46.875 mm round a 5 mm glyph; nothing without a stroke colour."""
    text = _glyph('LineWidth="2"').replace(
        "<ofd:TextObject ", f'<ofd:TextObject xmlns:ofd="{NS}" ', 1
    )
    [box] = ink_boxes(fromstring(text), DrawingBudget(1_000_000))
    # the glyph as a system font's (fonts.SYSTEM_BOX, red team 14: 0.3 em left, 1.3 em
    # right, 1.1 em up, 0.4 em down) from its origin (60, 225), with the Boundary
    assert box == pytest.approx((60 - 1.5 - 46.875, 220 - 0.5 - 46.875, 11.5 + 93.75, 10.5 + 93.75))
    plain = text.replace('<ofd:StrokeColor Value="0 0 0"/>', "")
    assert ink_boxes(fromstring(plain), DrawingBudget(1_000_000)) == [(58.5, 219.5, 11.5, 10.5)]


def _tight_vee(width: str) -> str:
    """r12-07's V drawn in a Boundary just round its points (x 53..67, y 139..201)."""
    return (
        f'<ofd:PathObject ID="61" Boundary="53 139 14 62" Stroke="true" LineWidth="{width}">'
        + _data(f"M {7 - _HALF:.3f} 1 L 7 61 L {7 + _HALF:.3f} 1")
        + "</ofd:PathObject>"
    )


@pytest.mark.parametrize(("width", "over"), [("2", True), ("0.4", False)])
def test_a_later_stamp_over_ofdrws_miter_join_is_flagged(width: str, over: bool) -> None:
    """The later-stamp rule counts the miter join ofdrw draws (limit 10, whatever the
    MiterLimit says): 1 / sin(6°) = 9.57 half-widths below the V's tip at (60, 200), to
    y 209.6 when 2 mm wide, over another department's stamp at y 204..208 (it counted
    half a width, to y 201); 0.4 mm wide, the join ends at y 201.9, clear of it."""
    later = seal(ofd_parts(_license(_tight_vee(width))), other_department(), box=(55, 204, 10, 4))
    if over:
        flagged(later)
    else:
        assert passes(later)


def test_an_added_annotations_miter_join_past_its_box_is_flagged() -> None:
    """A 加注 whose own V (2 mm wide, its tip 2.5 mm above the box's foot) reaches 9.57 mm
    under Java's miter limit 10: ofdrw paints it out of the box, onto the page."""
    w, h = _COPY_BOX[2], _COPY_BOX[3]
    top, tip, left, right = h - 32.5, h - 2.5, 50 - _HALF / 2, 50 + _HALF / 2
    vee = (
        f'<ofd:PathObject ID="901" Boundary="0 0 {w:g} {h:g}" LineWidth="2">'
        '<ofd:StrokeColor Value="255 0 0"/>'
        + _data(f"M {left:.3f} {top:.3f} L 50 {tip:.3f} L {right:.3f} {top:.3f}")
        + "</ofd:PathObject>"
    )
    annot = page_annot(" ".join(f"{v:g}" for v in _COPY_BOX), vee)
    forged = seal(add_annotation(_license(""), annot), vault_sealer(), box=_COPY_STAMP)
    flagged(forged, "draws outside the appearance's box")


@pytest.mark.parametrize(
    ("data", "ctm", "half_widths"),
    [
        ("M 0 0 L 10 0 L 10 10 L 0 10 C", "", math.sqrt(2)),  # a frame: 90° corners
        ("M 0 0 L 10 0", "", math.sqrt(2)),  # a rule: its square caps
        ("M 0 0 L 10 0 L 10 10 L 0 10 C", 'CTM="1 0 1 1 0 0"', 1 / math.sin(math.pi / 8)),
        (f"M {-_HALF:.3f} 60 L 0 0 L {_HALF:.3f} 60", "", 9.567),  # r12-07's V, upside down
        ("M 0 0 L 10 0 L 0 0.5", "", math.sqrt(2)),  # 2.9°: over the limit, bevelled
        ("M 0 0 Q 5 5 10 0", "", 10.0),  # a curve's tangents are not followed
    ],
)
def test_drawn_extent_counts_ofdrws_joins(data: str, ctm: str, half_widths: float) -> None:
    """:func:`drawn_extent` (the later-stamp rule, an added 加注's objects) widens a
    stroke by its sharpest corner's miter ratio within Java's limit 10 (in the path's
    space and through its CTM; a shear turns the frame's corners to 45°): each path's
    highest point is at y 0."""
    xml = (
        f'<ofd:PathObject xmlns:ofd="{NS}" Boundary="0 0 300 300" LineWidth="2" {ctm}>'
        f"{_data(data)}</ofd:PathObject>"
    )
    extent = drawn_extent(fromstring(xml), DrawingBudget(1_000_000))
    assert isinstance(extent, tuple)
    stretch = (1 + math.sqrt(5)) / 2 if ctm else 1.0  # the shear's largest singular value
    assert -extent[1] == pytest.approx(half_widths * stretch, abs=1e-3)
