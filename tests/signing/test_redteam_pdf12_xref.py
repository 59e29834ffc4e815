"""Red team pdf12, p12-09 and the p11 note under p12-10: the work pyHanko does when it
opens a file, bounded before it opens it.

p12-09: the r11-05 bound let an xref stream declare as many entries as the file has bytes.
A 993 KB file (966 KB of incompressible padding, then an update whose xref stream declares
989,000 free rows of never-used numbers, ~6 KB deflated) cost 11 s of CPU and 711 MB when
pyHanko opened it, and passed. Every xref section's declared entries are now counted
before pyHanko opens the file: a total bound over all revisions, and per update no more
never-used numbers than the update has objects, plus a small slack.

p11: the pre-check read ``startxref`` only within 64 bytes before the last ``%%EOF``, while
pyHanko accepts any run of spaces (one line) or line breaks between ``startxref`` and its
offset: the pre-check now finds the last startxref as pyHanko does.

Found while fixing: the count held only for the sections this reader could read. pyHanko
also reads a section a startxref or /Prev misses by a few bytes (it repairs the pointer),
and the rows of an xref stream whose /W or /Size this reader refuses (an empty stream of
1,000,000 rows with a bad /W, 22 KB: 2.5 s of CPU and 302 MB on main): both are counted.
"""

from __future__ import annotations

import io
import os
import time
import zlib

import pytest
from pyhanko.pdf_utils.misc import PdfReadError
from pyhanko.pdf_utils.reader import PdfFileReader, process_data_at_eof

from schemas.report import Indication, SubIndication
from signing._verify.structure import MAX_XREF_ENTRIES, _pyhanko_startxref, read_revisions
from signing.errors import TooManyRevisions
from signing.verify import Verifier
from tests.helpers import rawpdf
from tests.helpers.licenses import sealed_license
from tests.helpers.pki import demo_trust_bundle
from tests.signing.test_redteam_pdf11_revisions import many_updates


def _base(sealed: bytes) -> tuple[rawpdf.Trailer, bytearray]:
    base = rawpdf.trailer_of(sealed)
    return base, bytearray(sealed if sealed.endswith(b"\n") else sealed + b"\n")


def _xref_stream(
    out: bytearray,
    base: rawpdf.Trailer,
    number: int,
    index: list[int],
    rows: bytes,
    *,
    size: int,
    width: bytes = b"[1 4 1]",
    closing: bytes = b"startxref\n%d\n%%%%EOF\n",
) -> bytes:
    """``out`` plus xref stream object ``number`` (deflated ``rows``) and its closing."""
    packed = zlib.compress(rows, 9)
    head = {
        "/Type": b"/XRef",
        "/W": width,
        "/Index": b"[" + b" ".join(b"%d" % i for i in index) + b"]",
        "/Size": b"%d" % size,
        "/Root": base.root,
        "/Prev": b"%d" % base.prev,
        "/Filter": b"/FlateDecode",
        "/Length": b"%d" % len(packed),
    }
    if base.id_entry is not None:
        head["/ID"] = base.id_entry
    at = len(out)
    out += b"%d 0 obj\n" % number + rawpdf.dict_bytes(head) + b"\nstream\n" + packed
    out += b"\nendstream\nendobj\n" + closing % at
    return bytes(out)


def padded_free_rows(sealed: bytes, padding: int, count: int) -> bytes:
    """p12-09: ``sealed`` plus one update: a stream of ``padding`` random bytes (object N)
    and an xref stream (object N+1) listing both, then ``count`` free rows of never-used
    numbers (``/Index [N 2 N+2 count]``): the file's size pays for the declared rows."""
    base, out = _base(sealed)
    number = base.size
    pad_at = len(out)
    pad = os.urandom(padding)
    out += b"%d 0 obj\n" % number + rawpdf.stream_bytes(pad) + b"\nendobj\n"
    xref_at = len(out)
    rows = b"\x01" + pad_at.to_bytes(4, "big") + b"\x00"
    rows += b"\x01" + xref_at.to_bytes(4, "big") + b"\x00" + bytes(6 * count)
    index = [number, 2, number + 2, count]
    return _xref_stream(out, base, number + 1, index, rows, size=number + 2 + count)


def objects_and_frees(sealed: bytes, objects: int, frees: int) -> bytes:
    """``sealed`` plus one update of ``objects`` new objects and ``frees`` free rows of
    never-used numbers after them (genuine writers free a few: iText its xref stream)."""
    base, out = _base(sealed)
    number = base.size
    rows = b""
    for i in range(objects):
        rows += b"\x01" + len(out).to_bytes(4, "big") + b"\x00"
        out += b"%d 0 obj\n<< /Note (object %d) >>\nendobj\n" % (number + i, i)
    xref = number + objects
    rows += b"\x01" + len(out).to_bytes(4, "big") + b"\x00" + bytes(6 * frees)
    count = objects + 1 + frees
    return _xref_stream(out, base, xref, [number, count], rows, size=number + count)


