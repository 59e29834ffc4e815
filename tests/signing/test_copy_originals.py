"""Parsed originals kept between certified copies: the next copy of a license reuses the
parse, and is the same file a maker that parses each time would write."""

from __future__ import annotations

import dataclasses
import io
import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader

from bench.copy import annotation
from schemas.report import Indication
from signing.copies import CopyAnnotation, CopyMaker, CopyPlacement, read_copy_info
from signing.copies.originals import ParsedOriginals
from signing.errors import SealingError
from signing.seal import PadesLevel
from signing.verify import Verifier
from tests.helpers.pki import MARKET_DEPT, demo_trust_bundle, sample_pdf, sealed_pdf, sealer


def _annotation(copy_id: str) -> CopyAnnotation:
    """The benchmark's 加注 with ``copy_id`` (and its verification URL)."""
    url = f"https://vault.example.gov.cn/v/{copy_id}"
    return dataclasses.replace(annotation(0), copy_id=copy_id, verify_url=url)


@pytest.fixture(scope="module")
def original() -> bytes:
    return sealed_pdf(PadesLevel.B_LT, MARKET_DEPT)


def _update_objects(original: bytes, copy: bytes) -> list[int]:
    """Object numbers written by the copy's update, in file order."""
    return [int(n) for n in re.findall(rb"(\d+) 0 obj", copy[len(original) :])]


def _rewritten(original: bytes, copy: bytes) -> dict[int, bytes]:
    """The objects of the original that the copy's update writes again, by number."""
    size = int(PdfFileReader(io.BytesIO(original)).trailer_view["/Size"])
    found = re.findall(rb"(\d+) 0 obj(.*?)endobj", copy[len(original) :], flags=re.DOTALL)
    return {int(n): body for n, body in found if int(n) < size}


def _verify_both(copy: bytes) -> None:
    """Our verifier passes the issuer's seal and the vault's (TOTAL_PASSED each)."""
    report = Verifier(demo_trust_bundle()).verify(copy)
    indications = {s.field_name: s.indication for s in report.signatures}
    assert indications == {
        "Seal1": Indication.TOTAL_PASSED,
        "EvaultCopySeal": Indication.TOTAL_PASSED,
    }, [s.reasons for s in report.signatures]


def test_copies_of_one_license_reuse_its_parse_and_match_a_fresh_parse(
    original: bytes,
) -> None:
    kept, fresh = CopyMaker(sealer(None)), CopyMaker(sealer(None), originals=0)
    copies = [kept.make(original, _annotation(f"copy{n:018d}")) for n in range(3)]
    assert kept.originals.hits == 2 and len(kept.originals) == 1
    reference = fresh.make(original, _annotation("copy000000000000000002"))
    assert fresh.originals.hits == 0 and len(fresh.originals) == 0
    for n, copy in enumerate(copies):
        assert copy[: len(original)] == original
        assert copy[len(original) :].count(b"%%EOF") == 1
        # nothing of an earlier copy leaks into a later one
        assert all(f"copy{m:018d}".encode() not in copy for m in range(3) if m != n)
        assert _update_objects(original, copy) == _update_objects(original, reference)
        _verify_both(copy)
    # the original's objects the update rewrites (catalog, page, AcroForm, DSS...) are the
    # same bytes as from a fresh parse, but for the times in /Info and the XMP packet
    kept_objects, fresh_objects = _rewritten(original, copies[2]), _rewritten(original, reference)
    assert kept_objects.keys() == fresh_objects.keys()
    timed = [n for n, body in fresh_objects.items() if b"/ModDate" in body or b"/XML" in body]
    same = [n for n in fresh_objects if n not in timed]
    assert len(timed) == 2 and len(same) >= 4, (timed, same)
    for n in same:
        assert kept_objects[n] == fresh_objects[n], n


def test_a_failed_copy_does_not_keep_its_reader_and_the_next_copy_parses_again(
    original: bytes,
) -> None:
    maker = CopyMaker(sealer(None), placement=CopyPlacement(page=3))
    with pytest.raises(SealingError, match="page 3 does not exist"):
        maker.make(original, _annotation("copy000000000000000009"))
    assert len(maker.originals) == 0
    good = CopyMaker(sealer(None))
    good.make(original, _annotation("copy000000000000000010"))
    copy = good.make(original, _annotation("copy000000000000000011"))
    assert good.originals.hits == 1
    _verify_both(copy)


def test_a_copy_of_a_copy_is_still_refused_when_the_copy_was_parsed_before(
    original: bytes,
) -> None:
    maker = CopyMaker(sealer(None))
    copy = maker.make(original, _annotation("copy000000000000000012"))
    for _ in range(2):
        with pytest.raises(SealingError, match="EvaultCopySeal appears to be filled"):
            maker.make(copy, _annotation("copy000000000000000013"))


def _pdf_without_info() -> bytes:
    """A one-page PDF with a classic xref table and no document information dictionary."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
        b"<< /Length 0 >>\nstream\n\nendstream",
    ]
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def test_copies_of_a_file_without_info_each_create_their_own() -> None:
    original = _pdf_without_info()
    maker = CopyMaker(sealer(None))
    for n in range(2):
        copy = maker.make(original, _annotation(f"info{n:018d}"))
        reader = PdfFileReader(io.BytesIO(copy))
        assert read_copy_info(reader.trailer_view["/Info"])["copy_id"] == f"info{n:018d}"
        (vault,) = reader.embedded_signatures
        assert vault.field_name == "EvaultCopySeal"
    assert maker.originals.hits == 1


def test_the_store_is_bounded_least_recently_used_first() -> None:
    store = ParsedOriginals(2)
    files = [sample_pdf(), sealed_pdf(PadesLevel.B_B, MARKET_DEPT), sealed_pdf()]
    for data in (files[0], files[1], files[0], files[2]):
        with store.borrow(data) as writer:
            assert writer.prev.stream.getvalue() == data
    assert len(store) == 2 and store.hits == 1
    with store.borrow(files[1]):  # dropped: parsed again
        pass
    assert store.hits == 1
    with store.borrow(files[0]):
        pass
    assert store.hits == 1  # files[0] was dropped for files[1]
    with pytest.raises(ValueError):
        ParsedOriginals(-1)


def test_copies_of_one_license_made_at_once_in_threads(original: bytes) -> None:
    maker = CopyMaker(sealer(None))
    ids = [f"thread{n:016d}" for n in range(6)]
    with ThreadPoolExecutor(max_workers=3) as pool:
        copies = list(pool.map(lambda i: maker.make(original, _annotation(i)), ids))
    assert len(maker.originals) == 1  # kept once, whichever copy returned it last
    for copy_id, copy in zip(ids, copies, strict=True):
        assert copy[: len(original)] == original and copy_id.encode() in copy
        _verify_both(copy)
