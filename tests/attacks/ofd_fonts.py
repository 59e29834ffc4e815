"""Small fonts for the OFD attacks on embedded fonts (red team 12, r12-02): one glyph, "."
(U+002E), drawn as a filled polygon, in a TrueType (glyf) or CFF font built with fontTools."""

from __future__ import annotations

import io
import struct

from fontTools.fontBuilder import FontBuilder
from fontTools.pens.t2CharStringPen import T2CharStringPen
from fontTools.pens.ttGlyphPen import TTGlyphPen

__all__ = ["PLAIN_DOT", "composite_font", "font", "with_table"]

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
