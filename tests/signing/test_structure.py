"""The strict revision-structure reader (signing._verify.structure) on real and forged files.

Valid updates are written by pyHanko's IncrementalPdfFileWriter on a file sealed by the demo
PKI (classic table, xref stream, object stream); a hybrid update and the forgeries are
written byte by byte by :func:`append_update` below, so each breaks exactly one rule.
"""

from __future__ import annotations

import io
import json
import logging
import re
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader

from signing._verify.structure import (
    MAX_DEPTH,
    Free,
    InFile,
    InStream,
    StructureError,
    check_updates_after,
    read_revisions,
)
from signing.seal import PadesLevel
from tests.conftest import CORPUS
from tests.helpers.pki import sealed_pdf

# -- inputs -------------------------------------------------------------------------------

#: number -> ("n", offset, generation) | ("f", 0, next generation) | ("c", stream, index)
Entries = dict[int, tuple[str, int, int]]


@pytest.fixture(scope="module")
def sealed() -> bytes:
    """A file sealed by the demo PKI; the seal covers all of it."""
    return sealed_pdf(PadesLevel.B_B)


def _reader(data: bytes) -> PdfFileReader:
    return PdfFileReader(io.BytesIO(data), strict=False)


def pyhanko_update(base: bytes, *, stream_xrefs: bool, object_stream: bool = False) -> bytes:
    """A real incremental update: one new object referenced from the catalog."""
    writer = IncrementalPdfFileWriter(io.BytesIO(base))
    writer.stream_xrefs = stream_xrefs
    value = generic.DictionaryObject({generic.pdf_name("/Note"): generic.NumberObject(7)})
    if object_stream:
        ref = writer.add_object(value, obj_stream=writer.prepare_object_stream())
    else:
        ref = writer.add_object(value)
    writer.root[generic.pdf_name("/Note")] = ref
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _obj(number: int, body: bytes, generation: int = 0) -> bytes:
    return b"%d %d obj\n%s\nendobj\n" % (number, generation, body)


def _object_stream(number: int, members: list[tuple[int, bytes]], n: int | None = None) -> bytes:
    header, data = b"", b""
    for member, body in members:
        header += b"%d %d " % (member, len(data))
        data += body + b" "
    head = b"<</Type/ObjStm/N %d/First %d/Length %d>>" % (
        len(members) if n is None else n,
        len(header),
        len(header + data),
    )
    return _obj(number, head + b"\nstream\n" + header + data + b"\nendstream")


def _table(entries: Entries) -> bytes:
    lines, numbers = [], sorted(entries)
    runs: list[list[int]] = []
    for number in numbers:
        if runs and runs[-1][-1] + 1 == number:
            runs[-1].append(number)
        else:
            runs.append([number])
    for run in runs:
        lines.append(b"%d %d\n" % (run[0], len(run)))
        for number in run:
            kind, where, generation = entries[number]
            assert kind in "nf", "a classic table has no compressed entries"
            lines.append(b"%010d %05d %s \n" % (where, generation, kind.encode()))
    return b"xref\n" + b"".join(lines)


def _xref_stream(number: int, entries: Entries, trailer: bytes) -> bytes:
    rows, index = b"", []
    for n in sorted(entries):
        kind, first, second = entries[n]
        rows += bytes([{"f": 0, "n": 1, "c": 2}[kind]])
        rows += first.to_bytes(4, "big") + second.to_bytes(2, "big")
        index += [n, 1]
    packed = zlib.compress(rows)
    head = b"<</Type/XRef/W[1 4 2]/Index[%s]%s/Filter/FlateDecode/Length %d>>" % (
        b" ".join(b"%d" % i for i in index),
        trailer,
        len(packed),
    )
    return _obj(number, head + b"\nstream\n" + packed + b"\nendstream")


