"""The visual comparison of a signed revision with the final file, in pdfium and poppler.

Inputs are real files: the sealed sample license, and later revisions written with pyHanko's
incremental writer (a changed digit, an annotation, a filled form field, an added page).
Tests that look at both renderers need poppler's pdftoppm and pdfinfo (marker ``poppler``).
"""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.writer import PdfFileWriter

from signing._verify.visual import (
    PageDifference,
    Rect,
    VisualComparison,
    blank_under,
    compare_revisions,
)
from signing.seal import PadesLevel
from tests.conftest import require_tool
from tests.helpers import shadow
from tests.helpers.pki import MARKET_DEPT, sample_pdf, sealed_pdf, sealer

BOTH = ("pdfium", "poppler")
LICENSE_CONTENT = (
    b"BT /F1 18 Tf 72 760 Td (evault sample license No. 2024-0001) Tj ET "
    b"BT /F1 10 Tf 72 60 Td (page 1 of 1) Tj ET"
)
"""The content of :func:`tests.helpers.pki.sample_pdf`'s page."""
SQUARE = Rect(100, 200, 110, 210)
"""Where the geometry tests paint a black square in a later revision."""


@pytest.fixture
def poppler() -> None:
    require_tool("pdftoppm")
    require_tool("pdfinfo")


def _name(text: str) -> generic.NameObject:
    return generic.pdf_name(text)


def _numbers(*values: float) -> generic.ArrayObject:
    return generic.ArrayObject([generic.NumberObject(v) for v in values])


def _later_revision(
    data: bytes, change: Callable[[IncrementalPdfFileWriter, dict], None], *, page: int = 0
) -> bytes:
    """``data`` with an incremental update made by ``change(writer, page dictionary)``."""
    writer = IncrementalPdfFileWriter(io.BytesIO(data))
    page_ref = writer.root["/Pages"]["/Kids"].raw_get(page)
    change(writer, page_ref.get_object())
    writer.update_container(page_ref.get_object())
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _stream(
    writer: IncrementalPdfFileWriter | PdfFileWriter, content: bytes
) -> generic.IndirectObject:
    return writer.add_object(generic.StreamObject(stream_data=content))


def _replace_content(content: bytes) -> Callable[[IncrementalPdfFileWriter, dict], None]:
    def change(writer: IncrementalPdfFileWriter, page: dict) -> None:
        page[_name("/Contents")] = _stream(writer, content)

    return change


def _add_content(content: bytes) -> Callable[[IncrementalPdfFileWriter, dict], None]:
    """Draw ``content`` over the page (its old content kept, in its own q/Q)."""

    def change(writer: IncrementalPdfFileWriter, page: dict) -> None:
        old = page.raw_get("/Contents")
        page[_name("/Contents")] = generic.ArrayObject(
            [_stream(writer, b"q"), old, _stream(writer, b"Q " + content)]
        )

    return change


def _white_square_annotation(rect: Rect) -> Callable[[IncrementalPdfFileWriter, dict], None]:
    """An opaque white /Square annotation (no appearance stream: the viewer makes one)."""

    def change(writer: IncrementalPdfFileWriter, page: dict) -> None:
        annot = writer.add_object(
            generic.DictionaryObject(
                {
                    _name("/Type"): _name("/Annot"),
                    _name("/Subtype"): _name("/Square"),
                    _name("/Rect"): _numbers(rect.x0, rect.y0, rect.x1, rect.y1),
                    _name("/C"): _numbers(1, 1, 1),
                    _name("/IC"): _numbers(1, 1, 1),
                    _name("/F"): generic.NumberObject(4),
                }
            )
        )
        page[_name("/Annots")] = generic.ArrayObject([annot])

    return change


def _add_page(writer: IncrementalPdfFileWriter, page: dict) -> None:
    writer.insert_page(
        generic.DictionaryObject(
            {
                _name("/Type"): _name("/Page"),
                _name("/MediaBox"): _numbers(0, 0, 595, 842),
                _name("/Resources"): page["/Resources"],
                _name("/Contents"): _stream(writer, b"BT /F1 12 Tf 72 700 Td (added) Tj ET"),
            }
        )
    )


