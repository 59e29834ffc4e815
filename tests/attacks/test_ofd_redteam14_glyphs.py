"""Red team round 14: glyphs painted further than the reach fonts.py computed.

r14-02: a text object whose font has no FontFile was boxed as the em box, but readers draw
it with the installed font FontName names, and Noto Sans CJK's "⸻" (U+2E3B) is 2.41 em
long. r14-07: ofdrw's viewer opens an embedded FontFile only when it is named .ttf, .otf or
.ttc, else draws the system font; fonts.py read the embedded file whatever its name.
r14-08: TrueType hinting (a glyph program, fpgm/prep/cvt; a "tricky" family name such as
MingLiU is hinted even when asked not to) moves points in FreeType, 5 em below the baseline
at every size. r14-04: Apple's bitmap tables bloc/bdat make FreeType draw a strike's bitmap
up to 127 px from the origin. In each the copy's 加注 went under what readers paint while
the copy verified TOTAL_PASSED.

Now system-font text is trusted to its em box only for characters system fonts draw
there; an embedded file ofdrw does not open by its name reaches as far as either; a hinted
or tricky TrueType font, or one with bitmap tables, reaches anywhere.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from xml.etree.ElementTree import Element, SubElement

import pytest

from signing.ofd.fonts import EM_BOX, SYSTEM_BOX, GlyphReach, font_reaches, system_reach
from signing.ofd.package import Package
from signing.ofd.writer import sample_ofd, write_package
from tests.attacks.ofd_fonts import PLAIN_DOT, font, hinted_font, with_table
from tests.attacks.ofd_forge import GENUINE_LINES
from tests.attacks.ofd_pages import PAGE
from tests.attacks.test_ofd_redteam12_reach import RES, Area, _copy_stays_clear, _issued
from tests.helpers.ofd import ofd_parts

SYSTEM = '<ofd:Font ID="6" FontName="Noto Sans CJK JP" FamilyName="Noto Sans CJK SC"/>'
# eight "⸻" at Size 100 from x -106 (boxed x -106..-6 as the em box); Noto Sans CJK draws
# each a bar x -101..135, 25..31 mm above its baseline: a block x 0..135, y 249..289
BARS = (
    '<ofd:TextObject ID="40" Boundary="-106 0 100 297" Font="6" Size="100">'
    '<ofd:FillColor Value="0 0 0"/>'
    + "".join(f'<ofd:TextCode X="0" Y="{y}">⸻</ofd:TextCode>' for y in range(280, 320, 5))
    + "</ofd:TextObject>"
)
BARS_INK: Area = (0, 249, 135, 290)
# r14-08: one "." at Size 8, origin (15, 244): boxed x 15..95, y 236..246.4; a hinting
# FreeType reader paints x 15..95, y 244..284
HINTED_DOT = (
    '<ofd:TextObject ID="40" Boundary="15 236 80 8" Font="5" Size="8">'
    '<ofd:FillColor Value="0 0 0"/><ofd:TextCode X="0" Y="8">.</ofd:TextCode></ofd:TextObject>'
)
HINTED_INK: Area = (15, 244, 95, 284)
CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus" / "ofd" / "files"


def _embedded(name: str) -> str:
    return (
        '<ofd:Font ID="6" FontName="Noto Sans CJK JP" FamilyName="Noto Sans CJK SC">'
        f"<ofd:FontFile>{name}</ofd:FontFile></ofd:Font>"
    )


def _text(*codes: str, transform: bool = False) -> Element:
    el = Element("TextObject", Font="6")
    for code in codes:
        SubElement(el, "TextCode").text = code
    if transform:
        SubElement(el, "CGTransform", CodePosition="0", CodeCount="1", GlyphCount="1")
    return el


def _reach(text: Element, fonts: str = SYSTEM, files: dict[str, bytes] | None = None) -> object:
    parts = ofd_parts(sample_ofd("食品经营许可证", GENUINE_LINES))
    parts[RES] = parts[RES].replace(b"</ofd:Fonts>", fonts.encode() + b"</ofd:Fonts>", 1)
    with Package(write_package({**parts, **(files or {})})) as pkg:
        return font_reaches(pkg, "Doc_0/Document.xml", [PAGE]).reach(text)


# r14-02: system-font text ----------------------------------------------------------------


def test_the_copy_keeps_clear_of_a_system_fonts_long_glyph() -> None:
    _copy_stays_clear(_issued(BARS, fonts=SYSTEM), BARS_INK)


@pytest.mark.parametrize(
    "code",
    [
        pytest.param("⸻", id="U+2E3B-2.41em"),
        pytest.param("⸺", id="U+2E3A"),
        pytest.param("‱", id="U+2031-dejavu-1.68em"),
        pytest.param("〪", id="U+302A-1em-left"),
        pytest.param("a\u20dd", id="U+20DD-enclosing"),
        pytest.param("Ⅷ", id="U+2167-number-form"),
        pytest.param("\U0001d11e", id="U+1D11E-musical-symbol"),
        pytest.param("\t", id="control"),
    ],
)
def test_system_font_text_outside_the_em_box_characters_reaches_anywhere(code: str) -> None:
    assert system_reach(_text("国", code)) is None
    assert _reach(_text(code)) is None


@pytest.mark.parametrize(
    "code",
    [
        "国家市场监督管理总局",
        "食品经营许可证：JY13501020001234",
        "（１２）、。《》",
        "𠮷野家",
        "¥ 100.00",
    ],
)
def test_system_font_text_of_ordinary_characters_stays_in_its_em_box(code: str) -> None:
    assert system_reach(_text(code)) == SYSTEM_BOX
    assert _reach(_text(code)) == SYSTEM_BOX


def test_system_font_glyphs_picked_by_index_reach_anywhere() -> None:
    """A CGTransform's glyph indices pick glyphs of whatever font is installed."""
    assert _reach(_text("国", transform=True)) is None


