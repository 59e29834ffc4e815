"""Whether a PNG or JPEG file holds only what every reader decodes alike.

Readers disagree on much a file may carry besides its pixels (red team 11): a 16-bit
PNG's ``tRNS`` key (Pillow matches it on 8-bit values, libpng and Java ImageIO on 16,
r11-02), ``tRNS`` written twice or before ``PLTE`` (Pillow applies it, libpng ignores it,
r11-03), ``cHRM`` primaries (Chromium colour-manages them, r11-04), a JPEG's ICC profile
written twice (Pillow drops it, Chromium applies it, r11-07), two ``gAMA`` chunks (Pillow
keeps the last, Chromium the first, r11-08). So the raw bytes are read against a short
list of what every reader decodes alike, before Pillow decodes anything; anything else is
a reason, and the background is not blank paper.

PNG: the chunks ``IHDR``, ``PLTE`` (palette images only), ``IDAT``, ``IEND`` and those that
cannot change a pixel (``sRGB``, ``pHYs``, ``tEXt``, ``zTXt``, ``iTXt``, ``tIME``), each but
``IDAT`` at most once, in the PNG order, with valid CRCs and nothing after ``IEND``; bit
depth 8 (or less for grey and palette images), no interlace. No ``tRNS``, ``gAMA``,
``cHRM``, ``iCCP``, ``sBIT``, ``bKGD``, ``acTL``/``fcTL``, ``eXIf`` or any other chunk.

JPEG: ``SOI``, one ``APP0`` JFIF right after it (where readers take the colours for
YCbCr), ``DQT``, ``DHT``, one ``SOF0``/``SOF1``/``SOF2`` frame of 8-bit samples and 1 or 3
components, ``DRI``, ``SOS`` and its data (``RSTn`` within), ``COM``, ``EOI`` and nothing
after it. No ``APP1`` (EXIF, XMP), ``APP2`` (ICC), ``APP14`` (Adobe) or any other marker.
"""

from __future__ import annotations

import zlib

__all__ = ["plain_problem"]

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_TEXT = frozenset({b"tEXt", b"zTXt", b"iTXt", b"tIME"})
"""Chunks that may lie anywhere between ``IHDR`` and ``IEND``."""
_PNG_BEFORE_DATA = frozenset({b"PLTE", b"sRGB", b"pHYs"})
"""Chunks that must come before the first ``IDAT``."""
_PNG_KEPT = frozenset({b"IHDR", b"IDAT", b"IEND"}) | _PNG_TEXT | _PNG_BEFORE_DATA
_PNG_DEPTHS = {0: (1, 2, 4, 8), 2: (8,), 3: (1, 2, 4, 8), 4: (8,), 6: (8,)}
"""Colour type -> the bit depths kept (grey, RGB, palette, grey + alpha, RGBA)."""

_JPEG_FRAMES = frozenset({0xC0, 0xC1, 0xC2})
_JPEG_KEPT = frozenset({0xE0, 0xDB, 0xC4, 0xDD, 0xDA, 0xFE}) | _JPEG_FRAMES
"""Segments kept: APP0, DQT, DHT, DRI, SOS, COM and the frames."""
_JPEG_MAX_SCANS = 16
"""Scans a background JPEG may have: one for a baseline, 3 for one not interleaved, about
10 for a progressive one as encoders write it. Each scan is a pass over the whole picture:
one 59-byte refinement scan repeated 1,000 times in a 16 KB OFD cost 25 s to make a copy
and 28-37 s to verify it (red team 11, r11-11)."""


def plain_problem(kind: str, data: bytes) -> str | None:
    """Why the file ``data`` (Pillow's format ``kind``: PNG or JPEG) may carry what
    readers decode otherwise than one another; None when it holds only what each decodes
    alike."""
    if kind == "PNG":
        return _png_problem(data)
    if kind == "JPEG":
        return _jpeg_problem(data)
    return f"the background image is {kind}, not PNG or JPEG"


def _png_problem(data: bytes) -> str | None:
    if not data.startswith(_PNG_SIGNATURE):
        return "the background PNG has no PNG signature"
    chunks: list[tuple[bytes, bytes]] = []
    pos = len(_PNG_SIGNATURE)
    while not chunks or chunks[-1][0] != b"IEND":
        length = int.from_bytes(data[pos : pos + 4], "big")
        end = pos + 12 + length
        if end > len(data) or length >= 2**31:
            return "the background PNG is cut short"
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : end - 4]
        if kind not in _PNG_KEPT:
            return f"the background PNG has the chunk {_name(kind)} (readers differ on it)"
        if zlib.crc32(kind + body) != int.from_bytes(data[end - 4 : end], "big"):
            return f"the background PNG's {_name(kind)} chunk has a wrong CRC"
        chunks.append((kind, body))
        pos = end
    if pos != len(data):
        return "the background PNG has bytes after its end"
    return _png_order_problem(chunks)


