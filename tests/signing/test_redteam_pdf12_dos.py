"""Red team pdf12: verification work bounded by the file, not by the attacker's patience.

p12-07: one update of 12,000 empty stream objects (936 KB) took 17 s of CPU in the check of
the update's keywords (every keyword hit tested against every stream span of the update);
the check is linear now. The bound below is CPU time of this process, far above the linear
cost (about 0.3 s) and far below the quadratic one, so a busy machine does not flip it.
"""

from __future__ import annotations

import time

import pytest

from schemas.report import Indication
from signing._verify.structure import check_updates_after
from signing.verify import Verifier
from tests.helpers import rawpdf
from tests.helpers.licenses import sealed_license
from tests.helpers.pki import demo_trust_bundle

#: CPU seconds the p12-07 files may take to check (quadratic: 17 s at 12,000 objects).
_CHECK_CPU = 3.0


def empty_streams(sealed: bytes, count: int) -> bytes:
    """``sealed`` plus one update of ``count`` empty, unreferenced stream objects, each
    listed in the update's xref table (nothing else is wrong with them)."""
    first = rawpdf.trailer_of(sealed).size
    body = {first + i: rawpdf.stream_bytes(b"") for i in range(count)}
    return rawpdf.append_update(sealed, body)


@pytest.fixture(scope="module")
def verifier() -> Verifier:
    return Verifier(demo_trust_bundle(), isolation="thread", timeout=60)


@pytest.mark.parametrize("count", [12_000, 19_000])
def test_many_stream_objects_in_one_update_are_checked_in_linear_time(count: int) -> None:
    sealed = sealed_license()
    forged = empty_streams(sealed, count)
    started = time.process_time()
    problem = check_updates_after(forged, len(sealed))
    took = time.process_time() - started
    assert problem is None
    assert took < _CHECK_CPU, f"{count} stream objects took {took:.1f} s of CPU"


def test_the_p12_07_file_verifies_within_its_bound(verifier: Verifier) -> None:
    forged = empty_streams(sealed_license(), 12_000)
    assert len(forged) < 1_000_000
    started = time.process_time()
    report = verifier.verify(forged)
    took = time.process_time() - started
    assert report.indication is Indication.TOTAL_PASSED, report.reasons
    assert took < 2 * _CHECK_CPU, f"verification took {took:.1f} s of CPU"


def test_a_keyword_between_streams_is_still_refused() -> None:
    """The faster check keeps its rule: among many stream objects, a structure keyword
    outside any stream's data (here in a literal string) is refused."""
    sealed = sealed_license()
    first = rawpdf.trailer_of(sealed).size
    body = {first + i: rawpdf.stream_bytes(b"") for i in range(100)}
    body[first + 50] = b"<< /Note (9 0 obj << >> endobj) >>"
    problem = check_updates_after(rawpdf.append_update(sealed, body), len(sealed))
    assert problem is not None and "rebuilds the xref by scanning" in problem, problem
