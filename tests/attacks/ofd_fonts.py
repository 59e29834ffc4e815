"""Small fonts for the OFD attacks on embedded fonts (red team 12, r12-02): one glyph, "."
(U+002E), drawn as a filled polygon, in a TrueType (glyf) or CFF font built with fontTools."""

from __future__ import annotations

import copy
import io
import struct

from fontTools.fontBuilder import FontBuilder
from fontTools.pens.t2CharStringPen import T2CharStringPen
from fontTools.pens.ttGlyphPen import TTGlyphPen

__all__ = [
    "PLAIN_DOT",
    "big_loca_font",
    "cff_font",
    "composite_font",
    "duplicate_tables_font",
    "font",
    "lsb_font",
    "many_fd_font",
    "metrics_font",
    "minus_two_font",
    "raw_tables",
    "sfnt",
    "with_table",
    "wrapping_cff_font",
    "wrapping_font",
]

PLAIN_DOT = [(0, 0), (0, 350), (250, 350), (250, 0)]
"""A glyph inside its em box (units 500: 0..0.5 em right, 0..0.7 em up)."""


def font(
    outline: list[tuple[int, int]],
    *,
    units: int = 500,
    cff: bool = False,
    head: bool = False,
    matrix: list[float] | None = None,
) -> bytes:
    """A font whose "." glyph is the filled polygon ``outline`` (font units, y up); with
    ``head``, its head table's bounding box rewritten to the em box (a lie: readers draw
    the outline, not the head's box); a CFF font's FontMatrix ``matrix`` when given."""
    fb = FontBuilder(units, isTTF=not cff)
    fb.setupGlyphOrder([".notdef", "period"])
    fb.setupCharacterMap({ord("."): "period"})
    if cff:
        pens = []
        for points in ([], outline):
            pen = T2CharStringPen(units // 2, None)
            if points:
                pen.moveTo(points[0])
                for p in points[1:]:
                    pen.lineTo(p)
                pen.closePath()
            pens.append(pen.getCharString())
        info: dict[str, object] = {"FullName": "Evil"}
        if matrix is not None:
            info["FontMatrix"] = matrix
        fb.setupCFF("Evil", info, dict(zip([".notdef", "period"], pens, strict=True)), {})
    else:
        pen = TTGlyphPen(None)
        pen.moveTo(outline[0])
        for p in outline[1:]:
            pen.lineTo(p)
        pen.closePath()
        fb.setupGlyf({".notdef": TTGlyphPen(None).glyph(), "period": pen.glyph()})
    fb.setupHorizontalMetrics({".notdef": (units // 2, 0), "period": (units // 2, 0)})
    fb.setupHorizontalHeader(ascent=units * 4 // 5, descent=-units // 5)
    fb.setupNameTable({"familyName": "Evil", "styleName": "Regular"})
    fb.setupOS2()
    fb.setupPost()
    if head:
        fb.font["head"].xMin, fb.font["head"].yMin = 0, -units // 5
        fb.font["head"].xMax, fb.font["head"].yMax = units, units
    out = io.BytesIO()
    fb.save(out)
    data = out.getvalue()
    if head:  # fontTools recomputes the head's box on save: write the lie into the bytes
        data = _patched_head(data, (0, -units // 5, units, units))
    return data


def _patched_head(data: bytes, box: tuple[int, int, int, int]) -> bytes:
    count = struct.unpack(">H", data[4:6])[0]
    for i in range(count):
        tag, _, offset, _ = struct.unpack(">4sIII", data[12 + 16 * i : 28 + 16 * i])
        if tag == b"head":
            at = offset + 36
            return data[:at] + struct.pack(">4h", *box) + data[at + 8 :]
    raise AssertionError("no head table")


def composite_font(scale: float, dy: int, *, units: int = 500) -> bytes:
    """A TrueType font whose "." is a composite: the glyph "box" (a square of 0..2500
    units) scaled by ``scale`` (at most 2: an F2Dot14) and moved ``dy`` units up."""
    fb = FontBuilder(units, isTTF=True)
    fb.setupGlyphOrder([".notdef", "box", "period"])
    fb.setupCharacterMap({ord("."): "period"})
    pen = TTGlyphPen(None)
    pen.moveTo((0, 0))
    for p in [(0, 2500), (2500, 2500), (2500, 0)]:
        pen.lineTo(p)
    pen.closePath()
    square = pen.glyph()
    pen = TTGlyphPen({"box": square})
    pen.addComponent("box", (scale, 0, 0, scale, 0, dy))
    fb.setupGlyf({".notdef": TTGlyphPen(None).glyph(), "box": square, "period": pen.glyph()})
    fb.setupHorizontalMetrics({n: (units // 2, 0) for n in (".notdef", "box", "period")})
    fb.setupHorizontalHeader(ascent=units * 4 // 5, descent=-units // 5)
    fb.setupNameTable({"familyName": "Evil", "styleName": "Regular"})
    fb.setupOS2()
    fb.setupPost()
    out = io.BytesIO()
    fb.save(out)
    return out.getvalue()


def with_table(data: bytes, tag: str) -> bytes:
    """The font ``data`` with a table ``tag`` added (its content a few zero bytes)."""
    from fontTools.ttLib import TTFont
    from fontTools.ttLib.tables.DefaultTable import DefaultTable

    font = TTFont(io.BytesIO(data))
    table = DefaultTable(tag)
    table.data = bytes(16)
    font[tag] = table
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


def sfnt(tables: list[tuple[str, bytes]]) -> bytes:
    """An sfnt file (TrueType outlines) of the ``tables`` in the order given, a tag listed
    as often as it is given."""
    out = struct.pack(">IHHHH", 0x00010000, len(tables), 16, 0, 0)
    at = 12 + 16 * len(tables)
    body = b""
    for tag, data in tables:
        out += struct.pack(">4sIII", tag.encode(), 0, at + len(body), len(data))
        body += data + b"\0" * (-len(data) % 4)
    return out + body


def raw_tables(data: bytes) -> dict[str, bytes]:
    """The tables of the font ``data`` as stored."""
    from fontTools.ttLib import TTFont

    reader = TTFont(io.BytesIO(data)).reader
    return {tag: reader[tag] for tag in reader.keys()}  # noqa: SIM118 (no mapping)


def lsb_font(lsb: int, *, units: int = 1000) -> bytes:
    """A TrueType font whose "." is a block 1 em wide, 0.7 em high right of its origin, its
    hmtx left side bearing ``lsb``: readers draw the outline moved by lsb - xMin."""
    fb = FontBuilder(units, isTTF=True)
    fb.setupGlyphOrder([".notdef", "period"])
    fb.setupCharacterMap({ord("."): "period"})
    pen = TTGlyphPen(None)
    pen.moveTo((0, 0))
    for p in [(0, units * 7 // 10), (units, units * 7 // 10), (units, 0)]:
        pen.lineTo(p)
    pen.closePath()
    fb.setupGlyf({".notdef": TTGlyphPen(None).glyph(), "period": pen.glyph()})
    fb.setupHorizontalMetrics({".notdef": (units // 2, 0), "period": (units, lsb)})
    fb.setupHorizontalHeader(ascent=units * 4 // 5, descent=-units // 5)
    fb.setupNameTable({"familyName": "Evil", "styleName": "Regular"})
    fb.setupOS2()
    fb.setupPost()
    out = io.BytesIO()
    fb.save(out)
    return out.getvalue()


def wrapping_font() -> bytes:
    """A TrueType font whose "." has a zero-area contour at x 30000 and an 8 em square at
    x 40000..48000 (units 1000): summed in a Java short (ofdrw's viewer) the square lies
    at x -25536..-17536, left of the origin."""
    from fontTools.ttLib.tables._g_l_y_f import GlyphCoordinates

    fb = FontBuilder(1000, isTTF=True)
    fb.setupGlyphOrder([".notdef", "period"])
    fb.setupCharacterMap({ord("."): "period"})
    fb.setupGlyf({".notdef": TTGlyphPen(None).glyph(), "period": _polygon([(0, 0), (1, 0)])})
    glyph = fb.font["glyf"]["period"]
    points = [(30000, 0), (30000, 1), (40000, 0), (40000, 8000), (48000, 8000), (48000, 0)]
    glyph.coordinates = GlyphCoordinates(points)
    glyph.endPtsOfContours = [1, 5]
    glyph.flags = bytearray([1] * len(points))
    glyph.numberOfContours = 2
    glyph.xMin, glyph.yMin, glyph.xMax, glyph.yMax = 0, 0, 1000, 700
    fb.font.recalcBBoxes = False
    fb.setupHorizontalMetrics({".notdef": (500, 0), "period": (1000, 0)})
    fb.setupHorizontalHeader(ascent=800, descent=-200)
    fb.setupNameTable({"familyName": "Evil", "styleName": "Regular"})
    fb.setupOS2()
    fb.setupPost()
    out = io.BytesIO()
    fb.save(out)
    return out.getvalue()


def _polygon(points: list[tuple[int, int]]) -> object:
    pen = TTGlyphPen(None)
    pen.moveTo(points[0])
    for p in points[1:]:
        pen.lineTo(p)
    pen.closePath()
    return pen.glyph()


def minus_two_font() -> bytes:
    """A TrueType font whose "." has numberOfContours -2 (a composite to FreeType and
    ofdrw: its glyph 2, an 8 em square, moved 8 em left and down; one point at the origin
    to fontTools) and whose glyph 2 is that square (units 1000)."""
    square = _polygon([(0, 0), (0, 8000), (8000, 8000), (8000, 0)])
    fb = FontBuilder(1000, isTTF=True)
    fb.setupGlyphOrder([".notdef", "period", "square"])
    fb.setupCharacterMap({ord("."): "period"})
    empty = TTGlyphPen(None).glyph()
    fb.setupGlyf({".notdef": empty, "period": TTGlyphPen(None).glyph(), "square": square})
    fb.setupHorizontalMetrics({n: (1000, 0) for n in (".notdef", "period", "square")})
    fb.setupHorizontalHeader(ascent=800, descent=-200)
    fb.setupNameTable({"familyName": "Evil", "styleName": "Regular"})
    fb.setupOS2()
    fb.setupPost()
    out = io.BytesIO()
    fb.save(out)
    tables = raw_tables(out.getvalue())
    from fontTools.ttLib import TTFont

    built = TTFont(io.BytesIO(out.getvalue()))
    drawn = built["glyf"]["square"].compile(built["glyf"])
    drawn += b"\0" * (len(drawn) % 2)
    period = struct.pack(">hhhhh", -2, 0, 0, 0, 0)
    period += struct.pack(">HHhh", 0x0003, 2, -8000, -8000)  # words, x/y values
    period += b"\x00\x00\x00\x00\x31\x00"  # to fontTools: endPts, no code, one point
    glyphs = [b"", period, drawn]
    loca = [0, 0, len(period) // 2, (len(period) + len(drawn)) // 2]
    tables["glyf"] = b"".join(glyphs)
    tables["loca"] = struct.pack(">4H", *loca)
    head = bytearray(tables["head"])
    head[50:52] = b"\x00\x00"  # short loca
    tables["head"] = bytes(head)
    return sfnt(sorted(tables.items()))


def duplicate_tables_font() -> bytes:
    """A TrueType font listing glyf and loca twice: first "." an 8 em square left of and
    below its origin (FreeType reads the first), then a block in its em box (fontTools
    reads the last)."""
    pairs = []
    for points in ([(-8000, -8000), (-8000, 0), (0, 0), (0, -8000)], PLAIN_DOT):
        tables = raw_tables(font(points, units=1000))
        pairs.append((tables.pop("glyf"), tables.pop("loca"), tables))
    listed = sorted(pairs[1][2].items())
    for glyf, loca, _ in pairs:
        listed += [("glyf", glyf), ("loca", loca)]
    return sfnt(listed)


def big_loca_font(entries: int = 500_000) -> bytes:
    """A TrueType font of one empty glyph whose loca holds ``entries`` short entries (all
    0): fontTools builds a glyph for each."""
    tables = raw_tables(font(PLAIN_DOT))
    head = bytearray(tables["head"])
    head[50:52] = b"\x00\x00"
    tables["head"] = bytes(head)
    maxp = bytearray(tables["maxp"])
    maxp[4:6] = b"\x00\x01"
    tables["maxp"] = bytes(maxp)
    tables["glyf"] = b"\0" * 4
    tables["loca"] = b"\0\0" * entries
    return sfnt(sorted(tables.items()))


def metrics_font(components: int, glyphs: int = 1) -> bytes:
    """A TrueType font whose "." (and ``glyphs`` - 1 more glyphs like it) is a composite
    of ``components`` placements of a 0.1 em square, each flagged USE_MY_METRICS (red
    team 14, r14-05: widening every component by every such one's offset was quadratic
    in their count)."""
    fb = FontBuilder(1000, isTTF=True)
    composites = ["period"] + [f"c{i}" for i in range(1, glyphs)]
    fb.setupGlyphOrder([".notdef", "square", *composites])
    fb.setupCharacterMap({ord("."): "period"})
    pen = TTGlyphPen(None)
    pen.moveTo((0, 0))
    for p in [(0, 100), (100, 100), (100, 0)]:
        pen.lineTo(p)
    pen.closePath()
    square = pen.glyph()
    pen = TTGlyphPen({"square": square})
    for k in range(components):
        pen.addComponent("square", (1, 0, 0, 1, k % 100, 0))
    composite = pen.glyph()
    fb.setupGlyf(
        {".notdef": TTGlyphPen(None).glyph(), "square": square}
        | {name: copy.deepcopy(composite) for name in composites}
    )
    for name in composites:
        for comp in fb.font["glyf"][name].components:
            comp.flags |= 0x0200  # USE_MY_METRICS
    fb.setupHorizontalMetrics(
        {".notdef": (500, 0), "square": (100, 0)} | {name: (200, 0) for name in composites}
    )
    fb.setupHorizontalHeader(ascent=800, descent=-200)
    fb.setupNameTable({"familyName": "Evil", "styleName": "Regular"})
    fb.setupOS2()
    fb.setupPost()
    out = io.BytesIO()
    fb.save(out)
    return out.getvalue()


def cff_font(contours: list[list[tuple[int, int]]], *, matrix: float = 0.001) -> bytes:
    """A CFF font (unitsPerEm 1000, FontMatrix ``matrix``) whose "." is the closed
    polygons ``contours``; the head's box is left as fontBuilder sets it."""
    fb = FontBuilder(1000, isTTF=False)
    fb.setupGlyphOrder([".notdef", "period"])
    fb.setupCharacterMap({ord("."): "period"})
    strings = {}
    for name, drawn in ((".notdef", []), ("period", contours)):
        pen = T2CharStringPen(1000, None)
        for points in drawn:
            pen.moveTo(points[0])
            for p in points[1:]:
                pen.lineTo(p)
            pen.closePath()
        strings[name] = pen.getCharString()
    info = {"FullName": "Evil", "FontMatrix": [matrix, 0, 0, matrix, 0, 0]}
    fb.setupCFF("Evil", info, strings, {})
    fb.setupHorizontalMetrics({".notdef": (500, 0), "period": (1000, 0)})
    fb.setupHorizontalHeader(ascent=800, descent=-200)
    fb.setupNameTable({"familyName": "Evil", "styleName": "Regular"})
    fb.setupOS2()
    fb.setupPost()
    fb.font.recalcBBoxes = False
    out = io.BytesIO()
    fb.save(out)
    return out.getvalue()


def wrapping_cff_font(x0: int = 40000, side: int = 8000) -> bytes:
    """r14-01: a CFF "." stepping right by zero-area contours every 20,000 units (a CFF
    delta is at most 32767), then an em square ``side`` wide at x ``x0``: FreeType keeps
    the current point in 16.16 fixed point and draws it 65,536 units to the left."""
    steps = [[(x, 0), (x, 1)] for x in range(20000, x0, 20000)]
    square = [(x0, 0), (x0, side), (x0 + side, side), (x0 + side, 0)]
    return cff_font([*steps, square])


def many_fd_font(fds: int) -> bytes:
    """r14-09: a CID-keyed CFF font whose FDArray holds ``fds`` FontDicts (each an empty
    Private dict), its "." an em square drawn with the first (built through TTX)."""
    import re
    import tempfile
    from pathlib import Path

    data = cff_font([[(0, 0), (0, 1000), (1000, 1000), (1000, 0)]])
    from fontTools.ttLib import TTFont

    plain = TTFont(io.BytesIO(data))
    plain.setGlyphOrder([".notdef", "cid00001"])
    with tempfile.TemporaryDirectory() as tmp:
        ttx = Path(tmp, "cff.ttx")
        plain.saveXML(str(ttx), tables=["CFF "])
        xml = ttx.read_text().replace('name="period"', 'name="cid00001"')
        xml = xml.replace(
            '<FullName value="Evil"/>',
            '<ROS Registry="Adobe" Order="Identity" Supplement="0"/>\n<FullName value="Evil"/>',
        )
        private = re.search(r"<Private>.*?</Private>", xml, re.S)
        assert private is not None
        dicts = "".join(f'<FontDict index="{i}"><Private></Private></FontDict>' for i in range(fds))
        xml = xml.replace(
            private.group(0),
            f'<CIDCount value="2"/>\n<FDArray>{dicts}</FDArray>\n<FDSelect format="3"/>',
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