def append_update(
    base: bytes,
    objects: list[bytes],
    *,
    xref: str = "table",
    edit: Callable[[Entries], None] | None = None,
    prev: int | None = None,
    compressed: Entries | None = None,
    gap: bytes = b"",
    shift: int = 0,
) -> bytes:
    """``base`` + one update: ``objects`` (whole ``N G obj ... endobj`` byte strings, each
    followed by ``gap``), listed in an xref table, xref stream or hybrid table + /XRefStm.

    ``edit`` changes the entries before they are written, ``compressed`` adds entries of
    object streams, ``prev`` replaces /Prev, ``shift`` moves the startxref value.
    """
    reader = _reader(base)
    root = reader.trailer.raw_get("/Root")
    size = int(reader.trailer["/Size"])
    out = bytearray(base)
    entries: Entries = {0: ("f", 0, 65535)}
    for raw in objects:
        number, generation = (int(x) for x in raw.split(b" ", 2)[:2])
        entries[number] = ("n", len(out), generation)
        out += raw + gap
    entries.update(compressed or {})
    if edit is not None:
        edit(entries)
    highest = max([size - 1, *entries]) + 1
    trailer = b"/Size %d/Root %d %d R/Prev %d" % (
        highest + 1,
        root.idnum,
        root.generation,
        reader.last_startxref if prev is None else prev,
    )
    if xref == "stream":
        at = len(out)
        out += _xref_stream(highest, entries, trailer)
    else:
        table = {n: e for n, e in entries.items() if e[0] != "c"}
        if xref == "hybrid":
            trailer += b"/XRefStm %d" % len(out)
            hybrid = {n: e for n, e in entries.items() if e[0] == "c"}
            out += _xref_stream(highest, hybrid, b"/Size %d" % (highest + 1))
        at = len(out)
        out += _table(table) + b"trailer\n<<" + trailer + b">>\n"
    out += b"startxref\n%d\n%%%%EOF\n" % (at + shift)
    return bytes(out)


def _refused(data: bytes, signed_end: int, *fragments: str) -> str:
    reason = check_updates_after(data, signed_end)
    assert reason is not None, "the forgery was accepted"
    for fragment in fragments:
        assert fragment in reason, reason
    assert "\n" not in reason
    return reason


# -- valid updates ------------------------------------------------------------------------


def test_a_sealed_file_alone_passes(sealed: bytes) -> None:
    assert check_updates_after(sealed, len(sealed), reader=_reader(sealed)) is None


@pytest.mark.parametrize("level", [PadesLevel.B_LT, PadesLevel.B_LTA])
def test_our_own_ltv_updates_pass(level: PadesLevel) -> None:
    """B-LT adds a DSS update after the seal, B-LTA a document timestamp after that."""
    data = sealed_pdf(level)
    reader = _reader(data)
    ends = _signed_ends(reader)
    assert len(read_revisions(data)) > 2 and ends
    for end in ends:
        assert check_updates_after(data, end, reader=reader) is None


@pytest.mark.parametrize(
    ("stream_xrefs", "object_stream"),
    [(False, False), (True, False), (True, True)],
    ids=["xref-table", "xref-stream", "object-stream"],
)
def test_pyhanko_updates_pass(sealed: bytes, stream_xrefs: bool, object_stream: bool) -> None:
    data = pyhanko_update(sealed, stream_xrefs=stream_xrefs, object_stream=object_stream)
    assert check_updates_after(data, len(sealed), reader=_reader(data)) is None
    update = read_revisions(data)[-1]
    assert update.sections[0].kind == ("stream" if stream_xrefs else "table")
    kinds = {type(e) for e in update.entries.values()}
    assert (InStream in kinds) is object_stream


def test_several_updates_pass_for_every_signed_end(sealed: bytes) -> None:
    once = pyhanko_update(sealed, stream_xrefs=False)
    twice = pyhanko_update(once, stream_xrefs=True)
    reader = _reader(twice)
    assert check_updates_after(twice, len(sealed), reader=reader) is None
    assert check_updates_after(twice, len(once), reader=reader) is None


def test_hybrid_update_passes(sealed: bytes) -> None:
    note = _obj(40, b"<</Note 1>>")
    packed = _object_stream(41, [(42, b"<</Packed true>>")])
    data = append_update(sealed, [note, packed], xref="hybrid", compressed={42: ("c", 41, 0)})
    assert check_updates_after(data, len(sealed), reader=_reader(data)) is None
    update = read_revisions(data)[-1]
    assert update.sections[0].hybrid is not None
    assert update.entries[42] == InStream(41, 0)


def test_signature_ending_before_the_eol_of_its_eof_passes(sealed: bytes) -> None:
    data = pyhanko_update(sealed, stream_xrefs=False)
    assert sealed.endswith(b"%%EOF\n")
    assert check_updates_after(data, len(sealed) - 1) is None


def test_pointer_into_whitespace_before_xref_passes(sealed: bytes) -> None:
    """Every reader skips whitespace where startxref points (MuPDF, pdf.js, pyHanko...)."""
    data = append_update(sealed, [_obj(40, b"<</Note 1>>")], shift=-1)
    assert data[int(data.rsplit(b"startxref\n", 1)[1].split(b"\n")[0])] == ord("\n")
    assert check_updates_after(data, len(sealed), reader=_reader(data)) is None


