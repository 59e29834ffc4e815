"""Objects as each revision of a PDF resolves them, by object number.

pyHanko's historical resolver reads a compressed object's object stream as the *newest*
revision defines it, so redefining an object stream in a later update changes its members
in every revision at once and no comparison sees it. Here each revision resolves every
object, object streams and indirect ``/Length`` values included, through its own
cross-reference entries:

    objs = RevisionObjects(reader)
    page = objs.get(12, revision=2)    # the raw object (references left unresolved)

Entries are looked up by object number, whatever generation a reference names: a signed
object redefined at generation 1 is the same object, changed. (No update after a signature
may do that, nor name a generation the xref does not give: the structure check refuses
it, since pyHanko, poppler and pdf.js honour generations and find no object then; red
team pdf11, p11-03 to p11-06.) Objects are parsed with
pyHanko's own object parser from the file's bytes; nothing is decrypted (two revisions'
raw values compare equal exactly when their decrypted values do).
"""

from __future__ import annotations

import bisect
import io
from dataclasses import dataclass
from typing import Any

__all__ = ["Entry", "ObjectReadError", "RevisionObjects", "freed_and_listed"]

#: Objects parsed at most per document (hostile files): past it the comparison stops.
MAX_OBJECTS = 200_000
#: Bytes of objects (stream data aside) and of decoded object streams that the judgement
#: of every signature after the first may parse in all, for a file up to 1 MB (three times
#: the file's size beyond; see :meth:`RevisionObjects.allow_more`): each revision reads its
#: objects itself, so every signature judged parses what its revision reaches again (red
#: team pdf12: 50 self-signed seals over a page reaching one 400 KB dictionary, 908 KB,
#: parsed 20 MB in 15 s of CPU; 1 MB takes about 0.7 s).
MIN_PARSE_BUDGET = 1_000_000


class ObjectReadError(Exception):
    """An object a revision names cannot be read as that revision defines it."""


@dataclass(frozen=True)
class Entry:
    """Where one revision keeps an object: ``kind`` is ``file`` (``where`` = offset),
    ``stream`` (``where`` = object stream number, ``index``) or ``free``."""

    kind: str
    where: int = 0
    generation: int = 0
    index: int = 0


_FREE = Entry("free")


def _section_entry(data: Any, number: int) -> Entry | None:
    """The entry one xref section (pyHanko's ``XRefSectionData``) writes for ``number``:
    a hybrid table's, completed by its /XRefStm where the table has none or a free one
    (ISO 32000-2 7.5.8.4), the one reading of :meth:`structure.XrefSection.view` (red team
    pdf11, p11-07: the table's free entry won here, the stream's there). Readers that take
    the table first disagree: :func:`freed_and_listed` finds that case, which is refused
    after a signature."""
    std = data.standard_xrefs.get(number)
    if std is not None:
        return Entry("file", where=std[1], generation=std[0])
    loc = data.xrefs_in_objstm.get(number)
    if loc is not None:
        return Entry("stream", where=loc.obj_stream_id, index=loc.ix_in_stream)
    if data.hybrid is not None:
        found = _section_entry(data.hybrid.xref_data, number)
        if found is not None and found.kind != "free":
            return found
    if number in data.freed:
        return _FREE
    return None


def freed_and_listed(data: Any) -> set[int]:
    """Numbers a hybrid section's table frees while its /XRefStm lists them in use: pdf.js
    and poppler take the free entry (the object does not exist), pyHanko does when the
    free entry's generation matches the reference, our readers take the stream's."""
    if data.hybrid is None:
        return set()
    listed = set(data.hybrid.xref_data.standard_xrefs) | set(data.hybrid.xref_data.xrefs_in_objstm)
    return (set(data.freed) & listed) - {0}


class _Handler:
    """What pyHanko's object parser needs of a PDF handler: ``get_object`` for an indirect
    ``/Length``, resolved in the revision being read."""

    strict = True
    """pyHanko's parser raises on a dictionary key read twice when its handler is strict
    (it would keep the first, poppler the last). Set, not left to a missing attribute
    (red team pdf9, NM-1: the AttributeError refused such a page only by accident)."""

    def __init__(self, objects: RevisionObjects, revision: int) -> None:
        self._objects = objects
        self._revision = revision
        self.decode_context = objects.decode_context

    def get_object(self, ref: Any, *args: Any, **kwargs: Any) -> Any:
        return self._objects.get(ref.idnum, self._revision)


