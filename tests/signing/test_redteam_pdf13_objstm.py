"""Red team pdf13, p13-12: decoded stream data examined without a bound.

One update after the seal holds an xref stream and a Flate object stream (/N 1) with one
unreferenced object ``[0 0 0 ... 0]``: 83 KB of file decoding to 60 MB. The strict check
of an update read every value of that object in Python (36.7 s of CPU, 706 MB). Nothing
else is wrong with such a file: at a few KB decoded it verifies as before.

Now an object stream of an update after a signature decodes to at most
:data:`structure.MAX_OBJECT_STREAM` bytes (the DSS corpus's largest: 46 KB), decoding stops
there, and the object streams of all the updates of a file read strictly together decode
to at most :data:`structure.MAX_OBJECT_STREAMS_DECODED`: beyond either, the update is
refused with that reason before a value is read.

The same class elsewhere: the DSS's entries were decoded by pyHanko's generic bound (256
MB in all): 250 certificate streams of 1 KB each inflating to 1 MB kept 250 MB in the
verifying process, 2,000 inflating to 2 MB took 4.7 s of CPU. Each entry now decodes
within pyHanko's bound for its kind, all of them within
:data:`context._MAX_DSS_DECODED`, failures charged as much as they may have decoded.
"""

from __future__ import annotations

import io
import resource
import time
import zlib

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.reader import PdfFileReader

from schemas.report import Indication
from signing._verify import context, structure
from signing._verify.structure import check_updates_after
from signing.verify import Verifier
from tests.helpers import rawpdf
from tests.helpers.licenses import incremental, sealed_license, written
from tests.helpers.pki import demo_trust_bundle

#: CPU seconds the check of one such update may take (linear cost below the bound: about
#: 0.6 s per MB of ``0 `` values; unbounded, 36.7 s for the red team's 60 MB).
_CHECK_CPU = 2.0


def flate_object_stream(members: list[tuple[int, bytes]]) -> bytes:
    """A Flate ``/Type /ObjStm`` body holding ``members`` (number, body bytes)."""
    header, bodies = [], b""
    for number, body in members:
        header.append(f"{number} {len(bodies)}".encode())
        bodies += body + b" "
    head = b" ".join(header) + b" "
    packed = zlib.compress(head + bodies, 9)
    entries = {
        "/Type": b"/ObjStm",
        "/N": str(len(members)).encode(),
        "/First": str(len(head)).encode(),
        "/Filter": b"/FlateDecode",
    }
    return rawpdf.stream_bytes(packed, entries)


