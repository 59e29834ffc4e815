"""Production copies take their revocation data from OCSP where the certificates name a
responder: the seal's chain and the TSA's, asked when the app starts, embedded in each
B-LT copy, no CRL and no ``EVAULT_SEAL_CRLS`` needed (issue 14, revocation without
hand-listing)."""

from __future__ import annotations

import io
from pathlib import Path

from cryptography.x509 import ocsp
from fastapi.testclient import TestClient
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation.dss import DocumentSecurityStore

from api.app import create_app
from signing.trust import TrustBundle
from signing.verify import Verifier
from tests.api.test_sealing import (  # noqa: F401 - fixtures
    USE,
    _clean_env,
    _production,
    server,
    token,
)
from tests.helpers.copyable import copyable_license
from tests.helpers.pki_server import PkiServer
from tests.helpers.softhsm import SoftHsmToken


def test_copies_embed_ocsp_responses_for_the_seal_and_the_tsa(
    tmp_path: Path,
    server: PkiServer,  # noqa: F811
    token: SoftHsmToken,  # noqa: F811
) -> None:
    pki = server.publish(ocsp=True)
    settings = _production(tmp_path, server, pki, token)
    license_id, housing = copyable_license(settings)

    app = create_app(settings)  # asks the responder now, for the seal's chain and the TSA's
    covered = {pki.vault_seal.serial, pki.issuing_ca.serial, pki.tsa.serial}
    assert set(server.ocsp_answers) == covered
    assert server.fetches == {}  # no CRL needed
    bearer = app.state.ctx.tokens.issue(
        client_id="test-housing", department_id=housing, scopes=frozenset({"licenses:use"})
    ).access_token
    headers = {"Authorization": f"Bearer {bearer}"}
    with TestClient(app) as client:
        made = client.post(f"/v1/licenses/{license_id}/copies", headers=headers, json=USE)
        assert made.status_code == 201, made.text
        pdf = client.get(f"/v1/copies/{made.json()['id']}/pdf", headers=headers)
        assert pdf.status_code == 200

    dss = DocumentSecurityStore.read_dss(PdfFileReader(io.BytesIO(pdf.content)))
    about = {
        single.serial_number
        for ref in dss.ocsps
        for single in ocsp.load_der_ocsp_response(ref.get_object().data).responses
    }
    assert covered <= about
    bundle = TrustBundle.from_certificates(  # no CRLs: the copy carries what it needs
        roots=[pki.root.certificate], intermediates=[pki.issuing_ca.certificate]
    )
    report = Verifier(bundle).verify(pdf.content)
    issuer_seal, vault_seal = report.signatures
    assert vault_seal.indication == "TOTAL_PASSED", vault_seal.reasons
    assert vault_seal.pades_level == "B-LT" and vault_seal.revocation == "good"
    # the issuer's B-B seal (from a PKI with no responder) carries no revocation data of its
    # own, and the vault's OCSP responses say nothing about it: not proven here
    assert issuer_seal.indication == "INDETERMINATE"
