"""CRLs fetched from the seal chain's distribution points, served over HTTP on loopback;
a sealer kept current by a CrlRefresher; wrong, forged, expired and missing CRLs refused."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation.dss import DocumentSecurityStore

from signing.errors import RevocationDataError, SealingError, SealUnavailable
from signing.keys import LocalKeySource
from signing.pki import CRL_VALIDITY, DemoPKI
from signing.revocation import MAX_AGE, RETRY_AFTER, CrlRefresher, crl_urls, fetch_crls
from signing.seal import PadesLevel, Sealer
from signing.trust import TrustBundle
from signing.verify import Verifier
from tests.helpers.pki import DEPARTMENTS, SEED, pki_now, sample_pdf
from tests.helpers.pki_server import PkiServer


@pytest.fixture
def server() -> Iterator[PkiServer]:
    with PkiServer() as running:
        yield running


def _chain(pki: DemoPKI) -> list[x509.Certificate]:
    return [pki.vault_seal.certificate, *pki.chain]


def _sealer(pki: DemoPKI, server: PkiServer, clock: Clock | None = None) -> Sealer:
    """A B-LT sealer for the vault's seal with no CRLs of its own (the refresher adds them)."""
    source = LocalKeySource(
        certificate=pki.vault_seal.certificate,
        private_key=pki.vault_seal.private_key,
        chain=pki.chain,
    )
    return Sealer(source, timestamper=server.tsa, clock=clock)


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime.now(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now


def test_the_demo_pki_names_the_given_distribution_points(server: PkiServer) -> None:
    pki = server.publish()
    base = server.base_url + "crl/"
    assert crl_urls(pki.vault_seal.certificate) == (base + "issuing-ca.crl",)
    assert crl_urls(pki.issuing_ca.certificate) == (base + "root-ca.crl",)
    assert crl_urls(pki.root.certificate) == ()
    # deterministic; the keys do not depend on the URL, the certificates do
    again = DemoPKI.generate(seed=SEED, departments=DEPARTMENTS, now=pki.now, crl_base_url=base)
    default = DemoPKI.generate(seed=SEED, departments=DEPARTMENTS, now=pki.now)
    assert again.vault_seal.certificate == pki.vault_seal.certificate
    assert default.vault_seal.certificate != pki.vault_seal.certificate
    assert default.vault_seal.private_key.private_numbers() == (
        pki.vault_seal.private_key.private_numbers()
    )


def test_fetch_covers_the_chain_once_per_crl(server: PkiServer) -> None:
    pki = server.publish()
    fetched = fetch_crls([*_chain(pki), pki.tsa.certificate])  # the TSA shares a CRL
    assert fetched.ders == (pki.crl(), pki.root_crl())
    assert server.fetches == {"/crl/issuing-ca.crl": 1, "/crl/root-ca.crl": 1}
    assert fetched.expires == pki.now + CRL_VALIDITY
    assert fetched.refresh_at == fetched.fetched_at + MAX_AGE  # a year's CRL: daily


def test_refresh_comes_a_quarter_before_a_short_crl_ends(server: PkiServer) -> None:
    pki = server.publish()
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    # a CRL valid 8 hours, of which 4 are left: fetched again when 2 are left
    short = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(pki.issuing_ca.certificate.subject)
        .last_update(now - dt.timedelta(hours=4))
        .next_update(now + dt.timedelta(hours=4))
        .sign(pki.issuing_ca.private_key, hashes.SHA256())
    )
    server.crls["issuing-ca.crl"] = short.public_bytes(Encoding.DER)
    fetched = fetch_crls(_chain(pki), now=now)
    assert fetched.refresh_at == now + dt.timedelta(hours=2)


def test_sealer_with_fetched_crls_makes_a_b_lt_seal_that_verifies(server: PkiServer) -> None:
    pki = server.publish()
    sealer = _sealer(pki, server)
    with pytest.raises(SealingError, match="B-LT needs revocation data"):
        sealer.seal(sample_pdf(), level=PadesLevel.B_LT)
    refresher = CrlRefresher(sealer, _chain(pki))
    refresher.ensure_current()
    sealed = sealer.seal(sample_pdf(), level=PadesLevel.B_LT)
    dss = DocumentSecurityStore.read_dss(PdfFileReader(io.BytesIO(sealed)))
    embedded = {ref.get_object().data for ref in dss.crls}
    assert embedded == {pki.crl(), pki.root_crl()}
    bundle = TrustBundle.from_certificates(
        roots=[pki.root.certificate], intermediates=[pki.issuing_ca.certificate]
    )
    report = Verifier(bundle).verify(sealed)
    assert report.indication == "TOTAL_PASSED", report.reasons


def test_unreachable_distribution_point(server: PkiServer) -> None:
    pki = server.publish()
    server.failing.add("root-ca.crl")
    with pytest.raises(
        RevocationDataError,
        match=r"cannot obtain the CRL of CN=evault Demo Issuing CA,.*: "
        r"http://127\.0\.0\.1:\d+/crl/root-ca\.crl: HTTP 503 Service Unavailable",
    ):
        fetch_crls(_chain(pki))
    del server.crls["root-ca.crl"]
    server.failing.clear()
    with pytest.raises(RevocationDataError, match=r"root-ca\.crl: HTTP 404 Not Found"):
        fetch_crls(_chain(pki))


