"""Faster writers for two of pyHanko's PDF objects, used while we seal.

pyHanko writes a name (``NameObject``) and a text string (``TextStringObject``) one byte at a
time in Python, a stream write per byte; a certified copy's update holds some 140 names
and 15 strings. :func:`fast_writing` swaps in writers that give the same bytes (tests in
tests/signing/test_fastwrite.py compare them with pyHanko's for every byte value, every
character class and the errors):

* a name: each byte outside ``!``..``~``, each PDF delimiter and ``#`` as ``#`` and its
  hexadecimal value (pyHanko's spelling: upper case, no leading zero), from a table;
  the encodings of the short names seen are kept (a bounded number);
* a text string: PDFDocEncoding when every character has a code there, else UTF-16BE
  with a byte order mark (or the string's ``force_output_encoding``), then a literal
  string whose bytes other than ASCII letters, digits and space are octal escapes, from
  a table. An encrypted document's strings (a security handler given) are left to
  pyHanko.
"""

from __future__ import annotations

import codecs
from contextlib import AbstractContextManager
from typing import Any

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.misc import PDF_DELIMITERS, PDF_WHITESPACE

from signing._swap import Swap

__all__ = ["encode_name", "encode_text_string", "fast_writing"]

_NAME_BYTES = [
    b"#%X" % b
    if b == 0x23 or not 0x21 <= b <= 0x7E or b in PDF_WHITESPACE or b in PDF_DELIMITERS
    else bytes([b])
    for b in range(256)
]
_STRING_BYTES = [
    bytes([b]) if bytes([b]).isalnum() or b == 0x20 else b"\\%03o" % b for b in range(256)
]
_PDFDOC: dict[str, int] = generic._pdfDocEncoding_rev
_KNOWN_NAMES: dict[str, bytes] = {}
_MAX_KNOWN_NAMES = 4096
_MAX_KNOWN_LENGTH = 64
"""Names kept: at most this many, each at most this long (a document's own names are
written too, and a document may hold any)."""

_write_name = generic.NameObject.write_to_stream
_write_text = generic.TextStringObject.write_to_stream


def encode_name(name: str) -> bytes | None:
    """How pyHanko writes the name ``name`` (``/`` included); None when it does not start
    with ``/`` (pyHanko refuses it)."""
    raw = name.encode("utf8")
    if raw[:1] != b"/":
        return None
    return b"/" + b"".join(map(_NAME_BYTES.__getitem__, raw[1:]))


def encode_text_string(text: Any) -> bytes:
    """How pyHanko writes the text string ``text`` (a ``TextStringObject``) in a document
    that is not encrypted: the literal string, parentheses included."""
    if text.force_output_encoding is not None:
        encoded = text.force_output_encoding.encode(text)
    else:
        try:
            encoded = bytes([_PDFDOC[c] for c in text])
        except KeyError:
            encoded = codecs.BOM_UTF16_BE + text.encode("utf-16be")
    return b"(" + b"".join(map(_STRING_BYTES.__getitem__, encoded)) + b")"


def _name_to_stream(self: Any, stream: Any, handler: Any = None, container_ref: Any = None) -> None:
    encoded = _KNOWN_NAMES.get(self)
    if encoded is None:
        encoded = encode_name(self)
        if encoded is None:
            _write_name(self, stream, handler, container_ref)  # pyHanko's error
            return
        if len(encoded) <= _MAX_KNOWN_LENGTH and len(_KNOWN_NAMES) < _MAX_KNOWN_NAMES:
            _KNOWN_NAMES[str(self)] = encoded
    stream.write(encoded)


def _text_to_stream(self: Any, stream: Any, handler: Any = None, container_ref: Any = None) -> None:
    if handler is not None and container_ref is not None:
        _write_text(self, stream, handler, container_ref)  # encrypted: pyHanko's
        return
    stream.write(encode_text_string(self))


def _swaps() -> list[tuple[Any, str, Any]]:
    return [
        (generic.NameObject, "write_to_stream", _name_to_stream),
        (generic.TextStringObject, "write_to_stream", _text_to_stream),
    ]


_swap = Swap(_swaps)


def fast_writing() -> AbstractContextManager[None]:
    """Use the fast writers for pyHanko's names and text strings for the duration of the
    block."""
    return _swap.active()
