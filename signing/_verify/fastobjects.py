"""A faster ``read_object`` for pyHanko's PDF parser, used while we verify.

pyHanko reads an object a byte or a token at a time, with a seek after each peek, and a
reference ``12 0 R`` a byte at a time. :func:`read_object` reads the same objects from
the stream's buffer with compiled regular expressions: the same objects (same classes,
values and ``container_ref``), the same stream position afterwards and the same errors.
It takes only the plain forms itself and hands everything else to the function pyHanko
would call, from the same position:

* a dictionary or an array: read here, entry by entry; whitespace is skipped here unless a
  comment or the end of the stream comes first (then pyHanko's ``read_non_whitespace``
  does it); a key that is not a plain name goes to pyHanko's name reader (with its error);
  a key twice is pyHanko's warning or, on a strict reader, its error; what follows the
  dictionary (a stream's data) is read by pyHanko's ``_maybe_read_stream_payload``;
* a reference only as ``N G R`` with single spaces (and ``N`` above 0), where pyHanko's own
  test (``INDIRECT_PATTERN`` on the next 20 bytes) says it is one; a number as the run of
  the bytes pyHanko's number reader takes, made into the same ``NumberObject`` or
  ``FloatObject``; a plain name as :func:`signing._verify.fastparse.read_name` takes it;
* strings, hex strings, booleans, null, comments and anything else: pyHanko's readers (or
  the ones :mod:`signing._verify.fastparse` swapped in). Content streams (where operators
  may appear) and streams other than ``io.BytesIO`` go to pyHanko's ``read_object``.

tests/signing/test_verify_fastparse.py compares it with pyHanko's on generated object
streams and on every object of the corpus, the forgeries and the demo licenses.
"""

from __future__ import annotations

import io
import re
from typing import Any

__all__ = ["read_object"]

# pyHanko's sets: PDF_WHITESPACE; NumberObject.NumberPattern stops at anything but
# "+ , - ." (a range in its class) and digits.
_SKIP = re.compile(rb"[ \n\r\t\f\x00]*")
_NUMBER_RUN = re.compile(rb"[+,\-.0-9]*")
_PLAIN_REF = re.compile(rb"([1-9][0-9]*) ([0-9]+) R")
_PLAIN_NAME = re.compile(rb"/[A-Za-z0-9_.+\-]+")
_ENDS_NAME = frozenset(b" \n\r\t\f\x00()<>[]{}/%")
_NAME_WINDOW = 64  # as fastparse.read_name: a longer name goes to pyHanko's reader
_DIGITS = frozenset(b"0123456789")
_SIGNS = frozenset(b"+-.")
_PERCENT = 0x25
_WHITESPACE = frozenset(b" \n\r\t\f\x00")
_NOT_TOKEN = _WHITESPACE | {_PERCENT}

_g: Any = None  # pyhanko.pdf_utils.generic, imported on first use
_theirs: Any = None  # pyHanko's own read_object
_NO: Any = None  # ContentOpReading.NO


def load() -> None:
    """Take pyHanko's own ``read_object``: called (by fastparse) before it is swapped."""
    global _g, _theirs, _NO
    if _g is not None:
        return
    from pyhanko.pdf_utils import generic

    theirs = generic.__dict__["read_object"]
    if theirs is read_object:
        raise RuntimeError("fastobjects.load() must run before read_object is swapped in")
    _g, _NO, _theirs = generic, generic.ContentOpReading.NO, theirs


def read_object(
    stream: Any,
    container_ref: Any,
    as_metadata_stream: bool = False,
    in_content_stream: Any = None,
) -> Any:
    """pyHanko's ``generic.read_object`` (see the module docstring)."""
    if _g is None:
        load()
    if in_content_stream is None:
        in_content_stream = _NO
    if in_content_stream is not _NO or type(stream) is not io.BytesIO:
        return _theirs(stream, container_ref, as_metadata_stream, in_content_stream)
    buf = stream.getvalue()  # shares the bytes the stream was made from: no copy
    result, end = _value(stream, buf, stream.tell(), container_ref, as_metadata_stream)
    stream.seek(end)
    return result


