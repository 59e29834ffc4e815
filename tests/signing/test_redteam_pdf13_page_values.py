"""Red team pdf13, p13-10: page entries that change the page's size as viewers show,
print and measure it, which no 72-dpi rendering shows.

``/UserUnit 3`` written on the signed page after signing: pdfium and poppler ignore it (the
pages compare identical), pdf.js shows the page three times larger and Acrobat prints and
measures it in units of 3/72 inch. It was an ``undefined`` change judged by the pixels:
TOTAL_PASSED with a warning, and intake accepted it. ``/VP`` (viewports, with their
measure dictionaries: what a measuring tool reads) and ``/PZ`` (preferred zoom) are the
same kind. Now a change of any of them is ``forbidden``.
"""

from __future__ import annotations

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name

from schemas.report import ChangeCategory, Indication
from signing.verify import Verifier
from tests.helpers.intake_rules import check_as_issuer
from tests.helpers.licenses import ISSUER, first_page, incremental, numbers, sealed_license, written
from tests.helpers.pki import demo_trust_bundle
from vault.errors import IntakeRefused


def _viewport() -> generic.ArrayObject:
    measure = generic.DictionaryObject(
        {
            pdf_name("/Type"): pdf_name("/Measure"),
            pdf_name("/Subtype"): pdf_name("/RL"),
            pdf_name("/R"): generic.TextStringObject("1 in = 10 ft"),
        }
    )
    return generic.ArrayObject(
        [
            generic.DictionaryObject(
                {
                    pdf_name("/Type"): pdf_name("/Viewport"),
                    pdf_name("/BBox"): numbers(0, 0, 595, 842),
                    pdf_name("/Measure"): measure,
                }
            )
        ]
    )


VALUES = {
    "UserUnit": lambda: generic.NumberObject(3),
    "VP": _viewport,
    "PZ": lambda: generic.FloatObject(4),
}


def _page_given(key: str, value: generic.PdfObject) -> bytes:
    w = incremental(sealed_license())
    page_ref, page = first_page(w)
    page[pdf_name("/" + key)] = value
    w.mark_update(page_ref)
    return written(w)


@pytest.fixture(scope="module")
def verifier() -> Verifier:
    return Verifier(demo_trust_bundle())


@pytest.mark.parametrize("key", sorted(VALUES))
def test_a_page_scale_entry_changed_after_signing_does_not_pass(
    verifier: Verifier, key: str
) -> None:
    report = verifier.verify(_page_given(key, VALUES[key]()))
    seal = next(s for s in report.signatures if s.signer_credit_code == ISSUER)
    assert ChangeCategory.FORBIDDEN in seal.changes, (seal.changes, seal.reasons)
    assert any(f"/{key}" in r for r in seal.reasons), seal.reasons
    assert seal.modified_after_signing
    assert report.indication is not Indication.TOTAL_PASSED
    with pytest.raises(IntakeRefused):
        check_as_issuer(report, ISSUER)


def test_a_user_unit_written_as_its_default_is_refused_too(verifier: Verifier) -> None:
    """The default written out still changes the entry: refused like any other value of it
    (no real update after a signature writes /UserUnit)."""
    report = verifier.verify(_page_given("UserUnit", generic.NumberObject(1)))
    assert report.indication is not Indication.TOTAL_PASSED
