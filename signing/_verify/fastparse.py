"""A faster reader for PDF hex strings, used while we verify.

pyHanko reads a hex string (``<...>``) one token at a time in Python; a signature's
/Contents is a hex string of 16-32 KiB, which makes that loop the largest single cost of
verifying a sealed file. :func:`fast_hex_strings` swaps in a reader that finds the closing
``>`` with ``bytes.find`` and decodes in C, with the same results and errors (plus one
fix: pyHanko's loop never ends on a hex string truncated by the end of the file; this
raises). The swap is reference-counted, so overlapping verifications in threads are safe;
both readers give the same objects, so other code running meanwhile is unaffected.
"""

from __future__ import annotations

import binascii
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["fast_hex_strings", "read_hex_string"]

_WHITESPACE = b" \n\r\t\f\x00"
_HEX = b"0123456789abcdefABCDEF"
_CHUNK = 1 << 16
_lock = threading.Lock()
_users = 0
_original: Any = None


def read_hex_string(stream: Any) -> Any:
    """Read ``<hex>`` at the stream's position into a PDF string object (as pyHanko does)."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.misc import PdfStreamError

    stream.read(1)  # the opening '<'
    parts = []
    while True:
        chunk = stream.read(_CHUNK)
        if not chunk:
            raise PdfStreamError("Stream has ended unexpectedly inside a hex string")
        end = chunk.find(b">")
        if end >= 0:
            parts.append(chunk[:end])
            stream.seek(end + 1 - len(chunk), 1)
            break
        parts.append(chunk)
    body = b"".join(parts).translate(None, _WHITESPACE)
    bad = body.translate(None, _HEX)
    if bad:
        raise PdfStreamError("Unexpected token in hex string: " + repr(bad[:1]))
    if len(body) % 2:
        body += b"0"
    return generic.pdf_string(binascii.unhexlify(body))


@contextmanager
def fast_hex_strings() -> Iterator[None]:
    """Use :func:`read_hex_string` in pyHanko's parser for the duration of the block."""
    global _users, _original
    from pyhanko.pdf_utils import generic

    with _lock:
        if _users == 0:
            _original = generic.read_hex_string_from_stream
            generic.read_hex_string_from_stream = read_hex_string
        _users += 1
    try:
        yield
    finally:
        with _lock:
            _users -= 1
            if _users == 0:
                generic.read_hex_string_from_stream = _original
