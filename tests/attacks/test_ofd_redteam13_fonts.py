"""Red team round 13: embedded fonts that fontTools reads otherwise than the readers do.

Round 12 (r12-02) bounded the reach of text drawn with an embedded font by the glyphs'
outlines as fontTools reads them. Each font here is read otherwise by FreeType (and the
commercial readers built on it) or by ofdrw's viewer, and the copy's 加注 went over the
issuer's ink while the copy verified TOTAL_PASSED: r13-01, a TrueType glyph drawn moved
by hmtx lsb - xMin; r13-03, coordinates past a Java short wrapping in ofdrw's viewer;
r13-04, a negative CFF FontMatrix (top or FDArray) turning glyphs 180°; r13-06, a glyph
with numberOfContours -2 that is a composite to the readers; r13-08, a table directory
listing glyf and loca twice. r13-02: fontTools decoded every loca entry while a font was
charged by maxp.numGlyphs (1 MB of loca charged 17 bytes, 0.85 s).

Now a font is admitted from its raw bytes, charged by its size, only when plain enough
that every reader reads it alike; any other embedded font's text may draw anywhere.
"""

from __future__ import annotations

import io
import re
import struct
import tempfile
import time
from pathlib import Path

import pytest

from signing.ofd.fonts import EM_BOX, GlyphReach
from signing.ofd.sfnt import plain_sfnt
from tests.attacks.ofd_fonts import (
    PLAIN_DOT,
    big_loca_font,
    composite_font,
    duplicate_tables_font,
    font,
    lsb_font,
    minus_two_font,
    raw_tables,
    sfnt,
    wrapping_font,
)
from tests.attacks.test_ofd_redteam12_reach import Area, _copy_stays_clear, _reach, _with_font

SQUARE = [(0, 0), (0, 8000), (8000, 8000), (8000, 0)]
NOTO = Path(__file__).resolve().parents[2] / "signing" / "fonts" / "NotoSansSC-Regular-GB2312.ttf"


def _dot(x: float, y: float, size: float, at: tuple[float, float]) -> str:
    """One "." at Size ``size`` whose Boundary starts at (x, y), its origin ``at`` in it."""
    return (
        f'<ofd:TextObject ID="40" Boundary="{x} {y} 5 5" Font="5" Size="{size}">'
        f'<ofd:FillColor Value="0 0 0"/><ofd:TextCode X="{at[0]}" Y="{at[1]}">.</ofd:TextCode>'
        "</ofd:TextObject>"
    )


def _cid_font(top: float, sub: float) -> bytes:
    """A CID-keyed CFF font whose "." is an em square, top FontMatrix ``top`` and FDArray
    FontMatrix ``sub`` (built through TTX: fontBuilder writes no CID-keyed CFF)."""
    from fontTools.fontBuilder import FontBuilder
    from fontTools.pens.t2CharStringPen import T2CharStringPen

    fb = FontBuilder(1000, isTTF=False)
    fb.setupGlyphOrder([".notdef", "cid00001"])
    fb.setupCharacterMap({ord("."): "cid00001"})
    pens = [T2CharStringPen(1000, None) for _ in range(2)]
    pens[1].moveTo((0, 0))
    for p in [(0, 1000), (1000, 1000), (1000, 0)]:
        pens[1].lineTo(p)
    pens[1].closePath()
    strings = {n: pen.getCharString() for n, pen in zip([".notdef", "cid00001"], pens, strict=True)}
    fb.setupCFF("Evil", {"FullName": "Evil"}, strings, {})
    fb.setupHorizontalMetrics({".notdef": (500, 0), "cid00001": (1000, 0)})
    fb.setupHorizontalHeader(ascent=800, descent=-200)
    fb.setupNameTable({"familyName": "Evil", "styleName": "Regular"})
    fb.setupOS2()
    fb.setupPost()
    plain = fb.font
    with tempfile.TemporaryDirectory() as tmp:
        ttx = Path(tmp, "cff.ttx")
        plain.saveXML(str(ttx), tables=["CFF "])
        xml = ttx.read_text()
        xml = xml.replace(
            '<FullName value="Evil"/>',
            '<ROS Registry="Adobe" Order="Identity" Supplement="0"/>\n<FullName value="Evil"/>',
        )
        xml = xml.replace(
            '<FontMatrix value="0.001 0 0 0.001 0 0"/>',
            f'<FontMatrix value="{top} 0 0 {top} 0 0"/>',
        )
        private = re.search(r"<Private>.*?</Private>", xml, re.S)
        assert private is not None
        xml = xml.replace(
            private.group(0),
            '<CIDCount value="2"/>\n<FDArray><FontDict index="0">'
            f'<FontMatrix value="{sub} 0 0 {sub} 0 0"/>{private.group(0)}</FontDict></FDArray>\n'
            '<FDSelect format="3"/>',
        )
        xml = xml.replace('<Encoding name="StandardEncoding"/>', "")
        for name in (".notdef", "cid00001"):
            xml = xml.replace(
                f'<CharString name="{name}">', f'<CharString name="{name}" fdSelectIndex="0">'
            )
        ttx.write_text(xml)
        del plain["CFF "]
        plain.importXML(str(ttx))
    out = io.BytesIO()
    plain.save(out)
    return out.getvalue()