def test_read_revisions_agrees_with_pyhanko(sealed: bytes) -> None:
    data = pyhanko_update(pyhanko_update(sealed, stream_xrefs=False), stream_xrefs=True)
    revisions = read_revisions(data)
    xrefs = _reader(data).xrefs
    assert len(revisions) == xrefs.total_revisions
    assert revisions[-1].end == len(data)
    for number, revision in enumerate(revisions):
        assert revision.startxref == xrefs.get_startxref_for_revision(number)
        explicit = {(r.idnum, r.generation) for r in xrefs.explicit_refs_in_revision(number)}
        ours = {
            (n, e.generation - 1 if isinstance(e, Free) else getattr(e, "generation", 0))
            for n, e in revision.entries.items()
            if n
        }
        assert ours == explicit


# -- forgeries ----------------------------------------------------------------------------


def test_startxref_one_byte_into_the_xref_keyword(sealed: bytes) -> None:
    data = append_update(sealed, [_obj(40, b"<</Note 1>>")], shift=+1)
    _refused(data, len(sealed), "cannot be read", "no xref table or xref stream")


def test_startxref_before_the_whitespace_of_the_xref(sealed: bytes) -> None:
    data = append_update(sealed, [_obj(40, b"<</Note 1>>")], shift=-2)
    _refused(data, len(sealed), "cannot be read", "no xref table or xref stream")


def test_startxref_off_by_one_with_a_forged_body(sealed: bytes) -> None:
    """The forged object is in no xref: pyHanko fixes the pointer, MuPDF rebuilds."""
    forged = _obj(1, b"<</Type/Catalog/Pages 2 0 R>>")
    data = append_update(sealed, [forged, _obj(40, b"<</Note 1>>")], shift=+1)
    _refused(data, len(sealed), "no xref table or xref stream")
    data = append_update(sealed, [forged], edit=lambda e: e.pop(1), shift=0)
    _refused(data, len(sealed), "object 1 at offset", "is not in the update's xref")


def test_body_appended_after_the_last_eof(sealed: bytes) -> None:
    data = pyhanko_update(sealed, stream_xrefs=False) + _obj(1, b"<</Type/Catalog>>")
    _refused(data, len(sealed), "bytes other than whitespace after the last %%EOF")


def test_trailer_and_startxref_without_xref(sealed: bytes) -> None:
    reader = _reader(sealed)
    root = reader.trailer.raw_get("/Root")
    data = sealed + b"trailer\n<</Size 40/Root %d 0 R/Prev %d>>\nstartxref\n%d\n%%%%EOF\n" % (
        root.idnum,
        reader.last_startxref,
        reader.last_startxref,
    )
    _refused(data, len(sealed), "after the last %%EOF")


def test_object_in_the_body_missing_from_the_xref(sealed: bytes) -> None:
    objects = [_obj(40, b"<</Note 1>>"), _obj(41, b"<</Note 2>>")]
    data = append_update(sealed, objects, edit=lambda e: e.pop(41))
    _refused(data, len(sealed), "object 41 at offset", "not in the update's xref")


def test_xref_entry_pointing_at_another_object(sealed: bytes) -> None:
    def swap(entries: Entries) -> None:
        entries[40] = entries[41]

    objects = [_obj(40, b"<</Note 1>>"), _obj(41, b"<</Note 2>>")]
    data = append_update(sealed, objects, edit=swap)
    _refused(data, len(sealed), "entry of object 40 points at offset", "there is object 41")


def test_xref_entry_pointing_outside_the_update(sealed: bytes) -> None:
    def point_back(entries: Entries) -> None:
        entries[40] = ("n", 15, 0)

    data = append_update(sealed, [_obj(40, b"<</Note 1>>")], edit=point_back)
    _refused(data, len(sealed), "entry of object 40", "no object of the update")


def test_generation_mismatch(sealed: bytes) -> None:
    def claim_zero(entries: Entries) -> None:
        kind, where, _ = entries[40]
        entries[40] = (kind, where, 0)

    forged = append_update(sealed, [_obj(40, b"<</Note 1>>", generation=1)], edit=claim_zero)
    _refused(forged, len(sealed), "generation 0", "the object says 1")


def test_a_new_object_at_generation_1(sealed: bytes) -> None:
    """A number never used before starts at generation 0 (red team pdf11: a signed
    reference ``40 0 R`` left dangling would find nothing in pyHanko, poppler and pdf.js,
    and pdf.js would rebuild the xref by scanning)."""
    data = append_update(sealed, [_obj(40, b"<</Note 1>>", generation=1)])
    _refused(data, len(sealed), "object 40 is written at generation 1, not 0")