@pytest.fixture(scope="module")
def verifier() -> Verifier:
    return Verifier(demo_trust_bundle(), isolation="thread", timeout=60)


def _refused_quickly(verifier: Verifier, forged: bytes, words: str) -> None:
    started, cpu = time.monotonic(), time.process_time()
    report = verifier.verify(forged)
    took, used = time.monotonic() - started, time.process_time() - cpu
    assert report.indication is Indication.TOTAL_FAILED, report.reasons
    assert report.sub_indication is SubIndication.FORMAT_FAILURE
    assert any(words in r for r in report.reasons), report.reasons
    assert used < 2.0, used  # 11 s of CPU and 711 MB before the fix (p12-09)
    assert took < 5.0, took


def test_p12_09_free_rows_paid_for_by_padding_are_refused_before_pyhanko(
    verifier: Verifier,
) -> None:
    """The attacker's file: 989,000 free rows in a ~1 MB file."""
    forged = padded_free_rows(sealed_license(), 966_000, 989_000)
    assert 900_000 < len(forged) < 1_100_000
    _refused_quickly(verifier, forged, "entries")


def test_rows_below_the_total_bound_but_never_used_are_refused(verifier: Verifier) -> None:
    """Far below the total bound, but thousands of free rows of numbers nothing ever used:
    no writer frees numbers it never used."""
    forged = padded_free_rows(sealed_license(), 1_000, 20_000)
    _refused_quickly(verifier, forged, "never used")


def test_the_total_bound_holds_whatever_the_rows_say() -> None:
    """In-use rows (all at one offset) are no cheaper to read than free ones: the total
    bound counts declared rows before reading them."""
    base, out = _base(sealed_license())
    count = MAX_XREF_ENTRIES + 1
    rows = (b"\x01" + len(out).to_bytes(4, "big") + b"\x00") * count
    forged = _xref_stream(out, base, base.size, [base.size, count], rows, size=base.size + count)
    started = time.process_time()
    with pytest.raises(TooManyRevisions, match="entries"):
        read_revisions(forged)
    assert time.process_time() - started < 0.5


@pytest.mark.parametrize("frees", [0, 1, 16])
def test_an_update_freeing_a_few_never_used_numbers_still_verifies(
    verifier: Verifier, frees: int
) -> None:
    report = verifier.verify(objects_and_frees(sealed_license(), 3, frees))
    assert report.indication is Indication.TOTAL_PASSED, report.reasons


def test_a_large_genuine_update_is_not_refused() -> None:
    """An update of 5,000 objects declares 5,001 rows: its own objects, no slack needed."""
    revisions = read_revisions(objects_and_frees(sealed_license(), 5_000, 1))
    assert len(revisions[-1].entries) >= 5_002


# -- p11: whitespace between startxref and its offset ---------------------------------


@pytest.mark.parametrize(
    "closing",
    [
        b"startxref" + b" " * 100 + b"%d\n%%%%EOF\n",
        b"startxref" + b"\n" * 500 + b"%d\n\n%%%%EOF\n",  # pyHanko: even runs of LF
        b"startxref\r\n" + b"\r\n" * 300 + b"%d  \r\n%%%%EOF",
    ],
    ids=["spaces", "newlines", "crlf"],
)
def test_the_pre_check_reads_the_last_startxref_as_pyhanko_does(closing: bytes) -> None:
    """p11: with the offset 100 spaces after ``startxref`` the pre-check could not read the
    chain (it judged it later, after pyHanko had read every revision)."""
    base, out = _base(sealed_license())
    count = MAX_XREF_ENTRIES + 1
    rows = (b"\x01" + len(out).to_bytes(4, "big") + b"\x00") * count
    index, at = [base.size, count], len(out)
    forged = _xref_stream(
        out, base, base.size, index, rows, size=base.size + count, closing=closing
    )
    stream = io.BytesIO(forged)
    stream.seek(-1, os.SEEK_END)
    assert process_data_at_eof(stream) == at  # pyHanko reads this chain
    with pytest.raises(TooManyRevisions, match="entries"):
        read_revisions(forged)


def test_p11_revisions_behind_a_spaced_startxref_are_counted() -> None:
    """The attacker's p11: 300 one-object updates, the last offset 100 spaces after its
    ``startxref``: refused by the revision count, before pyHanko reads them."""
    forged = many_updates(sealed_license(), 300)
    head, _, offset = forged[:-7].rpartition(b"startxref\n")
    forged = head + b"startxref" + b" " * 100 + offset + b"\n%%EOF\n"
    with pytest.raises(TooManyRevisions, match="revisions"):
        read_revisions(forged)


