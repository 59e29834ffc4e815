"""A strict, no-repair reader of a PDF's revision structure.

Readers disagree about malformed PDFs: pyHanko corrects a ``startxref`` that is a few bytes
off, poppler and MuPDF rebuild a broken cross-reference table by scanning the whole file
for ``N G obj``, DSS cuts revisions at every ``%%EOF`` it finds. Each repair is a *parser
differential*: a forger appends bytes after a signed revision that one reader ignores and
another shows, and the signature still verifies. The cure is to repair nothing: every byte
after the signed revision must belong to an exactly well-formed incremental update, so all
readers agree on what the file says.

:func:`read_revisions` follows the last ``startxref`` and the ``/Prev`` chain back, as
written, and is lenient only about the oldest part of the chain, which the signer signed
as it is. :func:`check_updates_after` is strict about every byte after a signature.

Rules for each update after the signed revision (ISO 32000-2 7.5.6, plus the marked
additions that close differentials seen between readers):

* The signed bytes end with ``%%EOF`` (EOL optional); the first update's ``/Prev`` is the
  signed revision's ``startxref``, each later update's ``/Prev`` the previous one's.
* An update is: whitespace and comments, indirect objects ``N G obj ... endobj``, one xref
  section (a classic ``xref`` table + ``trailer``, or an xref stream object), then
  ``startxref``, its offset and ``%%EOF``, each on its own line. ``startxref`` points
  exactly at ``xref`` or at the xref stream's ``N G obj``, or into the whitespace right
  before it (every reader skips that whitespace; real writers are off by one that way);
  nothing follows the last ``%%EOF`` but whitespace and NUL bytes.
* Every object of the update is listed in its xref at exactly its offset (or in the
  whitespace right before it) and generation;
  every in-use entry points at an object of the update with that number and generation;
  a compressed entry names an object stream of the update whose /N covers its index and
  whose header gives that object number at that index, and every object of such a stream
  is listed (added: no hidden objects); no object number twice in one update; object 0
  is never in use. Each object of such a stream is read by the same strict rules as one
  written directly, starts at ``/First`` plus its offset (the first at ``/First``) and ends
  where the next starts (added: readers that seek to each offset and readers that read on
  from ``/First`` see the same objects); such a stream has no ``/DecodeParms`` (added:
  readers decode predictors differently). An xref stream object need not list itself
  (iText marks it free).
* The table: ``xref`` EOL, subsection headers ``first count`` EOL, 20-byte entries (also
  19 and 21 bytes: LF or space-CRLF endings, which real writers use), no number twice.
  The trailer (or xref stream dictionary) has an integer /Size above every object number
  in the section and not below the previous revision's (added), an indirect /Root, an
  integer /Prev, and the same /Encrypt as the previous revision (added). A hybrid
  /XRefStm points at an xref stream object of the same update whose entries do not
  contradict the table's in-use entries.
* Streams: the data is exactly /Length bytes (direct, or an integer object of this update
  or an earlier revision), then an optional EOL and ``endstream`` and ``endobj``. Stream
  data must not contain ``endstream``, ``endobj``, ``N G obj`` or ``%%EOF`` (added: a
  reader that scans for keywords, or cuts revisions at ``%%EOF``, would see other objects
  than one that honours /Length).
* Added: no dictionary has a key twice with two values (readers keep the first or the
  last), and no
  comment contains a structure keyword (``%%EOF``, ``startxref``, ``xref``, ``trailer``,
  ``obj``, ``stream``, ``%PDF-``).
* Bounded: at most :data:`MAX_REVISIONS` revisions, :data:`MAX_XREF_ENTRIES` xref entries
  declared in all (counted before they are read, on the chain pyHanko reads), a few free
  entries of never-used numbers per update, :data:`MAX_UPDATE_OBJECTS` objects per
  update, nesting depth :data:`MAX_DEPTH`; xref streams decode to what their /Index
  declares, an update's object stream to :data:`MAX_OBJECT_STREAM` bytes and those of all
  the updates of a file to :data:`MAX_OBJECT_STREAMS_DECODED` together (added: a value
  read strictly costs Python time; decoding stops at the bound, before any is read).
  Every failure is a :class:`StructureError` or a reason string.
"""

from __future__ import annotations

import bisect
import hashlib
import re
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from signing._verify.lru import Lru
from signing.errors import StructureError, TooManyRevisions

__all__ = [
    "MAX_DEPTH",
    "MAX_OBJECT_STREAM",
    "MAX_OBJECT_STREAMS_DECODED",
    "MAX_REVISIONS",
    "MAX_UPDATE_OBJECTS",
    "MAX_XREF_ENTRIES",
    "Entry",
    "Free",
    "InFile",
    "InStream",
    "Name",
    "Ref",
    "Revision",
    "StructureError",
    "XrefSection",
    "check_updates_after",
    "read_revisions",
]

MAX_REVISIONS = 256
"""More revisions than this are refused, before pyHanko reads the file (red team pdf11,
p11-08: 4,900 one-object updates took 7.7 s). The DSS corpus has 8 at most, DSS's own
51-signature test file 54; a B-LTA license gains two per renewal of its archive timestamp."""
MAX_UPDATE_OBJECTS = 20_000
"""More objects than this in one update after a signature are refused."""
MAX_DEPTH = 64
"""Deepest nesting of arrays and dictionaries read."""
MAX_SECTION_ENTRIES = 8_000_000
"""Most entries one xref section may declare (the format's own limit is 8,388,607)."""
MAX_XREF_ENTRIES = 50_000
"""Most entries all the xref sections of a file may declare together (tables' rows and
xref streams' /Index ranges, every revision, hybrid streams and the sections pyHanko
finds by repairing a pointer included), counted before any is read. pyHanko reads every
declared entry when it opens a file, a table row or a stream row alike (a stream row
deflates to nothing; a stream too short for its /Index gives default rows for free):
about 4 us each to open, about 9 us each for the whole verification (989,002 rows: 9.2 s
of CPU and 712 MB, red team pdf12, p12-09; r11-05 before it). At this bound: 0.2 s to
open, 0.45 s of CPU and 32 MB to verify. The DSS corpus declares 3,505 at most
(certified-no-change-permitted.pdf), a sealed license about 40."""
_NEVER_USED_SLACK = 256
"""Most free entries one update may declare for numbers no earlier revision had in use
(an update frees objects it had; iText marks its own xref stream free). The DSS corpus
has 2 at most."""
_MAX_DECODED = 64 << 20
"""Most bytes an xref stream may decode to."""
MAX_OBJECT_STREAM = 512 << 10
"""Most bytes an object stream of an update after a signature may decode to: every value
in it is read strictly, in Python, about 0.6 s of CPU per MB of ``0 `` values (red team
pdf13, p13-12: 83 KB of file decoding to 60 MB took 36.7 s and 706 MB). Decoding stops
just past it. The DSS corpus's largest object stream decodes to 46 KB
(fieldmdp-exclude.pdf, in a signed revision), a license's to a few KB."""
MAX_OBJECT_STREAMS_DECODED = 1 << 20
"""Most bytes the object streams of all the updates after a file's signatures may decode
to together (each update is read once per file: :data:`_checked`, :data:`_spent`): at
most about 0.6 s of CPU. The DSS corpus's updates after a signature decode 5.5 KB of
object streams at most (DSS-2601.pdf)."""

