"""Red team pdf14, p14-03, and the DSS corpus file timestamped-fields.pdf: what makes a
timestamp a timestamp, and its widget.

p14-03: a timestamp token (a CMS whose encapsulated content is a TSTInfo), which anyone
may obtain from the trusted TSA, placed in a signature dictionary whose /SubFilter says
adbe.pkcs7.detached or ETSI.CAdES.detached was an intact, trusted later SIGNATURE by the
TSA: p13-11's rule on a document timestamp's widget did not apply, and its widget on
blank space (LICENSE REVOKED) passed TOTAL_PASSED. A TSTInfo is a timestamp, valid only as
a document timestamp (/Type /DocTimeStamp, /SubFilter /ETSI.RFC3161): elsewhere the
signature is refused (TOTAL_FAILED/FORMAT_FAILURE).

timestamped-fields.pdf (DSS PAdESTimestampedExistingFieldsTest): document timestamps
filling signature fields that were already there, visible, when the first was made; DSS
sees no modification. A timestamp filling a field the signed revision already showed, its
rectangle unchanged, is judged as any later signature filling a signed field (its widget
on blank space allowed); p13-11 (a field added, or given a rectangle or an appearance)
stays a modification. What such a widget shows is no one's statement: intake refuses a
license whose document timestamp shows a widget (timestamp_widget_shown).
"""

from __future__ import annotations

import pytest

from schemas.report import Indication, SignatureKind, SignatureReport, SubIndication
from signing.verify import Verifier
from tests.helpers.intake_rules import check_as_issuer
from tests.helpers.licenses import ISSUER, sealed_license
from tests.helpers.pki import demo_trust_bundle
from tests.helpers.timestamp_widget import (
    TIMESTAMP_FIELD,
    sealed_with_visible_field,
    tst_as_signature,
    visible_field_filled_by_timestamp,
)
from vault.errors import IntakeRefused


@pytest.fixture(scope="module")
def verifier() -> Verifier:
    return Verifier(demo_trust_bundle())


def _named(signatures: list[SignatureReport], name: str) -> SignatureReport:
    return next(s for s in signatures if s.field_name == name)


@pytest.mark.parametrize("subfilter", ["/adbe.pkcs7.detached", "/ETSI.CAdES.detached"])
def test_a_timestamp_token_posing_as_a_signature_is_refused(
    verifier: Verifier, subfilter: str
) -> None:
    report = verifier.verify(tst_as_signature(sealed_license(), subfilter))
    posing = _named(report.signatures, TIMESTAMP_FIELD)
    assert posing.indication is Indication.TOTAL_FAILED, (posing.reasons, posing.warnings)
    assert posing.sub_indication is SubIndication.FORMAT_FAILURE
    assert any("timestamp token" in r for r in posing.reasons), posing.reasons
    assert report.indication is Indication.TOTAL_FAILED
    with pytest.raises(IntakeRefused):
        check_as_issuer(report, ISSUER)


def test_a_timestamp_filling_a_signed_visible_field_modifies_nothing(verifier: Verifier) -> None:
    report = verifier.verify(visible_field_filled_by_timestamp(sealed_with_visible_field()))
    stamp = _named(report.signatures, TIMESTAMP_FIELD)
    assert stamp.kind is SignatureKind.DOC_TIMESTAMP and stamp.intact
    assert stamp.widget_shown
    seal = next(s for s in report.signatures if s.signer_credit_code == ISSUER)
    assert not seal.modified_after_signing, (seal.reasons, seal.warnings)
    assert report.indication is Indication.TOTAL_PASSED, report.reasons
    with pytest.raises(IntakeRefused) as refused:
        check_as_issuer(report, ISSUER)
    assert refused.value.reason == "timestamp_widget_shown"


def test_what_it_draws_there_is_refused_by_intake(verifier: Verifier) -> None:
    """LICENSE REVOKED drawn in the issuer's visible field, then timestamped: as a later
    signer's own widget, the report does not call the seal modified (DSS would not); the
    timestamp's widget is shown, and intake refuses."""
    forged = visible_field_filled_by_timestamp(sealed_with_visible_field(), revoked=True)
    report = verifier.verify(forged)
    stamp = _named(report.signatures, TIMESTAMP_FIELD)
    assert stamp.widget_shown
    with pytest.raises(IntakeRefused) as refused:
        check_as_issuer(report, ISSUER)
    assert refused.value.reason in {"timestamp_widget_shown", "modified_after_signing"}


def test_the_sealed_license_with_its_visible_field_is_still_accepted(verifier: Verifier) -> None:
    report = verifier.verify(sealed_with_visible_field())
    assert report.indication is Indication.TOTAL_PASSED, report.reasons
    check_as_issuer(report, ISSUER)
