"""Red team pdf13, p13-11: a visible document timestamp.

A later signature's widget on blank space is allowed, as that signer's statement. A
document timestamp states nothing about its widget: the token of a trusted TSA signs a
digest anyone may send. An update adding an empty signature field whose appearance reads
"LICENSE REVOKED" in red on blank space, filled by a document timestamp, passed
TOTAL_PASSED at level LTA_UPDATES (what a routine archive timestamp gives), intake
accepted it, and the vault's certified copy of it verified too.

Now a document timestamp's widget that can show anything (a rectangle with an
appearance or captions) is an annotation added: the issuer's seal reads modified, and
its region is compared like any other.
"""

from __future__ import annotations

import pytest

from schemas.report import (
    ChangeCategory,
    Indication,
    SignatureKind,
    SignatureReport,
    VerificationReport,
)
from signing.verify import Verifier
from tests.helpers.forgeries import certified_copy
from tests.helpers.intake_rules import check_as_issuer
from tests.helpers.licenses import ISSUER, sealed_license
from tests.helpers.pki import demo_trust_bundle
from tests.helpers.timestamp_widget import (
    TIMESTAMP_FIELD,
    prepared_field_shown_by_timestamp,
    sealed_with_empty_field,
    timestamp_widget_on_blank,
)
from vault.errors import IntakeRefused


@pytest.fixture(scope="module")
def verifier() -> Verifier:
    return Verifier(demo_trust_bundle())


@pytest.fixture(scope="module")
def forged() -> bytes:
    return timestamp_widget_on_blank(sealed_license())


def _issuer_seal(report: VerificationReport) -> SignatureReport:
    return next(s for s in report.signatures if s.signer_credit_code == ISSUER)


def test_a_visible_document_timestamp_modifies_the_seal(verifier: Verifier, forged: bytes) -> None:
    report = verifier.verify(forged)
    stamp = next(s for s in report.signatures if s.field_name == TIMESTAMP_FIELD)
    assert stamp.kind is SignatureKind.DOC_TIMESTAMP and stamp.intact
    seal = _issuer_seal(report)
    assert seal.intact
    assert seal.modified_after_signing, (seal.changes, seal.warnings)
    assert ChangeCategory.ANNOTATION in seal.changes, seal.changes
    assert any("document timestamp" in r for r in seal.reasons), seal.reasons
    assert report.indication is not Indication.TOTAL_PASSED
    with pytest.raises(IntakeRefused):
        check_as_issuer(report, ISSUER)


def test_its_certified_copy_does_not_pass(verifier: Verifier, forged: bytes) -> None:
    report = verifier.verify(certified_copy(forged))
    assert report.indication is not Indication.TOTAL_PASSED, report.reasons
    assert _issuer_seal(report).modified_after_signing


def test_a_prepared_field_shown_by_its_timestamp_modifies_the_seal(verifier: Verifier) -> None:
    """The issuer's empty, invisible field for a later timestamp, given a widget on blank
    space when the timestamp fills it."""
    assert verifier.verify(sealed_with_empty_field()).indication is Indication.TOTAL_PASSED
    report = verifier.verify(prepared_field_shown_by_timestamp(sealed_with_empty_field()))
    seal = _issuer_seal(report)
    assert seal.modified_after_signing, (seal.changes, seal.warnings)
    assert any("document timestamp" in r for r in seal.reasons), seal.reasons
    assert report.indication is not Indication.TOTAL_PASSED


def test_an_invisible_document_timestamp_in_a_prepared_field_still_passes(
    verifier: Verifier,
) -> None:
    from tests.helpers.timestamp_widget import _timestamped

    report = verifier.verify(_timestamped(sealed_with_empty_field()))
    assert report.indication is Indication.TOTAL_PASSED, report.reasons
    assert not _issuer_seal(report).modified_after_signing
