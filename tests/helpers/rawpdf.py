"""Raw byte surgery on PDFs: incremental updates written by hand, for files no well-behaved
writer produces (an xref that omits an object it carries, a startxref one byte off, an
object stream redefined under its old number, an object redefined at another generation).

pyHanko's writer keeps a file consistent, which is exactly what a forger does not want;
these helpers write what they are told::

    body = {5: stream_bytes(b"BT ... ET")}                    # redefine object 5 0
    forged = append_update(sealed, body, xref="stream")       # a proper xref stream
    forged = append_update(sealed, body, listed=())           # body outside the xref

Offsets in the written xref are exact unless told otherwise; object bodies are the bytes
between ``N G obj`` and ``endobj``.
"""

from __future__ import annotations

import io
import re
import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader

__all__ = [
    "Trailer",
    "append_update",
    "dict_bytes",
    "last_startxref",
    "object_stream",
    "serialize",
    "stream_bytes",
    "trailer_of",
]

ObjectKey = int | tuple[int, int]
"""An object number (generation 0) or (number, generation)."""

_STARTXREF = re.compile(rb"startxref\s+(\d+)\s+%%EOF\s*$")


def last_startxref(data: bytes) -> int:
    """The offset the file's final ``startxref`` gives."""
    m = _STARTXREF.search(data[-64:])
    if m is None:
        raise ValueError("no startxref ... %%EOF at the end of the file")
    return int(m.group(1))


@dataclass(frozen=True)
class Trailer:
    """What an update's trailer must repeat from the file it extends."""

    root: bytes
    info: bytes | None
    id_entry: bytes | None
    size: int
    prev: int


def trailer_of(data: bytes) -> Trailer:
    """The latest trailer of ``data``, as raw values to repeat in a hand-written update."""
    reader = PdfFileReader(io.BytesIO(data), strict=False)
    view = reader.trailer_view

    def raw(key: str) -> bytes | None:
        return serialize(view.raw_get(key)) if key in view else None

    root = raw("/Root")
    if root is None:
        raise ValueError("the file has no /Root")
    return Trailer(
        root=root,
        info=raw("/Info"),
        id_entry=raw("/ID"),
        size=int(view["/Size"]),
        prev=last_startxref(data),
    )


def serialize(obj: generic.PdfObject) -> bytes:
    """A pyHanko object as PDF bytes (a reference stays a reference)."""
    out = io.BytesIO()
    obj.write_to_stream(out, None)
    return out.getvalue()


def dict_bytes(entries: Mapping[str, bytes]) -> bytes:
    """``<< /Key value ... >>`` from raw values."""
    return b"<< " + b" ".join(k.encode() + b" " + v for k, v in entries.items()) + b" >>"


def stream_bytes(data: bytes, entries: Mapping[str, bytes] | None = None) -> bytes:
    """An unfiltered stream object's body with an exact /Length."""
    head = dict(entries or {})
    head["/Length"] = str(len(data)).encode()
    return dict_bytes(head) + b"\nstream\n" + data + b"\nendstream"


def object_stream(members: Iterable[tuple[int, bytes]]) -> bytes:
    """An unfiltered ``/Type /ObjStm`` body holding ``members`` (number, body bytes)."""
    header, bodies, offset = [], b"", 0
    for number, body in members:
        header.append(f"{number} {offset}".encode())
        bodies += body + b"\n"
        offset = len(bodies)
    head = b" ".join(header) + b"\n"
    count, first = str(len(header)).encode(), str(len(head)).encode()
    return stream_bytes(head + bodies, {"/Type": b"/ObjStm", "/N": count, "/First": first})


def _key(key: ObjectKey) -> tuple[int, int]:
    return key if isinstance(key, tuple) else (key, 0)


def _table(entries: Mapping[int, tuple[int, int]]) -> bytes:
    """A classic xref table, one subsection per run of consecutive numbers."""
    out = [b"xref\n"]
    numbers = sorted(entries)
    i = 0
    while i < len(numbers):
        j = i
        while j + 1 < len(numbers) and numbers[j + 1] == numbers[j] + 1:
            j += 1
        out.append(f"{numbers[i]} {j - i + 1}\n".encode())
        for n in numbers[i : j + 1]:
            offset, gen = entries[n]
            out.append(f"{offset:010d} {gen:05d} n\r\n".encode())
        i = j + 1
    return b"".join(out)


