"""Parsed originals, kept between certified copies of the same license version.

Certified copies of one license version are made again and again, and reading the
original's cross-reference sections and trailer (pyHanko's ``PdfFileReader``) is a fifth of
a copy's time. :class:`ParsedOriginals` keeps the parsed reader per original, keyed by the
SHA-256 of its bytes (and the bytes compared on a hit), at most ``size`` of them, the least
recently used dropped first.

A reader is lent to one copy at a time (:meth:`ParsedOriginals.borrow`): two copies of
the same original made at once parse it each, they never share a reader. While lent, the
copy's incremental writer changes some of the reader's objects in place (the catalog,
the AcroForm, the page, /Info, the XMP packet, the DSS) and its trailer, and writes
exactly those objects in its update (a change that is not written would be lost from the
copy itself). On return, each object the update rewrote is replaced by a fresh clone of
its pristine parse (kept aside, never lent), and the trailer's pending changes are
dropped, so the next copy starts from the file as parsed. A copy that fails does not
return its reader. The tests compare the objects a copy from a kept reader rewrites with
those of a fresh parse, byte for byte.
"""

from __future__ import annotations

import copy
import hashlib
import io
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.decode_limits import DecodeContext, DecodeLimits
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.metadata.xmp_xml import MetadataStream
from pyhanko.pdf_utils.reader import PdfFileReader

from signing._incremental import IncrementalWriter

__all__ = ["DEFAULT_ORIGINALS", "ParsedOriginals"]

DEFAULT_ORIGINALS = 32
"""Originals kept by default (each: its bytes plus its parsed cross-reference data)."""


@dataclass
class _Entry:
    data: bytes
    reader: PdfFileReader
    pristine: dict[tuple[int, int], generic.PdfObject] = field(default_factory=dict)
    """The objects copies rewrite, as parsed; each copy gets its own clones."""


class ParsedOriginals:
    """A bounded, thread-safe store of parsed originals, lent one copy at a time."""

    def __init__(self, size: int = DEFAULT_ORIGINALS) -> None:
        """``size``: originals kept at most (0 keeps none: every copy parses)."""
        if size < 0:
            raise ValueError("size must be >= 0")
        self._size = size
        self._idle: OrderedDict[bytes, _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        """Copies that found their original parsed (for tests and benchmarks)."""

    def __len__(self) -> int:
        with self._lock:
            return len(self._idle)

    @contextmanager
    def borrow(
        self, original: bytes, *, digest: bytes | None = None
    ) -> Iterator[IncrementalPdfFileWriter]:
        """A fresh incremental writer over ``original``, from a kept reader if there is one.

        ``digest``: the SHA-256 of ``original`` when the caller has it already. The reader
        goes back to the store when the block ends without an exception.
        """
        key = digest or hashlib.sha256(original).digest()
        entry = self._take(key, original)
        if entry is None:
            entry = _Entry(original, PdfFileReader(io.BytesIO(original), strict=False))
        writer = IncrementalWriter.from_reader(entry.reader)
        yield writer
        _reset(entry, writer)
        self._give_back(key, entry)

    def _take(self, key: bytes, original: bytes) -> _Entry | None:
        with self._lock:
            entry = self._idle.pop(key, None)
            if entry is not None and entry.data != original:  # pragma: no cover - SHA-256
                return None
            if entry is not None:
                self.hits += 1
            return entry

    def _give_back(self, key: bytes, entry: _Entry) -> None:
        if self._size == 0:
            return
        with self._lock:
            self._idle[key] = entry
            self._idle.move_to_end(key)
            while len(self._idle) > self._size:
                self._idle.popitem(last=False)


def _reset(entry: _Entry, writer: IncrementalPdfFileWriter) -> None:
    """Forget what a copy did to the entry's reader: the objects the copy's update rewrote
    (pyHanko changes them in place: catalog, AcroForm, page, /Info...) are replaced by
    clones of their pristine parse (parsed again from the bytes the first time), the
    trailer's pending entries dropped, the decoding budget and the signatures found reset.
    Objects the update did not rewrite stay as they are: the next copy reads them as this
    one did."""
    reader = entry.reader
    resolved = reader.resolved_objects
    size = int(reader.trailer_view["/Size"])
    reader.trailer._new_changes = generic.DictionaryObject()
    for generation, idnum in writer.objects:
        if idnum >= size:
            continue  # new in this copy: never in the reader
        key = (generation, idnum)
        used = resolved.pop(key, None)
        if key not in entry.pristine:
            # parsed as the copy first read it (the XMP packet as a MetadataStream)
            entry.pristine[key] = reader.get_object(
                generic.Reference(idnum, generation),
                as_metadata_stream=isinstance(used, MetadataStream),
            )
            resolved.pop(key, None)
            pristine = entry.pristine[key]
            if isinstance(pristine, MetadataStream):
                # parsed once here, shared by the clones: each copy's update reads it
                # (pyHanko builds new XMP from it, leaving it as it is)
                pristine.xmp  # noqa: B018 - parse now, not per copy
        resolved[key] = _clone(entry.pristine[key])
    reader._historical_resolver_cache.clear()
    reader._embedded_signatures = None
    reader._decode_context = DecodeContext(DecodeLimits(), input_size=len(entry.data))


def _clone(obj: generic.PdfObject) -> generic.PdfObject:
    """A copy of ``obj`` sharing nothing a writer could change: dictionaries, arrays and
    streams copied at every level with their attributes (``container_ref``...); names,
    numbers, strings and references (immutable) shared."""
    if isinstance(obj, generic.DictionaryObject):
        twin = copy.copy(obj)
        for key, value in obj.items():
            dict.__setitem__(twin, key, _clone(value))
        return twin
    if isinstance(obj, generic.ArrayObject):
        twin_list = copy.copy(obj)
        for index, value in enumerate(obj):
            list.__setitem__(twin_list, index, _clone(value))
        return twin_list
    return obj