class RevisionObjects:
    """Every revision's view of the file's objects (parsed lazily, cached per revision)."""

    def __init__(self, reader: Any) -> None:
        self._budget: int | None = None  # bytes that may be parsed in all; None: no bound
        self._allowed = 0
        self.parsed_bytes = 0
        """Bytes of objects (stream data aside) and decoded object streams parsed so far."""
        self._xrefs = reader.xrefs
        self._stream = reader.stream
        self.decode_context = reader.decode_context.fresh()
        self._entries: dict[tuple[int, int], Entry | None] = {}
        self._cache: dict[tuple[int, int], Any] = {}
        self._objstm: dict[tuple[int, int], tuple[bytes, list[tuple[int, int]], int]] = {}
        self._parsed = 0
        self.revisions = int(self._xrefs.total_revisions)
        self._writers: dict[int, list[int]] | None = None
        self._rewritten: dict[int, tuple[int, int]] | None = None

    def entry(self, number: int, revision: int) -> Entry | None:
        """The entry in force for ``number`` at ``revision`` (None: never defined)."""
        key = (number, revision)
        if key in self._entries:
            return self._entries[key]
        found: Entry | None = None
        writers = self._writers_of(number)
        for rev in reversed(writers[: bisect.bisect_right(writers, revision)]):
            found = _section_entry(self._xrefs.get_xref_data(rev), number)
            if found is not None:
                break
        self._entries[key] = found
        return found

    def _writers_of(self, number: int) -> list[int]:
        """The revisions whose xref sections name ``number``, ascending: an entry is
        looked for in those only, not in every revision down to the first (red team
        pdf12: 40 signatures, each asking for 8,000 numbers through 50 revisions, took
        7 s of CPU here)."""
        if self._writers is None:
            writers: dict[int, list[int]] = {}
            for rev in range(self.revisions):
                for n in self.written_in(rev) | ({0} if self._names_zero(rev) else set()):
                    writers.setdefault(n, []).append(rev)
            self._writers = writers
        return self._writers.get(number, [])

    def object_count(self) -> int:
        """How many object numbers the file's xref sections name, in all revisions."""
        self._writers_of(0)
        assert self._writers is not None
        return len(self._writers)

    def rewritten_across(self, revision: int) -> set[int]:
        """Object numbers (0 aside) that a revision up to ``revision`` writes and a later
        one writes again: the only ones that can have existed at ``revision`` and be written
        after it. Found from the numbers written more than once, not from everything the
        later revisions write (red team pdf12: 100 signatures each went through the 3,000
        objects of the last update)."""
        if self._rewritten is None:
            self._writers_of(0)
            assert self._writers is not None
            self._rewritten = {
                n: (w[0], w[-1]) for n, w in self._writers.items() if len(w) > 1 and n != 0
            }
        return {n for n, (a, b) in self._rewritten.items() if a <= revision < b}

    def _names_zero(self, revision: int) -> bool:
        data = self._xrefs.get_xref_data(revision)
        return _section_entry(data, 0) is not None

    def written_in(self, revision: int) -> set[int]:
        """Object numbers that ``revision``'s own xref section writes (in use or freed)."""
        data = self._xrefs.get_xref_data(revision)
        out = set(data.standard_xrefs) | set(data.xrefs_in_objstm) | set(data.freed)
        if data.hybrid is not None:
            hd = data.hybrid.xref_data
            out |= set(hd.standard_xrefs) | set(hd.xrefs_in_objstm) | set(hd.freed)
        out.discard(0)
        return out

    def freed_and_listed(self, revision: int) -> set[int]:
        """What ``revision``'s hybrid section frees and lists at once (see
        :func:`freed_and_listed`)."""
        return freed_and_listed(self._xrefs.get_xref_data(revision))

    def same_entry(self, number: int, a: int, b: int) -> bool:
        """Whether revisions ``a`` and ``b`` keep ``number`` in the same place, so that it
        reads the same in both (object streams and indirect lengths aside: see get)."""
        return self.entry(number, a) == self.entry(number, b)

    def members(self, number: int, revision: int) -> list[int]:
        """The object numbers object stream ``number`` holds in ``revision`` (none when
        it cannot be read as one)."""
        try:
            return [n for n, _ in self._object_stream(number, revision)[1]]
        except ObjectReadError:
            return []

    def get(self, number: int, revision: int) -> Any:
        """The raw object ``number`` as ``revision`` defines it; None when it is free or
        was never defined. Raises ObjectReadError when it cannot be read."""
        if self._budget is not None and self.parsed_bytes > self._budget:
            self._charge(0)  # spent: nothing more is read, not even what was read before
        key = (number, revision)
        if key in self._cache:
            return self._cache[key]
        entry = self.entry(number, revision)
        if entry is None or entry.kind == "free":
            obj = None
        else:
            self._parsed += 1
            if self._parsed > MAX_OBJECTS:
                raise ObjectReadError(f"more than {MAX_OBJECTS} objects to compare")
            self._cache[key] = None  # a cycle through /Length reads as missing
            obj = self._read(number, entry, revision)
        self._cache[key] = obj
        return obj

    def _read(self, number: int, entry: Entry, revision: int) -> Any:
        from pyhanko.pdf_utils import generic
        from pyhanko.pdf_utils.misc import PdfError

        handler = _Handler(self, revision)
        try:
            if entry.kind == "stream":
                return self._read_member(number, entry, revision, handler)
            stream = self._stream
            stream.seek(entry.where)
            idnum, generation = _read_header(stream)
            if (idnum, generation) != (number, entry.generation):
                raise ObjectReadError(
                    f"the xref entry of object {number} points at object {idnum} {generation}"
                )
            obj = generic.read_object(stream, generic.Reference(number, generation, handler))
            payload = len(obj.encoded_data or b"") if isinstance(obj, generic.StreamObject) else 0
            self._charge(stream.tell() - entry.where - payload)
            return obj
        except ObjectReadError:
            raise
        except (PdfError, ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
            raise ObjectReadError(
                f"object {number} cannot be read in revision {revision + 1} ({type(exc).__name__})"
            ) from exc

    def allow_more(self, parsed: int) -> None:
        """From now on, parse at most ``parsed`` bytes more (objects, stream data aside,
        and decoded object streams); past it every read raises ObjectReadError, even of
        what was read before, so that whatever is judged after stops."""
        self._budget = self.parsed_bytes + parsed
        self._allowed = parsed

    def _charge(self, parsed: int) -> None:
        """Count ``parsed`` bytes against the budget; raise past it."""
        self.parsed_bytes += max(parsed, 0)
        if self._budget is not None and self.parsed_bytes > self._budget:
            raise ObjectReadError(
                f"too much to compare: the signatures after the first would parse more "
                f"than {self._allowed:,} bytes of objects again, more than a genuine file "
                "needs; the later revisions are not judged"
            )

    def _read_member(self, number: int, entry: Entry, revision: int, handler: Any) -> Any:
        from pyhanko.pdf_utils import generic

        body, header, first = self._object_stream(entry.where, revision)
        if not 0 <= entry.index < len(header) or header[entry.index][0] != number:
            raise ObjectReadError(
                f"object stream {entry.where} does not hold object {number} at index "
                f"{entry.index} in revision {revision + 1}"
            )
        buf = io.BytesIO(body)
        buf.seek(first + header[entry.index][1])
        obj = generic.read_object(buf, generic.Reference(number, 0, handler))
        self._charge(buf.tell() - first - header[entry.index][1])
        if isinstance(obj, generic.StreamObject | generic.IndirectObject):
            raise ObjectReadError(f"object stream {entry.where} holds a stream or a reference")
        return obj

    def _object_stream(
        self, number: int, revision: int
    ) -> tuple[bytes, list[tuple[int, int]], int]:
        """(decoded body, [(number, offset)], /First) of an object stream in ``revision``."""
        from pyhanko.pdf_utils import generic
        from pyhanko.pdf_utils.decode_limits import DecodePurpose

        key = (number, revision)
        hit = self._objstm.get(key)
        if hit is not None:
            return hit
        entry = self.entry(number, revision)
        if entry is None or entry.kind != "file":
            raise ObjectReadError(f"object stream {number} is not in the file body")
        stm = self.get(number, revision)
        if not isinstance(stm, generic.StreamObject) or stm.get("/Type") != "/ObjStm":
            raise ObjectReadError(f"object {number} is not an object stream")
        count, first = stm.get("/N"), stm.get("/First")
        if not isinstance(count, int) or not isinstance(first, int) or not 0 <= count <= 100_000:
            raise ObjectReadError(f"object stream {number} has no usable /N or /First")
        body = stm.read_data(DecodePurpose.OBJECT_STREAM)
        self._charge(len(body))
        numbers = body[:first].split()
        if len(numbers) < 2 * count:
            raise ObjectReadError(f"object stream {number}'s header is short")
        header = [(int(numbers[2 * i]), int(numbers[2 * i + 1])) for i in range(count)]
        self._objstm[key] = (body, header, first)
        return body, header, first


def _read_header(stream: Any) -> tuple[int, int]:
    """``N G obj`` at the stream's position."""
    from pyhanko.pdf_utils.reader import read_object_header

    idnum, generation = read_object_header(stream, strict=True)
    return int(idnum), int(generation)
