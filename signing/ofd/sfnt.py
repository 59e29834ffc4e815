"""Whether an embedded font file is plain enough that every reader reads it alike, told
from its raw bytes before fontTools parses anything (red team 13).

fontTools, FreeType (and the commercial OFD readers built on it) and ofdrw's own
TrueType parser (its viewer) each read an sfnt file their own way where the file is
ambiguous: a tag listed twice in the table directory (fontTools and ofdrw take the last
entry, FreeType the first: r13-08), a ``loca`` longer than ``maxp`` says (fontTools
decodes every entry: r13-02, a DoS), a glyph whose ``numberOfContours`` is below -1 (a
composite to FreeType and ofdrw, points to fontTools: r13-06), a glyph whose ``hmtx``
left side bearing differs from its header's xMin (FreeType and ofdrw draw the outline
moved by lsb - xMin: r13-01). :func:`plain_sfnt` admits only a file none of that applies
to; the glyphs' points and the CFF FontMatrix are checked as :mod:`signing.ofd.fonts`
reads them. Everything here is linear in the file's size, which the caller charges first.
"""

from __future__ import annotations

import itertools
import struct
from typing import NamedTuple

__all__ = ["MAX_TABLES", "Sfnt", "plain_sfnt"]

MAX_TABLES = 64
"""Tables a plain font may list (a full CJK font lists about 20)."""
_VERSIONS = frozenset({b"\x00\x01\x00\x00", b"true", b"OTTO"})
"""One font of TrueType or CFF outlines (no collection, no WOFF wrapper)."""


class Sfnt(NamedTuple):
    """What the raw bytes of an admitted font say: its tables (tag -> offset, length),
    its glyph count, for TrueType outlines each glyph's left side bearing, and whether any
    glyph carries TrueType instructions (a hinting reader runs them: red team 14, r14-08)."""

    tables: dict[str, tuple[int, int]]
    glyphs: int
    bearings: tuple[int, ...]
    instructed: bool = False


def plain_sfnt(data: bytes) -> Sfnt | None:
    """The font ``data`` as its raw bytes say, or None when readers may read it otherwise:
    not one sfnt font; a table directory that repeats a tag, lists more than
    :data:`MAX_TABLES` tables or has entries overlapping or outside the file; for TrueType
    outlines, a ``loca`` that is not (numGlyphs + 1) entries rising within ``glyf``, an
    ``hmtx`` shorter than ``hhea`` and ``maxp`` say, a glyph shorter than its header, whose
    numberOfContours is below -1, or whose left side bearing is not its header's xMin."""
    tables = _directory(data)
    if tables is None or "maxp" not in tables or "head" not in tables:
        return None
    maxp, head = _table(data, tables, "maxp"), _table(data, tables, "head")
    if len(maxp) < 6 or len(head) < 54:
        return None
    glyphs = struct.unpack_from(">H", maxp, 4)[0]
    if "glyf" not in tables:
        return Sfnt(tables, glyphs, ())
    bearings = _bearings(data, tables, glyphs)
    offsets = _offsets(data, tables, glyphs, struct.unpack_from(">h", head, 50)[0])
    if bearings is None or offsets is None:
        return None
    glyf = _table(data, tables, "glyf")
    instructed = False
    for index in range(glyphs):
        start, end = offsets[index], offsets[index + 1]
        if start == end:
            continue  # an empty glyph: nothing drawn
        if end - start < 10:
            return None
        contours, x_min = struct.unpack_from(">hh", glyf, start)
        if contours < -1 or x_min != bearings[index]:
            return None
        if not instructed:
            instructed = _instructed(glyf[start:end], contours)
    return Sfnt(tables, glyphs, bearings, instructed)


def _instructed(glyph: bytes, contours: int) -> bool:
    """Whether the glyph data ``glyph`` carries instructions (a simple glyph's
    instructionLength, a composite's WE_HAVE_INSTRUCTIONS flag); True when that cannot be
    read (a reader may find some)."""
    if contours >= 0:
        at = 10 + 2 * contours
        return len(glyph) < at + 2 or struct.unpack_from(">H", glyph, at)[0] != 0
    at, more = 10, True
    while more:
        if len(glyph) < at + 4:
            return True
        flags = struct.unpack_from(">H", glyph, at)[0]
        if flags & 0x0100:  # WE_HAVE_INSTRUCTIONS
            return True
        at += 4 + (4 if flags & 0x0001 else 2)  # ARG_1_AND_2_ARE_WORDS
        at += 2 if flags & 0x0008 else 4 if flags & 0x0040 else 8 if flags & 0x0080 else 0
        more = bool(flags & 0x0020)  # MORE_COMPONENTS
    return False


def _directory(data: bytes) -> dict[str, tuple[int, int]] | None:
    if len(data) < 12 or data[:4] not in _VERSIONS:
        return None
    count = struct.unpack_from(">H", data, 4)[0]
    end_of_directory = 12 + 16 * count
    if not 0 < count <= MAX_TABLES or end_of_directory > len(data):
        return None
    tables: dict[str, tuple[int, int]] = {}
    for i in range(count):
        tag, _, offset, length = struct.unpack_from(">4sIII", data, 12 + 16 * i)
        name = tag.decode("latin-1")
        if name in tables or offset < end_of_directory or offset + length > len(data):
            return None
        tables[name] = (offset, length)
    spans = sorted(tables.values())
    if any(a + la > b for (a, la), (b, _) in itertools.pairwise(spans)):
        return None
    return tables


def _table(data: bytes, tables: dict[str, tuple[int, int]], tag: str) -> bytes:
    offset, length = tables[tag]
    return data[offset : offset + length]


def _bearings(
    data: bytes, tables: dict[str, tuple[int, int]], glyphs: int
) -> tuple[int, ...] | None:
    """Each glyph's hmtx left side bearing; None when hhea or hmtx cannot give them."""
    if "hhea" not in tables or "hmtx" not in tables:
        return None
    hhea, hmtx = _table(data, tables, "hhea"), _table(data, tables, "hmtx")
    if len(hhea) < 36:
        return None
    metrics = struct.unpack_from(">H", hhea, 34)[0]
    if not 1 <= metrics <= glyphs or len(hmtx) < 4 * metrics + 2 * (glyphs - metrics):
        return None  # a longer hmtx (padding) is read alike
    pairs = struct.unpack_from(f">{2 * metrics}h", hmtx, 0)
    rest = struct.unpack_from(f">{glyphs - metrics}h", hmtx, 4 * metrics)
    return tuple(pairs[1::2]) + rest


def _offsets(
    data: bytes, tables: dict[str, tuple[int, int]], glyphs: int, loc_format: int
) -> tuple[int, ...] | None:
    """Each glyph's offset in glyf and the end of the last; None unless loca is exactly
    numGlyphs + 1 entries, rising, within glyf."""
    if "loca" not in tables or loc_format not in (0, 1):
        return None
    loca = _table(data, tables, "loca")
    size = 4 if loc_format else 2
    if len(loca) != (glyphs + 1) * size:
        return None
    values = struct.unpack(f">{glyphs + 1}{'I' if loc_format else 'H'}", loca)
    offsets = values if loc_format else tuple(2 * v for v in values)
    if any(a > b for a, b in itertools.pairwise(offsets)):
        return None
    if offsets[-1] > tables["glyf"][1]:
        return None
    return offsets