def test_prev_pointing_at_an_older_revision(sealed: bytes) -> None:
    oldest = read_revisions(sealed)[0].startxref
    data = append_update(sealed, [_obj(40, b"<</Note 1>>")], prev=oldest)
    _refused(data, len(sealed), "no revision of the startxref and /Prev chain ends where")


def test_prev_pointing_at_no_xref(sealed: bytes) -> None:
    data = append_update(sealed, [_obj(40, b"<</Note 1>>")], prev=len(sealed) - 30)
    _refused(data, len(sealed), f"/Prev is {len(sealed) - 30}, not the previous revision's")


def test_prev_of_a_second_update_skipping_the_first(sealed: bytes) -> None:
    once = append_update(sealed, [_obj(40, b"<</Note 1>>")])
    twice = append_update(once, [_obj(41, b"<</Note 2>>")], prev=_reader(sealed).last_startxref)
    _refused(twice, len(sealed), "update 1", "outside any object")


def test_duplicate_object_in_one_update(sealed: bytes) -> None:
    objects = [_obj(40, b"<</Note 1>>"), _obj(40, b"<</Note 2>>")]
    data = append_update(sealed, objects)
    _refused(data, len(sealed), "object 40 twice in one update")


def test_object_stream_index_beyond_n(sealed: bytes) -> None:
    packed = _object_stream(41, [(42, b"<</Packed 1>>")])
    good = append_update(sealed, [packed], xref="stream", compressed={42: ("c", 41, 0)})
    assert check_updates_after(good, len(sealed), reader=_reader(good)) is None
    forged = append_update(
        sealed, [packed], xref="stream", compressed={42: ("c", 41, 0), 43: ("c", 41, 1)}
    )
    _refused(forged, len(sealed), "object 43 is not at index 1 of object stream 41 (/N 1)")


def test_object_stream_hiding_an_object_from_the_xref(sealed: bytes) -> None:
    packed = _object_stream(41, [(42, b"<</Packed 1>>"), (1, b"<</Type/Catalog>>")])
    data = append_update(sealed, [packed], xref="stream", compressed={42: ("c", 41, 0)})
    _refused(data, len(sealed), "object 1 in object stream 41 is not in the xref")


def test_compressed_entry_in_a_stream_of_another_revision(sealed: bytes) -> None:
    elsewhere: Entries = {42: ("c", 3, 0)}
    data = append_update(sealed, [_obj(40, b"<</A 1>>")], xref="stream", compressed=elsewhere)
    _refused(data, len(sealed), "object stream 3, which the update does not define")


def test_garbage_between_objects(sealed: bytes) -> None:
    objects = [_obj(40, b"<</Note 1>>"), _obj(41, b"<</Note 2>>")]
    data = append_update(sealed, objects, gap=b"junk\n")
    _refused(data, len(sealed), "bytes outside any object", "junk")


def test_truncated_update(sealed: bytes) -> None:
    data = pyhanko_update(sealed, stream_xrefs=False)
    for cut in (len(data) - 7, len(data) - 60, len(sealed) + 40):
        _refused(data[:cut], len(sealed))


def test_eof_marker_hidden_in_a_comment(sealed: bytes) -> None:
    data = append_update(sealed, [_obj(40, b"<</Note 1>>")], gap=b"%%EOF\n")
    _refused(data, len(sealed), "a comment containing '%%EOF'")


def test_stream_length_not_matching_its_data(sealed: bytes) -> None:
    stream = _obj(40, b"<</Length 3>>\nstream\nabcdef\nendstream")
    data = append_update(sealed, [stream])
    _refused(data, len(sealed), "no 'endstream' after the /Length 3 bytes")


def test_stream_data_hiding_an_object(sealed: bytes) -> None:
    body = b"q Q\nendstream\nendobj\n1 0 obj <</Type/Catalog>> endobj\n"
    stream = _obj(40, b"<</Length %d>>\nstream\n%s\nendstream" % (len(body), body))
    data = append_update(sealed, [stream])
    _refused(data, len(sealed), "stream data containing b'endstream'")