# Each: the font, the text object drawing one "." with it, and what readers paint (mm).
CASES = [
    # r13-01: a block at x 0..1 em, lsb -4500: drawn 4.5 em left; origin (185, 285), Size 20
    pytest.param(
        lambda: lsb_font(-4500), _dot(185, 262, 20, (0, 23)), (95, 271, 115, 285), id="lsb"
    ),
    # r13-03: an 8 em square at x 40..48 em wraps to -25.5..-17.5 em; origin (200, 290)
    pytest.param(wrapping_font, _dot(199, 286, 4, (1, 4)), (98, 258, 130, 290), id="short-wrap"),
    # r13-04: FontMatrix -0.001 turns an 8 em square right-up to left-down; origin (125, 250)
    pytest.param(
        lambda: font(SQUARE, units=1000, cff=True, matrix=[-0.001, 0, 0, -0.001, 0, 0]),
        _dot(125, 245, 4, (0, 5)),
        (93, 250, 125, 282),
        id="cff-negative-matrix",
    ),
    # r13-06: a composite (count -2) placing the 8 em square 8 em left and down
    pytest.param(minus_two_font, _dot(125, 245, 4, (0, 5)), (93, 250, 125, 282), id="contours-2"),
    # r13-08: FreeType's glyf: an 8 em square moved (lsb - xMin) right, below the baseline
    pytest.param(
        duplicate_tables_font, _dot(2, 255, 4, (0, 5)), (2, 260, 34, 292), id="dup-tables"
    ),
]


@pytest.mark.parametrize(("made", "objects", "painted"), CASES)
def test_the_copy_keeps_clear_of_a_font_readers_read_otherwise(
    made: object, objects: str, painted: Area
) -> None:
    assert callable(made)
    _copy_stays_clear(_with_font(made(), objects), painted)


@pytest.mark.parametrize(
    "made",
    [
        pytest.param(lambda: lsb_font(-4500), id="lsb-left"),
        pytest.param(lambda: lsb_font(300), id="lsb-right"),
        pytest.param(wrapping_font, id="short-wrap"),
        pytest.param(
            lambda: font(SQUARE, units=1000, cff=True, matrix=[-0.001, 0, 0, -0.001, 0, 0]),
            id="cff-negative",
        ),
        pytest.param(
            lambda: font(SQUARE, units=1000, cff=True, matrix=[0.001, 0, 0, -0.001, 0, 0]),
            id="cff-mirrored",
        ),
        pytest.param(lambda: _cid_font(0.001, -0.001), id="cid-fd-negative"),
        pytest.param(lambda: _cid_font(-0.001, -0.5), id="cid-both-negative"),
        pytest.param(minus_two_font, id="contours-2"),
        pytest.param(duplicate_tables_font, id="dup-tables"),
        pytest.param(big_loca_font, id="loca-past-glyphs"),
    ],
)
def test_a_font_readers_may_read_otherwise_cannot_be_told(made: object) -> None:
    assert callable(made)
    assert _reach(made()) is None


