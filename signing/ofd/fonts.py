"""How far the glyphs of the fonts a document draws text with may reach from their origin.

A reader draws a glyph's outline where the outline is, whatever the font's em box: a
font embedded in the document (a ``Font`` resource with a ``FontFile``, GB/T 33190 11.1)
may hold a "." that paints a block 45 em below its baseline (red team 12, r12-02). So the
reach of a text object drawn with an embedded font is that of the font's real outlines,
read here with fontTools from the glyph data itself (the points of every ``glyf`` glyph,
its composites' components placed as their offsets and transforms say; every ``CFF``
charstring run), never from the bounding boxes the font declares (``head``, a glyph's
header, ``FontBBox``: a font may write small ones over large outlines). The em box
(:data:`EM_BOX`) is always included: a reader that cannot load the file draws the text
with a system font.

A font whose reach cannot be told is :data:`None` to the caller (its text may draw
anywhere). An embedded font's reach is trusted only when the font is plain enough that
every reader reads it alike (red team 13: FreeType, the readers built on it and ofdrw's
viewer each read an ambiguous file their own way): its raw bytes are admitted first
(:func:`.sfnt.plain_sfnt`: one table directory of unique tags inside the file, a loca of
exactly numGlyphs + 1 entries, numberOfContours -1 or more, every glyph's hmtx left
side bearing equal to its header's xMin), then its points (TrueType and CFF alike, every point a
charstring passes through) must lie within :data:`_MAX_UNITS` of the origin, and a CFF
FontMatrix must be a positive plain scale.
Neither is a file fontTools cannot read or that is no single TrueType/CFF font, a font
with glyphs drawn otherwise than by outlines (colour, bitmap or SVG tables), with
variations (a reader picks an instance), with positioning tables (GPOS, kern: a shaping
reader moves glyphs by their values), a composite glyph placed by point matching,
nested too deep or that contains itself. What is read is bounded per file
(:data:`MAX_FONT_BYTES`, each font's whole file charged before it is parsed, each font
read once); a font past it cannot be told, as one whose glyph places more than
:data:`_MAX_COMPONENTS` components or whose FDArray holds more than
:data:`_MAX_FONT_DICTS` FontDicts (red team 14: every loop here is linear and charged).
TrueType hinting instructions are not run (a hinting reader may move points: not bounded
here), nor vertical metrics (``vmtx``) read.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple
from xml.etree.ElementTree import Element

from signing.ofd.package import (
    OfdFormatError,
    Package,
    child_elements,
    java_trim,
    joined_folder,
    local_name,
    parent_folder,
    ref_id,
)
from signing.ofd.resources import resource_files
from signing.ofd.sfnt import plain_sfnt

__all__ = ["EM_BOX", "MAX_FONT_BYTES", "FontReaches", "GlyphReach", "font_reaches"]

MAX_FONT_BYTES = 2 * 1024 * 1024
"""What is read for all the embedded fonts of one file together: each font file's whole
size (charged before it is parsed), :data:`_GLYPH_BYTES` a glyph,
:data:`_COMPONENT_BYTES` a composite's component, :data:`_FONT_DICT_BYTES` a CFF
FontDict, and each CFF charstring run again; about 0.3 µs a byte (the shipped
7,007-glyph GB2312 subset of Noto Sans SC, 1.96 MB, is charged 2.07 MB and read in about
0.55 s; a CFF font of 2 MB, charged 4 MB, in 0.9 s; a 611 KB font of 1,500 composites of
64 components, charged 3.7 MB, in 1.0 s). The corpus's three embedded subsets are charged
1.03 MB (one keeps 28,562 glyph slots); a whole CJK font embedded (5-15 MB) is past it,
and its text then may draw anywhere."""
_GLYPH_BYTES = 16
"""What each glyph of a font is charged besides its data (an empty glyph is looked up)."""
_CALL_BYTES = 16
"""What each charstring or subroutine run is charged besides its bytes (a call's own
work: 100,000 calls of an empty subroutine are not free)."""
_MAX_SUBR_DEPTH = 10
"""Subroutine calls one CFF charstring may nest (the Type 2 charstring limit)."""
_MAX_NESTING = 8
"""Levels a composite glyph may nest components (fonts seen nest 1 or 2)."""
_MAX_COMPONENTS = 64
"""Components one composite glyph may place (Latin fonts place 2-4, the shipped Noto
subset and the corpus's subsets none; red team 14, r14-05)."""
_COMPONENT_BYTES = 32
"""What each component of a composite is charged besides its bytes (decoded, and a box
moved by up to four offsets: about 10 µs each)."""
_MAX_FONT_DICTS = 256
"""FontDicts a CID-keyed CFF font's FDArray may hold (CJK fonts hold about 20; red team
14, r14-09: 10,000 cost 4 times what their bytes are charged)."""
_FONT_DICT_BYTES = 64
"""What each FDArray FontDict is charged besides its bytes (its dict and Private dict
decompiled: about 12 µs each)."""
_MAX_UNITS = 16384
"""How far from its origin a glyph's points may lie, in font units: ofdrw's viewer sums
TrueType coordinates in a Java short, which wraps past 32767 (r13-03), FreeType a CFF
charstring's current point in 16.16 fixed point, which wraps there too (r14-01); half
that leaves room for a component's offset."""
_SYSTEM_UNIT = 1 / 16
"""The largest a system font's unit can be, in em: the fewest units per em a TrueType
font may have (its ``head`` table)."""
_USE_MY_METRICS = 0x0200
_UNSAFE_TABLES = frozenset(
    {
        "CFF2", "fvar", "gvar", "avar", "HVAR", "VVAR", "MVAR", "cvar",
        "GPOS", "kern", "kerx", "morx", "mort", "trak",
        "SVG ", "sbix", "CBDT", "CBLC", "EBDT", "EBLC", "COLR", "CPAL",
    }
)  # fmt: skip
"""Tables that make a reader draw a glyph otherwise, or elsewhere, than its outline says."""


class GlyphReach(NamedTuple):
    """How far a font's glyphs reach from their origin, in em: left of it (≥ 0), right
    of it, below the baseline, above it; and the largest a glyph unit may be, in em (a
    reader that strokes a glyph strokes it in its units: red team 14, r14-06), at least
    a system font's (:data:`_SYSTEM_UNIT`: a reader that cannot load a file draws with
    one)."""

    left: float
    right: float
    below: float
    above: float
    unit: float = _SYSTEM_UNIT


EM_BOX = GlyphReach(0.0, 1.0, 0.3, 1.0)
"""A glyph of a font that is not embedded (a system font): in its em box, 1 em up, 0.3 em
down (descenders), 1 em right."""


class FontReaches:
    """The embedded font files of the fonts some parts draw with (font ID -> file), and
    how far each file's glyphs reach (read once per file)."""

    def __init__(self, pkg: Package, files: dict[str, str]) -> None:
        self._pkg = pkg
        self._files = files

    def reach(self, el: Element) -> GlyphReach | None:
        """How far the glyphs of the text object ``el`` may reach (its ``Font``'s); None
        when that cannot be told (the text may draw anywhere)."""
        path = self._files.get(_ref(el.get("Font")))
        if path is None:
            return EM_BOX
        pkg = self._pkg
        return pkg.once(("font_reach", path), lambda: _file_reach(pkg, path))


def font_reaches(pkg: Package, doc_root: str, parts: Iterable[str]) -> FontReaches:
    """The fonts what ``parts`` draw may use (the document's PublicRes and DocumentRes,
    each part's PageRes), read once per document and parts. A font whose ``FontFile``
    lies where readers cannot agree maps to "" (cannot be told); one whose file is not in
    the package is drawn with a system font (not listed)."""
    drawn = tuple(parts)
    key = ("font_reaches", doc_root, *drawn)
    return pkg.once(key, lambda: FontReaches(pkg, _font_files(pkg, doc_root, drawn)))


def _font_files(pkg: Package, doc_root: str, parts: tuple[str, ...]) -> dict[str, str]:
    found: dict[str, str] = {}
    for path in resource_files(pkg, doc_root, parts):
        if not pkg.has(path):
            continue
        root = pkg.xml(path)
        base = java_trim(root.get("BaseLoc") or "")
        for group in child_elements(root, "Fonts"):
            for font in child_elements(group, "Font"):
                file = next((c for c in font if local_name(c) == "FontFile"), None)
                if file is None:
                    continue
                key = _ref(font.get("ID"))
                try:
                    folder = joined_folder(parent_folder(path), base)
                    where = pkg.locate(pkg.resolve(java_trim(file.text or ""), folder))
                except OfdFormatError:
                    where = ""  # readers may open different files: cannot be told
                if where is not None:  # else not in the package: a system font is drawn
                    found.setdefault(key, where)
    return found


def _ref(value: str | None) -> str:
    """An ID reference as readers resolve it; "" when they differ on it."""
    try:
        return ref_id(value)
    except OfdFormatError:
        return ""


def _file_reach(pkg: Package, path: str) -> GlyphReach | None:
    if not path or not pkg.has(path):
        return None
    spent = pkg.once(("font_bytes",), lambda: [0])

    def spend(count: int) -> None:
        spent[0] += count
        if spent[0] > MAX_FONT_BYTES:
            raise _TooMuch

    try:
        box = _outline_box(pkg.read(path), spend)
    except _TooMuch:
        return None
    except Exception:  # fontTools raises anything on a malformed font
        return None
    if box is None:
        return None
    (x0, y0, x1, y1), em = box
    values = (-x0 * em, x1 * em, -y0 * em, y1 * em)
    if not all(map(math.isfinite, values)):
        return None
    left, right, below, above = (max(v, e) for v, e in zip(values, EM_BOX[:4], strict=True))
    return GlyphReach(left, right, below, above, max(em, _SYSTEM_UNIT))


class _TooMuch(Exception):
    """The file's font budget is spent."""


Bounds = tuple[float, float, float, float]


def _outline_box(data: bytes, spend: Callable[[int], None]) -> tuple[Bounds, float] | None:
    """The box (font units, y up) holding every glyph outline of the font ``data``, and
    the size of a font unit in em; None when the font cannot be told (module). The whole
    file is charged, and admitted from its raw bytes (:func:`.sfnt.plain_sfnt`), before
    fontTools reads it."""
    from fontTools.ttLib import TTFont

    spend(len(data))
    plain = plain_sfnt(data)
    if plain is None or set(plain.tables) & _UNSAFE_TABLES:
        return None
    font = TTFont(io.BytesIO(data), lazy=True)
    units = int(font["head"].unitsPerEm)
    if not 16 <= units <= 16384 or int(font["maxp"].numGlyphs) != plain.glyphs:
        return None
    count = plain.glyphs
    font.setGlyphOrder([f"g{i}" for i in range(count)])
    spend(count * _GLYPH_BYTES)
    if "glyf" in plain.tables and "CFF " not in plain.tables:
        box = _glyf_box(font, count, spend)
        return None if box is None else (box, 1.0 / units)
    if "CFF " in plain.tables and "glyf" not in plain.tables:
        return _cff_box(font, units, spend)
    return None


def _union(boxes: Iterable[Bounds]) -> Bounds:
    x0 = y0 = x1 = y1 = 0.0
    for box in boxes:
        x0, y0, x1, y1 = min(x0, box[0]), min(y0, box[1]), max(x1, box[2]), max(y1, box[3])
    return (x0, y0, x1, y1)


def _moved(box: Bounds, matrix: tuple[float, float, float, float], dx: float, dy: float) -> Bounds:
    """The box holding ``box`` through the 2x2 ``matrix`` (xx, xy, yx, yy) and moved."""
    a, b, c, d = matrix
    xs = [a * x + c * y + dx for x in (box[0], box[2]) for y in (box[1], box[3])]
    ys = [b * x + d * y + dy for x in (box[0], box[2]) for y in (box[1], box[3])]
    return (min(xs), min(ys), max(xs), max(ys))


class _Composed:
    """Bounds of glyphs made of own outlines and placed components, each glyph resolved
    once; a glyph that contains itself cannot be told."""

    def __init__(self, parts: Callable[[str], tuple[Bounds | None, list[Any]]]) -> None:
        self._parts = parts
        self._done: dict[str, Bounds] = {}
        self._open: set[str] = set()

    def bounds(self, name: str) -> Bounds:
        if name in self._done:
            return self._done[name]
        if name in self._open:
            raise ValueError(f"the glyph {name} contains itself")
        if len(self._open) >= _MAX_NESTING:
            raise ValueError("components nested too deep")
        self._open.add(name)
        own, components = self._parts(name)
        boxes = [own] if own is not None else []
        for child, matrix, offsets in components:
            inner = self.bounds(child)
            boxes += [_moved(inner, matrix, dx, dy) for dx, dy in offsets]
        self._open.discard(name)
        self._done[name] = _union(boxes)
        return self._done[name]


def _glyf_box(font: Any, count: int, spend: Callable[[int], None]) -> Bounds | None:
    """Every TrueType glyph's points, composites resolved (a component offset scaled by
    its transform or not: readers differ on ``SCALED_COMPONENT_OFFSET``), each simple
    glyph also moved by lsb - xMin as a reader that computes xMin from the points would
    (readers that take the header's xMin do not move it: :mod:`.sfnt` admits only
    lsb = that xMin); None when any glyph reaches past :data:`_MAX_UNITS`. Each component
    is charged :data:`_COMPONENT_BYTES` to ``spend``."""
    glyf = font["glyf"]

    def parts(name: str) -> tuple[Bounds | None, list[Any]]:
        glyph = glyf[name]
        if glyph.numberOfContours > 0:
            coords = glyph.coordinates.array
            if not coords:
                return None, []
            xs, ys = coords[0::2], coords[1::2]
            x0, x1 = min(xs), max(xs)
            shift = glyph.xMin - x0  # lsb - xMin to a reader that computes xMin
            return (min(x0, x0 + shift), min(ys), max(x1, x1 + shift), max(ys)), []
        return None, _components(glyph, spend) if glyph.numberOfContours == -1 else []

    composed = _Composed(parts)
    boxes = []
    for i in range(count):
        box = composed.bounds(f"g{i}")
        glyph = glyf[f"g{i}"]
        if glyph.numberOfContours == -1:  # moved by lsb - xMin, xMin computed (about)
            shift = glyph.xMin - box[0]
            box = _union([box, (box[0] + shift, box[1], box[2] + shift, box[3])])
        boxes.append(box)
    box = _union(boxes)
    return box if all(abs(v) <= _MAX_UNITS for v in box) else None


def _components(glyph: Any, spend: Callable[[int], None]) -> list[Any]:
    """A composite's components: glyph, 2x2 transform, offsets (as given and scaled by
    the transform; each also moved back by the offset of a component whose metrics the
    glyph uses, ``USE_MY_METRICS``, as a reader may place the glyph by that one's: only
    the least and the largest such offset, as the box moved by any other lies between;
    red team 14, r14-05: every one was quadratic in the components). More than
    :data:`_MAX_COMPONENTS` cannot be told; each is charged to ``spend``."""
    components = getattr(glyph, "components", [])
    if len(components) > _MAX_COMPONENTS:
        raise ValueError("a composite of too many components")
    spend(len(components) * _COMPONENT_BYTES)
    found = []
    metrics_from = [0.0]
    for comp in components:
        if hasattr(comp, "firstPt"):  # fontTools keeps no ARGS_ARE_XY_VALUES flag
            raise ValueError("a component placed by point matching")
        matrix = (1.0, 0.0, 0.0, 1.0)
        if hasattr(comp, "transform"):
            (a, b), (c, d) = comp.transform
            matrix = (float(a), float(b), float(c), float(d))
        x, y = float(comp.x), float(comp.y)
        scaled = (matrix[0] * x + matrix[2] * y, matrix[1] * x + matrix[3] * y)
        if comp.flags & _USE_MY_METRICS:
            metrics_from = [min(*metrics_from, x, scaled[0]), max(*metrics_from, x, scaled[0])]
        found.append((comp.glyphName, matrix, [(x, y), scaled]))
    return [
        (child, matrix, [(x - dx, y) for x, y in offsets for dx in metrics_from])
        for child, matrix, offsets in found
    ]


def _cff_box(font: Any, units: int, spend: Callable[[int], None]) -> tuple[Bounds, float] | None:
    """Every CFF charstring run (its bytes, subroutines' included, charged to ``spend``),
    and the size of a font unit in em: the largest of 1/unitsPerEm and the FontMatrix
    scales (top, and each FDArray font's alone and times the top's), a matrix that is
    not a plain scale cannot be told; nor more than :data:`_MAX_FONT_DICTS` FontDicts
    (each charged :data:`_FONT_DICT_BYTES`), nor a point (any a charstring passes
    through, a curve's control points too, or a ``seac`` accent's offset) past
    :data:`_MAX_UNITS`."""
    cff = font["CFF "].cff
    top = cff.topDictIndex[0]
    scales = [1.0 / units]
    top_scale = _scale(getattr(top, "FontMatrix", None))
    if top_scale is None:
        return None
    scales.append(top_scale)
    fonts = getattr(top, "FDArray", None) or []
    if len(fonts) > _MAX_FONT_DICTS:
        return None
    spend(len(fonts) * _FONT_DICT_BYTES)
    for sub in fonts:
        sub_scale = _scale(getattr(sub, "FontMatrix", None))
        if sub_scale is None:
            return None
        scales += [sub_scale, sub_scale * top_scale * 1000.0]
    strings = top.CharStrings

    def parts(name: str) -> tuple[Bounds | None, list[Any]]:
        pen = _BoundsRecorder()
        charstring = strings[name]
        extractor = _CountedExtractor(pen, charstring, spend)
        extractor.execute(charstring)
        return pen.bounds, [(child, (1.0, 0.0, 0.0, 1.0), [offset]) for child, offset in pen.parts]

    composed = _Composed(parts)
    box = _union(composed.bounds(name) for name in top.charset)
    return (box, max(scales)) if all(abs(v) <= _MAX_UNITS for v in box) else None


def _scale(matrix: list[float] | None) -> float | None:
    """The scale of a FontMatrix ``[s 0 0 s 0 0]`` with s > 0 (the default, 0.001, when
    absent); None for any other matrix (a negative s turns glyphs 180°: r13-04)."""
    if matrix is None:
        return 0.001
    if len(matrix) != 6 or any(matrix[i] != 0 for i in (1, 2, 4, 5)) or matrix[0] != matrix[3]:
        return None
    scale = float(matrix[0])
    return scale if 0 < scale < 1 else None


def _pen_types() -> tuple[type, type]:
    from fontTools.misc.psCharStrings import T2OutlineExtractor
    from fontTools.pens.boundsPen import BoundsPen

    return T2OutlineExtractor, BoundsPen


_Extractor, _Pen = _pen_types()


class _BoundsRecorder(_Pen):  # type: ignore[misc,valid-type]
    """The bounds of what a charstring draws, and the glyphs it places (``seac``)."""

    def __init__(self) -> None:
        super().__init__(None)
        self.parts: list[tuple[str, tuple[float, float]]] = []

    def addComponent(self, glyphName: str, transformation: Any) -> None:
        dx, dy = float(transformation[4]), float(transformation[5])
        if not (abs(dx) <= _MAX_UNITS and abs(dy) <= _MAX_UNITS):
            raise ValueError("an accent placed past a half short")
        self.parts.append((glyphName, (dx, dy)))


class _CountedExtractor(_Extractor):  # type: ignore[misc,valid-type]
    """fontTools' charstring interpreter, each charstring and subroutine it runs charged
    by its length, nesting bounded."""

    def __init__(self, pen: Any, charstring: Any, spend: Callable[[int], None]) -> None:
        private = charstring.private
        super().__init__(
            pen,
            getattr(private, "Subrs", []),
            charstring.globalSubrs,
            private.nominalWidthX,
            private.defaultWidthX,
            private,
        )
        self._spend = spend

    def _nextPoint(self, point: Any) -> Any:
        x, y = super()._nextPoint(point)
        if not (abs(x) <= _MAX_UNITS and abs(y) <= _MAX_UNITS):
            raise ValueError("a charstring point past a half short")
        return x, y

    def execute(self, charString: Any) -> None:
        if self.subrLevel > _MAX_SUBR_DEPTH:
            raise ValueError("charstring subroutines nested too deep")
        code = charString.bytecode
        self._spend(_CALL_BYTES + (len(code) if code is not None else len(charString.program)))
        super().execute(charString)
