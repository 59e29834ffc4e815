"""The CJK font of certified copies: parsed once per process, cut per copy by byte slicing.

The shipped font (``signing/fonts/NotoSansSC-Regular-GB2312.ttf``, see its README) is a
TrueType (``glyf``) subset of Noto Sans CJK SC: GB 2312's 6,763 hanzi, ASCII and
punctuation, ~2 MB. Embedding all of it in every copy would add ~1 MB per copy, and
running a font subsetter per copy costs hundreds of milliseconds. Instead:

- at load (once per process): the table directory, ``loca`` offsets, ``hmtx`` advances,
  the cmap and the raw bytes of every small table are read, and the parts of the font
  program that never change (header, ``head``, ``hhea``, ``maxp``, ``hmtx``) are kept;
- per copy (:meth:`CjkFont.program`): a TrueType file holding only the glyphs the copy's
  text uses, renumbered 0..n in the order given (glyph 0 is .notdef), built by slicing
  bytes — no outline is parsed. The PDF font uses CID = that new glyph id
  (``/CIDToGIDMap /Identity``), so a copy embeds ~20 KB of font instead of ~1 MB.

A character outside the font is refused (:class:`signing.errors.SealingError` naming it):
a certified copy must say exactly what was asked, so no character is silently dropped or
replaced. :meth:`CjkFont.missing` lets a caller check a text before asking for a copy.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from fontTools.ttLib import TTFont, TTLibError

from signing.errors import SealingError

__all__ = ["DEFAULT_FONT", "CjkFont", "default_font"]

DEFAULT_FONT = Path(__file__).resolve().parent.parent / "fonts" / "NotoSansSC-Regular-GB2312.ttf"
"""The shipped Noto Sans SC subset."""

# Tables a CIDFontType2 program needs (ISO 32000-1 9.9): no cmap (CIDToGIDMap does it),
# no name/post/OS/2.
_KEPT_TABLES = ("head", "hhea", "maxp", "cvt ", "fpgm", "prep")


def _checksum(data: bytes) -> int:
    padded = data + b"\0" * (-len(data) % 4)
    return sum(struct.unpack(f">{len(padded) // 4}I", padded)) & 0xFFFFFFFF


@dataclass(frozen=True)
class FontMetrics:
    """Values of the PDF FontDescriptor, in 1/1000 em."""

    ascent: int
    descent: int
    cap_height: int
    bbox: tuple[int, int, int, int]


class CjkFont:
    """A TrueType font loaded once; per copy it yields the program for the glyphs used."""

    def __init__(self, path: Path = DEFAULT_FONT) -> None:
        try:
            data = path.read_bytes()
            font = TTFont(str(path), lazy=True)
            cmap = font.getBestCmap()
            head = font["head"]
            hhea = font["hhea"]
            os2 = font["OS/2"]
            num_glyphs = font["maxp"].numGlyphs
            hmtx = font["hmtx"]
            order = font.getGlyphOrder()
            units = head.unitsPerEm
            loc_format = head.indexToLocFormat
            name = font["name"].getDebugName(6) or "CJKFont"
        except (OSError, TTLibError, KeyError, AttributeError) as exc:
            raise SealingError(f"cannot load the copy font {path}: {exc}") from None
        if "glyf" not in font:
            raise SealingError(f"the copy font {path} is not a TrueType (glyf) font")
        self.path = path
        self.postscript_name = name.replace(" ", "")
        self._data = data
        self._tables = self._table_directory(data)
        self._scale = 1000 / units
        order_index = {g: i for i, g in enumerate(order)}
        self.cmap: dict[int, int] = {cp: order_index[g] for cp, g in cmap.items()}
        self.advances: list[int] = [
            round(hmtx.metrics[g][0] * self._scale) for g in order[:num_glyphs]
        ]
        self.num_glyphs = num_glyphs
        self.metrics = FontMetrics(
            ascent=round(hhea.ascent * self._scale),
            descent=round(hhea.descent * self._scale),
            cap_height=round(getattr(os2, "sCapHeight", 0) * self._scale) or 733,
            bbox=(
                round(head.xMin * self._scale),
                round(head.yMin * self._scale),
                round(head.xMax * self._scale),
                round(head.yMax * self._scale),
            ),
        )
        loca_off, loca_len = self._tables["loca"]
        if loc_format == 0:
            self._loca = [2 * v for v in struct.unpack_from(f">{loca_len // 2}H", data, loca_off)]
        else:
            self._loca = list(struct.unpack_from(f">{loca_len // 4}I", data, loca_off))
        self._glyf_offset = self._tables["glyf"][0]
        self._fixed = self._fixed_tables()
        self._hmetrics = self._long_metrics()
        self._check_simple_glyphs()

    @staticmethod
    def _table_directory(data: bytes) -> dict[str, tuple[int, int]]:
        (count,) = struct.unpack_from(">H", data, 4)
        tables = {}
        for i in range(count):
            tag, _, offset, length = struct.unpack_from(">4sIII", data, 12 + 16 * i)
            tables[tag.decode("latin-1")] = (offset, length)
        return tables

    def _raw(self, tag: str) -> bytes:
        offset, length = self._tables[tag]
        return self._data[offset : offset + length]

    def _fixed_tables(self) -> dict[str, bytes]:
        out = {}
        for tag in _KEPT_TABLES:
            if tag in self._tables:
                raw = self._raw(tag)
                if tag == "head":
                    # checkSumAdjustment zeroed (viewers ignore it); loca format set per copy
                    raw = raw[:8] + b"\0\0\0\0" + raw[12:]
                out[tag] = raw
        return out

    def _long_metrics(self) -> list[bytes]:
        """Each glyph's (advanceWidth, lsb) as the 4 bytes of a longHorMetric."""
        raw = self._raw("hmtx")
        (long_count,) = struct.unpack_from(">H", self._raw("hhea"), 34)
        out = [raw[4 * i : 4 * i + 4] for i in range(long_count)]
        last_advance = out[-1][:2]
        lsb_base = 4 * long_count
        for i in range(self.num_glyphs - long_count):
            out.append(last_advance + raw[lsb_base + 2 * i : lsb_base + 2 * i + 2])
        return out

    # -- text ---------------------------------------------------------------------------

    def missing(self, text: str) -> str:
        """The characters of ``text`` this font cannot show (in order, each once)."""
        seen: dict[str, None] = {}
        for ch in text:
            if ord(ch) not in self.cmap and ch not in seen:
                seen[ch] = None
        return "".join(seen)

    def glyph_ids(self, text: str, *, field: str = "text") -> list[int]:
        """Glyph ids for ``text``; a character outside the font raises SealingError."""
        cmap = self.cmap
        try:
            return [cmap[ord(ch)] for ch in text]
        except KeyError:
            bad = self.missing(text)
            shown = ", ".join(f"U+{ord(c):04X} {c!r}" for c in bad[:5])
            raise SealingError(
                f"{field} has characters the copy font cannot show: {shown} "
                "(the font covers GB 2312 hanzi, ASCII and common punctuation)"
            ) from None

    def width(self, text: str, size: float) -> float:
        """Advance width of ``text`` at ``size`` points (characters outside count 1 em)."""
        cmap, adv = self.cmap, self.advances
        total = 0
        for ch in text:
            gid = cmap.get(ord(ch))
            total += adv[gid] if gid is not None else 1000
        return total * size / 1000

    # -- font program ---------------------------------------------------------------------

    def _check_simple_glyphs(self) -> None:
        """Renumbering glyphs per copy needs glyphs without components (cu2qu output)."""
        data, base, loca = self._data, self._glyf_offset, self._loca
        for gid in range(self.num_glyphs):
            if loca[gid + 1] - loca[gid] >= 10:
                (contours,) = struct.unpack_from(">h", data, base + loca[gid])
                if contours < 0:
                    raise SealingError(
                        f"the copy font {self.path} has composite glyphs (glyph {gid}): "
                        "build it with signing/fonts/build_subset.py"
                    )

    def program(self, order: Sequence[int]) -> bytes:
        """A TrueType file whose glyph ``i`` is this font's glyph ``order[i]``.

        ``order[0]`` must be 0 (.notdef). Takes well under a millisecond: bytes are sliced
        and a few small tables rebuilt, no outline is parsed.
        """
        if not order or order[0] != 0:
            raise SealingError("a font program starts with glyph 0 (.notdef)")
        data, base, loca, metrics = self._data, self._glyf_offset, self._loca, self._hmetrics
        pieces = []
        offsets = [0]
        size = 0
        for gid in order:
            piece = data[base + loca[gid] : base + loca[gid + 1]]
            pad = -len(piece) % 4
            if pad:
                piece += b"\0" * pad
            pieces.append(piece)
            size += len(piece)
            offsets.append(size)
        count = len(order)
        tables = dict(self._fixed)
        tables["glyf"] = b"".join(pieces)
        head, hhea, maxp = tables["head"], tables["hhea"], tables["maxp"]
        if size < 0x20000:  # short loca: offsets / 2 in 16 bits (offsets are even)
            tables["loca"] = struct.pack(f">{count + 1}H", *(o >> 1 for o in offsets))
            tables["head"] = head[:50] + b"\0\0" + head[52:]
        else:
            tables["loca"] = struct.pack(f">{count + 1}I", *offsets)
            tables["head"] = head[:50] + b"\0\1" + head[52:]
        tables["hmtx"] = b"".join(metrics[g] for g in order)
        tables["hhea"] = hhea[:34] + struct.pack(">H", count) + hhea[36:]
        tables["maxp"] = maxp[:4] + struct.pack(">H", count) + maxp[6:]
        return _sfnt(tables)


def _sfnt(tables: dict[str, bytes]) -> bytes:
    """Assemble an sfnt (TrueType) file from raw tables."""
    tags = sorted(tables)
    count = len(tags)
    entry_selector = max(count.bit_length() - 1, 0)
    search_range = (1 << entry_selector) * 16
    header = struct.pack(
        ">IHHHH", 0x00010000, count, search_range, entry_selector, count * 16 - search_range
    )
    directory = bytearray()
    body = bytearray()
    offset = 12 + 16 * count
    for tag in tags:
        raw = tables[tag]
        directory += struct.pack(
            ">4sIII", tag.encode("latin-1"), _checksum(raw), offset + len(body), len(raw)
        )
        body += raw + b"\0" * (-len(raw) % 4)
    return header + bytes(directory) + bytes(body)


@cache
def default_font() -> CjkFont:
    """The shipped font, loaded once per process."""
    return CjkFont(DEFAULT_FONT)
