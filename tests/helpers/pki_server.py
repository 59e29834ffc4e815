"""A demo PKI published over HTTP on loopback: its CRLs where its certificates say, a TSA.

    with PkiServer() as server:
        pki = server.publish()        # a demo PKI whose CRL distribution points are here
        server.crls["issuing-ca.crl"] = pki.revoke(...).crl()   # publish a newer CRL

``GET /crl/<name>`` answers ``server.crls[name]`` (404 when absent, 503 while ``name`` is in
``server.failing``); ``POST /tsa`` answers RFC 3161 requests with the PKI's TSA. Every GET
path is counted in ``server.fetches``.
"""

from __future__ import annotations

import collections
import http.server
import threading
from typing import Any

from signing.pki import DemoPKI
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
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/"

    @property
    def tsa_url(self) -> str:
        return self.base_url + "tsa"

    def publish(self, pki: DemoPKI | None = None) -> DemoPKI:
        """Serve ``pki``'s CRLs and TSA; default: the test PKI (same seed and keys as
        ``tests.helpers.pki.demo_pki()``) with its CRL distribution points on this server."""
        if pki is None:
            pki = DemoPKI.generate(
                seed=SEED,
                departments=DEPARTMENTS,
                now=pki_now(),
                vault=("evault 电子证照库", VAULT_CODE),
                crl_base_url=self.base_url + "crl/",
            )
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
                if self.path != "/tsa" or owner.tsa is None:
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
