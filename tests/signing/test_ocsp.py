"""OCSP for the seal's chain and the TSA's, from the responder the certificates name (AIA).

A real OCSP responder runs on loopback (tests/helpers/pki_server.py: responses built and
signed with cryptography's OCSP builder by the certificate's issuer, with the request's
nonce). The refresher asks it for every certificate that names it, embeds the responses in
B-LT seals (which then verify offline with no CRL at all), asks again before they expire,
falls back to the CRL when the responder is down, and stops sealing when it says revoked.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
from collections.abc import Iterator

import pytest
from cryptography import x509
from cryptography.x509 import ocsp
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation.dss import DocumentSecurityStore

from signing.errors import RevocationDataError, SealingError, SealUnavailable
from signing.ocsp import fetch_ocsp, ocsp_urls
from signing.pki import DemoPKI
from signing.revocation import CrlRefresher, fetch_revocation
from signing.seal import PadesLevel
from signing.trust import TrustBundle
from signing.verify import Verifier
from tests.helpers.pki import sample_pdf
from tests.helpers.pki_server import PkiServer
from tests.signing.test_revocation import Clock, _chain, _sealer


@pytest.fixture
def server() -> Iterator[PkiServer]:
    with PkiServer() as running:
        yield running


def _tsa_chain(pki: DemoPKI) -> list[x509.Certificate]:
    return [pki.tsa.certificate, *pki.chain]


def _statuses(ders: tuple[bytes, ...]) -> dict[int, ocsp.OCSPCertStatus]:
    found = {}
    for der in ders:
        for single in ocsp.load_der_ocsp_response(der).responses:
            found[single.serial_number] = single.certificate_status
    return found


def test_the_chain_and_the_tsa_are_covered_by_ocsp(server: PkiServer) -> None:
    pki = server.publish(ocsp=True)
    assert ocsp_urls(pki.vault_seal.certificate) == (server.base_url + "ocsp",)
    assert ocsp_urls(pki.root.certificate) == ()  # a root has no issuer to ask

    fetched = fetch_revocation(_chain(pki), optional=_tsa_chain(pki))
    serials = {pki.vault_seal.serial, pki.issuing_ca.serial, pki.tsa.serial}
    assert _statuses(fetched.ocsp_ders) == dict.fromkeys(serials, ocsp.OCSPCertStatus.GOOD)
    assert fetched.crls == ()  # every certificate named a responder: no CRL fetched
    assert server.fetches == {}
    assert dict(server.ocsp_answers) == dict.fromkeys(serials, 1)  # the shared CA once
    # a day's responses: asked again when a quarter of their validity is left
    assert fetched.expires is not None
    assert (
        fetched.refresh_at == fetched.expires - (fetched.expires - fetched.ocsps[0].this_update) / 4
    )


def test_a_b_lt_seal_embeds_the_ocsp_responses_and_verifies_offline(server: PkiServer) -> None:
    pki = server.publish(ocsp=True)
    sealer = _sealer(pki, server)
    refresher = CrlRefresher(sealer, _chain(pki), tsa_certificates=_tsa_chain(pki))
    refresher.ensure_current()
    sealed = sealer.seal(sample_pdf(), level=PadesLevel.B_LT)

    dss = DocumentSecurityStore.read_dss(PdfFileReader(io.BytesIO(sealed)))
    embedded = {ref.get_object().data for ref in dss.ocsps}
    assert embedded == set(refresher.fetched.ocsp_ders) and len(embedded) == 3
    assert list(dss.crls) == []
    bundle = TrustBundle.from_certificates(  # no CRLs: revocation comes from the file
        roots=[pki.root.certificate], intermediates=[pki.issuing_ca.certificate]
    )
    report = Verifier(bundle).verify(sealed)
    assert report.indication == "TOTAL_PASSED", report.reasons


def test_responses_are_asked_for_again_before_they_expire(server: PkiServer) -> None:
    pki = server.publish(ocsp=True)
    server.ocsp_validity = dt.timedelta(hours=8)
    clock = Clock()
    refresher = CrlRefresher(_sealer(pki, server), _chain(pki), clock=clock)
    first = refresher.fetched
    clock.now += dt.timedelta(hours=5)  # 3 of 8 hours left: not yet
    refresher.ensure_current()
    assert refresher.fetched is first and server.ocsp_answers[pki.vault_seal.serial] == 1
    clock.now += dt.timedelta(hours=1)  # 2 left (a quarter): asked again
    refresher.ensure_current()
    assert refresher.fetched is not first and server.ocsp_answers[pki.vault_seal.serial] == 2


def test_a_responder_that_is_down_falls_back_to_the_crl(
    server: PkiServer, caplog: pytest.LogCaptureFixture
) -> None:
    pki = server.publish(ocsp=True)
    server.failing.add("ocsp")
    with caplog.at_level(logging.WARNING, logger="evault.revocation"):
        fetched = fetch_revocation(_chain(pki))
    assert fetched.ocsps == ()
    assert fetched.ders == (pki.crl(), pki.root_crl())
    assert "using its CRL instead" in caplog.text


def test_an_uncovered_tsa_is_logged_but_the_seal_chain_must_be_covered(
    server: PkiServer, caplog: pytest.LogCaptureFixture
) -> None:
    pki = server.publish(ocsp=True)
    stranger = DemoPKI.generate(seed=b"another", departments=[], now=pki.now)
    with caplog.at_level(logging.WARNING, logger="evault.revocation"):
        fetched = fetch_revocation(_chain(pki), optional=[stranger.tsa.certificate])
    assert len(fetched.ocsps) == 2
    assert "the TSA's certificate is not covered" in caplog.text
    with pytest.raises(RevocationDataError, match="is not in the chain"):
        fetch_revocation([stranger.vault_seal.certificate])


def test_a_response_saying_revoked_stops_sealing(server: PkiServer) -> None:
    pki = server.publish(ocsp=True)
    clock = Clock()
    refresher = CrlRefresher(_sealer(pki, server), _chain(pki), clock=clock)
    server.ocsp_revoked.add(pki.vault_seal.serial)
    clock.now += dt.timedelta(hours=19)  # due (a quarter of the day's validity left)
    with pytest.raises(SealUnavailable, match=r"0xe7a1000 .* is revoked \(OCSP\)"):
        refresher.ensure_current()
    with pytest.raises(SealingError, match=r"is revoked \(OCSP\)"):
        CrlRefresher(_sealer(pki, server), _chain(pki))  # and a new sealer does not start


def test_a_response_signed_by_another_key_is_refused(server: PkiServer) -> None:
    pki = server.publish(ocsp=True)
    impostor = DemoPKI.generate(seed=b"impostor", departments=[], now=pki.now)
    server.ocsp_forger = impostor.issuing_ca  # same name, another key
    now = dt.datetime.now(dt.UTC)
    with pytest.raises(RevocationDataError, match="the OCSP response is not signed by CN=evault"):
        fetch_ocsp(pki.vault_seal.certificate, pki.issuing_ca.certificate, timeout=10, now=now)
