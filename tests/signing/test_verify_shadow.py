"""Changes after a seal that a viewer shows: the "replace" shadow attack, empty signature
fields, and the permitted updates (document timestamps, further signatures) they differ from.

The attack file is real: a PDF with a text field lying over the holder's name is sealed by
the demo PKI, then an incremental update gives the field another value and an opaque
appearance (tests/helpers/shadow.py). poppler's pdfsig calls its signature valid, and
form filling after an approval signature is permitted, so the verdict stays TOTAL_PASSED;
what the report must do is say which field changed, as a warning on the seal and on the file.
"""

from __future__ import annotations

import io
import subprocess

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign.fields import SigFieldSpec, append_signature_field

from schemas.report import Indication, VerificationReport
from signing.seal import PadesLevel
from signing.trust import TrustBundle
from signing.verify import WARNING_PREFIX, Verifier
from tests.conftest import require_tool
from tests.helpers.pki import MARKET_DEPT, demo_pki, sealer
from tests.helpers.shadow import FIELD, RECT, appearance, form_pdf, replace_field

REPLACED = (
    f"form field {FIELD} was changed after signing (revision 3): its value and appearance "
    "are not covered by the signature"
)


@pytest.fixture(scope="module")
def verifier() -> Verifier:
    pki = demo_pki()
    return Verifier(
        TrustBundle.from_certificates(
            roots=[pki.root.certificate],
            intermediates=[pki.issuing_ca.certificate],
            crls=pki.crls(),
        )
    )


@pytest.fixture(scope="module")
def sealed_form() -> bytes:
    return sealer(MARKET_DEPT).seal(form_pdf("ZHANG SAN"), level=PadesLevel.B_B, reason="issued")


@pytest.fixture(scope="module")
def sealed_twice(sealed_form: bytes) -> bytes:
    """The sealed form with a second seal of the issuer in a later revision."""
    return sealer(MARKET_DEPT).seal(
        sealed_form, level=PadesLevel.B_B, reason="again", field_name="Seal2"
    )


def _warnings(report: VerificationReport) -> list[str]:
    return [r for r in report.reasons if r.startswith(WARNING_PREFIX)]


def test_sealed_form_has_no_warning(verifier: Verifier, sealed_form: bytes) -> None:
    report = verifier.verify(sealed_form)
    assert report.indication is Indication.TOTAL_PASSED, report.reasons
    assert report.reasons == []
    assert report.signatures[0].modification_level == "NONE"


def test_replace_attack_is_reported_naming_the_field(
    verifier: Verifier, sealed_form: bytes
) -> None:
    forged = replace_field(sealed_form, "LI SI")
    report = verifier.verify(forged)
    (seal,) = report.signatures
    assert seal.intact and not seal.modified_after_signing  # permitted form fill...
    assert seal.modification_level == "FORM_FILLING"
    assert seal.reasons == [
        "later revisions add only permitted changes (FORM_FILLING)",
        WARNING_PREFIX + REPLACED,
    ]
    # ...listed on the file as well, naming the seal it is about
    assert _warnings(report) == [f"{WARNING_PREFIX}Seal1: {REPLACED}"]


def test_pdfsig_calls_the_forged_seal_valid(sealed_form: bytes, tmp_path: object) -> None:
    """What makes the attack one: an independent verifier sees nothing wrong."""
    from pathlib import Path

    pdfsig = require_tool("pdfsig")
    path = Path(str(tmp_path)) / "forged.pdf"
    path.write_bytes(replace_field(sealed_form, "LI SI"))
    out = subprocess.run([pdfsig, str(path)], capture_output=True, text=True, check=False)
    assert "Signature is Valid" in out.stdout


def _with_empty_signature_field(data: bytes) -> bytes:
    """``data`` plus an incremental update adding an empty, visible signature field
    ``Overlay`` over the holder's name."""
    w = IncrementalPdfFileWriter(io.BytesIO(data))
    append_signature_field(w, SigFieldSpec("Overlay", box=RECT))
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def _form_filling_warning(report: VerificationReport) -> str:
    """The seal's last reason: a warning, about a permitted FORM_FILLING change."""
    (seal,) = report.signatures
    assert seal.modification_level == "FORM_FILLING" and not seal.modified_after_signing
    assert seal.reasons[-1].startswith(WARNING_PREFIX)
    assert _warnings(report) == [
        f"{WARNING_PREFIX}Seal1: {seal.reasons[-1][len(WARNING_PREFIX) :]}"
    ]
    return seal.reasons[-1][len(WARNING_PREFIX) :]


def test_an_empty_signature_field_added_later_is_a_warning(
    verifier: Verifier, sealed_form: bytes
) -> None:
    """A visible signature field with nothing signed in it can show anything."""
    report = verifier.verify(_with_empty_signature_field(sealed_form))
    assert _form_filling_warning(report) == (
        "an empty signature field Overlay was added after signing (revision 3): what it shows "
        "is signed by no one"
    )


def test_a_new_appearance_on_an_empty_signature_field_is_a_warning(verifier: Verifier) -> None:
    """An empty signature field that was there at signing gets an appearance afterwards."""
    prepared = _with_empty_signature_field(form_pdf("ZHANG SAN"))
    sealed = sealer(MARKET_DEPT).seal(prepared, level=PadesLevel.B_B)
    w = IncrementalPdfFileWriter(io.BytesIO(sealed))
    fields = w.root["/AcroForm"]["/Fields"]
    ref = next(fields.raw_get(i) for i in range(len(fields)) if fields[i].get("/T") == "Overlay")
    ref.get_object()[generic.pdf_name("/AP")] = generic.DictionaryObject(
        {generic.pdf_name("/N"): appearance(w, "LI SI", opaque=True)}
    )
    w.mark_update(ref)
    out = io.BytesIO()
    w.write(out)
    assert _form_filling_warning(verifier.verify(out.getvalue())) == (
        "the appearance of empty signature field Overlay changed after signing (revision 4): "
        "what it shows is signed by no one"
    )


@pytest.mark.parametrize(
    ("level", "expected"), [(PadesLevel.B_LT, "LTA_UPDATES"), (PadesLevel.B_LTA, "LTA_UPDATES")]
)
def test_validation_data_and_document_timestamps_are_lta_updates(
    verifier: Verifier, level: PadesLevel, expected: str
) -> None:
    report = verifier.verify(
        sealer(MARKET_DEPT).seal(form_pdf("ZHANG SAN"), level=level, reason="issued")
    )
    assert report.indication is Indication.TOTAL_PASSED, report.reasons
    assert report.signatures[0].modification_level == expected
    assert _warnings(report) == []


def test_a_further_signature_is_signatures_without_warning(
    verifier: Verifier, sealed_twice: bytes
) -> None:
    report = verifier.verify(sealed_twice)
    assert report.indication is Indication.TOTAL_PASSED, report.reasons
    first, second = report.signatures
    assert (first.modification_level, second.modification_level) == ("SIGNATURES", "NONE")
    assert _warnings(report) == []


def test_a_fill_after_a_further_signature_is_still_named(
    verifier: Verifier, sealed_twice: bytes
) -> None:
    report = verifier.verify(replace_field(sealed_twice, "LI SI"))
    assert [s.modification_level for s in report.signatures] == ["FORM_FILLING", "FORM_FILLING"]
    assert _warnings(report) == [
        f"{WARNING_PREFIX}Seal1, Seal2: form field {FIELD} was changed after signing "
        "(revision 4): its value and appearance are not covered by the signature"
    ]