def test_nothing_listening() -> None:
    pki = DemoPKI.generate(
        seed=SEED, departments=DEPARTMENTS, now=pki_now(), crl_base_url="http://127.0.0.1:9/"
    )
    with pytest.raises(
        RevocationDataError, match=r"http://127\.0\.0\.1:9/issuing-ca\.crl: .*refused"
    ):
        fetch_crls(_chain(pki), timeout=5)


def test_a_crl_of_another_issuer_is_refused(server: PkiServer) -> None:
    pki = server.publish()
    server.crls["issuing-ca.crl"] = pki.root_crl()
    with pytest.raises(
        RevocationDataError,
        match=r"issuing-ca\.crl: the CRL of CN=evault Demo Root CA,.*, not of CN=evault Demo Iss",
    ):
        fetch_crls(_chain(pki))


def test_a_forged_crl_is_refused(server: PkiServer) -> None:
    pki = server.publish()
    other = DemoPKI.generate(seed=b"another seed", departments=DEPARTMENTS, now=pki_now())
    assert other.issuing_ca.certificate.subject == pki.issuing_ca.certificate.subject
    server.crls["issuing-ca.crl"] = other.crl()  # same issuer name, another key
    with pytest.raises(
        RevocationDataError, match="the CRL is not signed by CN=evault Demo Issuing"
    ):
        fetch_crls(_chain(pki))


def test_an_expired_or_garbled_crl_is_refused(server: PkiServer) -> None:
    pki = server.publish()
    long_ago = dt.datetime.now(dt.UTC) - 2 * CRL_VALIDITY
    server.crls["issuing-ca.crl"] = pki.crl(at=long_ago)
    with pytest.raises(RevocationDataError, match=r"issuing-ca\.crl: the CRL expired at "):
        fetch_crls(_chain(pki))
    server.crls["issuing-ca.crl"] = b"<html>maintenance</html>"
    with pytest.raises(RevocationDataError, match=r"issuing-ca\.crl: not a CRL"):
        fetch_crls(_chain(pki))


def test_a_chain_without_distribution_points_or_issuer(server: PkiServer) -> None:
    pki = server.publish()
    with pytest.raises(RevocationDataError, match="is not in the chain: its CRL cannot be checked"):
        fetch_crls([pki.vault_seal.certificate])
    bare = (
        x509.CertificateBuilder()
        .subject_name(x509.Name.from_rfc4514_string("CN=no CDP"))
        .issuer_name(pki.issuing_ca.certificate.subject)
        .public_key(pki.vault_seal.private_key.public_key())
        .serial_number(7)
        .not_valid_before(pki.now)
        .not_valid_after(pki.now + dt.timedelta(days=1))
        .sign(pki.issuing_ca.private_key, hashes.SHA256())
    )
    with pytest.raises(RevocationDataError, match="CN=no CDP names no http"):
        fetch_crls([bare, *pki.chain])


def test_refresher_fetches_again_when_due_and_keeps_valid_crls_on_failure(
    server: PkiServer,
) -> None:
    pki = server.publish()
    clock = Clock()
    refresher = CrlRefresher(_sealer(pki, server), _chain(pki), clock=clock)
    first = refresher.fetched
    refresher.ensure_current()
    assert server.fetches["/crl/issuing-ca.crl"] == 1  # not due yet

    clock.now += MAX_AGE
    server.failing.add("issuing-ca.crl")
    refresher.ensure_current()  # fails: the CRLs in hand are still valid, kept
    assert refresher.fetched is first
    assert server.fetches["/crl/issuing-ca.crl"] == 2
    refresher.ensure_current()  # the retry waits
    assert server.fetches["/crl/issuing-ca.crl"] == 2

    clock.now += RETRY_AFTER
    server.failing.clear()
    refresher.ensure_current()
    assert server.fetches["/crl/issuing-ca.crl"] == 3
    assert refresher.fetched is not first
    assert refresher.fetched.fetched_at == clock.now


def test_a_fresh_crl_revoking_the_seal_stops_sealing(server: PkiServer) -> None:
    pki = server.publish()
    clock = Clock()
    sealer = _sealer(pki, server)
    refresher = CrlRefresher(sealer, _chain(pki), clock=clock)
    revoked = pki.revoke(pki.vault_seal.serial, pki.now)
    server.crls["issuing-ca.crl"] = revoked.crl()
    clock.now += MAX_AGE
    for _ in range(2):  # refused now, and still refused before the next try
        with pytest.raises(
            SealUnavailable,
            match=r"refused by its latest revocation data: certificate 0xe7a1000 .* is revoked",
        ):
            refresher.ensure_current()
    with pytest.raises(SealingError, match="is revoked"):
        CrlRefresher(_sealer(pki, server), _chain(pki))  # and a new sealer does not start


def test_expired_crls_that_cannot_be_refreshed_stop_b_lt(server: PkiServer) -> None:
    pki = server.publish()
    clock = Clock()
    # a CRL that ends an hour from now
    ends = clock.now + dt.timedelta(hours=1)
    server.crls["issuing-ca.crl"] = pki.crl(at=ends - CRL_VALIDITY)
    sealer = _sealer(pki, server, clock)
    refresher = CrlRefresher(sealer, _chain(pki), clock=clock)
    sealer.seal(sample_pdf(), level=PadesLevel.B_LT)
    clock.now = ends + dt.timedelta(seconds=1)
    server.failing.add("issuing-ca.crl")
    refresher.ensure_current()  # the refresh fails (logged); the sealer refuses B-LT itself
    with pytest.raises(SealUnavailable, match="the revocation data expired at"):
        sealer.seal(sample_pdf(), level=PadesLevel.B_LT)