def _page_pdf(content: bytes, **boxes: generic.PdfObject) -> bytes:
    """One page showing ``content`` (Helvetica as /F1), with extra page entries
    (``Rotate=``, ``CropBox=``, ``MediaBox=``)."""
    writer = PdfFileWriter()
    font = writer.add_object(
        generic.DictionaryObject(
            {
                _name("/Type"): _name("/Font"),
                _name("/Subtype"): _name("/Type1"),
                _name("/BaseFont"): _name("/Helvetica"),
            }
        )
    )
    page = generic.DictionaryObject(
        {
            _name("/Type"): _name("/Page"),
            _name("/MediaBox"): _numbers(0, 0, 595, 842),
            _name("/Resources"): generic.DictionaryObject(
                {_name("/Font"): generic.DictionaryObject({_name("/F1"): font})}
            ),
            _name("/Contents"): _stream(writer, content),
        }
    )
    for key, value in boxes.items():
        page[_name(f"/{key}")] = value
    writer.insert_page(page)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _near(found: Rect | None, expected: Rect, slack: float) -> bool:
    """``found`` covers ``expected`` and exceeds it by at most ``slack`` points a side."""
    assert found is not None
    return (
        expected.x0 - slack <= found.x0 <= expected.x0 + slack
        and expected.y0 - slack <= found.y0 <= expected.y0 + slack
        and expected.x1 - slack <= found.x1 <= expected.x1 + slack
        and expected.y1 - slack <= found.y1 <= expected.y1 + slack
    )


def _by_renderer(result: VisualComparison) -> dict[str, list[PageDifference]]:
    found: dict[str, list[PageDifference]] = {r: [] for r in result.renderers}
    for difference in result.differences:
        found[difference.renderer].append(difference)
    return found


# --- compare_revisions -------------------------------------------------------------------


@pytest.mark.poppler
def test_the_same_file_is_identical_in_both_renderers(poppler: None) -> None:
    data = sealed_pdf()
    result = compare_revisions(data, data)
    assert result == VisualComparison(
        identical=True, pages_before=1, pages_after=1, differences=(), renderers=BOTH, problems=()
    )


@pytest.mark.poppler
def test_a_later_signature_on_no_page_changes_nothing(poppler: None) -> None:
    """A second (invisible) seal is a real later revision that must read as identical."""
    before = sealed_pdf(PadesLevel.B_B)
    after = sealer(None).seal(before, level=PadesLevel.B_B)
    result = compare_revisions(before, after)
    assert result.identical, result


@pytest.mark.poppler
def test_one_changed_digit_is_found_where_it_is_in_both_renderers(poppler: None) -> None:
    before = sealed_pdf()
    after = _later_revision(before, _replace_content(LICENSE_CONTENT.replace(b"0001", b"0007")))
    result = compare_revisions(before, after)
    assert not result.identical
    assert result.renderers == BOTH
    for renderer, found in _by_renderer(result).items():
        assert [d.page for d in found] == [0], renderer
        bbox = found[0].bbox
        # The last digit of the 18 pt line at x=72: 556/1000 em wide, right of x=350.
        assert bbox is not None and 350 < bbox.x0 < bbox.x1 < 372, (renderer, bbox)
        assert 755 < bbox.y0 < bbox.y1 < 780, (renderer, bbox)


@pytest.mark.poppler
def test_one_digit_of_a_9pt_id_number_is_found(poppler: None) -> None:
    before = _page_pdf(b"BT /F1 9 Tf 100 500 Td (ID 350102199003071238) Tj ET")
    after = _later_revision(
        before, _replace_content(b"BT /F1 9 Tf 100 500 Td (ID 350102199003071233) Tj ET")
    )
    result = compare_revisions(before, after)
    assert {d.renderer for d in result.differences} == set(BOTH)
    for d in result.differences:
        # "ID " and 17 digits of Helvetica at 9 pt: the last digit spans x = 196.6 to 201.6.
        assert d.bbox is not None, d
        assert 195 < d.bbox.x0 < d.bbox.x1 < 203, d
        assert 495 < d.bbox.y0 < d.bbox.y1 < 510, d


