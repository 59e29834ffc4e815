"""Build the CJK font subset that certified copies embed (run once, by hand; output is shipped).

Source: Noto Sans CJK SC Regular (face 2 of ``NotoSansCJK-Regular.ttc``) from Debian's
``fonts-noto-cjk`` package (upstream github.com/googlefonts/noto-cjk, SIL OFL 1.1).

What it does, and why:

1. Subsets the font with fontTools to every hanzi of GB 2312 (levels 1 and 2, 6,763
   characters), printable ASCII, CJK and full-width punctuation. No layout tables (no
   shaping is done: Chinese in horizontal lines needs none), no hinting.
2. Converts the CFF outlines to TrueType quadratic outlines (fontTools cu2qu, max error
   1 unit of 1000), so the shipped file is a plain ``glyf`` TrueType font. A TrueType
   font can be cut per copy with plain byte slicing (``signing.copies.font``): only the
   glyphs a copy uses go into that copy, in about a millisecond, without fontTools.

Usage (needs ``apt-get install fonts-noto-cjk``)::

    .venv/bin/python signing/fonts/build_subset.py [path/to/NotoSansCJK-Regular.ttc]

Writes ``signing/fonts/NotoSansSC-Regular-GB2312.ttf``. The result is deterministic for a
given source font and fontTools version.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from typing import Any

from fontTools import subset
from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTFont, newTable

SOURCE = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
SOURCE_FACE = 2  # Noto Sans CJK SC
OUTPUT = Path(__file__).resolve().parent / "NotoSansSC-Regular-GB2312.ttf"

#: CJK symbols and punctuation, full-width forms, and a few common signs.
PUNCTUATION = (
    "、。〃〈〉《》「」『』【】〔〕〖〗〜・·—–…‘’“”′″§№℃°±×÷←↑→↓√∞≤≥■□▲△◆◇○●★☆"
    "　！＂＃＄％＆＇（）＊＋，－．／０１２３４５６７８９：；＜＝＞？＠"
    "ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ［＼］＾＿｀"
    "ａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ｛｜｝～￥"
)


def gb2312_hanzi() -> list[str]:
    """The 6,763 hanzi of GB 2312 (rows 16-87), from Python's own gb2312 codec."""
    out = []
    for hi in range(0xB0, 0xF8):
        for lo in range(0xA1, 0xFF):
            try:
                out.append(bytes([hi, lo]).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return out


def character_set() -> list[int]:
    chars = {chr(c) for c in range(0x20, 0x7F)} | set(PUNCTUATION) | set(gb2312_hanzi())
    return sorted(ord(c) for c in chars)


def _to_quadratic(font: Any) -> None:
    """Replace the CFF table by glyf/loca (after fontTools' otf2ttf snippet)."""
    glyph_order = font.getGlyphOrder()
    glyph_set = font.getGlyphSet()
    glyphs = {}
    for name in glyph_order:
        pen = TTGlyphPen(glyph_set)
        glyph_set[name].draw(Cu2QuPen(pen, max_err=1.0, reverse_direction=True))
        glyphs[name] = pen.glyph()
    font["loca"] = newTable("loca")
    glyf = font["glyf"] = newTable("glyf")
    glyf.glyphOrder = glyph_order
    glyf.glyphs = glyphs
    del font["CFF "]
    glyf.compile(font)
    hmtx = font["hmtx"]
    for name, glyph in glyf.glyphs.items():
        advance, _ = hmtx.metrics[name]
        hmtx.metrics[name] = (advance, getattr(glyph, "xMin", 0))
    maxp = font["maxp"] = newTable("maxp")
    maxp.tableVersion = 0x00010000
    for attr in (
        "maxZones",
        "maxTwilightPoints",
        "maxStorage",
        "maxFunctionDefs",
        "maxInstructionDefs",
        "maxStackElements",
        "maxSizeOfInstructions",
        "maxComponentElements",
    ):
        setattr(maxp, attr, 1 if attr == "maxZones" else 0)
    post = font["post"]
    post.formatType = 3.0  # no glyph names: smaller, and PDF does not need them
    font.sfntVersion = "\x00\x01\x00\x00"


def build(source: Path = SOURCE, output: Path = OUTPUT) -> Path:
    font = TTFont(str(source), fontNumber=SOURCE_FACE)
    options = subset.Options()
    options.layout_features = []
    options.hinting = False
    options.desubroutinize = True
    options.notdef_outline = True
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.drop_tables += ["VORG", "vhea", "vmtx", "BASE", "GSUB", "GPOS", "GDEF", "DSIG"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=character_set())
    subsetter.subset(font)
    _to_quadratic(font)
    font.save(str(output), reorderTables=True)
    return output


def main(argv: list[str]) -> int:
    source = Path(argv[1]) if len(argv) > 1 else SOURCE
    out = build(source)
    data = out.read_bytes()
    print(f"{out}: {len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
