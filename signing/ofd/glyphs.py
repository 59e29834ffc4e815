"""Text of a certified OFD copy drawn as glyph outlines (OFD ``AbbreviatedData`` paths).

The 加注 is drawn with the outlines of the shipped CJK font (:mod:`signing.copies.font`)
rather than as ``TextObject`` s: text needs a font resource, and resources are declared in
parts the issuer's seal covers (``PublicRes``/``DocumentRes``), which a copy must not
change. Paths need no resource; what the text says stays machine-readable in the
annotation's ``Remark`` and ``Parameters`` and in the copy's attached ``evault-copy.json``.

A glyph's outline is converted once per process (TrueType quadratic splines become OFD
``Q`` segments, in font units) and drawn by one ``PathObject`` whose ``CTM`` scales it.
"""

from __future__ import annotations

import threading
from functools import cache
from typing import Any

from fontTools.pens.basePen import BasePen

from signing.copies.font import CjkFont, default_font

__all__ = ["GlyphPainter"]


class _OfdPen(BasePen):
    """Collects an outline as OFD path commands (font units, y up)."""

    def __init__(self, glyph_set: Any) -> None:
        super().__init__(glyph_set)
        self.out: list[str] = []

    def _moveTo(self, pt: tuple[float, float]) -> None:
        self.out.append(f"M {_n(pt[0])} {_n(pt[1])}")

    def _lineTo(self, pt: tuple[float, float]) -> None:
        self.out.append(f"L {_n(pt[0])} {_n(pt[1])}")

    def _qCurveToOne(self, pt1: tuple[float, float], pt2: tuple[float, float]) -> None:
        self.out.append(f"Q {_n(pt1[0])} {_n(pt1[1])} {_n(pt2[0])} {_n(pt2[1])}")

    def _curveToOne(
        self, pt1: tuple[float, float], pt2: tuple[float, float], pt3: tuple[float, float]
    ) -> None:
        coords = " ".join(f"{_n(x)} {_n(y)}" for x, y in (pt1, pt2, pt3))
        self.out.append(f"B {coords}")

    def _closePath(self) -> None:
        self.out.append("C")


def _n(value: float) -> str:
    """A coordinate in font units, rounded to a whole unit (1/1000 em: far below what a
    2-3 mm character shows)."""
    return str(round(value))


class GlyphPainter:
    """Draws text as OFD path objects with one font (outlines cached per glyph)."""

    def __init__(self, font: CjkFont | None = None) -> None:
        from fontTools.ttLib import TTFont

        self.font = font or default_font()
        tt = TTFont(str(self.font.path), lazy=True)
        self._glyph_set = tt.getGlyphSet()
        self._names = tt.getGlyphOrder()
        self.units = int(tt["head"].unitsPerEm)
        self.ascent = int(tt["hhea"].ascent)
        self.descent = int(tt["hhea"].descent)
        self._lock = threading.Lock()
        self._outline = cache(self._draw)

    def _draw(self, gid: int) -> str:
        pen = _OfdPen(self._glyph_set)
        with self._lock:  # fontTools reads its lazily loaded tables on first use
            self._glyph_set[self._names[gid]].draw(pen)
        return " ".join(pen.out)

    def forget(self) -> None:
        """Drop the outlines converted so far (benchmarks: a cold, uncached painter)."""
        self._outline.cache_clear()

    def outline(self, ch: str) -> str:
        """The outline of ``ch`` in font units, y up ("" for a blank such as a space)."""
        return str(self._outline(self.font.glyph_ids(ch)[0]))

    def text(
        self, text: str, x: float, baseline: float, size: float, *, fill: str, next_id: Any
    ) -> list[str]:
        """``PathObject`` elements showing ``text`` from ``x`` on ``baseline`` (mm, y down),
        ``size`` mm high, filled with the RGB colour ``fill`` ("r g b", 0-255);
        ``next_id()`` gives each object's ID."""
        scale = size / self.units
        top = baseline - self.ascent * scale
        height = (self.ascent - self.descent) * scale
        out = []
        pos = x
        for ch in text:
            advance = self.font.width(ch, size)
            path = self.outline(ch)
            if path:
                out.append(
                    f'<ofd:PathObject ID="{next_id()}" Boundary="{_mm(pos)} {_mm(top)} '
                    f'{_mm(advance)} {_mm(height)}" CTM="{scale:.6g} 0 0 {-scale:.6g} 0 '
                    f'{_mm(self.ascent * scale)}" Stroke="false" Fill="true">'
                    f'<ofd:FillColor Value="{fill}"/>'
                    f"<ofd:AbbreviatedData>{path}</ofd:AbbreviatedData></ofd:PathObject>"
                )
            pos += advance
        return out


def _mm(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".") or "0"
