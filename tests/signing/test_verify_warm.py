"""A warm verifier (its caches, its fast readers, the digests it remembers) decides a file
as a fresh one does: a file one byte off a file it just passed still fails, and what it
remembers of an object is that object's own."""

from __future__ import annotations

import binascii
import hashlib
import re

import pytest
from asn1crypto import cms, x509
from cryptography.hazmat.primitives.serialization import Encoding

from schemas.report import Indication
from signing._verify.chain import der_digest
from signing.seal import PadesLevel
from signing.verify import Verifier
from tests.helpers.pki import demo_pki, demo_trust_bundle, sealed_pdf


def _flip(data: bytes, offset: int) -> bytes:
    return data[:offset] + bytes([data[offset] ^ 0x01]) + data[offset + 1 :]


def _other_signature_value(pdf: bytes) -> bytes:
    """``pdf`` with one hex digit of its CMS signer's signature value changed (to another
    hex digit: the file still reads, the signature must not verify)."""
    contents = re.search(rb"/Contents <([0-9a-fA-F]+)>", pdf)
    assert contents is not None
    raw = binascii.unhexlify(contents.group(1))
    info = cms.ContentInfo.load(raw, strict=False)
    value = info["content"]["signer_infos"][0]["signature"].contents
    at = contents.start(1) + 2 * (raw.index(value) + len(value) // 2)
    digit = b"1" if pdf[at : at + 1] == b"0" else b"0"
    return pdf[:at] + digit + pdf[at + 1 :]


@pytest.mark.parametrize("where", ["signed text", "signature value"])
def test_one_byte_off_a_file_the_warm_verifier_passed_fails(where: str) -> None:
    good = sealed_pdf(PadesLevel.B_LT)
    verifier = Verifier(demo_trust_bundle(), isolation="thread")
    first = verifier.verify(good)
    assert first.indication is Indication.TOTAL_PASSED
    if where == "signed text":
        bad = _flip(good, good.index(b"evault sample license") + 3)
    else:
        bad = _other_signature_value(good)
    report = verifier.verify(bad)
    assert report.indication is not Indication.TOTAL_PASSED, report.reasons
    assert not all(s.intact for s in report.signatures)
    assert verifier.verify(good).model_dump(exclude={"checked_at"}) == first.model_dump(
        exclude={"checked_at"}
    )  # and the good file still reads as before


def test_a_remembered_digest_is_the_objects_own() -> None:
    der = demo_pki().root.certificate.public_bytes(Encoding.DER)
    cert = x509.Certificate.load(der)
    assert der_digest(cert) == der_digest(cert)
    other = x509.Certificate.load(_flip(der, len(der) - 3))  # its signature one bit off
    assert der_digest(other) == hashlib.sha256(other.dump()).digest() != der_digest(cert)
    assert der_digest(cert) == hashlib.sha256(der).digest()
