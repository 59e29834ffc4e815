"""A demo PKI published over HTTP on loopback: its CRLs where its certificates say, a TSA.

    with PkiServer() as server:
        pki = server.publish()        # a demo PKI whose CRL distribution points are here
        server.crls["issuing-ca.crl"] = pki.revoke(...).crl()   # publish a newer CRL

``GET /crl/<name>`` answers ``server.crls[name]`` (404 when absent, 503 while ``name`` is in
``server.failing``); ``POST /tsa`` answers RFC 3161 requests with the PKI's TSA. Every GET
path is counted in ``server.fetches``.

With ``publish(ocsp=True)`` the PKI's issuing CA and leaves name ``<base>ocsp`` as their
OCSP responder (AIA), and ``POST /ocsp`` answers real OCSP responses (cryptography's
builder), signed by the certificate's issuer (the root for the issuing CA), with the
request's nonce, ``revoked`` for serials in ``server.ocsp_revoked``, valid for
``server.ocsp_validity``; each answer is counted in ``server.ocsp_answers`` ("ocsp" in
``server.failing``: 503; ``server.ocsp_forger``: another identity signs the answers).
"""

from __future__ import annotations

import collections
import datetime as dt
import http.server
import threading
from typing import Any

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import ocsp

from signing.pki import DemoPKI, Identity
from signing.timestamps import EmbeddedTSA
from tests.helpers.pki import DEPARTMENTS, SEED, VAULT_CODE, pki_now

__all__ = ["PkiServer"]


class PkiServer:
    """A threading HTTP server on 127.0.0.1 (an ephemeral port) publishing a demo PKI."""

    def __init__(self) -> None:
        self.crls: dict[str, bytes] = {}
        self.failing: set[str] = set()
        self.fetches: collections.Counter[str] = collections.Counter()
        self.tsa: EmbeddedTSA | None = None
        self.pki: DemoPKI | None = None
        self.ocsp_revoked: set[int] = set()
        self.ocsp_validity = dt.timedelta(days=1)
        self.ocsp_answers: collections.Counter[int] = collections.Counter()
        self.ocsp_forger: Identity | None = None  # when set, signs every response instead
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/"

    @property
    def tsa_url(self) -> str:
        return self.base_url + "tsa"

    def publish(self, pki: DemoPKI | None = None, *, ocsp: bool = False) -> DemoPKI:
        """Serve ``pki``'s CRLs and TSA; default: the test PKI (same seed and keys as
        ``tests.helpers.pki.demo_pki()``) with its CRL distribution points (and, with
        ``ocsp``, its OCSP responder) on this server."""
        if pki is None:
            pki = DemoPKI.generate(
                seed=SEED,
                departments=DEPARTMENTS,
                now=pki_now(),
                vault=("evault 电子证照库", VAULT_CODE),
                crl_base_url=self.base_url + "crl/",
                ocsp_url=self.base_url + "ocsp" if ocsp else None,
            )
        self.pki = pki
        self.crls = {"issuing-ca.crl": pki.crl(), "root-ca.crl": pki.root_crl()}
        self.tsa = EmbeddedTSA(
            certificate=pki.tsa.certificate, private_key=pki.tsa.private_key, chain=pki.chain
        )
        return pki

    def __enter__(self) -> PkiServer:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.fetches[self.path] += 1
                name = self.path.removeprefix("/crl/")
                if name in owner.failing:
                    self._answer(503, "text/plain", b"unavailable")
                elif self.path.startswith("/crl/") and name in owner.crls:
                    self._answer(200, "application/pkix-crl", owner.crls[name])
                else:
                    self._answer(404, "text/plain", b"not found")

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.path == "/ocsp" and "ocsp" in owner.failing:
                    self._answer(503, "text/plain", b"unavailable")
                elif self.path == "/ocsp" and owner.pki is not None:
                    self._answer(200, "application/ocsp-response", owner.ocsp_answer(body))
                elif self.path != "/tsa" or owner.tsa is None:
                    self._answer(404, "text/plain", b"not found")
                else:
                    self._answer(200, "application/timestamp-reply", owner.tsa.respond(body))

            def _answer(self, status: int, content_type: str, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

    def ocsp_answer(self, request_der: bytes) -> bytes:
        """A signed OCSP response to ``request_der`` (``unauthorized`` for a stranger)."""
        assert self.pki is not None
        pki = self.pki
        request = ocsp.load_der_ocsp_request(request_der)
        issuers = [pki.root, pki.issuing_ca]
        algorithm = request.hash_algorithm.name
        issuer = next(
            (
                i
                for i in issuers
                if getattr(_asn1(i.certificate).public_key, algorithm) == request.issuer_key_hash
            ),
            None,
        )
        leaves = [pki.issuing_ca, pki.vault_seal, pki.tsa, *pki.department_seals.values()]
        subject = next(
            (c for c in leaves if c.certificate.serial_number == request.serial_number), None
        )
        if issuer is None or subject is None:
            return ocsp.OCSPResponseBuilder.build_unsuccessful(
                ocsp.OCSPResponseStatus.UNAUTHORIZED
            ).public_bytes(Encoding.DER)
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        revoked = request.serial_number in self.ocsp_revoked
        builder = ocsp.OCSPResponseBuilder().add_response(
            cert=subject.certificate,
            issuer=issuer.certificate,
            algorithm=request.hash_algorithm,
            cert_status=ocsp.OCSPCertStatus.REVOKED if revoked else ocsp.OCSPCertStatus.GOOD,
            this_update=now - dt.timedelta(minutes=1),
            next_update=now + self.ocsp_validity,
            revocation_time=now - dt.timedelta(minutes=1) if revoked else None,
            revocation_reason=None,
        )
        signer = self.ocsp_forger or issuer
        builder = builder.responder_id(ocsp.OCSPResponderEncoding.HASH, signer.certificate)
        for extension in request.extensions:
            if isinstance(extension.value, x509.OCSPNonce):
                builder = builder.add_extension(extension.value, critical=False)
        self.ocsp_answers[request.serial_number] += 1
        return builder.sign(signer.private_key, hashes.SHA256()).public_bytes(Encoding.DER)


def _asn1(certificate: x509.Certificate) -> Any:
    return asn1_x509.Certificate.load(certificate.public_bytes(Encoding.DER))
