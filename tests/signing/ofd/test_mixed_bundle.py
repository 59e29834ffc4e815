"""One trust bundle holds the PDF (ECDSA) roots and the OFD (SM2) roots: both verify."""

from __future__ import annotations

from schemas.report import FileFormat, Indication
from signing.ofd.pki import Sm2DemoPKI
from signing.seal import PadesLevel
from signing.trust import TrustBundle
from signing.verify import Verifier
from tests.helpers.pki import MARKET_DEPT, demo_pki, sealed_pdf
from tests.signing.ofd.conftest import AT


def test_one_bundle_for_pdf_and_ofd(sealed: bytes, sm2_pki: Sm2DemoPKI) -> None:
    pki = demo_pki()
    bundle = TrustBundle.from_certificates(
        roots=[pki.root.certificate, sm2_pki.root.cert],
        intermediates=[pki.issuing_ca.certificate, sm2_pki.ca.cert],
        vault_seal=pki.vault_seal.certificate,
        crls=[*pki.crls(), *sm2_pki.crls()],
        seal_makers=[sm2_pki.maker.cert],
    )
    assert TrustBundle.load(bundle.dump()).fingerprint == bundle.fingerprint
    verifier = Verifier(bundle, isolation="thread")
    pdf = verifier.verify(sealed_pdf(PadesLevel.B_LT, MARKET_DEPT))
    assert (pdf.file_format, pdf.indication) == (FileFormat.PDF, Indication.TOTAL_PASSED)
    ofd = verifier.verify(sealed, at=AT)
    assert (ofd.file_format, ofd.indication) == (FileFormat.OFD, Indication.TOTAL_PASSED)