_TAILS = [
    b"startxref\n%d\n%%%%EOF\n",
    b"startxref\r\n%d\r\n%%%%EOF",
    b"startxref %d\n%%%%EOF\n",
    b"startxref" + b" " * 100 + b"%d\n%%%%EOF\n",
    b"startxref\n\n%d\n%%%%EOF",
    b"startxref\n\n\n%d\n%%%%EOF",
    b"startxref\r\n\r\n%d\n\n\n\n%%%%EOF\n\n\n",
    b"startxref junk\n%d\n%%%%EOFjunk\nmore junk\n",
    b"startxref\n%d\n%%%%EOF\nx%%%%EOF\n",
    b"startxref\n+%d \t\n%%%%EOF\r\r\r",
    b"startxref\n%d\n%%%%EOF" + b" " * 1100,
    b"startxref\n%d\n%%%%EOF\n" + b"\n" * 1100,
    b"startxref\nx%d\n%%%%EOF\n",
    b"startxre\n%d\n%%%%EOF\n",
]


@pytest.mark.parametrize("tail", _TAILS)
def test_the_last_startxref_is_found_exactly_as_pyhanko_finds_it(tail: bytes) -> None:
    """Our port of pyHanko's ``process_data_at_eof`` gives what pyHanko gives (None where
    pyHanko cannot open the file)."""
    for body in (b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n", b"\n"):
        data = body + tail % 1234
        stream = io.BytesIO(data)
        stream.seek(-1, os.SEEK_END)
        try:
            expected: int | None = process_data_at_eof(stream)
        except (PdfReadError, ValueError):
            expected = None
        assert _pyhanko_startxref(data) == expected, data[-60:]


# -- pointers pyHanko repairs ---------------------------------------------------------


def _big_stream(count: int) -> tuple[rawpdf.Trailer, bytes, int]:
    """``sealed`` plus an update whose xref stream declares ``count`` in-use rows (all at
    one offset), and where that stream starts."""
    base, out = _base(sealed_license())
    rows = (b"\x01" + len(out).to_bytes(4, "big") + b"\x00") * count
    at = len(out)
    index = [base.size, count]
    return base, _xref_stream(out, base, base.size, index, rows, size=base.size + count), at


@pytest.mark.parametrize("shift", [-3, -2, 2])
def test_a_startxref_pyhanko_repairs_is_counted(shift: int) -> None:
    """A startxref a few bytes off its xref stream: this reader stops there (a broken chain
    it reports later), pyHanko finds the stream nearby and reads every row (300,000 rows:
    1 s of CPU and 156 MB before the repaired chain was counted)."""
    _, data, at = _big_stream(MAX_XREF_ENTRIES + 1)
    forged = data[: data.rindex(b"startxref\n")] + b"startxref\n%d\n%%%%EOF\n" % (at + shift)
    reader = PdfFileReader(io.BytesIO(forged), strict=False)  # pyHanko reads it
    assert reader.xrefs.total_revisions >= 2
    with pytest.raises(TooManyRevisions, match="entries"):
        read_revisions(forged)


def test_a_prev_pyhanko_repairs_is_counted() -> None:
    """The same behind a later update whose /Prev is 3 bytes off."""
    base, data, at = _big_stream(MAX_XREF_ENTRIES + 1)
    out = bytearray(data)
    number = base.size + MAX_XREF_ENTRIES + 1
    obj = len(out)
    out += b"%d 0 obj\n<< /Note (later) >>\nendobj\n" % number
    xref = len(out)
    out += b"xref\n%d 1\n%010d 00000 n \ntrailer\n" % (number, obj)
    trailer = {"/Size": b"%d" % (number + 1), "/Root": base.root, "/Prev": b"%d" % (at - 3)}
    out += rawpdf.dict_bytes(trailer) + b"\nstartxref\n%d\n%%%%EOF\n" % xref
    reader = PdfFileReader(io.BytesIO(bytes(out)), strict=False)  # pyHanko reads it
    assert reader.xrefs.total_revisions >= 3
    with pytest.raises(TooManyRevisions, match="entries"):
        read_revisions(bytes(out))


@pytest.mark.parametrize(
    ("index", "width"),
    [(None, b"[1 4 1]"), (b"[0 9000000]", b"[1 4 1]"), (b"[0 60000]", b"[1 4 99]")],
    ids=["size-only", "beyond-the-section-bound", "bad-widths"],
)
def test_rows_are_counted_even_where_the_stream_is_refused(
    index: bytes | None, width: bytes
) -> None:
    """An xref stream this reader refuses (a /Size or /Index past its own limit, a bad /W)
    still costs pyHanko its rows: they are counted first."""
    base, out = _base(sealed_license())
    at = len(out)
    head = {"/Type": b"/XRef", "/W": width, "/Size": b"9000000", "/Root": base.root}
    if index is not None:
        head["/Index"] = index
    head["/Prev"], head["/Length"] = b"%d" % base.prev, b"0"
    out += b"%d 0 obj\n" % base.size + rawpdf.dict_bytes(head) + b"\nstream\n\nendstream\nendobj\n"
    out += b"startxref\n%d\n%%%%EOF\n" % at
    with pytest.raises(TooManyRevisions, match="entries"):
        read_revisions(bytes(out))
