"""Where a certified copy's 加注 box goes: the first corner blank in the original, or a
refusal. Copies checked by our verifier (``evault verify``) and poppler's pdfsig."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from typer.testing import CliRunner

from schemas.report import Indication
from signing._verify.visual import Rect, blank_under
from signing.copies import CopyMaker, CopyPlacement
from signing.copies.corner import CORNERS, corner_box
from signing.errors import NoBlankSpace, SealingError
from signing.pki import DemoPKI
from signing.seal import PadesLevel
from signing.trust import TrustBundle
from signing.verify import Verifier
from tests.helpers.pki import MARKET_DEPT, pdf_of_pages, sealer
from tests.signing.test_copy import _annotation, pdfsig_output
from vault.cli import build_app

A4 = (0.0, 0.0, 595.0, 842.0)
SIZE = (320.0, 112.0)

#: A grey square inside each corner's box (the box: 320x112 pt, 28 pt from the edges).
_SQUARES = {
    "bottom-right": "480 60 40 40",
    "bottom-left": "60 60 40 40",
    "top-right": "480 742 40 40",
    "top-left": "60 742 40 40",
}


def _pdf(*printed: tuple[str, ...]) -> bytes:
    """An A4 PDF, one page per entry: a title in the middle and a grey square in each of
    the entry's corners."""
    return pdf_of_pages(
        "BT /F1 18 Tf 72 420 Td (printed corners) Tj ET 0.5 g "
        + " ".join(f"{_SQUARES[c]} re f" for c in corners)
        for corners in printed
    )


def _sealed(*printed: tuple[str, ...]) -> bytes:
    return sealer(MARKET_DEPT).seal(_pdf(*printed), level=PadesLevel.B_LT, reason="issued")


def _box(corner: str) -> list[float]:
    box = corner_box(A4, corner, SIZE, 28.0)
    assert box is not None
    return [float(v) for v in box]


def _widget(copy: bytes) -> tuple[int, list[float]]:
    """The copy seal's page index and /Rect."""
    reader = PdfFileReader(io.BytesIO(copy))
    vault = reader.embedded_signatures[-1]
    kids = list(reader.root["/Pages"]["/Kids"])
    page = kids.index(vault.sig_field.raw_get("/P"))
    return page, [float(v) for v in vault.sig_field["/Rect"]]


def _bundle(pki: DemoPKI) -> TrustBundle:
    return TrustBundle.from_certificates(
        roots=[pki.root.certificate],
        intermediates=[pki.issuing_ca.certificate],
        vault_seal=pki.vault_seal.certificate,
    )


def _assert_both_pass(pki: DemoPKI, copy: bytes) -> None:
    report = Verifier(_bundle(pki)).verify(copy)
    assert [s.field_name for s in report.signatures] == ["Seal1", "EvaultCopySeal"]
    for signature in report.signatures:
        assert signature.indication is Indication.TOTAL_PASSED, signature.reasons
        assert not signature.modified_after_signing, signature.reasons


@pytest.fixture(scope="module")
def maker() -> CopyMaker:
    return CopyMaker(sealer(None))


@pytest.fixture(scope="module")
def bottom_right_printed(maker: CopyMaker) -> bytes:
    return maker.make(_sealed(("bottom-right",)), _annotation())


def test_the_squares_print_the_corners_they_name() -> None:
    data = _pdf(tuple(CORNERS), ())
    regions = [(page, Rect(*_box(c))) for page in (0, 1) for c in CORNERS]
    assert blank_under(data, regions) == [False] * 4 + [True] * 4


def test_a_blank_bottom_right_keeps_the_box_there(pki: DemoPKI, maker: CopyMaker) -> None:
    copy = maker.make(_sealed(("top-left",)), _annotation())
    assert _widget(copy) == (0, _box("bottom-right"))
    _assert_both_pass(pki, copy)


def test_content_in_the_bottom_right_moves_the_box_to_the_bottom_left(
    pki: DemoPKI, bottom_right_printed: bytes
) -> None:
    assert _widget(bottom_right_printed) == (0, _box("bottom-left"))
    _assert_both_pass(pki, bottom_right_printed)


def test_the_corners_are_tried_in_order(pki: DemoPKI, maker: CopyMaker) -> None:
    copy = maker.make(_sealed(("bottom-right", "bottom-left")), _annotation())
    assert _widget(copy) == (0, _box("top-right"))
    copy = maker.make(_sealed(("bottom-right", "bottom-left", "top-right")), _annotation())
    assert _widget(copy) == (0, _box("top-left"))
    _assert_both_pass(pki, copy)


