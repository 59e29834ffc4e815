"""Faster readers for pyHanko's PDF tokenizer, used while we verify.

pyHanko reads tokens one byte at a time in Python. Three readers are swapped for ones that
find a token's end with a compiled regular expression on a chunk of the stream, with the
same results, the same stream position afterwards and the same errors:

* hex strings (``<...>``): a signature's /Contents is a hex string of 16-32 KiB, read with
  ``bytes.find`` and decoded in C (plus one fix: pyHanko's loop never ends on a hex
  string truncated by the end of the file; this raises);
* names: ``/`` followed by plain characters (``[A-Za-z0-9_.+-]``) and then a delimiter,
  whitespace or the end of the stream is taken directly; any other name (escapes, other
  bytes, a name longer than the chunk read) goes to pyHanko's own reader from the start;
* ``read_until_delimiter`` and ``read_until_whitespace``: a regular-expression search for
  the class of bytes pyHanko stops at.

* ``read_non_whitespace`` and ``skip_over_whitespace``: pyHanko's own loops, byte by
  byte, with the byte looked up in a set instead of ``tok in PDF_WHITESPACE``: for a
  one-byte ``bytes`` that test first tries the byte as an integer and formats a TypeError
  it then drops (about a tenth of a license's verification). On a stream that is not an
  ``io.BytesIO`` pyHanko's own functions run.

And pyHanko's ``read_object`` itself: :func:`signing._verify.fastobjects.read_object`.

tests/signing/test_verify_fastparse.py compares each against pyHanko's on generated and
corpus-derived token streams and whole files. :func:`fast_hex_strings` swaps them in for
the duration of a block; the swap is reference-counted, so overlapping verifications in
threads are safe, and since both give the same objects other code running meanwhile is
unaffected.
"""

from __future__ import annotations

import binascii
import io
import os
import re
from contextlib import AbstractContextManager
from typing import Any

from signing._swap import Swap
from signing._verify import fastobjects

__all__ = [
    "fast_hex_strings",
    "read_hex_string",
    "read_name",
    "read_non_whitespace",
    "read_until_delimiter",
    "read_until_whitespace",
    "skip_over_whitespace",
]

_WHITESPACE = b" \n\r\t\f\x00"
_HEX = b"0123456789abcdefABCDEF"
_CHUNK = 1 << 16
_TOKEN_CHUNK = 64

# pyHanko's classes (pyhanko.pdf_utils.misc.PDF_WHITESPACE and PDF_DELIMITERS)
_WS_CLASS = rb" \n\r\t\f\x00"
_DELIM_CLASS = rb"()<>\[\]{}/%"
_STOP_DELIMITER = re.compile(rb"[" + _WS_CLASS + _DELIM_CLASS + rb"]")
_STOP_WHITESPACE = re.compile(rb"[" + _WS_CLASS + rb"]")
_PLAIN_NAME = re.compile(rb"/[A-Za-z0-9_.+\-]+")
_ENDS_NAME = frozenset(_WHITESPACE + b"()<>[]{}/%")
#: What ``tok in PDF_WHITESPACE`` is true of for a ``tok`` read by ``read(1)``: one
#: whitespace byte, or nothing (the end of the stream).
_WS_TOKENS = frozenset([b"", *(bytes([c]) for c in _WHITESPACE)])
_name_object: Any = None


