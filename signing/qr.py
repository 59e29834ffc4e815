"""QR codes as PDF vector graphics: crisp at any zoom, a few hundred bytes.

:func:`qr_matrix` encodes text with the ``qrcode`` library (byte mode, error correction M)
and :func:`qr_content` turns the modules into PDF path operators: each horizontal run of
dark modules is one rectangle, all filled at once.

The mask pattern is fixed (pattern 0) instead of searched: the search scores all eight masks
in pure Python and costs ~9 ms of a ~11 ms encode; any mask decodes equally well, the search
only lowers a readability penalty that matters for poor prints of large symbols.

The codewords (byte mode, version choice, padding, Reed-Solomon error correction) are
computed here with GF(256) log tables (:func:`codewords`): the ``qrcode`` library's
polynomial division takes ~60% of its encode time. The library still places the modules
(function patterns, format information, masking).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import qrcode
from qrcode import base as qr_base
from qrcode.constants import ERROR_CORRECT_M

from signing.errors import SealingError

__all__ = ["QUIET_ZONE", "QrMatrix", "codewords", "qr_content", "qr_matrix"]

QUIET_ZONE = 4
"""Light modules around the symbol that a reader needs (ISO/IEC 18004: four)."""


@dataclass(frozen=True)
class QrMatrix:
    """The modules of a QR symbol, without quiet zone; ``rows[y][x]`` is True when dark."""

    size: int
    rows: tuple[tuple[bool, ...], ...]
    version: int

    def runs(self) -> list[tuple[int, int, int]]:
        """Dark runs as ``(row, first column, length)``, rows counted from the top."""
        out = []
        for y, row in enumerate(self.rows):
            x = 0
            n = self.size
            while x < n:
                if row[x]:
                    start = x
                    while x < n and row[x]:
                        x += 1
                    out.append((y, start, x - start))
                else:
                    x += 1
        return out


_EXP = [int(qr_base.gexp(i)) for i in range(256)]
_LOG = [0] + [int(qr_base.glog(i)) for i in range(1, 256)]
_MAX_VERSION = 40


@cache
def _generator_logs(ec_count: int) -> tuple[int, ...]:
    """Logs of the coefficients after the leading 1 of prod(x - a^i), i < ec_count."""
    poly = [1]
    for i in range(ec_count):
        nxt = [0] * (len(poly) + 1)
        for j, coef in enumerate(poly):
            nxt[j] ^= coef
            if coef:
                nxt[j + 1] ^= _EXP[(_LOG[coef] + i) % 255]
        poly = nxt
    return tuple(_LOG[c] for c in poly[1:])


def _ec_codewords(data: list[int], ec_count: int) -> list[int]:
    """Reed-Solomon remainder of ``data`` (QR's generator polynomial, GF(256)/0x11D)."""
    gen = _generator_logs(ec_count)
    rem = [0] * ec_count
    for byte in data:
        factor = byte ^ rem[0]
        del rem[0]
        rem.append(0)
        if factor:
            lf = _LOG[factor]
            for i, g in enumerate(gen):
                rem[i] ^= _EXP[(lf + g) % 255]
    return rem


@cache
def _blocks(version: int) -> tuple[tuple[int, int], ...]:
    """(data codewords, total codewords) of each block at error correction level M."""
    return tuple((b.data_count, b.total_count) for b in qr_base.rs_blocks(version, ERROR_CORRECT_M))


def codewords(payload: bytes) -> tuple[int, list[int]]:
    """The QR version (smallest that fits) and the final interleaved codeword sequence for
    ``payload`` in byte mode at error correction level M."""
    for version in range(1, _MAX_VERSION + 1):
        count_bits = 8 if version < 10 else 16
        capacity = sum(d for d, _ in _blocks(version)) * 8
        if 4 + count_bits + 8 * len(payload) <= capacity:
            break
    else:
        raise SealingError(f"cannot encode {len(payload)} bytes as a QR code: too long")
    bits = (0b0100 << count_bits | len(payload)) << 8 * len(payload) | int.from_bytes(
        payload, "big"
    )
    length = 4 + count_bits + 8 * len(payload)
    terminator = min(4, capacity - length)
    bits <<= terminator
    length += terminator
    if length % 8:
        bits <<= 8 - length % 8
        length += 8 - length % 8
    data = list(bits.to_bytes(length // 8, "big"))
    pad = (0xEC, 0x11)
    data += [pad[i % 2] for i in range(capacity // 8 - len(data))]
    blocks, ecs, offset = [], [], 0
    for data_count, total in _blocks(version):
        block = data[offset : offset + data_count]
        offset += data_count
        blocks.append(block)
        ecs.append(_ec_codewords(block, total - data_count))
    out = [b[i] for i in range(max(map(len, blocks))) for b in blocks if i < len(b)]
    out += [e[i] for i in range(max(map(len, ecs))) for e in ecs if i < len(e)]
    return version, out


def qr_matrix(data: str, *, mask_pattern: int = 0) -> QrMatrix:
    """Encode ``data`` (UTF-8 bytes, error correction level M) as a QR symbol."""
    version, words = codewords(data.encode("utf-8"))
    code = qrcode.QRCode(
        version=version, error_correction=ERROR_CORRECT_M, border=0, mask_pattern=mask_pattern
    )
    code.data_cache = words
    code.makeImpl(False, mask_pattern)
    rows = tuple(tuple(bool(m) for m in row) for row in code.modules)
    return QrMatrix(size=len(rows), rows=rows, version=version)


def _num(value: float) -> str:
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


def qr_content(matrix: QrMatrix, *, x: float, y: float, side: float) -> bytes:
    """PDF content drawing ``matrix`` with its quiet zone in the square at ``(x, y)``.

    ``side`` is the full square including the quiet zone (white background first, so the
    code reads on any page colour); ``(x, y)`` is its lower-left corner. The modules are
    drawn in module units (one ``cm`` scales them), rows counted downwards from the top.
    """
    total = matrix.size + 2 * QUIET_ZONE
    module = side / total
    top = y + side - QUIET_ZONE * module
    left = x + QUIET_ZONE * module
    parts = [
        "q 1 g",
        f"{_num(x)} {_num(y)} {_num(side)} {_num(side)} re f",
        f"0 g {_num(module)} 0 0 {_num(-module)} {_num(left)} {_num(top)} cm",
    ]
    parts.extend(f"{col} {row} {length} 1 re" for row, col, length in matrix.runs())
    parts.append("f Q")
    return "\n".join(parts).encode("ascii")
