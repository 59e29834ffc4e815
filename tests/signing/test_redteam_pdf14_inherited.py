"""Red team pdf14, p14-07 and p14-08: what a viewer inherits from a page-tree node or
collects up a /Parent chain, written after signing inside DIRECT dictionaries.

p14-08: the root page-tree node (or the catalog) given ``/Parent << /AA << /O script >> >>``
— pdf.js collects /AA from every ancestor and runs the script when a page opens (the
catalog's: when the document prints). p14-07: a page-tree node given /Annots of direct
annotation dictionaries — pdf.js shows them on every page without /Annots of its own.
The changed key (/Parent, /Annots on a node) was ``undefined``, the dangerous keys were
looked for only among the changed object's own keys, and a direct dictionary has no
object number for the brought-in walk to follow: TOTAL_PASSED with one warning, intake
accepted, pdfium and poppler pixel-identical.

Now a changed object's new value is searched through its direct dictionaries and arrays
for the dangerous keys, a page-tree node may change only /Kids and /Count, and a /Parent
changed (of a node, a page or the catalog) is ``forbidden``.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name

from schemas.report import ChangeCategory, Indication, SignatureReport, VerificationReport
from signing.verify import Verifier
from tests.helpers import inherited
from tests.helpers.forgeries import certified_copy
from tests.helpers.intake_rules import check_as_issuer
from tests.helpers.licenses import (
    ISSUER,
    incremental,
    numbers,
    sealed_license,
    sealed_two_page_license,
    written,
)
from tests.helpers.pki import demo_trust_bundle
from vault.errors import IntakeRefused

CASES: dict[str, tuple[Callable[[], bytes], Callable[[bytes], bytes]]] = {
    "node_parent_open_script": (sealed_license, inherited.node_parent_open_script),
    "catalog_parent_will_print_script": (
        sealed_license,
        inherited.catalog_parent_will_print_script,
    ),
    "node_annots_direct": (sealed_two_page_license, inherited.node_annots_direct),
    "node_annots_direct_script": (sealed_two_page_license, inherited.node_annots_direct_script),
    "annotation_parent_open_script": (sealed_license, inherited.annotation_parent_open_script),
}


@pytest.fixture(scope="module")
def verifier() -> Verifier:
    return Verifier(demo_trust_bundle())


def _issuer_seal(report: VerificationReport) -> SignatureReport:
    return next(s for s in report.signatures if s.signer_credit_code == ISSUER)


def _forged(name: str) -> bytes:
    base, forge = CASES[name]
    return forge(base())


@pytest.mark.parametrize("name", sorted(CASES))
def test_inherited_or_parent_content_added_after_signing_does_not_pass(
    verifier: Verifier, name: str
) -> None:
    report = verifier.verify(_forged(name))
    seal = _issuer_seal(report)
    assert seal.intact
    assert ChangeCategory.FORBIDDEN in seal.changes, (seal.changes, seal.reasons)
    assert seal.modified_after_signing
    assert report.indication is not Indication.TOTAL_PASSED
    with pytest.raises(IntakeRefused):
        check_as_issuer(report, ISSUER)


@pytest.mark.parametrize("name", ["node_parent_open_script", "node_annots_direct"])
def test_a_certified_copy_of_the_forgery_does_not_pass(verifier: Verifier, name: str) -> None:
    report = verifier.verify(certified_copy(_forged(name)))
    assert report.indication is not Indication.TOTAL_PASSED, report.reasons
    assert _issuer_seal(report).modified_after_signing


def test_the_script_inside_the_direct_parent_is_named(verifier: Verifier) -> None:
    seal = _issuer_seal(verifier.verify(_forged("node_parent_open_script")))
    assert any("/AA" in r for r in seal.reasons), seal.reasons
    assert any("/Parent" in r for r in seal.reasons), seal.reasons


def test_actions_inside_direct_annotations_are_named(verifier: Verifier) -> None:
    seal = _issuer_seal(verifier.verify(_forged("node_annots_direct_script")))
    assert any("/AA" in r and "/A" in r for r in seal.reasons), seal.reasons


def _node_given(key: str, value: generic.PdfObject) -> bytes:
    w = incremental(sealed_two_page_license())
    ref = w.root.raw_get("/Pages")
    ref.get_object()[pdf_name(key)] = value
    w.mark_update(ref)
    return written(w)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("/MediaBox", numbers(0, 0, 595, 842)),  # inherited by pages without their own
        ("/Rotate", generic.NumberObject(0)),
        ("/UserUnit", generic.NumberObject(3)),
        ("/CropBox", numbers(0, 0, 595, 842)),
    ],
    ids=["MediaBox", "Rotate", "UserUnit", "CropBox"],
)
def test_an_inheritable_entry_on_a_page_tree_node_does_not_pass(
    verifier: Verifier, key: str, value: generic.PdfObject
) -> None:
    report = verifier.verify(_node_given(key, value))
    seal = _issuer_seal(report)
    assert ChangeCategory.FORBIDDEN in seal.changes, (seal.changes, seal.reasons)
    assert any(key in r for r in seal.reasons), seal.reasons
    assert report.indication is not Indication.TOTAL_PASSED


def test_a_node_count_rewritten_is_still_judged_by_the_pages(verifier: Verifier) -> None:
    """/Count as written again (same value, as a real): structure, judged by the pages."""
    report = verifier.verify(_node_given("/Count", generic.FloatObject(2)))
    seal = _issuer_seal(report)
    assert ChangeCategory.FORBIDDEN not in seal.changes, seal.reasons
    assert report.indication is Indication.TOTAL_PASSED, report.reasons