# r14-07: a FontFile ofdrw does not open by its name ---------------------------------------


def test_the_copy_keeps_clear_of_the_system_font_ofdrw_draws_for_an_unopened_file() -> None:
    lic = _issued(BARS, fonts=_embedded("dash.fnt"), files={"Doc_0/Res/dash.fnt": font(PLAIN_DOT)})
    _copy_stays_clear(lic, BARS_INK)


@pytest.mark.parametrize("name", ["dash.fnt", "dash", "dash.TTF", "dash.ttf.bak", "dash.woff"])
def test_a_file_ofdrw_does_not_open_reaches_as_far_as_the_system_font(name: str) -> None:
    files = {f"Doc_0/Res/{name}": font(PLAIN_DOT)}
    assert _reach(_text("⸻"), _embedded(name), files) is None
    assert _reach(_text("国"), _embedded(name), files) == SYSTEM_BOX
    wide = {f"Doc_0/Res/{name}": font([(0, 0), (0, 500), (1000, 500), (1000, 0)])}
    assert _reach(_text("国"), _embedded(name), wide) == GlyphReach(0.3, 2, 0.4, 1.1)


@pytest.mark.parametrize("name", ["dash.ttf", "dash.otf", "dash.ttc"])
def test_a_file_ofdrw_opens_reaches_as_its_outlines(name: str) -> None:
    files = {f"Doc_0/Res/{name}": font(PLAIN_DOT)}
    assert _reach(_text("⸻"), _embedded(name), files) == EM_BOX


# r14-08: hinting ---------------------------------------------------------------------------


@pytest.mark.parametrize("family", ["Evil", "MingLiU"])
def test_the_copy_keeps_clear_of_a_hinted_glyph(family: str) -> None:
    lic = _issued(
        HINTED_DOT,
        fonts='<ofd:Font ID="5" FontName="Evil"><ofd:FontFile>evil.ttf</ofd:FontFile></ofd:Font>',
        files={"Doc_0/Res/evil.ttf": hinted_font(family)},
    )
    _copy_stays_clear(lic, HINTED_INK)


@pytest.mark.parametrize(
    "made",
    [
        pytest.param(lambda: hinted_font(), id="glyph-program"),
        pytest.param(lambda: hinted_font("MingLiU", program=False), id="tricky-name"),
        pytest.param(lambda: hinted_font("PMingLiU-ExtB", program=False), id="tricky-substring"),
        pytest.param(lambda: with_table(font(PLAIN_DOT), "fpgm"), id="fpgm"),
        pytest.param(lambda: with_table(font(PLAIN_DOT), "prep"), id="prep"),
        pytest.param(lambda: with_table(font(PLAIN_DOT), "cvt "), id="cvt"),
    ],
)
def test_a_hinted_truetype_font_reaches_anywhere(made: object) -> None:
    assert callable(made)
    files = {"Doc_0/Res/evil.ttf": made()}
    assert _reach(_text("."), _embedded("evil.ttf"), files) is None


def test_the_same_font_unhinted_is_told() -> None:
    files = {"Doc_0/Res/evil.ttf": hinted_font(program=False)}
    assert _reach(_text("."), _embedded("evil.ttf"), files) == GlyphReach(0, 10, 0.3, 1)


# r14-04: bitmap tables ---------------------------------------------------------------------


@pytest.mark.parametrize("tag", ["bloc", "bdat", "EBSC", "bhed", "EBLC", "CBLC", "sbix"])
def test_a_font_with_bitmap_tables_reaches_anywhere(tag: str) -> None:
    files = {"Doc_0/Res/evil.ttf": with_table(font(PLAIN_DOT), tag)}
    assert _reach(_text("."), _embedded("evil.ttf"), files) is None


# the corpus -------------------------------------------------------------------------------


def test_the_corpus_subsets_are_hinted() -> None:
    """The three subsets embedded in converter-testPathClip.ofd carry fpgm, prep and cvt
    (two also glyph programs): their text reaches anywhere; that file's copy is refused
    before its fonts matter (test_copy_corpus)."""
    path = CORPUS / "converter-testPathClip.ofd"
    if not path.exists():
        pytest.skip("corpus not present")
    with zipfile.ZipFile(path) as z:
        data = z.read("Doc_0/Res/font_30.ttf")
    files = {"Doc_0/Res/f.ttf": data}
    assert _reach(_text("国"), _embedded("f.ttf"), files) is None
