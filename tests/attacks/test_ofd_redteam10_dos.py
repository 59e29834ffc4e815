"""Red team round 10, r10-04 (high, DoS): comments in the issuer's Document.xml made the
copy maker and the copy's verification quadratic.

Whether a match of the copy's added elements lies in a comment, CDATA section or
processing instruction (red team 9, r9-09) was a scan of every such span, once per match:
20,000 comments each holding ``<ofd:Attachments>…</ofd:Attachments><ofd:Extensions>``
(Document.xml 1.3 MB, the file ~60 KB zipped) cost the copy maker minutes of CPU and the
verification of the copy a good share of that, per copy request. Comments and processing
instructions are not elements, so no element budget counted them.

Now the lookup bisects the sorted spans (:func:`signing.ofd.additions.in_spans`), and a
part holds at most ``Limits.max_part_markup`` comments and processing instructions (the
corpus's parts hold none).
"""

from __future__ import annotations

import datetime as dt
import os
import time

import pytest

from schemas.report import Indication
from signing.errors import SealingError
from signing.ofd.additions import in_spans, markup_spans
from signing.ofd.copy import OfdCopyMaker
from signing.ofd.model import read_documents
from signing.ofd.package import DEFAULT_LIMITS, Limits, Package
from signing.ofd.sealer import page_ids
from signing.ofd.verifier import OfdVerifier
from signing.ofd.writer import NS, sample_ofd, write_package
from tests.attacks.ofd_copy_forge import annotation, vault_maker
from tests.attacks.ofd_forge import GENUINE_LINES, genuine, intake_refusal, verify
from tests.helpers.ofd import VAULT_NAME, ofd_parts, ofd_sealer, sm2_bundle, sm2_vault
from tests.helpers.pki import MARKET_DEPT

MARKUP_REASON = "comments and processing instructions"


def _commented(count: int, *, pi: bool = False) -> bytes:
    """The genuine license whose Document.xml carries ``count`` comments (or processing
    instructions) after its Pages, each holding what the copy's patterns look for, sealed
    by the market regulator (the attacker's r10_04 script)."""
    parts = ofd_parts(sample_ofd("食品经营许可证", GENUINE_LINES))
    doc = "Doc_0/Document.xml"
    inner = "<ofd:Attachments>a.xml</ofd:Attachments><ofd:Extensions>"
    junk = "".join(
        (f"<?x{os.urandom(1).hex()} {inner}?>" if pi else f"<!--{os.urandom(1).hex()}{inner}-->")
        for _ in range(count)
    )
    with Package(write_package(parts)) as pkg:  # read before the comments: no budget
        document = read_documents(pkg)[0]
        page_id = page_ids(pkg, document.root)[0]
    parts[doc] = parts[doc].replace(b"</ofd:Pages>", b"</ofd:Pages>" + junk.encode(), 1)
    at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    sealer = ofd_sealer(MARKET_DEPT)
    parts.update(sealer.seal_parts(parts, document, page_id, (150, 230, 40, 40), at))
    return write_package(parts)


class _CountingSpans(list[tuple[int, int]]):
    """A list of spans that counts how many of its items are read."""

    reads = 0

    def __getitem__(self, index):  # type: ignore[no-untyped-def]
        _CountingSpans.reads += 1
        return super().__getitem__(index)

    def __iter__(self):  # type: ignore[no-untyped-def]
        for index in range(len(self)):
            yield self[index]


def test_a_span_lookup_reads_a_logarithmic_number_of_spans() -> None:
    data = b"".join(b"<!--c-->ab" for _ in range(4096))
    spans = _CountingSpans(markup_spans(data))
    assert len(spans) == 4096
    _CountingSpans.reads = 0
    offsets = range(0, len(data), 3)  # in comments and out of them, 13,654 lookups
    hits = sum(in_spans(at, spans) for at in offsets)
    assert hits == sum(at % 10 < 8 for at in offsets)
    # a scan of every span read ~2,000 a lookup (28 million in all); a bisection 12 or 13
    assert _CountingSpans.reads <= len(offsets) * 16, _CountingSpans.reads


def test_span_lookup_at_the_edges() -> None:
    spans = [(3, 5), (7, 8), (10, 20)]
    inside = [at for at in range(-1, 25) if in_spans(at, spans)]
    assert inside == [3, 4, 7, *range(10, 20)]
    assert not in_spans(0, [])


@pytest.mark.parametrize("pi", [False, True], ids=["comments", "processing-instructions"])
def test_a_part_of_more_comments_than_the_budget_is_refused(pi: bool) -> None:
    lic = _commented(20_000, pi=pi)
    assert len(lic) < 100_000
    started = time.process_time()
    report = verify(lic)
    assert report.indication is Indication.TOTAL_FAILED
    assert MARKUP_REASON in " ".join(report.reasons), report.reasons
    assert intake_refusal(lic) is not None
    with pytest.raises(SealingError, match=MARKUP_REASON):
        vault_maker().make(lic, annotation())
    # refused at the parse: the quadratic lookup took ~1.5 s for 5,000 comments, minutes here
    assert time.process_time() - started < 30


def test_a_license_of_as_many_comments_as_the_budget_takes_is_copied_and_verified() -> None:
    lic = _commented(DEFAULT_LIMITS.max_part_markup - 5)
    copy = vault_maker().make(lic, annotation())
    report = verify(copy)
    assert report.indication is Indication.TOTAL_PASSED, [s.reasons for s in report.signatures]


def test_a_copy_of_many_comments_is_made_and_verified_in_bounded_time_under_a_raised_budget() -> (
    None
):
    """The lookups end to end: 40,000 comments in the issuer's Document.xml, the copy made
    and verified under a budget raised to take them. Scanning every span per match took
    97.6 s of CPU to make this copy (6.7 s at 10,000 comments: x4 per doubling)."""
    raised = Limits(max_part_markup=50_000)
    lic = _commented(40_000)
    pki = sm2_vault()
    maker = OfdCopyMaker(pki.signers[VAULT_NAME], pki.seal_for(VAULT_NAME), limits=raised)
    started = time.process_time()
    copy = maker.make(lic, annotation())
    report = OfdVerifier(sm2_bundle(), limits=raised).verify(copy)
    assert time.process_time() - started < 20
    assert report.indication is Indication.TOTAL_PASSED, [s.reasons for s in report.signatures]


def test_many_locations_readers_differ_on_are_told_once_and_named_up_to_a_bound() -> None:
    """r10-06: 24,000 fonts at locations readers differ on (a run of two spaces), anyone's
    file: each refusal was kept after a scan of those kept before (9.1 s of CPU), and every
    one of them was a reason of every signature."""
    fonts = 24_000
    parts = ofd_parts(genuine())
    res = "".join(
        f'<ofd:Font ID="{1000 + i}" FontName="x"><ofd:FontFile>a  b{i}.ttf</ofd:FontFile>'
        "</ofd:Font>"
        for i in range(fonts)
    )
    parts["Doc_0/PublicRes.xml"] = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<ofd:Res xmlns:ofd="{NS}" BaseLoc="Res">'
        f"<ofd:Fonts>{res}</ofd:Fonts></ofd:Res>"
    ).encode()
    started = time.process_time()
    report = verify(write_package(parts))
    spent = time.process_time() - started
    assert report.indication is Indication.TOTAL_FAILED
    reasons = report.signatures[0].reasons
    assert len(reasons) < 60, len(reasons)
    assert any(r.endswith("more parts or locations refused alike") for r in reasons), reasons[-3:]
    assert spent < 6, spent