def _png_order_problem(chunks: list[tuple[bytes, bytes]]) -> str | None:
    kinds = [kind for kind, _ in chunks]
    if kinds[0] != b"IHDR" or len(chunks[0][1]) != 13:
        return "the background PNG does not begin with its header"
    for kind in set(kinds) - {b"IDAT"}:
        if kinds.count(kind) > 1:
            return f"the background PNG has its {_name(kind)} chunk twice"
    if b"IDAT" not in kinds:
        return "the background PNG has no image data"
    first = kinds.index(b"IDAT")
    last = len(kinds) - 1 - kinds[::-1].index(b"IDAT")
    if any(kind != b"IDAT" for kind in kinds[first:last]):
        return "the background PNG's image data is split by other chunks"
    if any(kind in _PNG_BEFORE_DATA for kind in kinds[last:]):
        return "the background PNG has a chunk after its image data that belongs before it"
    if b"sRGB" in kinds and b"PLTE" in kinds and kinds.index(b"sRGB") > kinds.index(b"PLTE"):
        return "the background PNG has its sRGB chunk after its palette"
    if chunks[-1][1]:
        return "the background PNG's end chunk is not empty"
    body = dict(chunks)
    if b"sRGB" in body and (len(body[b"sRGB"]) != 1 or body[b"sRGB"][0] > 3):
        return "the background PNG's sRGB chunk is malformed"
    return _png_header_problem(chunks[0][1], body.get(b"PLTE"))


def _png_header_problem(header: bytes, palette: bytes | None) -> str | None:
    width, height = int.from_bytes(header[0:4], "big"), int.from_bytes(header[4:8], "big")
    depth, colour, compression, filtering, interlace = header[8:13]
    if not (0 < width < 2**31 and 0 < height < 2**31) or compression or filtering:
        return "the background PNG's header is malformed"
    if depth not in _PNG_DEPTHS.get(colour, ()):
        return f"the background PNG has {depth}-bit samples of colour type {colour}"
    if interlace:
        return "the background PNG is interlaced"
    if (palette is not None) != (colour == 3):
        return "the background PNG has a palette where it draws none, or none where it does"
    if palette is not None and not (0 < len(palette) <= 3 * 2**depth and len(palette) % 3 == 0):
        return "the background PNG's palette is malformed"
    return None


def _jpeg_problem(data: bytes) -> str | None:
    if not data.startswith(b"\xff\xd8"):
        return "the background JPEG does not begin with SOI"
    pos, segments, frame, scans = 2, 0, b"", 0
    while True:
        if pos + 2 > len(data) or data[pos] != 0xFF:
            return "the background JPEG is cut short or has bytes between its segments"
        marker = data[pos + 1]
        if marker == 0xD9:
            break
        if marker not in _JPEG_KEPT:
            return f"the background JPEG has the marker FF{marker:02X} (readers differ on it)"
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        body, pos = data[pos + 4 : pos + 2 + length], pos + 2 + length
        if length < 2 or pos > len(data):
            return "the background JPEG is cut short"
        if marker == 0xE0 and (segments or not body.startswith(b"JFIF\0")):
            return "the background JPEG has an APP0 other than one JFIF right after SOI"
        if marker in _JPEG_FRAMES:
            if frame or len(body) < 6:
                return "the background JPEG has more than one frame, or a malformed one"
            frame = body
        if marker == 0xDA:
            if not frame:
                return "the background JPEG has a scan before its frame"
            scans += 1
            if scans > _JPEG_MAX_SCANS:
                return f"the background JPEG has more than {_JPEG_MAX_SCANS} scans"
            pos = _scan_end(data, pos)
        segments += 1
    if pos + 2 != len(data):
        return "the background JPEG has bytes after its end"
    return _jpeg_frame_problem(frame, scans, data[2:4] == b"\xff\xe0")


def _scan_end(data: bytes, pos: int) -> int:
    """Where the entropy-coded data from ``pos`` ends: the next marker but a stuffed zero
    byte or a restart (RSTn); the file's length when there is none."""
    while True:
        pos = data.find(b"\xff", pos)
        if pos < 0 or pos + 1 >= len(data):
            return len(data)
        if data[pos + 1] == 0 or 0xD0 <= data[pos + 1] <= 0xD7:
            pos += 2
        else:
            return pos


def _jpeg_frame_problem(frame: bytes, scans: int, jfif: bool) -> str | None:
    if not frame or not scans:
        return "the background JPEG has no frame or no scan"
    if frame[0] != 8:
        return f"the background JPEG has {frame[0]}-bit samples"
    if frame[5] not in (1, 3):
        return f"the background JPEG has {frame[5]} colour components"
    if frame[5] == 3 and not jfif:
        return "the background JPEG's colours are not declared JFIF (readers guess them)"
    return None


def _name(kind: bytes) -> str:
    return kind.decode("ascii") if kind.isalpha() else kind.hex()