@pytest.mark.poppler
def test_a_one_point_line_is_found(poppler: None) -> None:
    before = sealed_pdf()
    after = _later_revision(before, _add_content(b"1 w 100 300 m 300 300 l S"))
    result = compare_revisions(before, after)
    assert {d.renderer for d in result.differences} == set(BOTH)
    for d in result.differences:
        assert _near(d.bbox, Rect(100, 299.5, 300, 300.5), slack=2), d


@pytest.mark.poppler
def test_an_opaque_white_annotation_over_text_is_a_difference(poppler: None) -> None:
    before = sealed_pdf()
    cover = Rect(300, 755, 380, 780)
    after = _later_revision(before, _white_square_annotation(cover))
    result = compare_revisions(before, after)
    assert {d.renderer for d in result.differences} == set(BOTH)
    for d in result.differences:
        assert d.bbox is not None and cover.x0 - 2 <= d.bbox.x0 and d.bbox.x1 <= cover.x1 + 2


@pytest.mark.poppler
def test_the_same_annotation_inside_an_allowed_rect_is_identical(poppler: None) -> None:
    before = sealed_pdf()
    cover = Rect(300, 755, 380, 780)
    after = _later_revision(before, _white_square_annotation(cover))
    assert compare_revisions(before, after, allowed=[(0, cover)]).identical
    # Allowed on another page, or a smaller rect, does not excuse it.
    assert not compare_revisions(before, after, allowed=[(1, cover)]).identical
    smaller = Rect(320, 755, 380, 780)
    assert not compare_revisions(before, after, allowed=[(0, smaller)]).identical


@pytest.mark.poppler
def test_a_filled_form_field_is_a_difference(poppler: None) -> None:
    """The shadow attack's "replace": a new value and appearance of a signed field."""
    before = sealer(MARKET_DEPT).seal(shadow.form_pdf("ZHANG SAN"), level=PadesLevel.B_B)
    after = shadow.replace_field(before, "LI SI")
    result = compare_revisions(before, after)
    assert {d.renderer for d in result.differences} == set(BOTH)
    field = Rect(*shadow.RECT)
    for d in result.differences:
        assert d.bbox is not None and field.x0 - 2 <= d.bbox.x0 and d.bbox.x1 <= field.x1 + 2


@pytest.mark.poppler
def test_an_added_page_is_a_difference(poppler: None) -> None:
    before = sealed_pdf()
    after = _later_revision(before, _add_page)
    result = compare_revisions(before, after)
    assert not result.identical
    assert (result.pages_before, result.pages_after) == (1, 2)
    assert sorted((d.renderer, d.page, d.bbox) for d in result.differences) == [
        ("pdfium", 1, None),
        ("poppler", 1, None),
    ]


@pytest.mark.poppler
def test_a_change_on_a_late_page_of_a_long_file_is_found(poppler: None) -> None:
    """Poppler renders in runs of pages: the 18th of 20 is in the second run."""
    before = sample_pdf(pages=20)
    after = _later_revision(before, _add_content(b"1 w 100 300 m 300 300 l S"), page=17)
    result = compare_revisions(before, after)
    assert (result.pages_before, result.pages_after) == (20, 20)
    assert sorted((d.renderer, d.page) for d in result.differences) == [
        ("pdfium", 17),
        ("poppler", 17),
    ]


GEOMETRIES = {
    "plain": {},
    "rotate 90": {"Rotate": generic.NumberObject(90)},
    "rotate 180": {"Rotate": generic.NumberObject(180)},
    "rotate 270": {"Rotate": generic.NumberObject(270)},
    "rotate -90": {"Rotate": generic.NumberObject(-90)},
    "crop box offset": {"CropBox": _numbers(50, 60, 400, 500)},
    "crop box offset, rotate 90": {
        "CropBox": _numbers(50, 60, 400, 500),
        "Rotate": generic.NumberObject(90),
    },
    "media box off the origin, rotate 270": {
        "MediaBox": _numbers(-100, -50, 500, 800),
        "Rotate": generic.NumberObject(270),
    },
}


