"""Red team pdf11, p11-07: a hybrid-reference update whose table frees the signed page and
whose /XRefStm puts it back.

Three readings of one entry: our structure check completed the free table entry from the
/XRefStm (ISO 32000-2 7.5.8.4), our object comparison (objects.py) took the table's free
entry first (the page deleted: "undefined", pages identical, a warning), pyHanko takes
the free entry when its generation matches the reference and the stream's otherwise.
pdf.js cannot open the file, MuPDF shows an empty page; evault said TOTAL_PASSED and
intake accepted it.

Now one reading (objects.py completes a free table entry from the /XRefStm, as the
structure check and pyHanko's resolver do for a generation that does not match), and an
update whose table frees an object its own /XRefStm lists, in the file or in an object
stream, with any generation, is refused: readers differ on whether that object exists.
"""

from __future__ import annotations

import struct
import zlib
from typing import Literal

import pytest

from schemas.report import Indication
from signing.verify import Verifier
from tests.helpers import rawpdf
from tests.helpers.intake_rules import check_as_issuer
from tests.helpers.licenses import ISSUER, first_page, incremental, sealed_license
from tests.helpers.pki import demo_trust_bundle
from vault.errors import IntakeRefused


def _page(sealed: bytes) -> tuple[int, bytes]:
    """The signed page's object number and its dictionary, as bytes."""
    ref, page = first_page(incremental(sealed))
    return ref.idnum, rawpdf.serialize(page)


def hybrid_free(sealed: bytes, *, where: Literal["file", "objstm"], next_generation: int) -> bytes:
    """One hybrid update: the table frees the signed page (with ``next_generation``) and
    lists the update's xref stream; that /XRefStm lists the page again, unchanged, written
    in the file or in a new object stream."""
    base = rawpdf.trailer_of(sealed)
    number, body = _page(sealed)
    out = bytearray(sealed if sealed.endswith(b"\n") else sealed + b"\n")
    rows: dict[int, tuple[int, int, int]] = {}
    size = base.size
    if where == "file":
        rows[number] = (1, len(out), 0)
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    else:
        stream_number, size = size, size + 1
        rows[number] = (2, stream_number, 0)
        rows[stream_number] = (1, len(out), 0)
        out += b"%d 0 obj\n" % stream_number
        out += rawpdf.object_stream([(number, body)]) + b"\nendobj\n"
    xrefstm, size = size, size + 1
    xrefstm_at = len(out)
    rows[xrefstm] = (1, xrefstm_at, 0)
    data = b"".join(struct.pack(">BIH", *rows[n]) for n in sorted(rows))
    index = b" ".join(b"%d 1" % n for n in sorted(rows))
    comp = zlib.compress(data)
    head = {
        "/Type": b"/XRef",
        "/W": b"[1 4 2]",
        "/Size": b"%d" % size,
        "/Index": b"[" + index + b"]",
        "/Filter": b"/FlateDecode",
        "/Length": b"%d" % len(comp),
    }
    out += b"%d 0 obj\n" % xrefstm + rawpdf.dict_bytes(head)
    out += b"\nstream\n" + comp + b"\nendstream\nendobj\n"
    table_at = len(out)
    out += b"xref\n%d 1\n0000000000 %05d f \n" % (number, next_generation)
    out += b"%d 1\n%010d 00000 n \n" % (xrefstm, xrefstm_at)
    trailer = {"/Size": b"%d" % size, "/Root": base.root}
    if base.info is not None:
        trailer["/Info"] = base.info
    if base.id_entry is not None:
        trailer["/ID"] = base.id_entry
    trailer |= {"/Prev": b"%d" % base.prev, "/XRefStm": b"%d" % xrefstm_at}
    out += b"trailer\n" + rawpdf.dict_bytes(trailer)
    out += b"\nstartxref\n%d\n%%%%EOF\n" % table_at
    return bytes(out)


CASES = {
    # the attacker's file: pyHanko, pdf.js and poppler take the free entry
    "in-file-generation-1": ("file", 1),
    "in-stream-generation-1": ("objstm", 1),
    # pyHanko and our structure check take the stream's entry; a reader that takes the
    # table first does not
    "in-file-generation-65535": ("file", 65535),
    "in-stream-generation-65535": ("objstm", 65535),
}


@pytest.fixture(scope="module")
def verifier() -> Verifier:
    return Verifier(demo_trust_bundle())


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_table_freeing_what_its_xrefstm_lists_is_refused(verifier: Verifier, name: str) -> None:
    where, generation = CASES[name]
    forged = hybrid_free(sealed_license(), where=where, next_generation=generation)
    report = verifier.verify(forged)
    seal = next(s for s in report.signatures if s.signer_credit_code == ISSUER)
    assert seal.intact
    assert seal.modified_after_signing, (seal.changes, seal.warnings)
    assert report.indication is not Indication.TOTAL_PASSED
    with pytest.raises(IntakeRefused):
        check_as_issuer(report, ISSUER)