def _value(stream: Any, buf: bytes, pos: int, ref: Any, metadata: bool = False) -> Any:
    """(the object at ``pos``, the position after it), ``container_ref`` set."""
    g = _g
    head = buf[pos] if pos < len(buf) else -1
    if head == 0x2F:  # /
        chunk = buf[pos : pos + _NAME_WINDOW]
        found = _PLAIN_NAME.match(chunk)
        if found is not None and found.end() < len(chunk) and chunk[found.end()] in _ENDS_NAME:
            result, end = g.NameObject(chunk[: found.end()].decode("ascii")), pos + found.end()
        else:
            result, end = _call(stream, pos, g.NameObject.read_from_stream)
    elif head == 0x3C and buf[pos + 1 : pos + 2] == b"<":
        result, end = _dictionary(stream, buf, pos, ref, metadata)
    elif head == 0x5B:  # [
        result, end = _array(stream, buf, pos, ref)
    elif head in _DIGITS:
        if g.INDIRECT_PATTERN.match(buf[pos : pos + 20]) is None:
            result, end = _number(stream, buf, pos)
        else:
            plain = _PLAIN_REF.match(buf, pos)
            if plain is None:
                result, end = _call(stream, pos, g.IndirectObject.read_from_stream, ref)
            else:
                end = plain.end()
                stream.seek(end)  # where pyHanko is when it asks for the handler
                number, generation = int(plain.group(1)), int(plain.group(2))
                result = g.IndirectObject(number, generation, ref.get_pdf_handler())
    elif head in _SIGNS:
        result, end = _number(stream, buf, pos)
    elif head == 0x28:  # (
        result, end = _call(stream, pos, g.read_string_from_stream)
    elif head == 0x3C:  # < not followed by <
        result, end = _call(stream, pos, g.read_hex_string_from_stream)
    elif head == 0x74 or head == 0x66:  # t, f
        result, end = _call(stream, pos, g.BooleanObject.read_from_stream)
    elif head == 0x6E:  # n
        result, end = _call(stream, pos, g.NullObject.read_from_stream)
    else:  # comments, errors, the end of the stream: pyHanko's dispatch
        if head == _PERCENT and buf.find(b"\n", pos) == -1 and buf.find(b"\r", pos) == -1:
            # pyHanko reads a comment until an end of line, and at the end of the stream
            # reads b"" for ever: a worker held until the verification's time limit (red
            # team pdf9, p9-02: an object stream entry that is only a comment)
            raise g.PdfReadError("a comment runs to the end of the stream")
        return _call(stream, pos, _theirs, ref)
    result.container_ref = ref
    return result, end


def _call(stream: Any, pos: int, reader: Any, *args: Any) -> tuple[Any, int]:
    """``reader(stream, *args)`` from ``pos``, and where it left the stream."""
    stream.seek(pos)
    result = reader(stream, *args)
    return result, stream.tell()


def _number(stream: Any, buf: bytes, pos: int) -> tuple[Any, int]:
    """pyHanko's ``NumberObject.read_from_stream``: the run of number bytes, a float when
    it holds a dot (the constructors raise what they raise for pyHanko, past the run)."""
    end = _NUMBER_RUN.match(buf, pos).end()  # type: ignore[union-attr]
    stream.seek(end)
    text = buf[pos:end]
    if text.find(b".") != -1:
        return _g.FloatObject(text.decode("ascii")), end
    return _g.NumberObject(text.decode("ascii")), end


def _next_token(stream: Any, buf: bytes, pos: int) -> int:
    """Where the next byte that is not whitespace is (``read_non_whitespace`` with the
    stream left before it): here when plain whitespace leads to it, else by pyHanko's
    function (comments; the end of the stream, which it raises on)."""
    if pos + 1 < len(buf) and buf[pos] in _WHITESPACE and buf[pos + 1] not in _NOT_TOKEN:
        return pos + 1  # one whitespace byte: the most common
    end = _SKIP.match(buf, pos).end()  # type: ignore[union-attr]
    if end < len(buf) and buf[end] != _PERCENT:
        return end
    stream.seek(pos)
    _g.read_non_whitespace(stream)
    return int(stream.tell()) - 1


def _dictionary(stream: Any, buf: bytes, pos: int, ref: Any, metadata: bool) -> tuple[Any, int]:
    """pyHanko's ``DictionaryObject.read_from_stream`` (outside content streams)."""
    g = _g
    data: dict[Any, Any] = {}
    pos += 2
    stream.seek(pos)  # where pyHanko is when it asks for the handler
    handler = ref.get_pdf_handler()
    while True:
        pos = _next_token(stream, buf, pos)
        if buf[pos] == 0x3E:  # '>': pyHanko reads one more byte, whatever it is
            pos = min(pos + 2, len(buf))
            break
        chunk = buf[pos : pos + _NAME_WINDOW]
        found = _PLAIN_NAME.match(chunk)
        if found is not None and found.end() < len(chunk) and chunk[found.end()] in _ENDS_NAME:
            key, pos = g.NameObject(chunk[: found.end()].decode("ascii")), pos + found.end()
        else:
            stream.seek(pos)
            try:
                key = g.NameObject.read_from_stream(stream)
            except Exception as ex:
                raise g.PdfReadError(
                    f"Failed to read dictionary key at byte 0x{hex(stream.tell())}; "
                    "expected PDF name"
                ) from ex
            pos = stream.tell()
        value, pos = _value(stream, buf, _next_token(stream, buf, pos), ref)
        if key not in data:
            data[key] = value
        else:
            err = f"Multiple definitions in dictionary at byte {hex(pos)} for key {key}"
            if handler.strict:
                stream.seek(pos)
                raise g.PdfStrictReadError(err)
            g.logger.warning(err)
    stream.seek(pos)
    stream_data = g._maybe_read_stream_payload(stream, data, handler)
    pos = stream.tell()
    if stream_data is None:
        return g.DictionaryObject(data), pos
    stream_class = g.StreamObject
    if metadata:
        try:
            from pyhanko.pdf_utils.metadata.xmp_xml import MetadataStream

            stream_class = MetadataStream
        except ImportError:  # pragma: no cover - as pyHanko
            pass
    return stream_class(data, encoded_data=stream_data), pos


def _array(stream: Any, buf: bytes, pos: int, ref: Any) -> tuple[Any, int]:
    """pyHanko's ``ArrayObject.read_from_stream`` (outside content streams)."""
    items = _g.ArrayObject()
    pos += 1
    while True:
        pos = _next_token(stream, buf, pos)
        if buf[pos] == 0x5D:  # ]
            return items, pos + 1
        item, pos = _value(stream, buf, pos, ref)
        items.append(item)