_REGULAR_END = rb"(?![^\x00\t\n\x0c\r ()<>\[\]{}/%])"
_SKIP = re.compile(rb"(?:[\x00\t\n\x0c\r ]+|%[^\r\n]*)*")
_SKIPPED = frozenset(b"\x00\t\n\x0c\r %")  # what _SKIP may take first
_PERCENT = ord("%")
_SPACE = re.compile(rb"[\x00\t\n\x0c\r ]*")
_NUMBER = re.compile(rb"[+-]?(?:\d+(?:\.\d*)?|\.\d+)" + _REGULAR_END)
_REF = re.compile(rb"(\d+)[\x00\t\n\x0c\r ]+(\d+)[\x00\t\n\x0c\r ]+R" + _REGULAR_END)
_NAME = re.compile(rb"/([^\x00\t\n\x0c\r ()<>\[\]{}/%]*)")
_NAME_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
_KEYWORD = re.compile(rb"[A-Za-z]+" + _REGULAR_END)
_OBJ = re.compile(rb"(\d{1,10})[\x00\t\n\x0c\r ]+(\d{1,5})[\x00\t\n\x0c\r ]+obj" + _REGULAR_END)
_PAREN = re.compile(rb"[()\\]")
_HEX_BODY = re.compile(rb"[0-9A-Fa-f\x00\t\n\x0c\r ]*")
_EOL = re.compile(rb"\r\n|\n|\r")
_STARTXREF = re.compile(
    rb"startxref[\x00\t\n\x0c\r ]+(\d{1,15})[\x00\t\n\x0c\r ]+%%EOF(\r\n|\n|\r)?"
)
_STARTXREF_BEFORE_EOF = re.compile(rb"startxref[\x00\t\n\x0c\r ]+(\d{1,15})[\x00\t\n\x0c\r ]*\Z")
_STRICT_STARTXREF = re.compile(rb"startxref(?:\r\n|\n|\r)(\d{1,15})(?:\r\n|\n|\r)%%EOF")
_TABLE_START = re.compile(rb"xref[ \t]*(?:\r\n|\n|\r)")
_TABLE_START_LENIENT = re.compile(rb"xref[\x00\t\n\x0c\r ]*")
_SUBSECTION = re.compile(rb"(\d{1,10}) (\d{1,10})[ \t]*(?:\r\n|\n|\r)")
_SUBSECTION_LENIENT = re.compile(rb"(\d{1,10})[ \t]+(\d{1,10})[\x00\t\n\x0c\r ]+")
_TABLE_ENTRY = re.compile(rb"(\d{10}) (\d{5}) ([nf])(?: \r\n| \n| \r|\r\n|\n)")
_TABLE_ENTRY_LENIENT = re.compile(rb"[ ]*(\d{1,10})[ ]+(\d{1,5})[ ]+([nf])[\x00\t\n\x0c\r ]*")
_COMMENT_KEYWORDS = re.compile(rb"%%EOF|%PDF-|startxref|xref|trailer|obj|stream")
_SCANNED_OBJ = rb"[\x00\t\n\x0b\x0c\r \xa0]obj"
"""``obj`` after white space (or a NUL, or at a line's start), whatever comes before it:
what poppler's xref reconstruction (``XRef::constructXRef``) and pdf.js's
``indexObjects`` index as an object once the numbers before it parse, and those rules are
not modelled here: poppler reads lines into a C buffer, a NUL ends one, a number ending a
line is joined with the next line's, long lines come in 256-byte chunks, so
``9<NUL>%x<LF>0 obj`` is object 9 to it (red team 11, r11-01)."""
_STREAM_FORBIDDEN = re.compile(
    rb"(?:endstream|endobj|%%EOF|trailer)" + _REGULAR_END + rb"|" + _SCANNED_OBJ
)
"""What stream data after a signature may not hold: a keyword a reader rebuilding the xref
finds (r11-01d: the NUL line in stream data)."""
_INDEXED = re.compile(rb"endobj|endstream|startxref|trailer|xref|%%EOF|" + _SCANNED_OBJ)
"""What a reader rebuilding the xref by scanning indexes (see _UpdateCheck._check_scanned);
``obj`` as :data:`_SCANNED_OBJ` (a string such as ``(see objects)`` in an update after the
signature is refused with it: the cost of not modelling each scanner's line rules)."""
_TRAILING = re.compile(rb"[\x00\t\n\x0c\r ]*\Z")


# -- values -------------------------------------------------------------------------------


class Name(str):
    """A PDF name, without its slash and with ``#xx`` escapes decoded."""

    __slots__ = ()


@dataclass(frozen=True)
class Ref:
    """An indirect reference ``number generation R``."""

    number: int
    generation: int


@dataclass(frozen=True)
class InFile:
    """An object written at a byte offset (xref type 1, table entry ``n``)."""

    offset: int
    generation: int


@dataclass(frozen=True)
class InStream:
    """An object inside an object stream (xref type 2)."""

    stream_number: int
    index: int


@dataclass(frozen=True)
class Free:
    """A free entry (type 0, ``f``); ``generation`` is the next one to use."""

    generation: int


Entry = InFile | InStream | Free


@dataclass(frozen=True)
class XrefSection:
    """One cross-reference section as written: a table with its trailer, or a stream."""

    offset: int
    """Where ``xref`` or the stream's ``N G obj`` starts."""
    end: int
    """One past the trailer dictionary, or the stream object's ``endobj``."""
    kind: Literal["table", "stream"]
    trailer: Mapping[str, Any]
    """The trailer, or the xref stream's dictionary (names without their slash)."""
    entries: Mapping[int, Entry]
    """This section's entries; a hybrid table's include those of its /XRefStm."""
    stream_number: int | None = None
    """The xref stream's own object number."""
    hybrid: XrefSection | None = None
    """A hybrid table's /XRefStm stream (its entries complete the table's)."""

    def view(self) -> dict[int, Entry]:
        """The entries a reader resolves through this section: the table's, completed by
        its /XRefStm where the table has none or a free one (ISO 32000-2 7.5.8.4)."""
        merged = dict(self.entries)
        if self.hybrid is not None:
            for number, entry in self.hybrid.entries.items():
                if isinstance(merged.get(number, Free(0)), Free):
                    merged[number] = entry
        return merged


@dataclass(frozen=True)
class Revision:
    """One revision: what a ``startxref ... %%EOF`` closes, oldest first in a list."""

    end: int
    """Offset one past this revision's %%EOF marker (and its EOL, if any)."""
    startxref: int
    """The value after ``startxref`` just before that %%EOF."""
    sections: tuple[XrefSection, ...]
    """The xref sections this revision added (a linearized first revision has two)."""
    entries: Mapping[int, Entry]
    """Object number -> entry, as this revision writes it."""
    problem: str | None = None
    """Why the sections of this (oldest) revision could not be read, if they could not."""


@dataclass
class _Object:
    """An indirect object read from the file."""

    number: int
    generation: int
    offset: int
    end: int
    value: Any
    stream: tuple[int, int] | None = None
    """Start and end offsets of the raw stream data."""


LengthResolver = Callable[[Ref], int]


