"""Red team 14 on embedded fonts (findings in attack-ofd14): what reading a font costs
and how far its glyphs and their strokes reach.

- r14-05: a composite whose components all say USE_MY_METRICS made fonts.py widen every
  component by every such one's offset, quadratic in their count (a 27.8 KB file: 22.8 s
  CPU, 1.3 GB); now each component costs a bounded work charged to the budget, and a
  glyph of more components than genuine fonts use cannot be told.
- r14-09: a CFF FDArray of 10,000 FontDicts cost 4 times what the budget assumes a byte
  costs; now each FontDict is charged, and more than genuine fonts hold cannot be told.
- r14-01: FreeType keeps a CFF point in 16.16 fixed point, wrapping past 32767 units; a
  CFF point past ±16384 units now makes the font unreadable, as a TrueType one.
- r14-06: ofdrw's viewer strokes a CFF glyph in its FontMatrix units (up to 0.9 em),
  not 1/16 em: the stroke of text in an embedded font reaches by its largest unit.
"""

from __future__ import annotations

import time

import pytest

from signing.ofd.fonts import EM_BOX, GlyphReach
from tests.attacks.ofd_fonts import (
    cff_font,
    many_fd_font,
    metrics_font,
    wrapping_cff_font,
)
from tests.attacks.test_ofd_redteam12_reach import Area, _copy_stays_clear, _reach, _with_font
from tests.attacks.test_ofd_redteam13_fonts import _dot

NEEDLE = [(0, 0), (-99, 10), (-99, -10)]
"""r14-06: apex at the origin, 99 units long, miter ratio 9.95 (under Java's 10)."""


def _needle_text(size: float, line: float, at: tuple[float, float]) -> str:
    return (
        f'<ofd:TextObject ID="40" Boundary="{at[0]} {at[1]} 0.1 0.1" Font="5" '
        f'Size="{size}" LineWidth="{line}"><ofd:FillColor Value="0 0 0"/>'
        '<ofd:StrokeColor Value="0 0 0"/><ofd:TextCode X="0" Y="0">.</ofd:TextCode>'
        "</ofd:TextObject>"
    )


def _timed_reach(data: bytes) -> tuple[GlyphReach | None, float]:
    started = time.process_time()
    reach = _reach(data)
    return reach, time.process_time() - started


def test_a_composite_of_many_use_my_metrics_components_is_cheap() -> None:
    """1,000 components (6.6 KB): 7.6 s before; refused at once now (more components
    than any genuine glyph)."""
    reach, spent = _timed_reach(metrics_font(1000))
    assert reach is None
    assert spent < 0.5, spent


def test_a_composite_of_a_few_use_my_metrics_components_is_told_linearly() -> None:
    """Up to the bound, a component costs a fixed amount: 60 components are told (the
    square 0..100 at offsets 0..59, and moved back by them: -59..159 units) quickly."""
    reach, spent = _timed_reach(metrics_font(60))
    assert reach == pytest.approx(GlyphReach(0.059, 1.0, 0.3, 1.0))
    assert spent < 0.5, spent


def test_many_composites_of_the_most_components_cost_what_they_are_charged() -> None:
    """1,500 composites of 64 components (611 KB, under the bound each): each component
    is charged, so reading stops at the budget (about 0.5 s); 61 s CPU before."""
    reach, spent = _timed_reach(metrics_font(64, glyphs=1500))
    assert reach is None
    assert spent < 1.5, spent


def test_a_cff_font_of_many_font_dicts_is_cheap() -> None:
    """10,000 FontDicts (100 KB): 0.12 s before, 2.3 s for 20 such fonts; refused now."""
    data = many_fd_font(10_000)
    started = time.process_time()
    for _ in range(5):
        assert _reach(data) is None
    assert time.process_time() - started < 0.5


def test_a_cff_font_of_a_few_font_dicts_is_told() -> None:
    assert _reach(many_fd_font(20)) == EM_BOX


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(wrapping_cff_font(), id="wraps-at-32768"),
        # an 8 em square past 16384 units, reached without a stepping stone
        pytest.param(cff_font([[(17000, 0), (17000, 100), (17100, 100)]]), id="past-16384"),
        # a zero-area stepping stone past the bound (nothing painted there), back again
        pytest.param(cff_font([[(20000, 0), (20000, 1)], [(0, 0), (0, 9), (9, 9)]]), id="stone"),
        pytest.param(cff_font([[(0, -17000), (10, -17000), (10, 0)]]), id="below"),
    ],
)
def test_a_cff_point_past_a_half_short_cannot_be_told(data: bytes) -> None:
    assert _reach(data) is None


def test_a_cff_point_within_a_half_short_is_told() -> None:
    reach = _reach(cff_font([[(16000, 0), (16000, 100), (16384, 100)]]))
    assert reach == GlyphReach(0.0, 16.384, 0.3, 1.0)


def test_the_copy_keeps_clear_of_a_wrapped_cff_square() -> None:
    """r14-01: FreeType paints the square at x 98..130, y 258..290 (origin (200, 290))."""
    painted: Area = (98, 258, 130, 290)
    _copy_stays_clear(_with_font(wrapping_cff_font(), _dot(199, 286, 4, (1, 4))), painted)


def test_a_cff_glyph_unit_is_its_font_matrix_scale() -> None:
    reach = _reach(cff_font([NEEDLE], matrix=0.9))
    assert reach is not None and reach.unit == 0.9
    # TrueType and small CFF units: a system font's, 1/16 em (a reader that cannot load
    # the file draws with one)
    plain = _reach(cff_font([[(0, 0), (0, 9), (9, 9)]]))
    assert plain is not None and plain.unit == 1 / 16 and EM_BOX.unit == 1 / 16


def test_the_copy_keeps_clear_of_a_cff_glyphs_stroke_in_font_matrix_units() -> None:
    """r14-06: ofdrw's viewer strokes the needle (FontMatrix 0.9, Size 0.1, LineWidth 5)
    15 x 5 units of 0.9 mm wide: ink x -7.29..38.58, y 265.37..274.63 (Java2D)."""
    painted: Area = (-7.29, 265.37, 38.58, 274.63)
    lic = _with_font(cff_font([NEEDLE], matrix=0.9), _needle_text(0.1, 5, (5, 270)))
    _copy_stays_clear(lic, painted)