@pytest.mark.parametrize(
    ("data", "reach"),
    [
        pytest.param(lsb_font(0), GlyphReach(0, 1, 0.3, 1), id="lsb-at-xmin"),
        pytest.param(_cid_font(0.001, 0.001), GlyphReach(0, 1, 0.3, 1), id="cid"),
        pytest.param(font(PLAIN_DOT, cff=True), EM_BOX, id="cff"),
    ],
)
def test_a_plain_font_is_still_told(data: bytes, reach: GlyphReach) -> None:
    assert _reach(data) == reach


def test_a_long_loca_costs_what_its_bytes_are_charged() -> None:
    """Five fonts of 500,000 loca entries (1 MB each): 4.3 s before, refused unread now."""
    data = big_loca_font()
    started = time.process_time()
    for _ in range(5):
        assert _reach(data) is None
    assert time.process_time() - started < 1.0


def test_the_shipped_noto_subset_is_read() -> None:
    """The demo's GB2312 subset of Noto Sans SC (1.9 MB, 7,007 glyphs) fits the budget."""
    reach = _reach(NOTO.read_bytes())
    assert reach is not None and reach.right <= 1.1 and reach.below <= 0.3


def _plain_tables() -> dict[str, bytes]:
    return raw_tables(font(PLAIN_DOT))


def _overlapping() -> bytes:
    data = bytearray(sfnt(sorted(_plain_tables().items())))
    count = struct.unpack_from(">H", data, 4)[0]
    first = struct.unpack_from(">I", data, 12 + 8)[0]
    struct.pack_into(">I", data, 12 + 16 * (count - 1) + 8, first)  # the last on the first
    return bytes(data)


def _short_hmtx() -> bytes:
    tables = _plain_tables()
    tables["hmtx"] = tables["hmtx"][:-2]
    return sfnt(sorted(tables.items()))


def _wrapped() -> bytes:
    from fontTools.ttLib import TTFont

    out = io.BytesIO()
    TTFont(io.BytesIO(font(PLAIN_DOT))).save(out)
    return b"wOFF" + out.getvalue()[4:]


@pytest.mark.parametrize(
    "made",
    [
        pytest.param(_overlapping, id="overlapping-tables"),
        pytest.param(_short_hmtx, id="short-hmtx"),
        pytest.param(_wrapped, id="not-sfnt"),
        pytest.param(lambda: sfnt([("head", bytes(54))] * 65), id="too-many-tables"),
    ],
)
def test_a_font_whose_raw_bytes_are_not_plain_is_refused(made: object) -> None:
    assert callable(made)
    assert plain_sfnt(made()) is None


def test_a_plain_fonts_raw_bytes_are_admitted() -> None:
    plain = plain_sfnt(font(PLAIN_DOT))
    assert plain is not None and plain.glyphs == 2 and plain.bearings == (0, 0)


def test_a_composite_is_also_placed_by_its_bearing_against_its_computed_xmin() -> None:
    """A composite whose header (and hmtx lsb) say xMin -5000 while its component starts
    at 0: a reader computing xMin from the points moves it lsb - 0, 10 em left."""
    from fontTools.ttLib import TTFont

    made = TTFont(io.BytesIO(composite_font(1.0, 0)))
    made.recalcBBoxes = False
    made["glyf"]["period"].xMin = -5000
    made["hmtx"]["period"] = (250, -5000)
    out = io.BytesIO()
    made.save(out)
    reach = _reach(out.getvalue())
    assert reach is not None and reach.left == 10
