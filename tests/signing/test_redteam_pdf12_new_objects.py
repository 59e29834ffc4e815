"""Red team pdf12, p12-01..p12-04: objects an update brings in behind a changed page,
page-tree node, catalog /Pages or form /Fields.

The changes walk followed only the signed revision's graph: a changed page key (other
than /Annots), a rewritten page-tree node, the catalog's /Pages or a field added to
/Fields was "undefined", judged by 72-dpi screen pixels and two text layers, and the new
objects it named (a new page, new content and fonts, new annotations, actions) were never
looked at. Every forgery here passed TOTAL_PASSED with a warning and intake accepted it;
the vault's certified copy of p12-02 passed too. pyHanko's own difference analysis
refuses each of them (level OTHER).

Now whatever the final file reaches through a changed object by an object number the
signed revision does not reach is judged: by the rules for additions where one applies
(annotations added to an /Annots array, signature fields, form fill, new form
resources), else it is a ``forbidden`` change; a page's /Contents or /Resources replaced
is ``forbidden`` like their objects rewritten in place (p11-11).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name

from schemas.report import ChangeCategory, Indication, SignatureReport, VerificationReport
from signing.verify import Verifier
from tests.helpers import new_objects
from tests.helpers.forgeries import certified_copy
from tests.helpers.intake_rules import check_as_issuer
from tests.helpers.licenses import (
    ISSUER,
    first_page,
    incremental,
    sealed_field,
    sealed_license,
    written,
)
from tests.helpers.pki import demo_trust_bundle
from vault.errors import IntakeRefused

CASES: dict[str, Callable[[bytes], bytes]] = {
    name: getattr(new_objects, name) for name in new_objects.__all__
}


@pytest.fixture(scope="module")
def verifier() -> Verifier:
    return Verifier(demo_trust_bundle())


def _issuer_seal(report: VerificationReport) -> SignatureReport:
    return next(s for s in report.signatures if s.signer_credit_code == ISSUER)


@pytest.mark.parametrize("name", sorted(CASES))
def test_objects_brought_in_after_signing_do_not_pass(verifier: Verifier, name: str) -> None:
    report = verifier.verify(CASES[name](sealed_license()))
    seal = _issuer_seal(report)
    assert seal.intact
    assert seal.modified_after_signing, (seal.changes, seal.warnings)
    assert ChangeCategory.FORBIDDEN in seal.changes, (seal.changes, seal.reasons)
    assert report.indication is not Indication.TOTAL_PASSED
    with pytest.raises(IntakeRefused):
        check_as_issuer(report, ISSUER)


def test_the_new_page_is_named(verifier: Verifier) -> None:
    seal = _issuer_seal(verifier.verify(new_objects.new_page_print_only(sealed_license())))
    assert any("signed revision does not" in r and "page" in r for r in seal.reasons), seal.reasons


def test_replaced_page_content_is_named(verifier: Verifier) -> None:
    seal = _issuer_seal(verifier.verify(new_objects.page_content_replaced(sealed_license())))
    assert any("/Contents" in r for r in seal.reasons), seal.reasons


@pytest.mark.parametrize("name", ["page_content_replaced", "new_page_print_only"])
def test_a_certified_copy_of_the_forgery_does_not_pass(verifier: Verifier, name: str) -> None:
    """p12-04: the vault's copy maker seals a copy of what it is given; the issuer's seal
    on the copy of a forgery must still read modified."""
    copy = certified_copy(CASES[name](sealed_license()))
    report = verifier.verify(copy)
    assert report.indication is not Indication.TOTAL_PASSED, report.reasons
    assert _issuer_seal(report).modified_after_signing


def test_the_certified_copy_of_the_sealed_license_still_passes(verifier: Verifier) -> None:
    report = verifier.verify(certified_copy(sealed_license()))
    assert report.indication is Indication.TOTAL_PASSED, report.reasons
    assert not _issuer_seal(report).modified_after_signing


def _rotate_zero(sealed: bytes) -> bytes:
    """The page given ``/Rotate 0`` (its default): a value, no object brought in."""
    w = incremental(sealed)
    page_ref, page = first_page(w)
    page[pdf_name("/Rotate")] = generic.NumberObject(0)
    w.mark_update(page_ref)
    return written(w)


def test_a_page_value_rewritten_is_still_judged_by_the_pages(verifier: Verifier) -> None:
    """What stays ``undefined`` (a warning when the pages and text layers are the same):
    a changed value that brings in no object."""
    report = verifier.verify(_rotate_zero(sealed_license()))
    seal = _issuer_seal(report)
    assert ChangeCategory.UNDEFINED in seal.changes, seal.changes
    assert ChangeCategory.FORBIDDEN not in seal.changes, seal.reasons
    assert not seal.modified_after_signing
    assert report.indication is Indication.TOTAL_PASSED, report.reasons


def _field_changed(key: str, value: generic.PdfObject) -> bytes:
    """The signed text field (base ``sealed_field("cover")``) given ``key`` after signing."""
    w = incremental(sealed_field("cover"))
    ref = w.root["/AcroForm"]["/Fields"].raw_get(0)
    ref.get_object()[pdf_name(key)] = value
    w.mark_update(ref)
    return written(w)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("/TU", generic.TextStringObject("license REVOKED")),  # the tooltip viewers show
        ("/MaxLen", generic.NumberObject(3)),  # pdf.js cuts the value it shows
        ("/T", generic.TextStringObject("holder2")),  # another field to FieldMDP
    ],
    ids=["TU", "MaxLen", "T"],
)
def test_a_field_changed_beyond_what_pyhanko_allows_does_not_pass(
    verifier: Verifier, key: str, value: generic.PdfObject
) -> None:
    """A signed field's keys other than its value, appearance, flags and quadding (what
    pyHanko's own analysis lets a later revision change) are not judged by the pages
    either: a tooltip shows on hover, pdf.js draws a field from its keys, not its
    appearance."""
    report = verifier.verify(_field_changed(key, value))
    seal = _issuer_seal(report)
    assert ChangeCategory.FORBIDDEN in seal.changes, (seal.changes, seal.reasons)
    assert report.indication is not Indication.TOTAL_PASSED


def test_a_field_flag_pyhanko_allows_is_still_judged_by_the_pages(verifier: Verifier) -> None:
    """/Q (quadding) and /Ff changed: pyHanko accepts them; the pages decide (a warning)."""
    report = verifier.verify(_field_changed("/Q", generic.NumberObject(0)))
    seal = _issuer_seal(report)
    assert ChangeCategory.FORBIDDEN not in seal.changes, seal.reasons
    assert report.indication is Indication.TOTAL_PASSED, report.reasons


def test_a_hidden_field_made_print_only_does_not_pass(verifier: Verifier) -> None:
    """The signed hidden field (/F 2) made Print|NoView (/F 36): only a printout shows it."""
    w = incremental(sealed_field("hidden"))
    ref = w.root["/AcroForm"]["/Fields"].raw_get(0)
    ref.get_object()[pdf_name("/F")] = generic.NumberObject(36)
    w.mark_update(ref)
    report = verifier.verify(written(w))
    seal = _issuer_seal(report)
    assert ChangeCategory.FORBIDDEN in seal.changes, (seal.changes, seal.reasons)
    assert report.indication is not Indication.TOTAL_PASSED
