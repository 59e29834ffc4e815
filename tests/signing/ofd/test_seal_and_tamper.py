"""Our own sealed OFD files verify; each kind of tampering is flagged with its reason."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Callable

import pytest

from schemas.report import Coverage, FileFormat, Indication, RevocationStatus, SubIndication
from signing.ofd import verify_ofd
from signing.ofd.pki import Sm2DemoPKI, seal_image
from signing.ofd.sealer import OfdSealer
from signing.ofd.writer import write_package
from signing.trust import TrustBundle
from signing.verify import Verifier
from tests.signing.ofd.conftest import AT, MARKET, POLICE


def _parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def _edit(data: bytes, path: str, change: Callable[[bytes], bytes]) -> bytes:
    parts = _parts(data)
    parts[path] = change(parts[path])
    return write_package(parts)


def test_sealed_license_passes(sealed: bytes, sm2_bundle: TrustBundle) -> None:
    report = verify_ofd(sealed, trust=sm2_bundle, at=AT, file_name="license.ofd")
    assert report.file_format is FileFormat.OFD
    assert report.indication is Indication.TOTAL_PASSED, report.reasons
    (sig,) = report.signatures
    assert sig.intact and sig.chain_trusted and sig.coverage is Coverage.ENTIRE_FILE
    assert sig.revocation is RevocationStatus.GOOD
    assert sig.seal_name == f"{MARKET}电子印章"
    assert sig.signer_credit_code == "113501000036043600"
    assert sig.signing_time == dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


def test_verifier_dispatches_ofd_in_a_worker(sealed: bytes, sm2_bundle: TrustBundle) -> None:
    report = Verifier(sm2_bundle).verify(sealed, at=AT)
    assert (report.file_format, report.indication) == (FileFormat.OFD, Indication.TOTAL_PASSED)


def test_without_a_bundle_it_is_indeterminate(sealed: bytes) -> None:
    report = verify_ofd(sealed, trust=None, at=AT)
    assert report.indication is Indication.INDETERMINATE
    assert report.sub_indication is SubIndication.NO_CERTIFICATE_CHAIN_FOUND


def _tampered_text(data: bytes) -> bytes:
    return _edit(
        data,
        "Doc_0/Pages/Page_0/Content.xml",
        lambda b: b.replace("张三".encode(), "李四".encode()),
    )


def _swapped_image(data: bytes) -> bytes:
    return _edit(data, "Doc_0/Res/image_3.png", lambda _: seal_image("换掉的图"))


def _dropped_reference(data: bytes) -> bytes:
    # The Signature.xml no longer protects the page: its hash no longer matches either.
    return _edit(
        data,
        "Doc_0/Signs/Sign_0/Signature.xml",
        lambda b: re.sub(
            rb'<ofd:Reference FileRef="/Doc_0/Pages/Page_0/Content.xml">'
            rb".*?</ofd:Reference>",
            b"",
            b,
        ),
    )


def _flipped_value(data: bytes) -> bytes:
    return _edit(
        data,
        "Doc_0/Signs/Sign_0/SignedValue.dat",
        lambda b: b[:-5] + bytes([b[-5] ^ 0x01]) + b[-4:],
    )


def _altered_seal_image(data: bytes) -> bytes:
    def change(der: bytes) -> bytes:
        at = der.find(b"IEND")  # the seal picture's PNG trailer, inside the seal
        return der[: at - 6] + bytes([der[at - 6] ^ 0xFF]) + der[at - 5 :]

    return _edit(data, "Doc_0/Signs/Sign_0/SignedValue.dat", change)


def _altered_seal_file(data: bytes) -> bytes:
    def change(der: bytes) -> bytes:
        at = der.find(b"IEND")
        return der[: at - 6] + bytes([der[at - 6] ^ 0xFF]) + der[at - 5 :]

    return _edit(data, "Doc_0/Signs/Sign_0/Seal.esl", change)


def _added_page(data: bytes) -> bytes:
    parts = _parts(data)
    parts["Doc_0/Document.xml"] = parts["Doc_0/Document.xml"].replace(
        b"</ofd:Pages>", b'<ofd:Page ID="99" BaseLoc="Pages/Page_1/Content.xml"/></ofd:Pages>'
    )
    parts["Doc_0/Pages/Page_1/Content.xml"] = parts["Doc_0/Pages/Page_0/Content.xml"]
    return write_package(parts)


def _new_unsigned_page(data: bytes) -> bytes:
    """A new page named by a replaced OFD.xml DocRoot: nothing signed covers it."""
    parts = _parts(data)
    doc = parts["Doc_0/Document.xml"].replace(b"Page_0", b"Page_X")
    parts["Doc_0/Document_1.xml"] = doc
    parts["Doc_0/Pages/Page_X/Content.xml"] = parts["Doc_0/Pages/Page_0/Content.xml"]
    parts["OFD.xml"] = parts["OFD.xml"].replace(b"Doc_0/Document.xml", b"Doc_0/Document_1.xml")
    return write_package(parts)


@pytest.mark.parametrize(
    ("tamper", "sub", "words"),
    [
        (_tampered_text, SubIndication.HASH_FAILURE, "Page_0/Content.xml"),
        (_swapped_image, SubIndication.HASH_FAILURE, "image_3.png"),
        (_dropped_reference, SubIndication.HASH_FAILURE, "signed hash"),
        (_flipped_value, SubIndication.SIG_CRYPTO_FAILURE, "SM2 signature over TBS_Sign"),
        (_altered_seal_image, SubIndication.SIG_CRYPTO_FAILURE, "seal maker"),
        (_altered_seal_file, SubIndication.SIG_CRYPTO_FAILURE, "Seal.esl"),
        (_added_page, SubIndication.HASH_FAILURE, "Document.xml"),
        (_new_unsigned_page, SubIndication.HASH_FAILURE, "covered by no signature"),
    ],
)
def test_tampering_is_flagged(
    sealed: bytes,
    sm2_bundle: TrustBundle,
    tamper: Callable[[bytes], bytes],
    sub: SubIndication,
    words: str,
) -> None:
    report = verify_ofd(tamper(sealed), trust=sm2_bundle, at=AT)
    assert report.indication is Indication.TOTAL_FAILED, report.reasons
    (sig,) = report.signatures
    assert not sig.intact or sig.modified_after_signing
    assert sig.sub_indication is sub, sig.reasons
    assert words in " ".join(sig.reasons)


def test_a_second_seal_keeps_the_first_valid(
    sealed: bytes, sm2_pki: Sm2DemoPKI, sm2_bundle: TrustBundle
) -> None:
    second = OfdSealer(sm2_pki.signers[POLICE], sm2_pki.seal_for(POLICE)).seal_ofd(sealed)
    report = verify_ofd(second, trust=sm2_bundle, at=AT)
    assert report.indication is Indication.TOTAL_PASSED, report.reasons
    assert [s.seal_name for s in report.signatures] == [f"{MARKET}电子印章", f"{POLICE}电子印章"]
    # ... but not when the second seal also changed the page.
    tampered = _tampered_text(second)
    assert verify_ofd(tampered, trust=sm2_bundle, at=AT).indication is Indication.TOTAL_FAILED


def test_signer_revoked_before_its_claimed_signing_time_fails(
    sealed: bytes, sm2_pki: Sm2DemoPKI
) -> None:
    """Revoked on the PKI's first day, the seal claims 2026-03-01: the signer's own claim
    puts the signature after the revocation (EN 319 102-1: TOTAL_FAILED/REVOKED)."""
    bundle = sm2_pki.trust_bundle(revoked=[sm2_pki.signers[MARKET].cert])
    report = verify_ofd(sealed, trust=bundle, at=AT)
    (sig,) = report.signatures
    assert sig.revocation is RevocationStatus.REVOKED
    assert (sig.indication, sig.sub_indication) == (Indication.TOTAL_FAILED, SubIndication.REVOKED)
    assert "before the signing time it claims" in sig.reasons[0]


def test_signer_revoked_after_signing_is_indeterminate(sealed: bytes, sm2_pki: Sm2DemoPKI) -> None:
    """Revoked 2026-04-01, after the claimed signing time, and nothing proves that time."""
    from signing.ofd.pki import _crl

    serial = sm2_pki.signers[MARKET].certificate.serial_number
    crl = _crl(sm2_pki.ca, {serial}, dt.datetime(2026, 4, 1, tzinfo=dt.UTC))
    bundle = TrustBundle.from_certificates(
        roots=[sm2_pki.root.cert],
        intermediates=[sm2_pki.ca.cert],
        crls=[*sm2_pki.crls(), crl],
        seal_makers=[sm2_pki.maker.cert],
    )
    (sig,) = verify_ofd(sealed, trust=bundle, at=AT).signatures
    assert sig.revocation is RevocationStatus.REVOKED
    assert sig.indication is Indication.INDETERMINATE
    assert sig.sub_indication is SubIndication.REVOKED_NO_POE


def test_a_revoked_ca_is_revoked_ca_no_poe(sealed: bytes, sm2_pki: Sm2DemoPKI) -> None:
    (sig,) = verify_ofd(
        sealed, trust=sm2_pki.trust_bundle(revoked=[sm2_pki.ca.cert]), at=AT
    ).signatures
    assert sig.revocation is RevocationStatus.REVOKED
    assert sig.sub_indication is SubIndication.REVOKED_CA_NO_POE


def test_signer_not_in_the_seal_is_flagged(
    license_ofd: bytes, sm2_pki: Sm2DemoPKI, sm2_bundle: TrustBundle
) -> None:
    sealer = OfdSealer(sm2_pki.signers[MARKET], sm2_pki.seal_for(MARKET))
    sealer.signer = sm2_pki.signers[POLICE]  # a stolen seal used by another key holder
    report = verify_ofd(sealer.seal_ofd(license_ofd), trust=sm2_bundle, at=AT)
    (sig,) = report.signatures
    assert sig.sub_indication is SubIndication.SIG_CONSTRAINTS_FAILURE
    assert "not among the seal's certificates" in " ".join(sig.reasons)


def test_expired_certificate_is_out_of_bounds(sealed: bytes, sm2_bundle: TrustBundle) -> None:
    report = verify_ofd(sealed, trust=sm2_bundle, at=dt.datetime(2040, 1, 1, tzinfo=dt.UTC))
    assert report.sub_indication is SubIndication.OUT_OF_BOUNDS_NO_POE