def _xref_stream(
    entries: Mapping[int, tuple[int, int, int]], number: int, trailer: Mapping[str, bytes]
) -> bytes:
    """An unfiltered xref stream object (number ``number``) listing ``entries``: number ->
    (type, field 2, field 3), type 1 (offset, generation) or 2 (object stream, index)."""
    index: list[int] = []
    rows = b""
    for n in sorted(entries):
        if index and index[-2] + index[-1] == n:
            index[-1] += 1
        else:
            index += [n, 1]
        rows += struct.pack(">BIH", *entries[n])
    head = {"/Type": b"/XRef", "/W": b"[1 4 2]", "/Index": _array(index), **trailer}
    return f"{number} 0 obj\n".encode() + stream_bytes(rows, head) + b"\nendobj\n"


def _array(values: Iterable[int]) -> bytes:
    return b"[" + b" ".join(str(v).encode() for v in values) + b"]"


def append_update(
    data: bytes,
    objects: Mapping[ObjectKey, bytes],
    *,
    listed: Iterable[ObjectKey] | None = None,
    xref: Literal["table", "stream", "none"] = "table",
    trailer: Mapping[str, bytes] | None = None,
    prev: int | None = None,
    startxref_delta: int = 0,
    offsets: Mapping[ObjectKey, int] | None = None,
    extra: bytes = b"",
    compressed: Mapping[int, tuple[int, int]] | None = None,
    like: Trailer | None = None,
) -> bytes:
    """``data`` plus one hand-written incremental update.

    ``objects``: the bodies to write (``N G obj ... endobj``), in order. ``listed``: which
    of them the xref lists (default all). ``xref``: a classic table, an xref stream, or
    none at all (a bare trailer). ``trailer``: entries to add to or override in the
    trailer (/Root, /Info, /ID, /Size and /Prev are repeated from ``data``). ``prev``: the
    /Prev offset (default: the file's last startxref). ``startxref_delta``: added to the
    startxref offset written. ``offsets``: xref entries pointing at given offsets
    instead of a written body (an object redefined to bytes already in the file).
    ``extra``: raw bytes written after the bodies, before the xref. ``compressed``:
    xref stream entries for objects inside an object stream (number -> (stream, index)).
    ``like``: the trailer to repeat, when ``data`` itself cannot be parsed.
    """
    base = like or trailer_of(data)
    out = bytearray(data if data.endswith(b"\n") else data + b"\n")
    written: dict[tuple[int, int], int] = {}
    for key, body in objects.items():
        number, gen = _key(key)
        written[(number, gen)] = len(out)
        out += f"{number} {gen} obj\n".encode() + body + b"\nendobj\n"
    out += extra
    chosen = written if listed is None else {_key(k): written[_key(k)] for k in listed}
    entries = {n: (off, g) for (n, g), off in chosen.items()}
    for key, offset in (offsets or {}).items():
        number, gen = _key(key)
        entries[number] = (offset, gen)
    size = max([base.size, *(n + 1 for n, _ in written)])
    head: dict[str, bytes] = {"/Size": str(size).encode(), "/Root": base.root}
    if base.info is not None:
        head["/Info"] = base.info
    if base.id_entry is not None:
        head["/ID"] = base.id_entry
    head["/Prev"] = str(base.prev if prev is None else prev).encode()
    head.update(trailer or {})
    start = len(out)
    if xref == "stream":
        head["/Size"] = str(size + 1).encode()
        rows = {n: (1, off, gen) for n, (off, gen) in entries.items()}
        rows |= {n: (2, stm, ix) for n, (stm, ix) in (compressed or {}).items()}
        rows[size] = (1, start, 0)
        out += _xref_stream(rows, size, head)
    elif compressed:
        raise ValueError("objects in object streams need an xref stream")
    elif xref == "table":
        out += _table(entries) + b"trailer\n" + dict_bytes(head) + b"\n"
    else:
        out += b"trailer\n" + dict_bytes(head) + b"\n"
    out += f"startxref\n{start + startxref_delta}\n%%EOF\n".encode()
    return bytes(out)
