"""Long-term archive renewal (issue 14): a B-LTA file whose timestamp authority's
certificate expires soon gets a DSS and a new document timestamp, and still verifies."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from signing.archive import archive_horizon, renew_archive
from signing.errors import SealingError
from signing.seal import PadesLevel
from tests.helpers.pki import (
    demo_pki,
    embedded_tsa,
    pki_now,
    sample_pdf,
    sealed_pdf,
    sealed_with_short_tsa,
)
from tests.signing.test_pdfsig_interop import TRUSTED, VALID, _pdfsig
from tests.signing.test_pdfsig_interop import trusting_db as trusting_db
from tests.vault.licenses import verifier


def test_a_soon_expiring_timestamp_is_renewed_and_still_verifies() -> None:
    original = sealed_with_short_tsa(sample_pdf("archive me"), days=30)
    before = archive_horizon(original)
    assert before.document_timestamps == 1
    assert before.horizon is not None
    assert before.horizon - pki_now() == dt.timedelta(days=30)

    renewed = renew_archive(original, timestamper=embedded_tsa(), crls=demo_pki().crls())
    assert renewed.startswith(original)  # an extension: the bytes before are untouched
    after = archive_horizon(renewed)
    assert after.document_timestamps == 2
    assert after.horizon is not None and after.horizon > pki_now() + dt.timedelta(days=4 * 365)

    report = verifier().verify(renewed)
    assert report.indication == "TOTAL_PASSED", report.reasons
    assert all(s.intact and not s.modified_after_signing for s in report.signatures)
    again = renew_archive(renewed, timestamper=embedded_tsa(), crls=demo_pki().crls())
    assert verifier().verify(again).indication == "TOTAL_PASSED"
    assert archive_horizon(again).document_timestamps == 3


def test_signature_timestamp_counts_when_there_is_no_document_timestamp() -> None:
    state = archive_horizon(sealed_pdf(PadesLevel.B_T))
    assert state.document_timestamps == 0
    assert state.horizon is not None
    assert archive_horizon(sealed_pdf(PadesLevel.B_B)).horizon is None


def test_not_a_pdf_is_refused() -> None:
    with pytest.raises(SealingError, match="not a PDF"):
        archive_horizon(b"hello")


@pytest.mark.pdfsig
def test_pdfsig_finds_every_signature_of_a_renewed_file_valid(
    trusting_db: str, tmp_path: Path
) -> None:
    """An independent verifier (poppler, NSS) agrees that the issuer's seal of a renewed
    file is valid and trusted, and sees both document timestamps (it does not judge
    RFC 3161 document timestamps itself)."""
    original = sealed_with_short_tsa(sample_pdf("archive me too"), days=30)
    renewed = renew_archive(original, timestamper=embedded_tsa(), crls=demo_pki().crls())
    out = _pdfsig(trusting_db, renewed, tmp_path)
    blocks = out.split("Signature #")[1:]
    assert len(blocks) == 3, out
    assert "Signature Field Name: Seal1" in blocks[0]
    assert VALID in blocks[0] and TRUSTED in blocks[0]
    assert "Field Name: DocTimeStamp1" in blocks[1] and "Field Name: ArchiveTimeStamp1" in blocks[2]
