"""QR codes as PDF vector graphics: crisp at any zoom, a few hundred bytes.

:func:`qr_matrix` encodes text with the ``qrcode`` library (byte mode, error correction M)
and :func:`qr_content` turns the modules into PDF path operators: each horizontal run of
dark modules is one rectangle, all filled at once.

The mask pattern is fixed (pattern 0) instead of searched: the search scores all eight masks
in pure Python and costs ~9 ms of a ~11 ms encode; any mask decodes equally well, the search
only lowers a readability penalty that matters for poor prints of large symbols.
"""

from __future__ import annotations

from dataclasses import dataclass

import qrcode
from qrcode.constants import ERROR_CORRECT_M
from qrcode.exceptions import DataOverflowError

from signing.errors import SealingError

__all__ = ["QUIET_ZONE", "QrMatrix", "qr_content", "qr_matrix"]

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


def qr_matrix(data: str, *, mask_pattern: int = 0) -> QrMatrix:
    """Encode ``data`` (UTF-8 bytes, error correction level M) as a QR symbol."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=0, mask_pattern=mask_pattern)
    code.add_data(data.encode("utf-8"))
    try:
        code.make(fit=True)
    except (DataOverflowError, ValueError) as exc:
        raise SealingError(f"cannot encode {len(data)} characters as a QR code: {exc}") from None
    rows = tuple(tuple(bool(m) for m in row) for row in code.get_matrix())
    return QrMatrix(size=len(rows), rows=rows, version=int(code.version))


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
