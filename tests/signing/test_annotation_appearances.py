"""The third red team's class: an annotation added after signing whose appearance viewers
read differently (a state dictionary without /AS, a /BBox that is not four numbers, a
/Matrix that is not six). pdfium, poppler and MuPDF already split on these; Acrobat may draw
what both our renderers leave out. Such an appearance is refused, whatever the pixels say.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from schemas.report import ChangeCategory, Indication
from signing.seal import PadesLevel
from signing.verify import Verifier
from tests.helpers.pki import MARKET_DEPT, demo_trust_bundle, sealed_pdf

FORGED = b"1 1 1 rg 0 0 595 842 re f BT /Helv 24 Tf 0 g 72 760 Td (No. 2099-9999) Tj ET"


def _numbers(*values: float) -> generic.ArrayObject:
    return generic.ArrayObject([generic.FloatObject(v) for v in values])


def _form(writer: IncrementalPdfFileWriter, bbox: generic.ArrayObject | None) -> Any:
    font = generic.DictionaryObject(
        {
            pdf_name("/Type"): pdf_name("/Font"),
            pdf_name("/Subtype"): pdf_name("/Type1"),
            pdf_name("/BaseFont"): pdf_name("/Helvetica"),
        }
    )
    entries = {
        pdf_name("/Type"): pdf_name("/XObject"),
        pdf_name("/Subtype"): pdf_name("/Form"),
        pdf_name("/Resources"): generic.DictionaryObject(
            {pdf_name("/Font"): generic.DictionaryObject({pdf_name("/Helv"): font})}
        ),
    }
    if bbox is not None:
        entries[pdf_name("/BBox")] = bbox
    return writer.add_object(generic.StreamObject(entries, stream_data=FORGED))


def _with_square(sealed: bytes, appearance: str) -> bytes:
    """``sealed`` plus a /Square annotation over the page whose appearance is written the
    way ``appearance`` names."""
    w = IncrementalPdfFileWriter(io.BytesIO(sealed))
    page_ref = w.root["/Pages"]["/Kids"].raw_get(0)
    annot = generic.DictionaryObject(
        {
            pdf_name("/Type"): pdf_name("/Annot"),
            pdf_name("/Subtype"): pdf_name("/Square"),
            pdf_name("/Rect"): _numbers(0, 0, 595, 842),
            pdf_name("/F"): generic.NumberObject(4),
        }
    )
    full = _numbers(0, 0, 595, 842)
    if appearance == "states-without-as":
        normal: Any = generic.DictionaryObject({pdf_name("/On"): _form(w, full)})
    elif appearance == "five-number-bbox":
        normal = _form(w, _numbers(0, 0, 595, 842, 1))
    elif appearance == "no-bbox":
        normal = _form(w, None)
    else:
        raise AssertionError(appearance)
    annot[pdf_name("/AP")] = generic.DictionaryObject({pdf_name("/N"): normal})
    page = page_ref.get_object()
    annots = page.get("/Annots", generic.ArrayObject())
    page[pdf_name("/Annots")] = generic.ArrayObject(
        [*(annots.raw_get(i) for i in range(len(annots))), w.add_object(annot)]
    )
    w.mark_update(page_ref)
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


@pytest.mark.parametrize("appearance", ["states-without-as", "five-number-bbox", "no-bbox"])
def test_an_annotation_whose_appearance_viewers_read_differently_is_refused(
    appearance: str,
) -> None:
    report = Verifier(demo_trust_bundle()).verify(
        _with_square(sealed_pdf(PadesLevel.B_LT, MARKET_DEPT), appearance)
    )
    seal = report.signatures[0]
    assert report.indication is Indication.TOTAL_FAILED, report.reasons
    assert seal.modified_after_signing and ChangeCategory.FORBIDDEN in seal.changes
    assert any("appearance" in r for r in seal.reasons), seal.reasons


def test_an_annotation_that_draws_nothing_is_still_a_modification() -> None:
    """pyHanko's own analysis calls any annotation added after an approval signature a
    change it cannot explain; so do we, even when it draws nothing and carries no text
    (red team pdf11, p11-01: the empty normal appearance was the vehicle), and the file
    does not pass."""
    from tests.helpers.forgeries import _with_annotation
    from tests.helpers.licenses import LINE_BOX, form_xobject, sealed_license

    def part(writer: IncrementalPdfFileWriter) -> dict[str, Any]:
        blank = form_xobject(writer, b"", box=LINE_BOX)
        return {"AP": generic.DictionaryObject({pdf_name("/N"): blank})}

    report = Verifier(demo_trust_bundle()).verify(
        _with_annotation(sealed_license(), "Square", part)
    )
    seal = report.signatures[0]
    assert seal.intact and seal.modified_after_signing, seal.reasons
    assert report.indication is not Indication.TOTAL_PASSED