def test_objects_read_before_are_taken_only_for_the_same_bytes(sealed: bytes) -> None:
    """An object of an update is remembered by its bytes and the byte after them (which
    ends its ``endobj``), and taken again wherever those bytes recur; an indirect /Length
    is read afresh each time (another object decides it)."""
    plain = b"40 0 obj\n<</Length 5>>\nstream\nq Q Q\nendstream\nendobj"
    assert check_updates_after(append_update(sealed, [plain + b"\n"]), len(sealed)) is None
    moved = append_update(sealed, [_obj(41, b"1"), plain + b"\n"])  # elsewhere: the same
    assert check_updates_after(moved, len(sealed)) is None
    _refused(append_update(sealed, [plain + b"x"]), len(sealed), "no 'endobj'")
    indirect = _obj(40, b"<</Length 41 0 R>>\nstream\nq Q Q\nendstream")
    assert (
        check_updates_after(append_update(sealed, [_obj(41, b"5"), indirect]), len(sealed)) is None
    )
    _refused(
        append_update(sealed, [_obj(41, b"4"), indirect]),
        len(sealed),
        "no 'endstream' after the /Length 4 bytes",
    )


def test_dictionary_key_with_two_values(sealed: bytes) -> None:
    data = append_update(sealed, [_obj(40, b"<</Type/Sig/Type/DocTimeStamp>>")])
    _refused(data, len(sealed), "two values for /Type")


def test_hybrid_xrefstm_outside_the_update(sealed: bytes) -> None:
    data = append_update(sealed, [_obj(40, b"<</Note 1>>")])
    start = data.index(b"trailer\n<<", len(sealed))
    forged = data[: start + 10] + b"/XRefStm %d" % read_revisions(sealed)[-1].startxref
    forged += data[start + 10 :]
    _refused(forged, len(sealed), "/XRefStm does not point at an object of the update")


def test_object_zero_in_use(sealed: bytes) -> None:
    def use_zero(entries: Entries) -> None:
        entries[0] = ("n", entries[40][1], 0)

    data = append_update(sealed, [_obj(40, b"<</Note 1>>")], edit=use_zero)
    _refused(data, len(sealed), "object 0")


def test_signed_bytes_not_ending_with_eof(sealed: bytes) -> None:
    _refused(sealed, len(sealed) - 20, "do not end with %%EOF")


def test_nesting_and_junk_never_escape_as_other_errors(sealed: bytes) -> None:
    deep = _obj(40, b"[" * (MAX_DEPTH + 10) + b"]" * (MAX_DEPTH + 10))
    _refused(append_update(sealed, [deep]), len(sealed), "nested deeper")
    for junk in (b"", b"%%EOF", b"startxref\n99999999\n%%EOF", b"xref\n0 99999999999\n"):
        assert check_updates_after(junk, 0) is not None
        assert check_updates_after(sealed + junk, len(sealed)) is not None or not junk.strip()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(position=st.integers(min_value=0, max_value=10_000), byte=st.integers(0, 255))
def test_any_one_byte_change_gives_a_reason_or_none(position: int, byte: int) -> None:
    base = sealed_pdf(PadesLevel.B_B)
    data = bytearray(append_update(base, [_obj(40, b"<</Note 1>>")], xref="stream"))
    spot = len(base) + position % (len(data) - len(base))
    data[spot] = byte
    reason = check_updates_after(bytes(data), len(base))
    assert reason is None or isinstance(reason, str)


def test_read_revisions_refuses_a_file_without_eof() -> None:
    with pytest.raises(StructureError, match="no %%EOF"):
        read_revisions(b"%PDF-1.7\n1 0 obj <<>> endobj\n")


def test_prev_loop_is_reported_not_followed(sealed: bytes) -> None:
    data = append_update(sealed, [_obj(40, b"<</Note 1>>")])
    at = read_revisions(data)[-1].startxref
    looped = re.sub(rb"/Prev \d+", b"/Prev %d" % at, data[at:], count=1)
    revisions = read_revisions(data[:at] + looped)
    assert revisions[0].problem is not None and "comes back" in revisions[0].problem
    assert isinstance(revisions[-1].entries[40], InFile)


# -- the DSS corpus -----------------------------------------------------------------------

#: file -> what is wrong after one of its signatures (DSS: not intact or modified)
MALFORMED_AFTER_SIGNING = {
    "dss-2236/hide.pdf": "no 'endstream' after the /Length 957 bytes",
    "modified_after_signature.pdf": "no PDF value (b'-1.#INF",
    "dss-818/Signature-P-SK-1 (HASH_FAILURE).pdf": "two values for /Type",
}


def _corpus() -> list[dict[str, Any]]:
    try:
        entries = json.loads((CORPUS / "expected.json").read_text("utf-8"))
    except OSError:
        return [{"file": "<corpus missing>"}]
    return [e for e in entries if e.get("available", True)]


