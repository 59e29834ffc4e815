"""signing/ofd/plainimage.py: what Pillow writes by default passes; each byte-level form
that readers decode apart (red team 11) is named."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image, PngImagePlugin

from signing.ofd.plainimage import plain_problem


def _saved(mode: str, **save: object) -> bytes:
    out = io.BytesIO()
    Image.new(mode, (64, 48), "white").save(out, **save)  # type: ignore[arg-type]
    return out.getvalue()


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png_with(header: bytes) -> bytes:
    """A 2 x 1 PNG with the header fields ``header`` (depth, colour type, ...)."""
    ihdr = _chunk(b"IHDR", struct.pack(">II", 2, 1) + header)
    data = _chunk(b"IDAT", zlib.compress(b"\0" + b"\xff" * 12))
    return b"\x89PNG\r\n\x1a\n" + ihdr + data + _chunk(b"IEND", b"")


PNG_TEXT = PngImagePlugin.PngInfo()
PNG_TEXT.add_text("Software", "scanner")

PLAIN = [
    pytest.param("PNG", _saved(mode, format="PNG"), id=f"png-{mode}")
    for mode in ("RGB", "RGBA", "L", "LA", "P", "1")
] + [
    pytest.param("PNG", _saved("RGB", format="PNG", dpi=(300, 300)), id="png-dpi"),
    pytest.param("PNG", _saved("RGB", format="PNG", pnginfo=PNG_TEXT), id="png-text"),
    pytest.param("JPEG", _saved("RGB", format="JPEG"), id="jpeg-rgb"),
    pytest.param("JPEG", _saved("L", format="JPEG"), id="jpeg-grey"),
    pytest.param("JPEG", _saved("RGB", format="JPEG", progressive=True), id="jpeg-progressive"),
    pytest.param("JPEG", _saved("RGB", format="JPEG", dpi=(300, 300)), id="jpeg-dpi"),
]


@pytest.mark.parametrize(("kind", "data"), PLAIN)
def test_what_pillow_writes_by_default_is_plain(kind: str, data: bytes) -> None:
    assert plain_problem(kind, data) is None


_RGB = _saved("RGB", format="PNG")
_JPEG = _saved("RGB", format="JPEG")
_APP0_END = 4 + int.from_bytes(_JPEG[4:6], "big")


_PROGRESSIVE = _saved("RGB", format="JPEG", progressive=True)
_LAST_SCAN = _PROGRESSIVE[_PROGRESSIVE.rfind(b"\xff\xda") : -2]


def _segment(marker: int, body: bytes) -> bytes:
    return bytes([0xFF, marker]) + (len(body) + 2).to_bytes(2, "big") + body


NOT_PLAIN = [
    ("PNG", _RGB[:33] + _chunk(b"sRGB", b"\0") + _chunk(b"sRGB", b"\0") + _RGB[33:], "twice"),
    ("PNG", _RGB[:33] + _chunk(b"bKGD", bytes(6)) + _RGB[33:], "chunk bKGD"),
    ("PNG", _RGB[:33] + _chunk(b"sBIT", b"\5\5\5") + _RGB[33:], "chunk sBIT"),
    ("PNG", _RGB[:-12] + _chunk(b"pHYs", bytes(9)) + _RGB[-12:], "belongs before"),
    ("PNG", _RGB[:-1] + bytes([_RGB[-1] ^ 1]), "wrong CRC"),
    ("PNG", _RGB + b"\0", "after its end"),
    ("PNG", _RGB[:-12], "cut short"),
    ("PNG", _png_with(bytes([16, 2, 0, 0, 0])), "16-bit samples"),
    ("PNG", _png_with(bytes([16, 0, 0, 0, 0])), "16-bit samples"),
    ("PNG", _png_with(bytes([8, 2, 0, 0, 1])), "interlaced"),
    ("PNG", _png_with(bytes([8, 3, 0, 0, 0])), "palette"),
    ("JPEG", _JPEG[:_APP0_END] + _segment(0xE1, b"Exif\0\0") + _JPEG[_APP0_END:], "FFE1"),
    ("JPEG", _JPEG[:_APP0_END] + _segment(0xEE, b"Adobe" + bytes(7)) + _JPEG[_APP0_END:], "FFEE"),
    ("JPEG", _JPEG[:_APP0_END] + _segment(0xE0, b"JFIF\0" + bytes(9)) + _JPEG[_APP0_END:], "APP0"),
    ("JPEG", _JPEG[:2] + _JPEG[_APP0_END:], "not declared JFIF"),
    ("JPEG", _JPEG + b"\0", "after its end"),
    ("JPEG", _JPEG[:-2], "cut short"),
    # red team 11, r11-11: a refinement scan repeated, each a pass over the whole picture
    ("JPEG", _PROGRESSIVE[:-2] + _LAST_SCAN * 20 + b"\xff\xd9", "more than 16 scans"),
    ("GIF", _saved("P", format="GIF"), "not PNG or JPEG"),
]


@pytest.mark.parametrize(("kind", "data", "reason"), NOT_PLAIN)
def test_what_readers_may_decode_apart_is_named(kind: str, data: bytes, reason: str) -> None:
    assert reason in (plain_problem(kind, data) or "")
