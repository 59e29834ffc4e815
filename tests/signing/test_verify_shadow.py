"""Changes after a seal that a viewer shows: the "replace" shadow attack, empty signature
fields, and the permitted updates (document timestamps, further signatures) they differ from.

The attack file is real: a PDF with a text field lying over the holder's name is sealed by
the demo PKI, then an incremental update gives the field another value and an opaque
appearance (tests/helpers/shadow.py). poppler's pdfsig calls its signature valid. Form
filling after an approval signature is permitted, so the indication may stay TOTAL_PASSED,
but what a reader sees changed: the seal is ``modified_after_signing`` (intake refuses it)
and the report names the field in its warnings, on the seal and on the file.
"""

from __future__ import annotations

import io
import subprocess

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign.fields import SigFieldSpec, append_signature_field

from schemas.report import ChangeCategory, Indication, ModificationLevel
from signing.seal import PadesLevel
from signing.trust import TrustBundle
from signing.verify import Verifier
from tests.conftest import require_tool
from tests.helpers.pki import MARKET_DEPT, demo_pki, sealer
from tests.helpers.shadow import FIELD, RECT, appearance, form_pdf, replace_field


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


def test_sealed_form_has_no_warning(verifier: Verifier, sealed_form: bytes) -> None:
    report = verifier.verify(sealed_form)
    assert report.indication is Indication.TOTAL_PASSED, report.reasons
    assert report.reasons == [] and report.warnings == []
    assert report.signatures[0].modification_level is ModificationLevel.NONE


REPLACED = f"form field {FIELD} was filled in after signing: not covered by the signature"


def test_replace_attack_is_modified_and_names_the_field(
    verifier: Verifier, sealed_form: bytes
) -> None:
    report = verifier.verify(replace_field(sealed_form, "LI SI"))
    (seal,) = report.signatures
    assert seal.intact and seal.modified_after_signing  # what a reader sees changed...
    assert seal.modification_level is ModificationLevel.FORM_FILLING
    assert seal.changes == [ChangeCategory.FORM_FILL]
    assert seal.visual_check is not None and seal.visual_check.pages_differing == [1]
    assert "what a reader sees changed after signing (page 1)" in seal.reasons
    assert seal.warnings == [REPLACED]
    # ...a permitted form fill: the indication stands, the file names the seal it is about
    assert report.indication is Indication.TOTAL_PASSED
    assert report.warnings == [f"Seal1: {REPLACED}"]


def test_pdfsig_calls_the_forged_seal_valid(sealed_form: bytes, tmp_path: object) -> None:
    """What makes the attack one: an independent verifier sees nothing wrong."""
    from pathlib import Path

    pdfsig = require_tool("pdfsig")
    path = Path(str(tmp_path)) / "forged.pdf"
    path.write_bytes(replace_field(sealed_form, "LI SI"))
    out = subprocess.run([pdfsig, str(path)], capture_output=True, text=True, check=False)
    assert "Signature is Valid" in out.stdout


def _with_empty_signature_field(data: bytes, *, opaque: str | None = None) -> bytes:
    """``data`` plus an incremental update adding an empty signature field ``Overlay``
    over the holder's name (with an opaque appearance showing ``opaque``, if given)."""
    w = IncrementalPdfFileWriter(io.BytesIO(data))
    append_signature_field(w, SigFieldSpec("Overlay", box=RECT))
    if opaque is not None:
        fields = w.root["/AcroForm"]["/Fields"]
        ref = next(fields.raw_get(i) for i in range(len(fields)) if fields[i]["/T"] == "Overlay")
        ref.get_object()[generic.pdf_name("/AP")] = generic.DictionaryObject(
            {generic.pdf_name("/N"): appearance(w, opaque, opaque=True)}
        )
        w.mark_update(ref)
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def test_an_empty_signature_field_that_shows_nothing_is_a_warning(
    verifier: Verifier, sealed_form: bytes
) -> None:
    report = verifier.verify(_with_empty_signature_field(sealed_form))
    (seal,) = report.signatures
    assert not seal.modified_after_signing
    assert report.indication is Indication.TOTAL_PASSED
    assert seal.warnings == [
        "an empty signature field Overlay with an appearance was added after signing: "
        "not covered by the signature"
    ]


def test_an_empty_signature_field_painting_over_the_text_fails(
    verifier: Verifier, sealed_form: bytes
) -> None:
    """A visible signature field with nothing signed in it can show anything."""
    report = verifier.verify(_with_empty_signature_field(sealed_form, opaque="LI SI"))
    (seal,) = report.signatures
    assert seal.modified_after_signing
    assert report.indication is Indication.TOTAL_FAILED
    assert "what a reader sees changed after signing (page 1)" in seal.reasons


def test_a_new_appearance_on_an_empty_signature_field_fails(verifier: Verifier) -> None:
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
    report = verifier.verify(out.getvalue())
    (seal,) = report.signatures
    assert seal.modified_after_signing and report.indication is Indication.TOTAL_FAILED
    assert (
        "the appearance of empty signature field Overlay changed: signed by no one" in seal.reasons
    )


@pytest.mark.parametrize("level", [PadesLevel.B_LT, PadesLevel.B_LTA])
def test_validation_data_and_document_timestamps_are_lta_updates(
    verifier: Verifier, level: PadesLevel
) -> None:
    report = verifier.verify(
        sealer(MARKET_DEPT).seal(form_pdf("ZHANG SAN"), level=level, reason="issued")
    )
    assert report.indication is Indication.TOTAL_PASSED, report.reasons
    seal = report.signatures[0]
    assert seal.modification_level is ModificationLevel.LTA_UPDATES
    assert seal.visual_check is None  # nothing a reader sees: no rendering
    assert report.warnings == []


def test_a_further_signature_is_signatures_without_warning(
    verifier: Verifier, sealed_twice: bytes
) -> None:
    report = verifier.verify(sealed_twice)
    assert report.indication is Indication.TOTAL_PASSED, report.reasons
    first, second = report.signatures
    assert (first.modification_level, second.modification_level) == ("SIGNATURES", "NONE")
    assert report.warnings == []


def test_a_fill_after_a_further_signature_is_named_on_both(
    verifier: Verifier, sealed_twice: bytes
) -> None:
    report = verifier.verify(replace_field(sealed_twice, "LI SI"))
    assert [s.modification_level for s in report.signatures] == ["FORM_FILLING", "FORM_FILLING"]
    assert all(s.modified_after_signing for s in report.signatures)
    assert report.warnings == [f"Seal1, Seal2: {REPLACED}"]