def _signed_ends(reader: PdfFileReader) -> list[int]:
    ends = set()
    for signature in reader.embedded_signatures:
        byte_range = signature.sig_object["/ByteRange"]
        ends.add(int(byte_range[2]) + int(byte_range[3]))
    return sorted(ends)


@pytest.mark.corpus
@pytest.mark.parametrize("entry", _corpus(), ids=[e["file"] for e in _corpus()])
def test_corpus_file(corpus_dir: Path, entry: dict[str, Any]) -> None:
    data = (corpus_dir / "pdfs" / entry["file"]).read_bytes()
    assert read_revisions(data)
    logging.disable(logging.CRITICAL)
    try:
        reader = _reader(data)
        ends = _signed_ends(reader)
    except Exception:  # pyHanko cannot read it: nothing it calls a signature to check
        return
    finally:
        logging.disable(logging.NOTSET)
    reasons = {end: check_updates_after(data, end, reader=reader) for end in ends}
    refused = {end: r for end, r in reasons.items() if r is not None}
    expected = MALFORMED_AFTER_SIGNING.get(entry["file"])
    if expected is not None:
        assert refused and all(expected in r for r in refused.values()), refused
    elif entry.get("intact") and entry.get("modification_detected") is False:
        assert not refused, refused


# -- the objects inside an update's object stream (red team pdf9) -------------------------


def _stream_of(number: int, header: bytes, data: bytes, n: int) -> bytes:
    """An object stream written as told: ``header`` (pairs), then ``data``."""
    head = b"<</Type/ObjStm/N %d/First %d/Length %d>>" % (n, len(header), len(header + data))
    return _obj(number, head + b"\nstream\n" + header + data + b"\nendstream")


def test_object_stream_objects_read_strictly_pass(sealed: bytes) -> None:
    stream = _stream_of(41, b"42 0 43 14 ", b"<</Packed 1>> <</Packed 2>>", 2)
    data = append_update(
        sealed, [stream], xref="stream", compressed={42: ("c", 41, 0), 43: ("c", 41, 1)}
    )
    assert check_updates_after(data, len(sealed), reader=_reader(data)) is None


@pytest.mark.parametrize(
    ("header", "body", "why"),
    [
        # p9-04: the first object not at /First: poppler reads on from /First, pyHanko seeks
        (
            b"42 6 43 20 ",
            b"<</A>> <</Packed 1>> <</Packed 2>>",
            "its first object is not at /First",
        ),
        # a gap: bytes between one object's end and the next offset
        (
            b"42 0 43 20 ",
            b"<</Packed 1>> <</A>> <</Packed 2>>",
            "does not end where the next one starts",
        ),
        # p10-05: white space at /First: pyHanko reads null, poppler the dictionary
        (b"42 0 43 15 ", b" <</Packed 1>> <</Packed 2>>", "does not start at its offset 0"),
        # an overlap: offsets not increasing
        (b"42 0 43 0 ", b"<</Packed 1>>", "offsets of its objects do not increase"),
        # p9-03: a vertical tab, white space to pyHanko, not to poppler
        (b"42 0 43 14 ", b"<</Packed 1>> <</Ref 4\x0b0 R>>", "no PDF value"),
        # NM-1: a key twice (pyHanko keeps the first, poppler the last)
        (b"42 0 43 14 ", b"<</Packed 1>> <</C 4 0 R/C 5 0 R>>", "two values for /C"),
        # p9-02: an object that is only a comment runs pyHanko's reader forever
        (b"42 0 43 14 ", b"<</Packed 1>> %x", "in object stream 41"),
    ],
)
def test_object_stream_objects_readers_see_alike(
    sealed: bytes, header: bytes, body: bytes, why: str
) -> None:
    stream = _stream_of(41, header, body, 2)
    data = append_update(
        sealed, [stream], xref="stream", compressed={42: ("c", 41, 0), 43: ("c", 41, 1)}
    )
    _refused(data, len(sealed), why)


