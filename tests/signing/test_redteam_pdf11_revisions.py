"""Red team pdf11, p11-08: thousands of one-object updates after the seal.

4,900 updates (1.3 MB) took 7.7 s to verify, most of it in pyHanko's reader and in the
per-update structure check; the file passed. No genuine license has that many revisions
(the DSS corpus has 8 at most, DSS's 51-signature test file 54): more than
``MAX_REVISIONS`` are refused, counted by our own reader before pyHanko reads anything.
"""

from __future__ import annotations

import time
import zlib

import pytest

from schemas.report import Indication, SubIndication
from signing._verify.structure import MAX_REVISIONS, read_revisions
from signing.verify import Verifier
from tests.helpers import rawpdf
from tests.helpers.licenses import sealed_license
from tests.helpers.pki import demo_trust_bundle


def many_updates(sealed: bytes, count: int) -> bytes:
    """``sealed`` plus ``count`` classic-table updates, each adding one unreferenced
    object (written in one pass: :func:`rawpdf.append_update` re-reads the file)."""
    base = rawpdf.trailer_of(sealed)
    out = bytearray(sealed if sealed.endswith(b"\n") else sealed + b"\n")
    prev, size = base.prev, base.size
    for i in range(count):
        at, number = len(out), size
        size += 1
        out += b"%d 0 obj\n<< /Note (update %d) >>\nendobj\n" % (number, i)
        trailer = {"/Size": b"%d" % size, "/Root": base.root, "/Prev": b"%d" % prev}
        if base.info is not None:
            trailer["/Info"] = base.info
        if base.id_entry is not None:
            trailer["/ID"] = base.id_entry
        xref = len(out)
        out += b"xref\n%d 1\n%010d 00000 n \ntrailer\n" % (number, at)
        out += rawpdf.dict_bytes(trailer) + b"\nstartxref\n%d\n%%%%EOF\n" % xref
        prev = xref
    return bytes(out)


@pytest.fixture(scope="module")
def verifier() -> Verifier:
    return Verifier(demo_trust_bundle())


def test_the_limit_leaves_room_for_real_files() -> None:
    assert 64 <= MAX_REVISIONS <= 512


def test_updates_below_the_limit_still_verify(verifier: Verifier) -> None:
    """A license with as many updates as the limit allows (the seal's own revisions
    included) verifies as before."""
    sealed = sealed_license()
    room = min(MAX_REVISIONS, 256) - len(read_revisions(sealed))
    report = verifier.verify(many_updates(sealed, room))
    assert report.indication is Indication.TOTAL_PASSED, report.reasons


@pytest.mark.parametrize("count", [300, 1_000, 4_900])
def test_more_revisions_than_the_limit_are_refused_quickly(verifier: Verifier, count: int) -> None:
    forged = many_updates(sealed_license(), count)
    started = time.monotonic()
    report = verifier.verify(forged)
    took = time.monotonic() - started
    assert report.indication is Indication.TOTAL_FAILED
    assert report.sub_indication is SubIndication.FORMAT_FAILURE
    assert any("revisions" in r for r in report.reasons), report.reasons
    assert took < 5.0, took  # 4,900 updates took 7.7 s to pass, unloaded


def free_entries(sealed: bytes, count: int) -> bytes:
    """``sealed`` plus one xref-stream update declaring ``count`` free entries of numbers
    never used (5 zero bytes each, deflated to almost nothing): red team 11, r11-05."""
    base = rawpdf.trailer_of(sealed)
    out = bytearray(sealed if sealed.endswith(b"\n") else sealed + b"\n")
    number = base.size
    rows = b"\x01" + len(out).to_bytes(4, "big") + b"\x00" * (5 * count)
    packed = zlib.compress(rows)
    head = {
        "/Type": b"/XRef",
        "/W": b"[1 4 0]",
        "/Index": b"[%d %d]" % (number, count + 1),
        "/Size": b"%d" % (number + count + 1),
        "/Root": base.root,
        "/Prev": b"%d" % base.prev,
        "/Filter": b"/FlateDecode",
        "/Length": b"%d" % len(packed),
    }
    at = len(out)
    out += b"%d 0 obj\n" % number + rawpdf.dict_bytes(head) + b"\nstream\n" + packed
    out += b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % at
    return bytes(out)


def test_an_xref_stream_of_more_entries_than_bytes_is_refused_quickly(verifier: Verifier) -> None:
    """r11-05: a million free entries in a 41 KB file took 16 s and 700 MB, then passed."""
    forged = free_entries(sealed_license(), 1_000_000)
    assert len(forged) < 200_000
    started = time.monotonic()
    report = verifier.verify(forged)
    took = time.monotonic() - started
    assert report.indication is Indication.TOTAL_FAILED
    assert report.sub_indication is SubIndication.FORMAT_FAILURE
    assert any("entries" in r for r in report.reasons), report.reasons
    assert took < 5.0, took


def test_a_few_free_entries_pass(verifier: Verifier) -> None:
    report = verifier.verify(free_entries(sealed_license(), 100))
    assert report.indication is Indication.TOTAL_PASSED, report.reasons
