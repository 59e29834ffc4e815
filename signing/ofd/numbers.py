"""Numbers read from OFD XML as every reader reads them (red team 6, a02/a02c/a12).

Python's ``float()`` and ``int()`` take what Java's ``Double.parseDouble`` and
``Long.parseLong`` (ofdrw, the reference reader) do not, and the reverse: any Unicode
decimal digit (fullwidth ``２``, Arabic-Indic ...), ``_`` between digits (``1e1_0`` is
1e10 to Python; ofdrw's fallback keeps the digits, 110), ``inf``/``nan``, surrounding
Unicode white space; Java takes ``Infinity``, hex floats and a ``d``/``f`` suffix. ofdrw
splits an ``ST_Box``/``ST_Pos`` on single spaces (``"1\\t00  15 40"`` is four tokens to it,
``1\\t00``, ``""``, ``15``, ``40``, which its "best effort" fallback reads as 100, 0, 15, 40),
where ``str.split()`` merges any run of white space (1, 00, 15, 40).

So a number the verifier reads must be written in the grammar both read alike (GB/T 33190
``xs:double``/``xs:long`` in ASCII): ``[+-]?(digits[.digits]|.digits)([eE][+-]?digits)``,
finite; the values of a box, a position or an array separated by one ASCII space, with
only ASCII white space (what Java's ``String.trim`` drops and XML keeps) around the whole.
Anything else is not a number here: the caller treats it as unreadable (a stamp box that
cannot be read lies everywhere; an ID that cannot be read raises), never guesses.
"""

from __future__ import annotations

import math
import re

__all__ = ["NUMBER", "decimals", "strict_float", "strict_floats"]

NUMBER = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
"""One number in ASCII (no ``_``, no ``inf``/``nan``, no hex, no suffix)."""
_NUMBER = re.compile(NUMBER, re.ASCII)
_MAX_CHARS = 64
"""Characters one number may have (no OFD number needs more; bounds the conversion)."""
_TRIM = " \t\r\n"


def strict_float(token: str) -> float | None:
    """``token`` (no white space around it) as a finite float, or None."""
    if len(token) > _MAX_CHARS or not _NUMBER.fullmatch(token):
        return None
    value = float(token)
    return value if math.isfinite(value) else None


def strict_floats(tokens: list[str]) -> list[float] | None:
    """Tokens each matched by :data:`NUMBER` (no white space) as finite floats, or None
    when one is not (too long, or out of range): :func:`strict_float` for many at once,
    with no Python work per token."""
    if tokens and max(map(len, tokens)) > _MAX_CHARS:
        return None
    values = list(map(float, tokens))
    return values if all(map(math.isfinite, values)) else None


def decimals(text: str | None, count: int | None = None) -> list[float] | None:
    """The numbers of an OFD box, position or array (``count`` of them when given),
    separated by single ASCII spaces; None when anything is not so (see the module)."""
    body = (text or "").strip(_TRIM)
    if not body:
        return None
    tokens = body.split(" ")
    if count is not None and len(tokens) != count:
        return None
    values = []
    for token in tokens:
        value = strict_float(token)
        if value is None:
            return None
        values.append(value)
    return values