def test_object_stream_with_a_predictor_is_refused(sealed: bytes) -> None:
    """Red team pdf10, p10-02 and p10-06: readers decode predictors differently (pyHanko
    leaves a PNG row of type 0 as zeros, poppler copies it), and a header read through a
    predictor was cut to whole rows: a page poppler alone read, a member the strict lexer
    never saw. No writer puts a predictor on an object stream."""
    rows = b"".join(b"\x00" + bytes([byte]) for byte in b"42 0 <</Packed 1>>")  # PNG "None"
    head = b"<</Type/ObjStm/N 1/First 5/Filter/FlateDecode/DecodeParms<</Predictor 12/Columns 1>>"
    packed = zlib.compress(rows)
    stream = _obj(41, head + b"/Length %d>>\nstream\n" % len(packed) + packed + b"\nendstream")
    data = append_update(sealed, [stream], xref="stream", compressed={42: ("c", 41, 0)})
    _refused(data, len(sealed), "object stream 41 has /DecodeParms")


# -- generations and what a scanning reader indexes (red team pdf11) ----------------------


def _page(sealed: bytes) -> tuple[int, bytes]:
    """The first page's object number and its dictionary as bytes (references kept)."""
    reader = _reader(sealed)
    ref = reader.root["/Pages"]["/Kids"].raw_get(0)
    out = io.BytesIO()
    ref.get_object().write_to_stream(out, None)
    return ref.idnum, out.getvalue()


@pytest.mark.parametrize("xref", ["table", "stream"])
def test_signed_object_written_again_at_generation_1(sealed: bytes, xref: str) -> None:
    """p11-03/p11-04: the signed page written byte for byte at generation 1, the page tree
    still saying ``P 0 R``: pyHanko, poppler and pdf.js find no page (pdf.js then rebuilds
    the xref by scanning the file), pdfium shows the signed one."""
    number, page = _page(sealed)
    data = append_update(sealed, [_obj(number, page, generation=1)], xref=xref)
    _refused(data, len(sealed), f"object {number} is written at generation 1, not 0")


def test_reference_naming_a_generation_the_xref_does_not_give(sealed: bytes) -> None:
    number, _ = _page(sealed)
    data = append_update(sealed, [_obj(40, b"<</P %d 1 R>>" % number)])
    _refused(data, len(sealed), f"a reference {number} 1 R names a generation")


def test_trailer_info_naming_another_generation(sealed: bytes) -> None:
    """p11-05: the trailer's ``/Info 40 0 R`` while the update writes 40 at generation 1
    (poppler reads /Info on opening, finds nothing and rebuilds the xref by scanning)."""
    data = append_update(sealed, [_obj(40, b"<</Title (x)>>")])
    data = _in_trailer(data, len(sealed), b"/Info 40 1 R")
    _refused(data, len(sealed), "a reference 40 1 R names a generation")


def _in_trailer(data: bytes, signed_end: int, entry: bytes) -> bytes:
    """``data`` with ``entry`` added to the last update's trailer (the table before it
    keeps its offset)."""
    at = data.index(b"trailer\n<<", signed_end) + len(b"trailer\n<<")
    return data[:at] + entry + data[at:]


HIDDEN = {
    "object": b"(\n5 0 obj\n<</Type/Page>>\n)",
    "object_vertical_tab": b"(5\x0b0\xa0obj)",
    "endobj": b"(a\nendobj\n)",
    "trailer": b"(\ntrailer\n<</Root 50 0 R/Size 60>>\n)",
    "xref": b"(\nxref\n0 1\n)",
    "startxref": b"(startxref 10)",
    "eof": b"(%%EOF)",
    "endstream": b"(endstream)",
    "name": b"/endobj",
    # red team 11, r11-01: poppler ends a line at the NUL and joins the 9 with the next
    # line's 0 obj; our pattern of two numbers before obj saw a comment between them
    "nul_line": b"(\n9\x00%x\n0 obj\n<</Type/Page>>\n)",
    "obj_after_white_space": b"(see objects)",
}


@pytest.mark.parametrize("where", ["object", "trailer"])
@pytest.mark.parametrize("hidden", list(HIDDEN), ids=list(HIDDEN))
def test_keyword_a_scanning_reader_indexes(sealed: bytes, hidden: str, where: str) -> None:
    """p11-04 to p11-06: a literal string (or a name) of the update, in an object such as
    /Info or in the trailer's own keys, holding what poppler's and pdf.js's xref
    reconstruction index: another object, an ``endobj``, a ``trailer`` line."""
    value = HIDDEN[hidden]
    if where == "object":
        data = append_update(sealed, [_obj(40, b"<</Subject %s>>" % value)])
    else:
        data = append_update(sealed, [_obj(40, b"<</Note 1>>")])
        data = _in_trailer(data, len(sealed), b"/Note " + value)
    _refused(data, len(sealed), "a reader that rebuilds the xref by scanning would find it")


