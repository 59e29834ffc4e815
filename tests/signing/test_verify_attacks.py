"""Attacks on files sealed by the demo PKI: none may verify as intact and unmodified."""

from __future__ import annotations

import io
import re

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from schemas.report import Indication, SubIndication
from signing.seal import PadesLevel
from signing.trust import TrustBundle
from signing.verify import Verifier
from tests.helpers.pki import MARKET_DEPT, demo_pki, sealed_pdf


@pytest.fixture(scope="module")
def verifier() -> Verifier:
    pki = demo_pki()
    return Verifier(
        TrustBundle.from_certificates(
            roots=[pki.root.certificate], intermediates=[pki.issuing_ca.certificate]
        )
    )


def _rewrite_signature_dictionary(data: bytes) -> bytes:
    """Spoofing: a later revision redefines the signature dictionary (same ByteRange)."""
    w = IncrementalPdfFileWriter(io.BytesIO(data))
    field = w.root["/AcroForm"]["/Fields"][0]
    sig_ref = field.raw_get("/V")
    sig = sig_ref.get_object()
    sig[generic.pdf_name("/Reason")] = generic.TextStringObject("FORGED REASON")
    w.mark_update(sig_ref)
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def test_rewritten_signature_dictionary_is_modified(verifier: Verifier) -> None:
    report = verifier.verify(_rewrite_signature_dictionary(sealed_pdf(PadesLevel.B_B, MARKET_DEPT)))
    assert report.indication is Indication.TOTAL_FAILED
    assert any(s.modified_after_signing for s in report.signatures)
    assert not any(s.intact and not s.modified_after_signing for s in report.signatures)


def test_byte_range_that_skips_more_than_the_signature(verifier: Verifier) -> None:
    data = sealed_pdf(PadesLevel.B_B, MARKET_DEPT)
    m = re.search(rb"/ByteRange\s*\[\s*0\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", data)
    assert m is not None
    a, b, c = (int(x) for x in m.groups())
    # leave one more byte out of the signed range (same text length: pad with a space)
    old = m.group(0)
    new = f"/ByteRange [0 {a - 1} {b} {c}]".encode()
    assert len(new) <= len(old)
    tampered = data.replace(old, new.ljust(len(old)), 1)
    report = verifier.verify(tampered)
    (seal,) = report.signatures
    assert (seal.indication, seal.sub_indication) == (
        Indication.TOTAL_FAILED,
        SubIndication.FORMAT_FAILURE,
    )
    assert "/ByteRange" in seal.reasons[0] or "left out" in seal.reasons[0]


def test_content_appended_after_eof_is_not_whole_file(verifier: Verifier) -> None:
    data = sealed_pdf(PadesLevel.B_B, MARKET_DEPT) + b"\n% trailing bytes\n"
    report = verifier.verify(data)
    (seal,) = report.signatures
    assert not seal.covers_whole_file
    assert report.indication is not Indication.TOTAL_PASSED


def test_truncated_file_fails(verifier: Verifier) -> None:
    data = sealed_pdf(PadesLevel.B_LT, MARKET_DEPT)
    report = verifier.verify(data[: len(data) // 2])
    assert report.indication is Indication.TOTAL_FAILED


def test_new_appearance_on_a_signed_field_is_modified(verifier: Verifier) -> None:
    data = sealed_pdf(PadesLevel.B_B, MARKET_DEPT)
    w = IncrementalPdfFileWriter(io.BytesIO(data))
    field_ref = w.root["/AcroForm"]["/Fields"].raw_get(0)
    overlay = generic.StreamObject(
        {
            generic.pdf_name("/Type"): generic.pdf_name("/XObject"),
            generic.pdf_name("/Subtype"): generic.pdf_name("/Form"),
            generic.pdf_name("/BBox"): generic.ArrayObject(
                [generic.NumberObject(x) for x in (0, 0, 595, 842)]
            ),
        },
        stream_data=b"0 0 0 rg 0 0 595 842 re f",
    )
    field = field_ref.get_object()
    field[generic.pdf_name("/AP")] = generic.DictionaryObject(
        {generic.pdf_name("/N"): w.add_object(overlay)}
    )
    w.mark_update(field_ref)
    out = io.BytesIO()
    w.write(out)
    report = verifier.verify(out.getvalue())
    (seal,) = report.signatures
    assert seal.intact and seal.modified_after_signing
    assert "/AP" in seal.reasons[0]
    assert report.indication is Indication.TOTAL_FAILED