def test_no_blank_corner_on_page_one_takes_the_next_page(pki: DemoPKI, maker: CopyMaker) -> None:
    copy = maker.make(_sealed(tuple(CORNERS), ("bottom-right",)), _annotation())
    assert _widget(copy) == (1, _box("bottom-left"))
    _assert_both_pass(pki, copy)


def test_no_blank_corner_anywhere_is_refused(maker: CopyMaker) -> None:
    original = _sealed(tuple(CORNERS), tuple(CORNERS))
    with pytest.raises(NoBlankSpace) as caught:
        maker.make(original, _annotation())
    assert isinstance(caught.value, SealingError)
    assert str(caught.value) == (
        "the original has no blank space for the annotation: no corner of pages 1-2 is "
        "blank under the 320x112 pt 加注 box, and a box over the original's content would "
        "make the copy fail verification"
    )


def test_a_page_too_small_for_the_box_is_refused(maker: CopyMaker) -> None:
    small = CopyMaker(sealer(None), placement=CopyPlacement(size=(600.0, 112.0)))
    with pytest.raises(NoBlankSpace, match="page 1 too small for the 600x112 pt 加注 box"):
        small.make(_sealed(()), _annotation())


def test_every_signed_revision_is_checked(maker: CopyMaker) -> None:
    """The verifier checks the copy's widget against each earlier signature's signed
    revision (the issuer's B-LT seal here ends before its DSS update): so does the maker."""
    from signing.copies.corner import _signed_revisions

    original = _sealed(("bottom-right",))
    with maker.originals.borrow(original) as writer:
        (revision,) = _signed_revisions(original, writer)
    assert len(revision) < len(original) and original.startswith(revision)
    assert revision.rstrip().endswith(b"%%EOF")
    unsigned = _pdf(("bottom-right",))
    with maker.originals.borrow(unsigned) as writer:
        assert _signed_revisions(unsigned, writer) == [unsigned]


def test_the_choice_is_remembered_per_original(maker: CopyMaker) -> None:
    original = _sealed(("bottom-right", "top-left"))
    before = maker.corners.renders
    first = maker.make(original, _annotation())
    second = maker.make(original, _annotation())
    assert maker.corners.renders == before + 1
    assert _widget(first) == _widget(second) == (0, _box("bottom-left"))


def test_evault_verify_passes_the_moved_copy(
    pki: DemoPKI, bottom_right_printed: bytes, tmp_path: Path
) -> None:
    bundle = tmp_path / "bundle.json"
    bundle.write_bytes(_bundle(pki).dump())
    path = tmp_path / "copy.pdf"
    path.write_bytes(bottom_right_printed)
    result = CliRunner().invoke(build_app(), ["verify", str(path), "--trust", str(bundle)])
    assert result.exit_code == 0, result.output
    assert "TOTAL_PASSED" in result.output
    assert "[signature] EvaultCopySeal" in result.output


@pytest.mark.pdfsig
def test_pdfsig_passes_the_moved_copy(
    pki: DemoPKI, bottom_right_printed: bytes, tmp_path: Path
) -> None:
    first, second = pdfsig_output(pki, bottom_right_printed, tmp_path).split("Signature #2:")
    for part in (first, second):
        assert "Signature Validation: Signature is Valid." in part
        assert "Certificate Validation: Certificate is Trusted." in part
    assert "Signature Field Name: EvaultCopySeal" in second


def test_copies_made_in_threads_choose_their_own_corners() -> None:
    """The API makes copies in worker threads; pdfium is not thread-safe, so the renderers
    are used one thread at a time: each copy still gets its original's corner."""
    from concurrent.futures import ThreadPoolExecutor

    expected = {"bottom-right": "bottom-left", "bottom-left": "bottom-right"}
    originals = {printed: _sealed((printed, "top-left")) for printed in expected}
    fresh = CopyMaker(sealer(None))
    jobs = [printed for printed in expected for _ in range(3)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        copies = list(pool.map(lambda p: fresh.make(originals[p], _annotation()), jobs))
    for printed, copy in zip(jobs, copies, strict=True):
        assert _widget(copy) == (0, _box(expected[printed]))