class _Lexer:
    """Reads PDF values at byte offsets of ``data``; ``strict`` for bytes after a signature."""

    def __init__(self, data: bytes, *, strict: bool) -> None:
        self.data = data
        self.strict = strict
        self.declared = 0
        """Xref entries the sections read so far declare (see MAX_XREF_ENTRIES)."""

    def declare(self, count: int) -> None:
        """Count ``count`` more declared xref entries; refuse past MAX_XREF_ENTRIES."""
        self.declared += count
        if self.declared > MAX_XREF_ENTRIES:
            raise TooManyRevisions(
                f"xref sections declaring more than {MAX_XREF_ENTRIES} entries"
                f" ({self.declared} so far)"
            )

    def fail(self, pos: int, what: str) -> StructureError:
        return StructureError(f"{what} at offset {pos}")

    def skip(self, pos: int) -> int:
        """Skip whitespace and comments (strict: comments naming no structure keyword)."""
        data = self.data
        # Most often nothing or one whitespace byte lies before the next token.
        if pos >= len(data) or data[pos] not in _SKIPPED:
            return pos
        if data[pos] != _PERCENT and (pos + 1 == len(data) or data[pos + 1] not in _SKIPPED):
            return pos + 1
        end = _SKIP.match(self.data, pos).end()  # type: ignore[union-attr]
        # find, not ``b"%" in``: that first tries b"%" as an integer and formats an error
        if self.strict and end > pos and self.data.find(b"%", pos, end) >= 0:
            for comment in re.finditer(rb"%[^\r\n]*", self.data[pos:end]):
                keyword = _COMMENT_KEYWORDS.search(comment.group())
                if keyword:
                    raise self.fail(
                        pos + comment.start(),
                        f"a comment containing {keyword.group().decode()!r}",
                    )
        return end

    def value(self, pos: int, depth: int = 0) -> tuple[Any, int]:
        """The value starting at or after ``pos``, and the offset after it."""
        data = self.data
        pos = self.skip(pos)
        if depth > MAX_DEPTH:
            raise self.fail(pos, f"objects nested deeper than {MAX_DEPTH}")
        head = data[pos : pos + 1]
        if head == b"/":
            return self.name(pos)
        if head == b"<":
            if data[pos + 1 : pos + 2] == b"<":
                return self.dictionary(pos, depth)
            return self.hex_string(pos)
        if head == b"(":
            return self.literal_string(pos)
        if head == b"[":
            return self.array(pos, depth)
        ref = _REF.match(data, pos)
        if ref:
            return Ref(int(ref.group(1)), int(ref.group(2))), ref.end()
        number = _NUMBER.match(data, pos)
        if number:
            text = number.group()
            return (float(text) if text.find(b".") >= 0 else int(text)), number.end()
        keyword = _KEYWORD.match(data, pos)
        if keyword and keyword.group() in (b"true", b"false", b"null"):
            word = keyword.group()
            return (None if word == b"null" else word == b"true"), keyword.end()
        raise self.fail(pos, f"no PDF value ({data[pos : pos + 12]!r})")

    def name(self, pos: int) -> tuple[Name, int]:
        match = _NAME.match(self.data, pos)
        assert match is not None
        raw = match.group(1)
        if raw.find(b"#") >= 0:
            raw = _NAME_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), raw)
        return Name(raw.decode("latin-1")), match.end()

    def hex_string(self, pos: int) -> tuple[bytes, int]:
        end = self.data.find(b">", pos + 1)
        if end < 0:
            raise self.fail(pos, "an unterminated hex string")
        body = self.data[pos + 1 : end]
        if _HEX_BODY.fullmatch(body) is None:
            raise self.fail(pos, "a hex string with non-hex characters")
        return body, end + 1

    def literal_string(self, pos: int) -> tuple[bytes, int]:
        depth, cursor = 0, pos
        while True:
            match = _PAREN.search(self.data, cursor)
            if match is None:
                raise self.fail(pos, "an unterminated string")
            char = match.group()
            cursor = match.end() + (1 if char == b"\\" else 0)
            if char == b"(":
                depth += 1
            elif char == b")":
                depth -= 1
                if depth == 0:
                    return self.data[pos + 1 : match.start()], cursor

    def array(self, pos: int, depth: int) -> tuple[list[Any], int]:
        items: list[Any] = []
        pos += 1
        while True:
            pos = self.skip(pos)
            if self.data[pos : pos + 1] == b"]":
                return items, pos + 1
            if pos >= len(self.data):
                raise self.fail(pos, "an unterminated array")
            item, pos = self.value(pos, depth + 1)
            items.append(item)

    def dictionary(self, pos: int, depth: int) -> tuple[dict[str, Any], int]:
        start, items = pos, dict[str, Any]()
        pos += 2
        while True:
            pos = self.skip(pos)
            if self.data.startswith(b">>", pos):
                return items, pos + 2
            if self.data[pos : pos + 1] != b"/":
                raise self.fail(pos, "a dictionary key that is not a name")
            key, pos = self.name(pos)
            item, pos = self.value(pos, depth + 1)
            if self.strict and items.get(key, item) != item:
                raise self.fail(start, f"a dictionary with two values for /{key}")
            items[key] = item

    def keyword(self, pos: int, word: bytes) -> int:
        """The offset after ``word`` (after skipping whitespace and comments), or fail."""
        pos = self.skip(pos)
        match = _KEYWORD.match(self.data, pos)
        if match is None or match.group() != word:
            raise self.fail(pos, f"no {word.decode()!r}")
        return match.end()

    def indirect_object(self, pos: int, length: LengthResolver | None = None) -> _Object:
        """Read ``N G obj value [stream ... endstream] endobj`` starting exactly at ``pos``."""
        header = _OBJ.match(self.data, pos)
        if header is None:
            raise self.fail(pos, "no 'N G obj'")
        obj = _Object(int(header.group(1)), int(header.group(2)), pos, 0, None)
        obj.value, cursor = self.value(header.end())
        after = self.skip(cursor)
        word = _KEYWORD.match(self.data, after)
        if word is not None and word.group() == b"stream":
            if not isinstance(obj.value, dict):
                raise self.fail(after, "a stream whose dictionary is not one")
            obj.stream = self.stream_data(obj, word.end(), length)
            cursor = self.keyword(obj.stream[1], b"endstream")
        obj.end = self.keyword(cursor, b"endobj")
        return obj

    def stream_data(self, obj: _Object, pos: int, length: LengthResolver | None) -> tuple[int, int]:
        eol = _EOL.match(self.data, pos)
        if eol is None or (self.strict and eol.group() == b"\r"):
            raise self.fail(pos, "no CRLF or LF after 'stream'")
        start = eol.end()
        size = obj.value.get("Length")
        if isinstance(size, Ref):
            if length is None:
                raise self.fail(obj.offset, "an indirect /Length where none is allowed")
            size = length(size)
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise self.fail(obj.offset, "a stream without a usable /Length")
        end = start + size
        if end > len(self.data):
            raise self.fail(obj.offset, "a stream running past the end of the file")
        tail = _SPACE.match(self.data, end)
        assert tail is not None
        if not self.data.startswith(b"endstream", tail.end()):
            raise self.fail(end, f"no 'endstream' after the /Length {size} bytes of a stream")
        if self.strict:
            hidden = _STREAM_FORBIDDEN.search(self.data, start, end)
            if hidden:
                raise self.fail(hidden.start(), f"stream data containing {hidden.group()[:20]!r}")
        return start, end


# -- stream decoding (xref streams and object-stream headers) -------------------------------


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _decode(data: bytes, obj: _Object, limit: int) -> bytes:
    """The decoded data of ``obj`` (FlateDecode with PNG predictors, or none); decoding
    stops a little after ``limit`` bytes (a bomb is never inflated)."""
    assert obj.stream is not None
    if limit > _MAX_DECODED:
        raise StructureError(f"object {obj.number} would decode to more than {_MAX_DECODED} bytes")
    raw = data[obj.stream[0] : obj.stream[1]]
    filters = _as_list(obj.value.get("Filter"))
    params = _as_list(obj.value.get("DecodeParms"))
    if not filters:
        return raw[: limit + 1]  # as Flate: a little past the limit, to tell it was passed
    if len(filters) != 1 or filters[0] != "FlateDecode":
        raise StructureError(f"object {obj.number} uses filters {filters}, not FlateDecode")
    try:
        out = zlib.decompressobj().decompress(raw, limit + 1)
    except zlib.error as exc:
        raise StructureError(f"object {obj.number}: corrupt Flate data ({exc})") from None
    parms = params[0] if params and isinstance(params[0], dict) else {}
    return _unpredict(out, parms, obj.number)


def _unpredict(out: bytes, parms: Mapping[str, Any], number: int) -> bytes:
    predictor = parms.get("Predictor", 1)
    if predictor == 1:
        return out
    columns = parms.get("Columns", 1)
    if not (10 <= predictor <= 15) or parms.get("Colors", 1) != 1:
        raise StructureError(f"object {number}: unsupported predictor {predictor}")
    if parms.get("BitsPerComponent", 8) != 8 or not isinstance(columns, int) or columns < 1:
        raise StructureError(f"object {number}: unsupported predictor parameters")
    width, previous = columns + 1, bytes(columns)
    rows: list[bytes] = []
    for start in range(0, len(out) - width + 1, width):
        previous = _png_row(out[start], out[start + 1 : start + width], previous, number)
        rows.append(previous)
    return b"".join(rows)