def test_strings_without_keywords_pass(sealed: bytes) -> None:
    data = append_update(
        sealed, [_obj(40, b"<</Subject (5 0 R, subobjects, their cross references)>>")]
    )
    assert check_updates_after(data, len(sealed)) is None


@pytest.mark.parametrize(
    "body", [b"q Q\n9\x00%x\n0 obj\n<</Type/Page>>\n", b"q Q\n9 0\x0bobj\n"], ids=["nul", "vt"]
)
def test_stream_data_with_an_object_a_scanning_reader_indexes(sealed: bytes, body: bytes) -> None:
    """Red team 11, r11-01d: the NUL line inside stream data."""
    stream = _obj(40, b"<</Length %d>>\nstream\n%s\nendstream" % (len(body), body))
    _refused(append_update(sealed, [stream]), len(sealed), "stream data containing")


def test_stream_data_with_a_trailer_line(sealed: bytes) -> None:
    body = b"q Q\ntrailer\n<</Root 50 0 R>>\n"
    stream = _obj(40, b"<</Length %d>>\nstream\n%s\nendstream" % (len(body), body))
    _refused(append_update(sealed, [stream]), len(sealed), "stream data containing b'trailer'")


def test_hybrid_table_frees_what_its_stream_puts_in_the_file(sealed: bytes) -> None:
    """p11-07: the table marks the signed page free, the /XRefStm lists it in the file:
    pyHanko completes the table from the stream, poppler and pdf.js keep the free entry."""
    number, page = _page(sealed)
    reader = _reader(sealed)
    out = bytearray(sealed)
    at = len(out)
    out += _obj(number, page)
    stream_at = len(out)
    size = int(reader.trailer["/Size"])
    out += _xref_stream(size, {number: ("n", at, 0)}, b"/Size %d" % (size + 1))
    table_at = len(out)
    out += _table({number: ("f", 0, 1), size: ("n", stream_at, 0)})
    out += b"trailer\n<</Size %d/Root 1 0 R/Prev %d/XRefStm %d>>\n" % (
        size + 1,
        reader.last_startxref,
        stream_at,
    )
    out += b"startxref\n%d\n%%%%EOF\n" % table_at
    _refused(bytes(out), len(sealed), f"the table frees object {number}")


def test_an_object_in_use_freed(sealed: bytes) -> None:
    """p11-09/p11-10: an update frees an object in use (the trailer still naming it, as
    for /Info): poppler finds nothing, rebuilds the xref by scanning, and keeps whatever
    the file's bytes hold under that number; pyHanko refuses any freeing."""
    number, _ = _page(sealed)

    def free_page(entries: Entries) -> None:
        entries[number] = ("f", 0, 1)

    data = append_update(sealed, [_obj(40, b"<</Note 1>>")], edit=free_page)
    _refused(data, len(sealed), f"object {number} is freed")


def test_free_entries_of_unused_numbers_pass(sealed: bytes) -> None:
    size = int(_reader(sealed).trailer["/Size"])

    def free_unused(entries: Entries) -> None:
        entries[size + 5] = ("f", 0, 1)

    data = append_update(sealed, [_obj(size, b"<</Note 1>>")], edit=free_unused)
    assert check_updates_after(data, len(sealed)) is None


def test_a_direct_object_put_back_in_an_object_stream(sealed: bytes) -> None:
    """p11-10: one update writes the page directly (forged), the next puts the signed
    page back inside an object stream: the final revision reads as signed, but a reader
    rebuilding the xref keeps the last page written directly, the forged one."""
    number, page = _page(sealed)
    first = append_update(sealed, [_obj(number, page.replace(b"/Type", b"/Note 1/Type", 1))])
    size = int(_reader(first).trailer["/Size"])
    stream = _object_stream(size, [(number, page)])
    second = append_update(first, [stream], xref="stream", compressed={number: ("c", size, 0)})
    _refused(second, len(sealed), f"object {number}, written directly by an earlier update")
    # after the signature of ``first`` there is one update: nothing earlier to hide
    assert check_updates_after(second, len(first)) is None


def test_a_long_run_of_digits_is_scanned_in_linear_time(sealed: bytes) -> None:
    """A signature's /Contents is mostly zeros: the scan for ``N G obj`` must not try
    every start inside a run of digits (50,000 zeros took minutes that way)."""
    import time

    data = append_update(sealed, [_obj(40, b"<</Contents <%s>>>" % (b"0" * 50_000))])
    started = time.perf_counter()
    assert check_updates_after(data, len(sealed)) is None
    assert time.perf_counter() - started < 2
