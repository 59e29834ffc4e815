"""Red team pdf14: verification work bounded per file, not per candidate or per signature.

p14-06: when a file's structure cannot be read, its signatures are looked for on the raw
bytes. Every /ByteRange found was examined and only the signatures kept counted against
the cap; each match whose gap spanned the file decoded the whole gap again: thousands of
``%/ByteRange [0 1 L i]`` comments made it quadratic (263 KB: 16.4 s of CPU). The scan is
one pass now: every match counts, the objects and entries around the matches are found
once, and no gap is decoded twice.

p14-02: the rendering bound (:data:`signing._verify.visual.DEFAULT_TIMEOUT`) was given to
each signature's comparison: K signatures and one heavy annotation cost K bounds (84 KB,
7 signatures: 11.6 s of CPU in the renderers). One budget now serves every comparison and
blank-corner check of one verification; once spent, later comparisons fail closed without
rendering.

The CPU bounds below are generous for a busy 2-core machine and far below the costs filed.
"""

from __future__ import annotations

import re
import zlib

import pytest

from schemas.report import Indication, SubIndication
from signing._verify import discovery, render_process, visual
from signing._verify.limits import rendering_budget
from signing.seal import PadesLevel
from signing.verify import Verifier
from tests.helpers.licenses import sealed_license
from tests.helpers.pki import demo_trust_bundle, self_signed_sealer
from tests.helpers.waiting import wait_until
from tests.signing.test_redteam_pdf12_dos import (
    cpu_with_children,
    fanned_annotation,
    no_verification_thread,
)

#: CPU seconds a verification of these files may take (the brief's bound is about 2 s).
_CPU = 2.5


@pytest.fixture(scope="module")
def verifier() -> Verifier:
    return Verifier(demo_trust_bundle(), isolation="thread", timeout=120)


def raw_byterange_comments(sealed: bytes, count: int) -> bytes:
    """p14-06's file: ``sealed``, then ``count`` comments ``%/ByteRange [0 1 L-10 i]``
    whose gap spans the whole file, then an xref stream declaring 60,000 entries (more
    than a file may declare, so its structure is not read and its raw bytes are scanned),
    padded to the length the comments name."""
    prev = int(re.findall(rb"startxref\s+(\d+)", sealed)[-1])
    size = len(sealed) + 40 * count + 2000
    out = bytearray(sealed)
    out += b"".join(b"%%/ByteRange [0 1 %d %d]\n" % (size - 10, i) for i in range(count))
    entries = 60_000
    rows = zlib.compress(bytes(6 * entries), 9)
    at = len(out)
    out += (
        b"20 0 obj\n<< /Type /XRef /Size %d /Index [21 %d] /W [1 4 1] /Root 1 0 R /Prev %d"
        b" /Filter /FlateDecode /Length %d >>\nstream\n"
        % (21 + entries, entries, prev, len(rows))
        + rows
        + b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % at
    )
    out += b"%" + b"0" * max(0, size - len(out) - 2) + b"\n"
    return bytes(out)


def test_the_p14_06_file_fails_within_its_bound(verifier: Verifier) -> None:
    forged = raw_byterange_comments(sealed_license(), 6000)
    assert len(forged) < 300_000
    started = cpu_with_children()
    report = verifier.verify(forged)
    took = cpu_with_children() - started
    assert report.indication is Indication.TOTAL_FAILED, report
    assert report.sub_indication is SubIndication.FORMAT_FAILURE, report
    assert took < _CPU, f"the verification took {took:.1f} s of CPU"


def test_a_megabyte_of_byterange_comments_is_scanned_in_linear_time() -> None:
    forged = raw_byterange_comments(sealed_license(), 24_000)
    assert len(forged) < 1_100_000
    started = cpu_with_children()
    discovery.raw_signatures(forged)
    took = cpu_with_children() - started
    assert took < _CPU, f"the raw scan took {took:.1f} s of CPU"


def test_every_byterange_counts_against_the_cap_kept_or_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    examined: list[list[int]] = []
    real = discovery._RawScan.signature

    def counted(self: discovery._RawScan, br: list[int], at: int, after: int) -> object:
        examined.append(br)
        return real(self, br, at, after)

    monkeypatch.setattr(discovery._RawScan, "signature", counted)
    sealed = sealed_license()
    junk = b"".join(b"%%/ByteRange [0 1 2 %d]\n" % i for i in range(3 * discovery.MAX_SIGNATURES))
    found = discovery.raw_signatures(sealed + junk)
    assert len(found) == 1
    assert len(examined) == discovery.MAX_SIGNATURES


def test_a_gap_overlapping_one_decoded_before_is_not_decoded_again() -> None:
    sealed = sealed_license()
    [sig] = discovery.raw_signatures(sealed)
    _, b, c, d = sig.byte_range
    again = sealed + b"%%/ByteRange [0 %d %d %d]\n" % (b, c, d + 1)
    found = discovery.raw_signatures(again)
    assert [s.byte_range for s in found] == [sig.byte_range]
    assert found[0].contents == sig.contents
    assert found[0].subfilter == sig.subfilter


def seals_then_heavy_annotation(seals: int, depth: int) -> bytes:
    """p14-02's file: the sealed license, ``seals`` invisible B-B seals by a self-signed
    key, then one update adding an annotation whose appearance fans out to 10 ** ``depth``
    draws: every signature sees an added annotation, judged by the pages."""
    sealer = self_signed_sealer("forger")
    data = sealed_license()
    for i in range(seals):
        data = sealer.seal(data, level=PadesLevel.B_B, field_name=f"Later{i}")
    return fanned_annotation(data, depth)


def test_the_p14_02_file_is_not_passed_and_renders_within_one_budget(
    verifier: Verifier,
) -> None:
    forged = seals_then_heavy_annotation(6, 7)
    assert len(forged) < 100_000
    started = cpu_with_children()
    report = verifier.verify(forged)
    wait_until(no_verification_thread, "the verification's thread to end")
    took = cpu_with_children() - started
    assert report.indication is not Indication.TOTAL_PASSED, report
    assert all(s.indication is not Indication.TOTAL_PASSED for s in report.signatures), report
    assert took < 2 * visual.DEFAULT_TIMEOUT + 1.0, f"the verification took {took:.1f} s of CPU"


def test_once_the_budget_is_spent_later_comparisons_fail_without_rendering(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sealed = sealed_license()
    heavy = fanned_annotation(sealed, 7)
    light = fanned_annotation(sealed, 1)
    with rendering_budget() as budget:
        first = visual.compare_revisions(sealed, heavy)
        assert not first.identical and first.out_of_time
        assert budget.left <= 0
        ran: list[str] = []
        real = render_process.call
        monkeypatch.setattr(
            render_process, "call", lambda *a, **k: ran.append("pdfium") or real(*a, **k)
        )
        second = visual.compare_revisions(sealed, light)
        blank = visual.blank_under(sealed, [(0, visual.Rect(0, 0, 5, 5))])
    assert not second.identical and second.out_of_time, second
    assert "pdfium was not run: the file's rendering time (1.5 s) is spent" in second.problems
    assert blank == [False]
    assert ran == []
    assert visual.compare_revisions(sealed, light).identical  # outside: a budget of its own


def test_a_budget_is_shared_not_multiplied_by_the_calls() -> None:
    sealed = sealed_license()
    light = fanned_annotation(sealed, 1)
    with rendering_budget() as budget:
        assert visual.compare_revisions(sealed, light).identical
        after_one = budget.left
        assert 0 < after_one < visual.DEFAULT_TIMEOUT
        assert visual.compare_revisions(sealed, light).identical
        assert budget.left < after_one