@pytest.mark.poppler
@pytest.mark.parametrize("geometry", GEOMETRIES.values(), ids=GEOMETRIES.keys())
def test_the_bbox_is_in_pdf_points_whatever_the_page_geometry(
    poppler: None, geometry: dict[str, generic.PdfObject]
) -> None:
    before = _page_pdf(b"BT /F1 9 Tf 72 400 Td (ID 350102199003071238) Tj ET", **geometry)
    square = f"0 g {SQUARE.x0} {SQUARE.y0} 10 10 re f".encode()
    after = _later_revision(before, _add_content(square))
    result = compare_revisions(before, after)
    assert {d.renderer for d in result.differences} == set(BOTH)
    for d in result.differences:
        assert _near(d.bbox, SQUARE, slack=1.5), d
    assert compare_revisions(before, after, allowed=[(0, SQUARE)]).identical
    assert blank_under(before, [(0, SQUARE)]) == [True]
    assert blank_under(after, [(0, SQUARE)]) == [False]


@pytest.mark.poppler
def test_a_file_a_renderer_cannot_open_is_not_identical(poppler: None) -> None:
    data = sealed_pdf()
    result = compare_revisions(b"%PDF-1.7\nnot a PDF at all\n", data)
    assert not result.identical
    assert result.differences == ()
    assert result.problems[0].startswith("pdfium cannot open the signed revision: ")
    assert result.problems[1].startswith("poppler cannot open the signed revision: ")


def test_without_poppler_pdfium_alone_compares_and_says_so(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no pdftoppm on it
    data = sealed_pdf()
    result = compare_revisions(data, data)
    assert result.identical
    assert result.renderers == ("pdfium",)
    assert result.problems == ("poppler (pdftoppm) is not installed: compared with pdfium only",)
    changed = _later_revision(data, _add_content(b"1 w 100 300 m 300 300 l S"))
    assert [d.renderer for d in compare_revisions(data, changed).differences] == ["pdfium"]


@pytest.mark.poppler
def test_running_out_of_time_is_not_identical(poppler: None) -> None:
    data = sealed_pdf()
    result = compare_revisions(data, data, timeout=1e-9)
    assert not result.identical
    assert result.problems == (
        "pdfium did not finish within 1e-09 s",
        "poppler did not finish within 1e-09 s",
    )


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="x0 < x1 and y0 < y1"):
        Rect(10, 10, 5, 20)
    with pytest.raises(ValueError, match="finite"):
        Rect(0, 0, float("inf"), 1)
    data = sealed_pdf()
    with pytest.raises(ValueError, match="dpi must be between 1 and 1200"):
        compare_revisions(data, data, dpi=0)
    with pytest.raises(ValueError, match="timeout must be a positive number"):
        compare_revisions(data, data, timeout=-1)
    with pytest.raises(ValueError, match="an allowed region is"):
        compare_revisions(data, data, allowed=[(-1, Rect(0, 0, 1, 1))])


# --- blank_under -------------------------------------------------------------------------


@pytest.mark.poppler
def test_blank_under_tells_empty_space_from_text(poppler: None) -> None:
    data = sealed_pdf()
    regions = [
        (0, Rect(450, 50, 550, 120)),  # an empty corner
        (0, Rect(72, 760, 120, 775)),  # over "evault"
        (0, Rect(130, 58, 200, 70)),  # on the footer's line, right of "page 1 of 1"
        (1, Rect(450, 50, 550, 120)),  # no such page
        (0, Rect(700, 900, 800, 1000)),  # off the page
    ]
    assert blank_under(data, regions) == [True, False, True, False, False]


@pytest.mark.poppler
def test_blank_under_sees_widgets(poppler: None) -> None:
    """What a field's appearance paints counts, over the page content as well."""
    signed = shadow.form_pdf("ZHANG SAN")  # page text x = 142..247, field transparent
    tail = Rect(200, 745, 240, 765)  # over "SAN"
    assert blank_under(signed, [(0, tail)]) == [False]
    covered = shadow.replace_field(signed, "LI SI")  # opaque white, "LI SI" x = 142..179
    assert blank_under(covered, [(0, tail), (0, Rect(145, 745, 175, 765))]) == [True, False]


def test_blank_under_a_file_pdfium_cannot_open_is_false() -> None:
    assert blank_under(b"%PDF-1.7\nnot a PDF\n", [(0, Rect(0, 0, 10, 10))]) == [False]