def read_hex_string(stream: Any) -> Any:
    """Read ``<hex>`` at the stream's position into a PDF string object (as pyHanko does)."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.misc import PdfStreamError

    stream.read(1)  # the opening '<'
    parts = []
    size = _TOKEN_CHUNK  # most are short (an /ID): the file's rest is not copied for them
    while True:
        chunk = stream.read(size)
        size = _CHUNK
        if not chunk:
            raise PdfStreamError("Stream has ended unexpectedly inside a hex string")
        end = chunk.find(b">")
        if end >= 0:
            parts.append(chunk[:end])
            stream.seek(end + 1 - len(chunk), 1)
            break
        parts.append(chunk)
    body = b"".join(parts)
    try:  # only hex digits, an even count of them: what the checks below would give
        plain = binascii.unhexlify(body)
    except binascii.Error:
        plain = None
    if plain is not None:
        return generic.pdf_string(plain)
    body = body.translate(None, _WHITESPACE)
    bad = body.translate(None, _HEX)
    if bad:
        raise PdfStreamError("Unexpected token in hex string: " + repr(bad[:1]))
    if len(body) % 2:
        body += b"0"
    return generic.pdf_string(binascii.unhexlify(body))


def _read_until(pattern: re.Pattern[bytes], stream: Any) -> tuple[bytes, bool]:
    """The bytes before the first match of ``pattern`` (consumed with them) and whether
    the stream ended first (pyHanko's ``_read_until_class`` without ``maxchars``)."""
    parts: list[bytes] = []
    while True:
        chunk = stream.read(_TOKEN_CHUNK)
        if not chunk:
            return b"".join(parts), True
        found = pattern.search(chunk)
        if found is not None:
            stop = found.start()
            parts.append(chunk[:stop])
            stream.seek(stop + 1 - len(chunk), os.SEEK_CUR)
            return b"".join(parts), False
        parts.append(chunk)


def read_until_delimiter(stream: Any) -> bytes:
    """pyHanko's ``read_until_delimiter``: the bytes up to a delimiter or whitespace,
    which is left unread."""
    result, end = _read_until(_STOP_DELIMITER, stream)
    if not end:
        stream.seek(-1, os.SEEK_CUR)
    return result


def read_until_whitespace(stream: Any, maxchars: int | None = None) -> bytes:
    """pyHanko's ``read_until_whitespace``: the bytes up to whitespace (consumed), at most
    ``maxchars`` of them when it is given (anything but None or a positive count goes to
    pyHanko's reader)."""
    if maxchars is None:
        return _read_until(_STOP_WHITESPACE, stream)[0]
    if type(maxchars) is not int or maxchars <= 0:
        return _original("read_until_whitespace")(stream, maxchars=maxchars)
    chunk = stream.read(maxchars)
    found = _STOP_WHITESPACE.search(chunk)
    if found is None:
        return bytes(chunk)
    stop = found.start()
    stream.seek(stop + 1 - len(chunk), os.SEEK_CUR)
    return bytes(chunk[:stop])


def read_name(stream: Any) -> Any:
    """pyHanko's ``NameObject.read_from_stream``: a plain name is taken directly, any
    other (or anything that is not a name) goes to pyHanko's reader."""
    global _name_object
    chunk = stream.read(_TOKEN_CHUNK)
    found = _PLAIN_NAME.match(chunk)
    if found is not None:
        end = found.end()
        if end < len(chunk) and chunk[end] in _ENDS_NAME:
            stream.seek(end - len(chunk), os.SEEK_CUR)
            if _name_object is None:
                from pyhanko.pdf_utils.generic import NameObject

                _name_object = NameObject
            return _name_object(chunk[:end].decode("ascii"))
    stream.seek(-len(chunk), os.SEEK_CUR)
    return _original("read_name")(stream)


def read_non_whitespace(stream: Any, seek_back: bool = False, allow_eof: bool = False) -> Any:
    """pyHanko's ``read_non_whitespace``: the next byte that is not whitespace (comments
    skipped by pyHanko's ``skip_over_comments``), consumed unless ``seek_back``."""
    if type(stream) is not io.BytesIO:
        return _original("read_non_whitespace")(stream, seek_back=seek_back, allow_eof=allow_eof)
    read = stream.read
    while True:
        tok = read(1)
        while tok in _WS_TOKENS:
            if not tok:
                if allow_eof:
                    return b""
                from pyhanko.pdf_utils.misc import PdfStreamError

                raise PdfStreamError("Stream ended prematurely")
            tok = read(1)
        if tok != b"%":
            break
        stream.seek(-1, os.SEEK_CUR)
        _original("skip_over_comments")(stream)
    if seek_back:
        stream.seek(-1, os.SEEK_CUR)
    return tok


def skip_over_whitespace(
    stream: Any, stop_after_eol: bool = False, error_on_end_of_stream: bool = True
) -> bool:
    """pyHanko's ``skip_over_whitespace``: whitespace skipped up to the next other byte
    (left unread) or past the first end of line (``stop_after_eol``); whether more than one
    byte was read."""
    if type(stream) is not io.BytesIO:
        return bool(
            _original("skip_over_whitespace")(
                stream, stop_after_eol=stop_after_eol, error_on_end_of_stream=error_on_end_of_stream
            )
        )
    read = stream.read
    tok = b" "
    count = 0
    while tok in _WS_TOKENS:
        tok = read(1)
        if not tok:
            if error_on_end_of_stream:
                from pyhanko.pdf_utils.misc import PdfStreamError

                raise PdfStreamError("Stream ended prematurely")
            return True
        count += 1
        if stop_after_eol:
            if tok == b"\n":
                return count > 1
            if tok == b"\r":
                following = read(1)
                if following == b"\n" or not following:
                    return count > 1
                break
    stream.seek(-1, os.SEEK_CUR)
    return count > 1


_STRING_SPECIAL = re.compile(rb"[()\\]")
#: Escaped bytes taken as they are (``tok in b"() /%<>[]#_&$\\"``, true of b"" too).
_ESCAPED_AS_IS = frozenset([b"", *(bytes([c]) for c in b"() /%<>[]#_&$\\")])
_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


def read_string_literal_bytes(stream: Any) -> bytes:
    """pyHanko's ``_read_string_literal_bytes``: the bytes of ``(...)`` with its escapes
    read; runs of plain bytes are taken at once, each escape as pyHanko reads it."""
    if type(stream) is not io.BytesIO:
        return bytes(_original("read_string_literal_bytes")(stream))
    from pyhanko.pdf_utils.misc import PdfReadError, PdfStreamError

    buf = stream.getvalue()
    stream.read(1)  # the opening '('
    parens = 1
    out: list[bytes] = []
    while True:
        pos = stream.tell()
        found = _STRING_SPECIAL.search(buf, pos)
        if found is None:
            stream.seek(0, os.SEEK_END)
            raise PdfStreamError("Stream has ended unexpectedly")
        start = found.start()
        out.append(buf[pos:start])
        stream.seek(start + 1)
        tok = buf[start : start + 1]
        if tok == b"(":
            parens += 1
        elif tok == b")":
            parens -= 1
            if parens == 0:
                break
        else:
            tok = stream.read(1)
            if tok in _ESCAPED_AS_IS:
                pass
            elif tok in _ESCAPES:
                tok = _ESCAPES[tok]
            elif tok.isdigit():
                for _ in range(2):
                    following = stream.read(1)
                    if following.isdigit():
                        tok += following
                    else:
                        stream.seek(-1, os.SEEK_CUR)
                        break
                tok = bytes((int(tok, base=8),))
            elif tok in (b"\n", b"\r"):
                tok = stream.read(1)
                if tok not in (b"\n", b"\r", b""):
                    stream.seek(-1, os.SEEK_CUR)
                tok = b""
            else:
                raise PdfReadError("Unexpected escaped string: " + repr(tok))
        out.append(tok)
    return b"".join(out)


_HEADER = re.compile(rb"([0-9]+) ([0-9]+) ")


def read_object_header(stream: Any, strict: bool) -> tuple[int, int]:
    """pyHanko's ``read_object_header``: ``N G obj`` and the whitespace after it. The plain
    form (digits, one space, digits, one space) is read here, any other by pyHanko."""
    found = _HEADER.match(stream.getvalue(), stream.tell()) if type(stream) is io.BytesIO else None
    if found is None:
        header: tuple[int, int] = _original("read_object_header")(stream, strict)
        return header
    stream.seek(found.end())
    stream.read(3)  # 'obj', as pyHanko: unchecked
    read_non_whitespace(stream, seek_back=True)
    return int(found.group(1)), int(found.group(2))


_originals: dict[str, Any] = {}


def _original(name: str) -> Any:
    if not _originals:
        from pyhanko.pdf_utils import generic, misc, xref

        _originals.update(
            read_until_delimiter=misc.read_until_delimiter,
            read_until_whitespace=misc.read_until_whitespace,
            read_hex_string=generic.read_hex_string_from_stream,
            read_name=generic.NameObject.__dict__["read_from_stream"].__func__,
            read_non_whitespace=misc.read_non_whitespace,
            skip_over_whitespace=misc.skip_over_whitespace,
            skip_over_comments=misc.skip_over_comments,
            read_object=generic.read_object,
            read_string_literal_bytes=generic._read_string_literal_bytes,
            read_object_header=xref.read_object_header,
        )
    return _originals[name]


def _swaps() -> list[tuple[Any, str, Any]]:
    """(where, attribute, ours) for every reader replaced: pyHanko's generic module took
    its own references to misc's functions, so both are replaced."""
    from pyhanko.pdf_utils import generic, misc, reader, xref

    _original("read_name")
    fastobjects.load()
    return [
        (generic, "read_hex_string_from_stream", read_hex_string),
        (generic.NameObject, "read_from_stream", staticmethod(read_name)),
        (generic, "read_until_delimiter", read_until_delimiter),
        (misc, "read_until_delimiter", read_until_delimiter),
        (misc, "read_until_whitespace", read_until_whitespace),
        (generic, "read_non_whitespace", read_non_whitespace),
        (misc, "read_non_whitespace", read_non_whitespace),
        (generic, "skip_over_whitespace", skip_over_whitespace),
        (misc, "skip_over_whitespace", skip_over_whitespace),
        (generic, "read_object", fastobjects.read_object),
        (generic, "_read_string_literal_bytes", read_string_literal_bytes),
        (xref, "read_object_header", read_object_header),
        (reader, "read_object_header", read_object_header),
    ]


_swap = Swap(_swaps)


def fast_hex_strings() -> AbstractContextManager[None]:
    """Use the fast readers in pyHanko's parser for the duration of the block."""
    return _swap.active()
