"""Scans a receiving window hands in: small JPEG and PNG images drawn with Pillow."""

from __future__ import annotations

import functools
import io

__all__ = ["scan_jpeg", "scan_png"]


def _image(seed: int, mode: str) -> object:
    from PIL import Image, ImageDraw

    image = Image.new(mode, (640, 404), "white")  # an ID card's proportions
    draw = ImageDraw.Draw(image)
    draw.rectangle((20, 20, 619, 383), outline="black", width=4)
    draw.rectangle((440, 80, 580, 260), fill=(120, 120, 120) if mode != "L" else 120)
    for row in range(6):
        end = 40 + 60 * ((seed + row) % 6 + 1)
        draw.line((40, 80 + 30 * row, end, 80 + 30 * row), fill="black", width=6)
    return image


@functools.cache
def scan_jpeg(seed: int = 0) -> bytes:
    """A JPEG 'scan' (different bytes for each ``seed``)."""
    out = io.BytesIO()
    _image(seed, "RGB").save(out, format="JPEG", quality=85)  # type: ignore[attr-defined]
    return out.getvalue()


@functools.cache
def scan_png(seed: int = 0, mode: str = "RGBA") -> bytes:
    """A PNG 'scan' (``mode``: RGBA, RGB, L, P ...)."""
    out = io.BytesIO()
    image = _image(seed, "RGB" if mode != "L" else "L")
    image.convert(mode).save(out, format="PNG")  # type: ignore[attr-defined]
    return out.getvalue()