def zeros_update(sealed: bytes, decoded: int, *, streams: int = 1) -> bytes:
    """``sealed`` plus one update (xref stream) holding ``streams`` Flate object streams,
    each with one unreferenced array of zeros of about ``decoded`` bytes (p13-12)."""
    first = rawpdf.trailer_of(sealed).size
    member = b"[" + b"0 " * (decoded // 2) + b"]"
    body, compressed = {}, {}
    for i in range(streams):
        inside, stream = first + 2 * i, first + 2 * i + 1  # the xref stream comes last
        body[stream] = flate_object_stream([(inside, member)])
        compressed[inside] = (stream, 0)
    return rawpdf.append_update(sealed, body, xref="stream", compressed=compressed)


def zeros_updates(sealed: bytes, decoded: int, updates: int) -> bytes:
    """``sealed`` plus ``updates`` updates as :func:`zeros_update` makes, one stream each."""
    data = sealed
    for _ in range(updates):
        data = zeros_update(data, decoded)
    return data


@pytest.fixture(scope="module")
def sealed() -> bytes:
    return sealed_license()


def timed_check(data: bytes, signed_end: int) -> tuple[str | None, float]:
    structure._checked.clear()
    structure._spent.clear()
    started = time.process_time()
    problem = check_updates_after(data, signed_end)
    return problem, time.process_time() - started


def test_a_small_object_stream_in_an_update_is_read_as_before(sealed: bytes) -> None:
    problem, _ = timed_check(zeros_update(sealed, 4_000), len(sealed))
    assert problem is None


def test_the_p13_12_file_is_refused_quickly_and_small(sealed: bytes) -> None:
    forged = zeros_update(sealed, 60 << 20)
    assert len(forged) < 100_000
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    problem, took = timed_check(forged, len(sealed))
    grew = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert problem is not None
    assert f"decodes to more than {structure.MAX_OBJECT_STREAM} bytes" in problem, problem
    assert took < 0.5, f"the check took {took:.1f} s of CPU"
    assert grew < 50, f"the check grew the process by {grew:.0f} MB"


def test_an_object_stream_at_the_bound_is_read_within_the_cpu_bound(sealed: bytes) -> None:
    forged = zeros_update(sealed, structure.MAX_OBJECT_STREAM - 64)
    problem, took = timed_check(forged, len(sealed))
    assert problem is None
    assert took < _CHECK_CPU, f"the check took {took:.1f} s of CPU"


def test_just_past_the_bound_is_refused(sealed: bytes) -> None:
    problem, _ = timed_check(zeros_update(sealed, structure.MAX_OBJECT_STREAM + 2), len(sealed))
    assert problem is not None and "decodes to more than" in problem, problem


def test_many_object_streams_in_one_update_share_one_budget(sealed: bytes) -> None:
    """Each stream under its own bound, together past the file's: refused, and the values
    read stay within the budget."""
    count = structure.MAX_OBJECT_STREAMS_DECODED // structure.MAX_OBJECT_STREAM + 2
    forged = zeros_update(sealed, structure.MAX_OBJECT_STREAM - 64, streams=count)
    problem, took = timed_check(forged, len(sealed))
    assert problem is not None and "object streams of the updates" in problem, problem
    assert took < 2 * _CHECK_CPU, f"the check took {took:.1f} s of CPU"


def test_many_updates_share_one_budget(sealed: bytes) -> None:
    """The budget is the file's: updates each under the bounds, together past it."""
    count = structure.MAX_OBJECT_STREAMS_DECODED // structure.MAX_OBJECT_STREAM + 2
    forged = zeros_updates(sealed, structure.MAX_OBJECT_STREAM - 64, count)
    problem, took = timed_check(forged, len(sealed))
    assert problem is not None and "object streams of the updates" in problem, problem
    assert took < 2 * _CHECK_CPU, f"the check took {took:.1f} s of CPU"


def test_a_genuine_sized_file_still_verifies(sealed: bytes) -> None:
    """The red team's control: at a few KB decoded nothing is wrong with the file."""
    verifier = Verifier(demo_trust_bundle(), isolation="inline", timeout=60)
    report = verifier.verify(zeros_update(sealed, 4_000))
    assert report.indication is Indication.TOTAL_PASSED, report.reasons


def test_the_p13_12_file_gets_a_verdict_with_its_reason(sealed: bytes) -> None:
    verifier = Verifier(demo_trust_bundle(), isolation="inline", timeout=60)
    started = time.process_time()
    report = verifier.verify(zeros_update(sealed, 60 << 20))
    took = time.process_time() - started
    assert report.indication is not Indication.TOTAL_PASSED
    assert any("decodes to more than" in r for r in report.reasons), report.reasons
    assert took < _CHECK_CPU, f"the verification took {took:.1f} s of CPU"


def dss_bombs(sealed: bytes, count: int, decoded: int) -> bytes:
    """``sealed`` plus one update giving it a DSS of ``count`` certificate streams, each
    ``decoded`` zero bytes deflated."""
    w = incremental(sealed)
    packed = zlib.compress(bytes(decoded), 9)
    head = {pdf_name("/Filter"): pdf_name("/FlateDecode")}
    certs = [w.add_object(generic.StreamObject(head, encoded_data=packed)) for _ in range(count)]
    dss = generic.DictionaryObject({pdf_name("/Certs"): generic.ArrayObject(certs)})
    w.root[pdf_name("/DSS")] = w.add_object(dss)
    w.update_root()
    return written(w)


@pytest.mark.parametrize(("count", "decoded"), [(250, 1 << 20), (2000, 2 << 20)])
def test_dss_entries_decode_within_a_bound(sealed: bytes, count: int, decoded: int) -> None:
    forged = dss_bombs(sealed, count, decoded)
    reader = PdfFileReader(io.BytesIO(forged), strict=False)
    started = time.process_time()
    doc = context.read_dss(reader, context.ObjectCache())
    took = time.process_time() - started
    assert doc.has_dss and not doc.certs
    assert took < 1.0, f"reading the DSS took {took:.1f} s of CPU"
    kept = sum(len(ref.get_object()._data or b"") for ref in reader.root["/DSS"]["/Certs"])
    assert kept <= context._MAX_DSS_DECODED + (1 << 20), f"{kept} bytes decoded kept"


def test_a_genuine_dss_is_read_whole() -> None:
    data = sealed_license()  # B-LT: certificates and revocation data in the DSS
    reader = PdfFileReader(io.BytesIO(data), strict=False)
    doc = context.read_dss(reader, context.ObjectCache())
    dss = reader.root["/DSS"]
    assert len(doc.certs) == len(dss.get("/Certs", [])) > 0
    assert len(doc.crls) + len(doc.ocsps) == len(dss.get("/CRLs", [])) + len(dss.get("/OCSPs", []))
    assert doc.crls or doc.ocsps


def test_an_unfiltered_object_stream_past_the_bound_is_refused_as_such(sealed: bytes) -> None:
    """Not cut at the bound and then found malformed: refused for its size."""
    first = rawpdf.trailer_of(sealed).size
    member = b"[" + b"0 " * (structure.MAX_OBJECT_STREAM // 2) + b"]"
    body = {first + 1: rawpdf.object_stream([(first, member)])}
    forged = rawpdf.append_update(sealed, body, xref="stream", compressed={first: (first + 1, 0)})
    problem, _ = timed_check(forged, len(sealed))
    assert problem is not None and "decodes to more than" in problem, problem
