"""Red team pdf13, p13-01, p13-02, p13-04, p13-06, p13-08: a new object laundered through
a rule for additions.

Round 12 walks what the final file reaches through changed objects and refuses any
object number the signed revision does not have, unless a rule for additions judged it
(an annotation or field added, a signature, a new form resource). It stopped at every
such object wherever it was reached from: a new page that is also a valueless signature
field in /Fields (or an entry of the signed page's /Annots, or a font of a new /DR) was
judged only as that field or font, and the page tree listing it as the page went
unjudged. Each forgery passed TOTAL_PASSED with a warning and intake accepted it; the
vault's certified copy of p13-06 passed too. pyHanko refuses them all.

Now an object a rule for additions judged is judged only where that rule found it: the
final file reaching it through any other object is a ``forbidden`` change.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from schemas.report import ChangeCategory, Indication, SignatureReport, VerificationReport
from signing.verify import Verifier
from tests.helpers import laundering
from tests.helpers.forgeries import certified_copy
from tests.helpers.intake_rules import check_as_issuer
from tests.helpers.licenses import ISSUER, sealed_license
from tests.helpers.pki import demo_trust_bundle
from vault.errors import IntakeRefused

CASES: dict[str, tuple[Callable[[bytes], bytes], Callable[[], bytes]]] = {
    "p13-01 page as a /Fields entry": (laundering.page_as_field, sealed_license),
    "p13-02 page with a text field": (
        laundering.page_as_field_with_text_field,
        sealed_license,
    ),
    "p13-04 page as a /DR font": (laundering.page_as_dr_font, laundering.sealed_visible_license),
    "p13-06 page sharing /Annots": (laundering.page_as_field_sharing_annots, sealed_license),
    "p13-08 page as an /Annots entry": (laundering.page_as_annots_entry, sealed_license),
}


@pytest.fixture(scope="module")
def verifier() -> Verifier:
    return Verifier(demo_trust_bundle())


def _issuer_seal(report: VerificationReport) -> SignatureReport:
    return next(s for s in report.signatures if s.signer_credit_code == ISSUER)


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_laundered_page_does_not_pass(verifier: Verifier, name: str) -> None:
    forge, base = CASES[name]
    report = verifier.verify(forge(base()))
    seal = _issuer_seal(report)
    assert seal.intact
    assert seal.modified_after_signing, (seal.changes, seal.warnings)
    assert ChangeCategory.FORBIDDEN in seal.changes, (seal.changes, seal.reasons)
    assert any("also reached" in r for r in seal.reasons), seal.reasons
    assert report.indication is not Indication.TOTAL_PASSED
    with pytest.raises(IntakeRefused):
        check_as_issuer(report, ISSUER)


def test_the_certified_copy_of_a_shared_annots_forgery_does_not_pass(verifier: Verifier) -> None:
    """p13-06: the copy maker appends its widget to the /Annots array the signed page
    shares with the laundered page; the issuer's seal on the copy must read modified."""
    copy = certified_copy(laundering.page_as_field_sharing_annots(sealed_license()))
    report = verifier.verify(copy)
    assert report.indication is not Indication.TOTAL_PASSED, report.reasons
    assert _issuer_seal(report).modified_after_signing


def test_the_visible_seal_base_passes(verifier: Verifier) -> None:
    report = verifier.verify(laundering.sealed_visible_license())
    assert report.indication is Indication.TOTAL_PASSED, report.reasons


def test_a_signed_object_listed_as_a_page_does_not_pass(verifier: Verifier) -> None:
    """A forger who prepared the document: a page object the signed revision reaches, but
    not through its page tree, which a later page-tree node lists (same screen pixels; a
    printout shows the stamp). It is judged by number, in the role the signed revision
    gives it, which is not a page's."""
    report = verifier.verify(laundering.listed_spare_page(laundering.sealed_spare_page()))
    seal = _issuer_seal(report)
    assert ChangeCategory.FORBIDDEN in seal.changes, (seal.changes, seal.reasons)
    assert any("which the signed revision has as" in r for r in seal.reasons), seal.reasons
    assert report.indication is not Indication.TOTAL_PASSED