def _png_row(kind: int, raw: bytes, previous: bytes, number: int) -> bytes:
    """One row undone of its PNG filter (``kind`` 0-4, ISO 32000-2 7.4.4.4)."""
    if kind == 0:
        return raw
    if kind == 2:  # Up, what xref streams use: add bytewise without carries, in one go
        size = len(raw)
        high = int.from_bytes(b"\x80" * size, "big")
        a, b = int.from_bytes(raw, "big"), int.from_bytes(previous, "big")
        return (((a & ~high) + (b & ~high)) ^ ((a ^ b) & high)).to_bytes(size, "big")
    if kind not in (1, 3, 4):
        raise StructureError(f"object {number}: bad PNG predictor row type {kind}")
    row = bytearray(raw)
    for i in range(len(row)):
        left, up = (row[i - 1] if i else 0), previous[i]
        if kind == 1:
            row[i] = (row[i] + left) & 0xFF
        elif kind == 3:
            row[i] = (row[i] + (left + up) // 2) & 0xFF
        else:
            row[i] = (row[i] + _paeth(left, up, previous[i - 1] if i else 0)) & 0xFF
    return bytes(row)


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


# -- xref sections ------------------------------------------------------------------------


def _int(value: Any) -> int | None:
    """``value`` if it is a PDF integer (not a boolean), else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _read_section(lexer: _Lexer, pointer: int) -> XrefSection:
    """The xref section ``pointer`` (a startxref or /Prev value) points at.

    A pointer into the whitespace just before ``xref`` or ``N G obj`` is followed: every
    reader skips whitespace there (MuPDF's pdf_read_xref, pdf.js, poppler, PDFBox and
    pyHanko), and real writers are off by one that way.
    """
    data = lexer.data
    if not 0 <= pointer < len(data):
        raise lexer.fail(pointer, "an xref pointer beyond the file")
    pos = _SPACE.match(data, pointer).end()  # type: ignore[union-attr]
    if data.startswith(b"xref", pos):
        return _read_table(lexer, pos)
    if _OBJ.match(data, pos):
        return _read_xref_stream(lexer, pos)
    raise lexer.fail(pointer, "no xref table or xref stream")


def _read_table(lexer: _Lexer, offset: int) -> XrefSection:
    data, strict = lexer.data, lexer.strict
    start = (_TABLE_START if strict else _TABLE_START_LENIENT).match(data, offset)
    if start is None:
        raise lexer.fail(offset, "no end of line after 'xref'")
    header_re = _SUBSECTION if strict else _SUBSECTION_LENIENT
    entry_re = _TABLE_ENTRY if strict else _TABLE_ENTRY_LENIENT
    entries: dict[int, Entry] = {}
    pos = start.end()
    while (header := header_re.match(data, pos)) is not None:
        first, count = int(header.group(1)), int(header.group(2))
        lexer.declare(count)  # before the rows: pyHanko reads as many
        if len(entries) + count > MAX_SECTION_ENTRIES:
            raise lexer.fail(pos, "an xref table with too many entries")
        pos = header.end()
        for number in range(first, first + count):
            line = entry_re.match(data, pos)
            if line is None:
                raise lexer.fail(pos, f"a malformed xref table entry for object {number}")
            if strict and number in entries:
                raise lexer.fail(pos, f"object {number} twice in one xref table")
            where, generation = int(line.group(1)), int(line.group(2))
            in_use = line.group(3) == b"n"
            entries[number] = InFile(where, generation) if in_use else Free(generation)
            pos = line.end()
    if strict and not entries:
        raise lexer.fail(offset, "an xref table without entries")
    trailer, end = lexer.value(lexer.keyword(pos, b"trailer"))
    if not isinstance(trailer, dict):
        raise lexer.fail(pos, "a trailer that is not a dictionary")
    hybrid = None
    if "XRefStm" in trailer:
        hybrid = _read_hybrid(lexer, trailer["XRefStm"])
    return XrefSection(offset, end, "table", trailer, entries, hybrid=hybrid)


def _read_hybrid(lexer: _Lexer, pointer: Any) -> XrefSection | None:
    """A hybrid table's /XRefStm section (lenient reading drops one it cannot read)."""
    try:
        if _int(pointer) is None:
            raise lexer.fail(0, "a /XRefStm that is not an integer")
        return _read_xref_stream(lexer, pointer)
    except StructureError as exc:
        if lexer.strict:
            raise StructureError(f"the /XRefStm section cannot be read: {exc}") from None
        return None


def _read_xref_stream(lexer: _Lexer, offset: int) -> XrefSection:
    obj = lexer.indirect_object(offset)
    head = obj.value
    if obj.stream is None or head.get("Type") != "XRef":
        raise lexer.fail(offset, f"object {obj.number} is not an xref stream")
    lexer.declare(_declared_rows(head))  # first: pyHanko reads them, whatever else is wrong
    widths, size = head.get("W"), _int(head.get("Size"))
    if (
        not isinstance(widths, list)
        or len(widths) != 3
        or any(_int(w) is None or not 0 <= w <= 8 for w in widths)
    ):
        raise lexer.fail(offset, "an xref stream with a bad /W")
    if size is None or not 0 <= size <= MAX_SECTION_ENTRIES:
        raise lexer.fail(offset, "an xref stream with a bad /Size")
    index = head.get("Index", [0, size])
    if (
        not isinstance(index, list)
        or len(index) % 2
        or any(_int(i) is None or i < 0 for i in index)
        or sum(index[1::2]) > MAX_SECTION_ENTRIES
    ):
        raise lexer.fail(offset, "an xref stream with a bad /Index")
    row, count = sum(widths), sum(index[1::2])
    rows = _decode(lexer.data, obj, count * (row + 1))
    if len(rows) != row * count and (lexer.strict or len(rows) < row * count):
        if lexer.strict or not row:
            raise lexer.fail(offset, f"xref stream data of {len(rows)} bytes, not {row * count}")
        count = len(rows) // row
    entries = _stream_entries(rows, widths, index, count, lexer.strict)
    return XrefSection(offset, obj.end, "stream", head, entries, stream_number=obj.number)


def _declared_rows(head: Mapping[str, Any]) -> int:
    """The rows pyHanko reads from an xref stream with dictionary ``head``: its /Index
    counts (or /Size), whatever the stream holds (a row too short reads as a default)."""
    index = head.get("Index", [0, head.get("Size")])
    if not isinstance(index, list):
        return 0
    return sum(max(n, 0) for n in index[1::2] if _int(n) is not None)


def _stream_entries(
    rows: bytes, widths: list[int], index: list[int], count: int, strict: bool
) -> dict[int, Entry]:
    entries: dict[int, Entry] = {}
    bounds = (0, widths[0], widths[0] + widths[1], sum(widths))
    row, at = bounds[3], 0
    for first, length in zip(index[::2], index[1::2], strict=True):
        for number in range(first, first + min(length, count - at // max(row, 1))):
            fields = [
                int.from_bytes(rows[at + bounds[i] : at + bounds[i + 1]], "big") for i in range(3)
            ]
            at += row
            kind = fields[0] if widths[0] else 1
            if strict and number in entries:
                raise StructureError(f"object {number} twice in one xref stream")
            if kind == 0:
                entries[number] = Free(fields[2])
            elif kind == 1:
                entries[number] = InFile(fields[1], fields[2])
            elif kind == 2:
                entries[number] = InStream(fields[1], fields[2])
            elif strict:
                raise StructureError(f"an xref stream entry of unknown type {kind}")
    return entries


# -- revisions ----------------------------------------------------------------------------


def read_revisions(data: bytes) -> list[Revision]:
    """Oldest first: follow the last startxref and /Prev back, no repair.

    Lenient where the signer's own bytes may be odd: a pointer at whitespace before its
    section, loose table syntax, and a chain whose oldest part cannot be read (reported
    as one revision without sections, with its ``problem``). The last startxref is found
    as pyHanko finds it. Raises StructureError when the file has no ``startxref ... %%EOF``
    at all; TooManyRevisions (before pyHanko reads the file: it reads as much) when there
    are more than MAX_REVISIONS revisions, more than MAX_XREF_ENTRIES declared xref
    entries, or an update freeing many numbers never used.
    """
    lexer = _Lexer(data, strict=False)
    chain, problem, pointer = _follow_chain(lexer, _last_startxref(data))
    groups: list[list[XrefSection]] = []
    for i, section in enumerate(chain):
        if i and section.offset > chain[i - 1].offset:
            groups[-1].append(section)  # a /Prev pointing forward: linearized first revision
        else:
            groups.append([section])
    if len(groups) > MAX_REVISIONS:
        raise TooManyRevisions(f"more than {MAX_REVISIONS} revisions")
    revisions: list[Revision] = []
    limit = len(data)
    for group in groups:
        revisions.append(_revision(lexer, group, limit))
        limit = min(s.offset for s in group)
    if problem is not None:
        revisions.append(_unreadable_revision(data, limit, pointer, problem))
    revisions.reverse()
    _check_never_used(revisions)
    return revisions


def _check_never_used(revisions: list[Revision]) -> None:
    """Refuse an update freeing more than _NEVER_USED_SLACK numbers that no earlier
    revision had in use: an update frees objects it had, it does not declare a million
    numbers nothing ever used (red team pdf12, p12-09: 989,000 such rows, deflated to
    6 KB). Only where the whole chain could be read (else what was in use is unknown)."""
    if any(revision.problem is not None for revision in revisions):
        return
    used: set[int] = set()
    for number, revision in enumerate(revisions):
        if number:
            never = sum(
                1
                for n, entry in revision.entries.items()
                if isinstance(entry, Free) and n and n not in used
            )
            if never > _NEVER_USED_SLACK:
                raise TooManyRevisions(
                    f"an update freeing {never} object numbers never used before (revision "
                    f"{number + 1}; genuine updates free the objects they had)"
                )
        used.update(n for n, entry in revision.entries.items() if not isinstance(entry, Free))


def _last_startxref(data: bytes) -> int:
    """The last startxref's offset, as pyHanko finds it (the chain it reads when it opens
    the file is the one counted here), else as this reader always did."""
    pointer = _pyhanko_startxref(data)
    if pointer is not None:
        return pointer
    last = data.rfind(b"%%EOF")
    if last < 0:
        raise StructureError("the file has no %%EOF marker")
    tail = _STARTXREF_BEFORE_EOF.search(data, max(0, last - 64), last)
    if tail is None:
        raise StructureError(f"no 'startxref <offset>' before the last %%EOF (at {last})")
    return int(tail.group(1))


def _pyhanko_startxref(data: bytes) -> int | None:
    """pyHanko's ``process_data_at_eof`` on ``data`` (None where it raises): the last line
    starting with ``%%EOF`` among the last 1,024 bytes, before it the offset (a line of its
    own, with ``startxref`` starting the line before; or ``startxref<spaces>offset`` on one
    line), lines split at runs of CR and LF (red team pdf12, p11: 100 spaces between
    ``startxref`` and its offset hid 5,002 revisions from a 64-byte window)."""
    pos, floor = len(data) - 1, len(data) - 1024
    try:
        line = b""
        while line[:5] != b"%%EOF":
            if pos < floor:
                return None
            line, pos = _pyhanko_line_before(data, pos)
        line, pos = _pyhanko_line_before(data, pos)
        try:
            offset = int(line)
        except ValueError:
            return int(line[9:].strip()) if line.startswith(b"startxref") else None
        line, pos = _pyhanko_line_before(data, pos)
        return offset if line[:9] == b"startxref" else None
    except ValueError:
        return None


_CR_LF = (b"\n", b"\r")


def _pyhanko_line_before(data: bytes, tell: int) -> tuple[bytes, int]:
    """pyHanko's ``read_next_end_line`` at stream position ``tell``: the line ending at
    ``tell`` and where the next one back ends (its skip over CR and LF looks at every
    other byte, as pyHanko's does). ValueError where pyHanko raises."""
    if tell >= len(data):
        raise ValueError("beyond the end")
    eol = max(data.rfind(b"\n", 0, tell + 1), data.rfind(b"\r", 0, tell + 1))
    if eol < 1:
        raise ValueError("no end of line")
    line, at, x, crlf = data[eol + 1 : tell + 1], eol - 1, b"\n", False
    while x in _CR_LF:
        x = data[at : at + 1]
        at += 1
        if x in _CR_LF:
            at -= 1
            crlf = True
        at = max(at - 2, 0)
    return line, at + (2 if crlf else 1)


def _follow_chain(lexer: _Lexer, pointer: int | None) -> tuple[list[XrefSection], str | None, int]:
    """The sections from ``pointer`` along /Prev, newest first, and why the chain broke."""
    sections: list[XrefSection] = []
    seen: set[int] = set()
    last = pointer or 0
    while pointer is not None:
        last = pointer
        if pointer in seen:
            return sections, f"the /Prev chain comes back to offset {pointer}", pointer
        if len(sections) >= 2 * MAX_REVISIONS:
            raise TooManyRevisions(f"more than {MAX_REVISIONS} revisions")
        seen.add(pointer)
        try:
            section = _read_section(lexer, pointer)
        except TooManyRevisions:
            raise
        except (StructureError, *_EXPECTED) as exc:
            _count_repaired(lexer, pointer)
            why = exc if isinstance(exc, StructureError) else type(exc).__name__
            return sections, f"the xref section at offset {pointer} cannot be read: {why}", pointer
        sections.append(section)
        prev = section.trailer.get("Prev")
        pointer = _int(prev)
        if prev is not None and (pointer is None or pointer < 0):
            return sections, f"/Prev {prev!r} is not an offset", last
    return sections, None, last


_REPAIR_REACH = 160
"""How far from a pointer that misses its section pyHanko may find one: up to ten tries,
each some bytes off the last (``_attempt_startxref_correction``)."""
_REPAIR_TRIES = 12
"""Most places near such a pointer read (pyHanko tries ten)."""
_SECTION_START = re.compile(rb"xref|\d{1,10}[\x00\t\n\x0c\r ]+\d{1,5}[\x00\t\n\x0c\r ]+obj")


def _count_repaired(lexer: _Lexer, pointer: int | None) -> None:
    """Count (``lexer.declare``) the entries of the sections pyHanko reads where this
    reader stops: pyHanko repairs a pointer that misses its section by looking for one a
    few bytes away, and reads on along its /Prev. Nothing is repaired here, the sections
    are only counted (red team pdf12: a startxref 3 bytes before an xref stream of 300,000
    entries cost 1 s of CPU and 156 MB; the bound held only for the sections read)."""
    seen: set[int] = set()
    while pointer is not None and pointer not in seen and len(seen) < 2 * MAX_REVISIONS:
        seen.add(pointer)
        section = _nearby_section(lexer, pointer)
        if section is None:
            return
        pointer = _int(section.trailer.get("Prev"))


def _nearby_section(lexer: _Lexer, pointer: int) -> XrefSection | None:
    """The readable section starting nearest ``pointer``, within _REPAIR_REACH bytes."""
    data = lexer.data
    lo, hi = max(0, pointer - _REPAIR_REACH), min(len(data), pointer + _REPAIR_REACH)
    starts = sorted(
        (m.start() for m in _SECTION_START.finditer(data, lo, hi + 24)),
        key=lambda start: abs(start - pointer),
    )
    for start in starts[:_REPAIR_TRIES]:
        try:
            return _read_section(lexer, start)
        except TooManyRevisions:
            raise
        except (StructureError, *_EXPECTED):
            continue
    return None


def _revision(lexer: _Lexer, group: list[XrefSection], limit: int) -> Revision:
    """The revision made of ``group`` (newest first), closed by the ``startxref ... %%EOF``
    after its last section (searched for up to ``limit`` if not right there)."""
    data = lexer.data
    last = max(group, key=lambda s: s.offset)
    eof = _STARTXREF.match(data, lexer.skip(last.end))
    if eof is None:
        eof = _STARTXREF.search(data, last.end, max(limit, last.end))
    if eof is None:
        raise StructureError(f"no 'startxref ... %%EOF' after the xref section at {last.offset}")
    entries: dict[int, Entry] = {}
    for section in group:
        for number, entry in section.view().items():
            entries.setdefault(number, entry)
    return Revision(eof.end(), int(eof.group(1)), tuple(group), entries)


def _unreadable_revision(data: bytes, limit: int, pointer: int, problem: str) -> Revision:
    """What is before the readable revisions, as one revision without sections."""
    eof = data.rfind(b"%%EOF", 0, limit)
    if eof < 0:
        return Revision(0, pointer, (), {}, problem)
    before = _STARTXREF_BEFORE_EOF.search(data, max(0, eof - 64), eof)
    after = _EOL.match(data, eof + 5)
    end = after.end() if after else eof + 5
    return Revision(end, int(before.group(1)) if before else pointer, (), {}, problem)


# -- updates after a signature ------------------------------------------------------------

_EXPECTED = (
    RecursionError,
    IndexError,
    KeyError,
    ValueError,
    TypeError,
    AttributeError,
    OverflowError,
    MemoryError,
)


def check_updates_after(
    data: bytes,
    signed_end: int,
    *,
    reader: Any | None = None,
    revisions: list[Revision] | None = None,
) -> str | None:
    """None when every byte from ``signed_end`` to EOF belongs to exactly valid
    incremental updates; otherwise a one-line English reason. ``revisions``: what
    :func:`read_revisions` gave for ``data``, if it was called already.

    With a pyHanko ``PdfFileReader`` of ``data``, also check that pyHanko's view agrees
    (its revisions' startxref values and xref entries equal ours, so pyHanko repaired
    nothing in those revisions).
    """
    try:
        if revisions is None:
            revisions = read_revisions(data)
        signed = _signed_revision(data, revisions, signed_end)
        in_force: dict[int, Entry] = {}
        for revision in revisions[: signed + 1]:
            in_force.update(revision.entries)
        direct: set[int] = set()
        start = signed_end
        digest = hashlib.sha256(data).digest()
        for number, update in enumerate(revisions[signed + 1 :], start=1):
            problem = _check_update(data, digest, revisions, signed + number, start, in_force)
            problem = problem or _direct_into_stream(update, direct)
            if problem:
                raise StructureError(f"update {number} after the signature: {problem}")
            in_force.update(update.entries)
            direct |= {n for n, e in update.entries.items() if isinstance(e, InFile)}
            start = update.end
        tail = _TRAILING.match(data, start)
        if tail is None or tail.end() != len(data):
            return f"bytes other than whitespace after the last %%EOF (at offset {start})"
        if reader is not None:
            return _pyhanko_disagrees(reader, revisions, signed, digest)
    except StructureError as exc:
        return str(exc)
    except _EXPECTED as exc:
        return f"the structure after the signature cannot be read ({type(exc).__name__})"
    return None


#: Updates checked (the file's SHA-256, the update's index, where its bytes start) -> the
#: problem found, or "" for none. Every signature of a file checks the updates after it,
#: the same ones for all (each sees every revision before an update in force): checked
#: once, not once per signature (red team pdf12: 40 signatures before one update of 8,000
#: objects, 866 KB, checked it 40 times, 11 s of CPU).
_checked: Lru[tuple[bytes, int, int], str] = Lru(512)

#: The file's SHA-256 -> {an update's index: the bytes its object streams decode to}: what
#: the updates of a file checked so far spent of :data:`MAX_OBJECT_STREAMS_DECODED`. Per
#: update, not per signature: the same update checked again is not charged twice.
_spent: Lru[bytes, dict[int, int]] = Lru(512)


def _check_update(
    data: bytes,
    digest: bytes,
    revisions: list[Revision],
    index: int,
    start: int,
    in_force: Mapping[int, Entry],
) -> str:
    """:class:`_UpdateCheck` of ``revisions[index]`` (remembered): its problem or ""."""
    key = (digest, index, start)
    known = _checked.get(key)
    if known is not None:
        return known
    try:
        _UpdateCheck(data, revisions, index, start, in_force, digest).run()
        problem = ""
    except StructureError as exc:
        problem = str(exc) or "a structure error"
    _checked.put(key, problem)
    return problem


def _direct_into_stream(update: Revision, direct: set[int]) -> str:
    """The update gives no object stream an object an earlier update after the signature
    wrote directly (red team pdf11, p11-10: a forged page written in one update and the
    signed one put back in an object stream by the next: poppler's rebuilt xref, which
    keeps the last ``N G obj`` in the file, showed the forged one)."""
    for number, entry in update.entries.items():
        if isinstance(entry, InStream) and number in direct:
            return (
                f"object {number}, written directly by an earlier update after the "
                "signature, is put in an object stream: a reader that rebuilds the xref "
                "keeps the earlier one"
            )
    return ""


def _signed_revision(data: bytes, revisions: list[Revision], signed_end: int) -> int:
    """The index of the revision that ends where the signature ends."""
    head = data[max(0, signed_end - 7) : signed_end]
    if not (0 < signed_end <= len(data)) or not re.search(rb"%%EOF(?:\r\n|\n|\r)?\Z", head):
        raise StructureError(f"the signed bytes do not end with %%EOF (offset {signed_end})")
    for index, revision in enumerate(revisions):
        if revision.end == signed_end or (
            data.endswith(b"%%EOF", 0, signed_end)
            and _EOL.fullmatch(data, signed_end, revision.end) is not None
        ):
            return index
        if revision.end > signed_end:
            if revision.problem is not None:
                raise StructureError(revision.problem)
            break
    raise StructureError(
        f"no revision of the startxref and /Prev chain ends where the signature ends "
        f"(offset {signed_end})"
    )


class _UpdateCheck:
    """Checks one update (``revisions[index]``, its bytes from ``start``) strictly."""

    def __init__(
        self,
        data: bytes,
        revisions: list[Revision],
        index: int,
        start: int,
        in_force: Mapping[int, Entry],
        digest: bytes,
    ) -> None:
        self.data = data
        self.digest = digest
        """The file's SHA-256: what its updates decoded is charged to it (:data:`_spent`)."""
        self.revisions = revisions
        self.index = index
        self.update = revisions[index]
        self.previous = revisions[index - 1]
        self.start = start
        self.in_force = in_force
        """Each object number's newest entry in the revisions before this update."""
        self.lexer = _Lexer(data, strict=True)
        self.objects: dict[int, _Object] = {}
        self.entries: dict[int, Entry] = {}
        self.members: list[Any] = []
        """The values of the objects inside this update's object streams."""
        self.decoded = 0
        """The bytes this update's object streams decoded to, so far."""
        self.indexed: set[tuple[bytes, int]] = set()
        """(keyword, offset) of each structure keyword the update writes where it belongs."""

    def run(self) -> None:
        section = self._section()
        self.entries = section.view()
        self._read_body(section)
        self._check_closing(section)
        self._check_trailer(section)
        self._check_entries(section)
        self._check_object_streams()
        self._check_generations(section)
        self._check_scanned(section)
        self._check_rebuilt_alike()

    def _section(self) -> XrefSection:
        """The update's one xref section, read again strictly where startxref points."""
        update = self.update
        if update.problem is not None:
            raise StructureError(update.problem)
        if len(update.sections) != 1:
            raise StructureError(f"{len(update.sections)} xref sections (a /Prev pointing ahead)")
        offset = update.sections[0].offset
        if _SPACE.match(self.data, update.startxref).end() != offset:  # type: ignore[union-attr]
            raise StructureError(
                f"startxref {update.startxref} does not point at its xref section (at {offset})"
            )
        if not self.start <= offset < update.end:
            raise StructureError(f"its xref section (at {offset}) lies before the update")
        section = _read_section(self.lexer, offset)
        prev = section.trailer.get("Prev")
        if _int(prev) != self.previous.startxref:
            raise StructureError(
                f"/Prev is {prev!r}, not the previous revision's startxref "
                f"{self.previous.startxref}"
            )
        return section

    def _read_body(self, section: XrefSection) -> None:
        """Every byte up to the xref section: whitespace, comments, indirect objects."""
        pos = self.lexer.skip(self.start)
        while pos < section.offset:
            obj = self._object_at(pos)
            self._add(obj)
            pos = self.lexer.skip(obj.end)
        if pos != section.offset:
            raise self.lexer.fail(section.offset, "startxref pointing inside an object")
        if section.kind == "stream":
            self._add(self._object_at(pos))

    def _object_at(self, pos: int) -> _Object:
        if len(self.objects) >= MAX_UPDATE_OBJECTS:
            raise StructureError(f"more than {MAX_UPDATE_OBJECTS} objects")
        if _OBJ.match(self.data, pos) is None:
            found = self.data[pos : pos + 16]
            raise self.lexer.fail(pos, f"bytes outside any object ({found!r})")
        known = _recall(self.data, pos)
        if known is not None:
            return known
        obj = self.lexer.indirect_object(pos, self._length)
        _remember(self.data, obj)
        return obj

    def _add(self, obj: _Object) -> None:
        if obj.number in self.objects:
            raise self.lexer.fail(obj.offset, f"object {obj.number} twice in one update")
        self.objects[obj.number] = obj

    def _check_closing(self, section: XrefSection) -> None:
        """Exactly ``startxref`` EOL offset EOL ``%%EOF`` after the section."""
        pos = self.lexer.skip(section.end)
        closing = _STRICT_STARTXREF.match(self.data, pos)
        if closing is None:
            raise self.lexer.fail(pos, "no 'startxref' line, offset line and '%%EOF' line")
        end = closing.end()
        self.indexed |= {(b"startxref", pos), (b"%%EOF", end - 5)}
        eol = _EOL.match(self.data, end)
        if (eol.end() if eol else end) != self.update.end:
            raise self.lexer.fail(end, "a %%EOF that does not close the update")

    def _check_trailer(self, section: XrefSection) -> None:
        trailer, size = section.trailer, _int(section.trailer.get("Size"))
        highest = max(self.entries, default=0)
        if size is None or size <= highest:
            raise StructureError(f"/Size {trailer.get('Size')!r} does not exceed object {highest}")
        before = [_int(s.trailer.get("Size")) or 0 for s in self.previous.sections]
        if size < max(before, default=0):
            raise StructureError(f"/Size {size} is below the previous revision's {max(before)}")
        if not isinstance(trailer.get("Root"), Ref):
            raise StructureError("the trailer has no indirect /Root")
        if self.previous.sections:
            encrypt = self.previous.sections[0].trailer.get("Encrypt")
            if trailer.get("Encrypt") != encrypt:
                raise StructureError("/Encrypt differs from the previous revision's")
        if section.hybrid is not None:
            stream = self.objects.get(section.hybrid.stream_number or 0)
            if stream is None or stream.offset != section.hybrid.offset:
                raise StructureError("/XRefStm does not point at an object of the update")
            for number, entry in section.hybrid.entries.items():
                listed = section.entries.get(number)
                if not isinstance(listed, Free | None) and listed != entry:
                    raise StructureError(f"/XRefStm and the table disagree on object {number}")
                if isinstance(listed, Free) and isinstance(entry, InFile):
                    # the table's free entry stands for a reader that takes the table
                    # first (red team pdf11, p11-07): only compressed objects complete it
                    raise StructureError(
                        f"the table frees object {number} and its /XRefStm puts it in the file"
                    )

    def _length(self, ref: Ref) -> int:
        """An indirect /Length: an integer object of this update or an earlier revision."""
        entry: Entry | None = self.entries.get(ref.number)
        lexer = self.lexer
        if entry is None:
            lexer = _Lexer(self.data, strict=False)
            for revision in reversed(self.revisions[: self.index]):
                entry = revision.entries.get(ref.number)
                if entry is not None:
                    break
        if not isinstance(entry, InFile) or entry.generation != ref.generation:
            raise StructureError(f"the /Length {ref.number} {ref.generation} R is not in the file")
        obj = lexer.indirect_object(entry.offset)
        value = _int(obj.value)
        if (obj.number, obj.generation) != (ref.number, ref.generation) or value is None:
            raise StructureError(f"the /Length {ref.number} {ref.generation} R is no integer")
        return value

    def _check_entries(self, section: XrefSection) -> None:
        """The update's xref and its objects match one to one, offsets and generations.

        An offset may point into the whitespace right before ``N G obj``: every reader
        skips it, and real writers are off by one that way.
        """
        at = {obj.offset: obj for obj in self.objects.values()}
        for number, entry in self.entries.items():
            if number == 0 and not isinstance(entry, Free):
                raise StructureError("the xref puts object 0 in use")
            if isinstance(entry, InFile):
                found = at.get(self._landing(entry.offset))
                if found is None or found.number != number:
                    what = f"object {found.number}" if found else "no object of the update"
                    raise StructureError(
                        f"the xref entry of object {number} points at offset {entry.offset}, "
                        f"where there is {what}"
                    )
                if found.generation != entry.generation:
                    raise StructureError(
                        f"the xref gives object {number} generation {entry.generation}, "
                        f"the object says {found.generation}"
                    )
        xref_streams = {section.stream_number, section.hybrid and section.hybrid.stream_number}
        for number, obj in self.objects.items():
            listed = self.entries.get(number)
            if number in xref_streams and isinstance(listed, Free | None):
                continue  # an xref stream need not list itself (iText lists it as free)
            if not isinstance(listed, InFile) or self._landing(listed.offset) != obj.offset:
                raise StructureError(
                    f"object {number} at offset {obj.offset} is not in the update's xref"
                )

    def _landing(self, offset: int) -> int:
        """Where a reader seeking to ``offset`` finds the next token (after whitespace)."""
        if not 0 <= offset < len(self.data):
            return -1
        return _SPACE.match(self.data, offset).end()  # type: ignore[union-attr]

    def _check_object_streams(self) -> None:
        """Compressed entries and the headers of the update's object streams agree."""
        headers: dict[int, list[int]] = {}
        for number, obj in self.objects.items():
            if isinstance(obj.value, dict) and obj.value.get("Type") == "ObjStm":
                first = _stream_shape(obj)
                body = self._object_stream_body(obj)
                headers[number] = _object_stream_numbers(obj, body, first, self.members)
                for index, inside in enumerate(headers[number]):
                    if self.entries.get(inside) != InStream(number, index):
                        raise StructureError(
                            f"object {inside} in object stream {number} is not in the xref"
                        )
        for number, entry in self.entries.items():
            if not isinstance(entry, InStream):
                continue
            header = headers.get(entry.stream_number)
            if header is None:
                raise StructureError(
                    f"object {number} is in object stream {entry.stream_number}, "
                    f"which the update does not define"
                )
            if entry.index >= len(header) or header[entry.index] != number:
                raise StructureError(
                    f"object {number} is not at index {entry.index} of object stream "
                    f"{entry.stream_number} (/N {len(header)})"
                )

    def _object_stream_body(self, obj: _Object) -> bytes:
        """The decoded data of the update's object stream ``obj``, charged to the file
        before any value in it is read: refused past :data:`MAX_OBJECT_STREAM` bytes, or
        past :data:`MAX_OBJECT_STREAMS_DECODED` with what the file's other updates and
        this one's earlier streams decoded (decoding stops just past the bound)."""
        body = _decode(self.data, obj, MAX_OBJECT_STREAM)
        if len(body) > MAX_OBJECT_STREAM:
            raise StructureError(
                f"object stream {obj.number} decodes to more than {MAX_OBJECT_STREAM} bytes "
                "(each of its values would be read: genuine object streams hold a few KB)"
            )
        self.decoded += len(body)
        # this update's, however often it is checked; a copy: another thread may check
        # another update of the same file meanwhile
        spent = {**(_spent.get(self.digest) or {}), self.index: self.decoded}
        _spent.put(self.digest, spent)
        if sum(spent.values()) > MAX_OBJECT_STREAMS_DECODED:
            raise StructureError(
                f"the object streams of the updates after the first signature decode to more "
                f"than {MAX_OBJECT_STREAMS_DECODED} bytes together (at object stream "
                f"{obj.number})"
            )
        return body

    def _check_generations(self, section: XrefSection) -> None:
        """Generations as every reader that honours them resolves references (red team
        pdf11, p11-03 to p11-06).

        The update writes each object at the generation its number has in the previous
        revision (0 for a number that was free or never used; an object inside an object
        stream has generation 0), and every reference it writes (objects, object stream
        members, trailer) names the generation its object has once the update is applied.
        pyHanko, poppler and pdf.js find no object for ``9 0 R`` when the xref gives ``9``
        generation 1: pyHanko calls the update unexplained, poppler reads null (a page or
        font gone) and, for ``/Info`` or ``/Root``, rebuilds the whole xref by scanning
        the file, and pdf.js rebuilds it when a page-tree reference fails: the scan then
        finds whatever objects the bytes hide (see :meth:`_check_scanned`).
        """
        for number, obj in self.objects.items():
            self._same_generation(number, obj.generation)
        for number, listed in self.entries.items():
            if isinstance(listed, InStream):
                self._same_generation(number, 0)
        values: list[Any] = [obj.value for obj in self.objects.values()]
        values += [*self.members, dict(section.trailer)]
        for ref in _references(values):
            entry = self.entries.get(ref.number) or self.in_force.get(ref.number)
            have = entry.generation if isinstance(entry, InFile) else 0
            if isinstance(entry, InFile | InStream) and have != ref.generation:
                raise StructureError(
                    f"a reference {ref.number} {ref.generation} R names a generation the xref "
                    f"does not give object {ref.number} ({have}): readers that honour "
                    "generations find no object, and poppler and pdf.js then rebuild the xref"
                )

    def _check_rebuilt_alike(self) -> None:
        """A reader that rebuilds the xref by scanning (poppler, for a file without xref
        streams, on any object it needs and cannot find; pdf.js on a broken page tree;
        MuPDF) keeps the last ``N G obj`` written directly in the file and sees neither a
        free entry nor, over such an object, a compressed one. So an update after the
        signature frees no object in use (pyHanko refuses freeing too; red team pdf11,
        p11-09: /Info freed, poppler rebuilt and showed a page hidden in a string; p11-07:
        a page a hybrid table frees); what it puts in object streams is checked against
        the signature's earlier updates by :func:`_direct_into_stream`."""
        for number, entry in self.entries.items():
            before = self.in_force.get(number)
            if isinstance(entry, Free) and isinstance(before, InFile | InStream):
                raise StructureError(
                    f"object {number} is freed: readers that rebuild the xref (poppler, "
                    "pdf.js) still find it, and poppler rebuilds when it needs it"
                )

    def _same_generation(self, number: int, generation: int) -> None:
        before = self.in_force.get(number)
        expected = before.generation if isinstance(before, InFile) else 0
        if generation != expected:
            raise StructureError(
                f"object {number} is written at generation {generation}, not {expected} as "
                "before: references to it no longer find it in readers that honour "
                "generations, and poppler and pdf.js then rebuild the xref by scanning"
            )

    def _check_scanned(self, section: XrefSection) -> None:
        """What a reader that rebuilds a broken xref by scanning the bytes (poppler's
        ``XRef::constructXRef``, pdf.js ``XRef.indexObjects``, MuPDF's repair) would index
        in this update is exactly what its xref says: ``N G obj`` and ``endobj`` of its
        own objects only, their ``endstream``, its own ``xref``, ``trailer``,
        ``startxref`` and ``%%EOF``, nowhere else -- not in a literal string (``/Info``'s
        included), a name, a trailer key (red team pdf11, p11-04 to p11-06: a forged page
        and a second ``trailer`` inside strings, found by poppler and pdf.js once a
        generation made them rebuild the xref). Stream data has its own rule
        (:meth:`_Lexer.stream_data`). The keywords and white space are matched as loosely
        as any of those readers does (vertical tab and no-break space between ``N G
        obj``), so a keyword none of our own rules reads still counts.
        """
        data, allowed = self.data, set(self.indexed)
        spans: list[tuple[int, int]] = []
        for obj in self.objects.values():
            header_obj = data.find(b"obj", obj.offset) - 1  # where _SCANNED_OBJ matches
            allowed |= {(b"obj", header_obj), (b"endobj", obj.end - 6)}
            if obj.stream is not None:
                spans.append(obj.stream)
                allowed.add((b"endstream", _SPACE.match(data, obj.stream[1]).end()))  # type: ignore[union-attr]
        if section.kind == "table":
            allowed |= {(b"xref", section.offset)}
            allowed.add((b"trailer", data.find(b"trailer", section.offset, section.end)))
        spans.sort()  # the objects of one update do not overlap: nor do their streams
        starts = [a for a, _ in spans]
        for hit in _INDEXED.finditer(data, self.start, self.update.end):
            # the one span that can hold the hit: the last that starts at or before it (a
            # bisection, not a walk of every span: red team pdf12, p12-07, quadratic)
            inside = bisect.bisect_right(starts, hit.start()) - 1
            if inside >= 0 and hit.start() < spans[inside][1]:
                if hit.end() > spans[inside][1]:
                    raise self.lexer.fail(hit.start(), "a keyword across the end of stream data")
                continue  # stream data: its own rule
            word = hit.group()
            kind = b"obj" if word.endswith(b"obj") and len(word) == 4 else word
            if (kind, hit.start()) not in allowed:
                raise self.lexer.fail(
                    hit.start(),
                    f"{word[:24]!r} where the update's xref has no such thing: a reader that "
                    "rebuilds the xref by scanning would find it",
                )


def _references(values: list[Any]) -> list[Ref]:
    """Every reference inside ``values`` (nesting is bounded by the lexer)."""
    found: list[Ref] = []
    todo = list(values)
    while todo:
        value = todo.pop()
        if isinstance(value, Ref):
            found.append(value)
        elif isinstance(value, dict):
            todo.extend(value.values())
        elif isinstance(value, list):
            todo.extend(value)
    return found


#: Objects of updates read strictly before, by their bytes (first :data:`_PROBE` bytes ->
#: [(the object's bytes and the byte after them, the object read at offset 0)]): an
#: issuer's updates after its seal repeat the same objects license after license (the
#: DSS's certificates and CRLs). Values are shared: nothing changes an object read.
_read_before: Lru[bytes, list[tuple[bytes, _Object]]] = Lru(1024)
_PROBE = 48
_MAX_REMEMBERED = 32 << 10  # bytes of one object at most
_KEPT_PER_PROBE = 4


def _recall(data: bytes, pos: int) -> _Object | None:
    """The object at ``pos`` as it was read before, when the bytes it was read from (and
    the byte after them, which ends its ``endobj``) are exactly those at ``pos``."""
    for span, obj in _read_before.get(data[pos : pos + _PROBE]) or ():
        if data.startswith(span, pos):
            return _moved(obj, pos)
    return None


def _remember(data: bytes, obj: _Object) -> None:
    """Keep ``obj`` for :func:`_recall` when reading it took nothing but its own bytes and
    the one after them (no indirect /Length, which another object decides)."""
    size = obj.end - obj.offset
    if obj.end >= len(data) or size > _MAX_REMEMBERED:
        return
    if obj.stream is not None and _int(obj.value.get("Length")) is None:
        return
    span = data[obj.offset : obj.end + 1]
    probe = data[obj.offset : obj.offset + _PROBE]
    kept = [k for k in _read_before.get(probe) or () if k[0] != span]
    _read_before.put(probe, [*kept[1 - _KEPT_PER_PROBE :], (span, _moved(obj, 0))])


def _moved(obj: _Object, offset: int) -> _Object:
    """``obj`` as read at ``offset`` instead."""
    shift = offset - obj.offset
    stream = (obj.stream[0] + shift, obj.stream[1] + shift) if obj.stream else None
    return _Object(obj.number, obj.generation, offset, obj.end + shift, obj.value, stream)


_HEADER_PAIR = re.compile(rb"[\x00\t\n\x0c\r ]*(\d{1,10})[\x00\t\n\x0c\r ]+(\d{1,12})")


def _object_stream_numbers(obj: _Object, body: bytes, first: int, values: list[Any]) -> list[int]:
    """The object numbers an update's object stream ``obj`` (decoded: ``body``; its
    /First: ``first``) lists, in order, once its header and every object in it are
    checked (:func:`_object_stream_header`, :func:`_check_object_stream_body`, which adds
    their values to ``values``)."""
    if len(body) < first:
        raise StructureError(f"object stream {obj.number} is shorter than its /First")
    entries = _object_stream_header(obj, body[:first])
    _check_object_stream_body(obj, body, first, entries, values)
    return [number for number, _ in entries]


def _check_object_stream_body(
    obj: _Object, body: bytes, first: int, entries: list[tuple[int, int]], values: list[Any]
) -> None:
    """Each object of an object stream of an update is one value read strictly (as the
    objects written directly in the update are: PDF white space only, no key twice, no
    structure keyword in a comment) that starts at its offset and ends, white space and
    comments aside, where the next one starts (the last: at the end of the data); the first
    starts at ``/First``. Readers find an object either at ``/First`` plus its offset
    (pyHanko) or by reading the objects one after another from ``/First`` (poppler): a gap
    or an overlap lets them read two different pages (red team pdf9, p9-04: a forged page
    poppler showed, wrapping the signed one pyHanko read), and a byte pyHanko takes for
    white space and poppler does not (``4\x0b0 R``) two different values (p9-03)."""
    starts = [first + offset for _, offset in entries]
    if starts and starts[0] != first:
        raise StructureError(f"object stream {obj.number}: its first object is not at /First")
    lexer = _Lexer(body, strict=True)
    for index, (number, start) in enumerate(zip([n for n, _ in entries], starts, strict=True)):
        end = starts[index + 1] if index + 1 < len(starts) else len(body)
        if not start < end <= len(body):
            raise StructureError(
                f"object stream {obj.number}: the offsets of its objects do not increase"
            )
        try:
            if lexer.skip(start) != start:  # pyHanko reads null there (red team pdf10, p10-05)
                raise StructureError(f"it does not start at its offset {start - first}")
            value, pos = lexer.value(start)
            values.append(value)
            pos = lexer.skip(pos)
        except StructureError as exc:
            raise StructureError(f"object {number} in object stream {obj.number}: {exc}") from None
        if pos != end:
            raise StructureError(
                f"object {number} in object stream {obj.number} does not end where the next "
                "one starts: readers that seek to each offset and readers that read on from "
                "/First see different objects"
            )


def _stream_shape(obj: _Object) -> int:
    """An object stream's ``/First``, once its ``/N`` and ``/First`` are plausible. An
    object stream of an update has no ``/DecodeParms``: readers decode predictors
    differently (pyHanko leaves a PNG row of type 0 as zeros, poppler copies it: red team
    pdf10, p10-02, a page only poppler read), and a header read through a predictor was
    cut to whole rows (p10-06)."""
    count, first = _int(obj.value.get("N")), _int(obj.value.get("First"))
    if obj.stream is None or count is None or first is None:
        raise StructureError(f"object stream {obj.number} lacks an integer /N or /First")
    if not 0 <= count <= MAX_UPDATE_OBJECTS or not 0 <= first <= 24 * (count + 1):
        raise StructureError(f"object stream {obj.number} has an implausible /N or /First")
    if obj.value.get("DecodeParms") is not None:
        raise StructureError(
            f"object stream {obj.number} has /DecodeParms: readers decode predictors differently"
        )
    return first


def _object_stream_header(obj: _Object, header: bytes) -> list[tuple[int, int]]:
    """The (object number, offset) pairs an object stream's ``header`` lists, in order."""
    count = _int(obj.value.get("N"))
    assert count is not None
    pairs, pos = [], 0
    for _ in range(count):
        pair = _HEADER_PAIR.match(header, pos)
        if pair is None:
            raise StructureError(f"object stream {obj.number} has a header shorter than /N")
        pairs.append((int(pair.group(1)), int(pair.group(2))))
        pos = pair.end()
    if _SPACE.fullmatch(header, pos) is None:
        raise StructureError(f"object stream {obj.number} has more in its header than /N pairs")
    if len({number for number, _ in pairs}) != len(pairs):
        raise StructureError(f"object stream {obj.number} holds an object twice")
    return pairs


# -- pyHanko's view -----------------------------------------------------------------------


def _pyhanko_disagrees(
    reader: Any, revisions: list[Revision], signed: int, digest: bytes
) -> str | None:
    """Why pyHanko's reading of the updates after ``revisions[signed]`` differs from ours
    (``digest``: the file's SHA-256, under which each update's comparison is remembered)."""
    updates = revisions[signed + 1 :]
    xrefs = reader.xrefs
    total = xrefs.total_revisions
    if total < len(updates) + 1:
        return f"pyHanko reads {total} xref sections, fewer than the file has revisions"
    first = total - len(updates)
    before = xrefs.get_xref_container_info(first - 1)
    if before.declared_startxref != revisions[signed].startxref:
        return (
            f"pyHanko reads the signed revision's xref at {before.declared_startxref}, "
            f"not at its startxref {revisions[signed].startxref}"
        )
    for number, update in enumerate(updates, start=1):
        problem = _pyhanko_disagrees_on(xrefs, digest, first + number - 1, update)
        if problem:
            return problem.replace("{number}", str(number))
    return None


#: (the file's SHA-256, pyHanko's revision index, ours) -> what pyHanko reads otherwise
#: in that update ("" for nothing), with ``{number}`` for the update's place after the
#: signature: the same for every signature before it (red team pdf12: 100 seals compared
#: the 5,050 updates after them entry by entry, 1.2 s of CPU).
_disagreements: Lru[tuple[bytes, int, int], str] = Lru(4096)


def _pyhanko_disagrees_on(xrefs: Any, digest: bytes, index: int, update: Revision) -> str:
    key = (digest, index, update.startxref)
    known = _disagreements.get(key)
    if known is not None:
        return known
    info = xrefs.get_xref_container_info(index)
    section = update.sections[0]
    moved = section.kind == "stream" and info.start_location != section.offset
    problem = ""
    if info.declared_startxref != update.startxref or moved:
        problem = (
            f"pyHanko reads update {{number}}'s xref at {info.start_location} "
            f"(pointer {info.declared_startxref}), not at {section.offset}"
        )
    elif _pyhanko_entries(xrefs.get_xref_data(index)) != _comparable(update):
        problem = "pyHanko reads other xref entries for update {number}"
    _disagreements.put(key, problem)
    return problem


def _comparable(revision: Revision) -> dict[int, Entry]:
    """A revision's entries as pyHanko keeps them (it drops object 0)."""
    return {n: e for n, e in revision.entries.items() if n != 0}


def _pyhanko_entries(section: Any) -> dict[int, Entry]:
    """pyHanko's ``XRefSectionData`` as our entries (table completed by its /XRefStm)."""
    entries: dict[int, Entry] = {}
    for number, generation in section.freed.items():
        entries[number] = Free(generation)
    for number, (generation, offset) in section.standard_xrefs.items():
        entries[number] = InFile(offset, generation)
    for number, where in section.xrefs_in_objstm.items():
        entries[number] = InStream(where.obj_stream_id, where.ix_in_stream)
    if section.hybrid is not None:
        for number, entry in _pyhanko_entries(section.hybrid.xref_data).items():
            if isinstance(entries.get(number, Free(0)), Free):
                entries[number] = entry
    entries.pop(0, None)
    return entries
