"""RFC 3161: the embedded TSA, and the HTTP client against a real server on loopback."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import http.server
import io
import threading
from collections.abc import Iterator

import pytest
from asn1crypto import tsp
from cryptography.hazmat.primitives.serialization import Encoding
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.generic_cms import validate_tst_signed_data
from pyhanko_certvalidator import ValidationContext

from signing._pyhanko import to_asn1
from signing.errors import TimestampError
from signing.keys import LocalKeySource
from signing.pki import DemoPKI
from signing.seal import PadesLevel, Sealer
from signing.timestamps import (
    DEMO_TSA_POLICY,
    EmbeddedTSA,
    HttpTSA,
    _TimeStampResp,
    timestamp_digest,
)
from tests.helpers.pki import MARKET_DEPT, sample_pdf

DATA = b"the bytes to timestamp"


def _context(pki: DemoPKI) -> ValidationContext:
    return ValidationContext(
        trust_roots=[to_asn1(pki.root.certificate)],
        other_certs=[to_asn1(pki.issuing_ca.certificate)],
        crls=[pki.crl(), pki.root_crl()],
        ocsps=[],
        allow_fetching=False,
        revocation_mode="hard-fail",
    )


def _validate_token(pki: DemoPKI, token: object, data: bytes) -> dict[str, object]:
    signed_data = token["content"]  # type: ignore[index]
    return asyncio.run(
        validate_tst_signed_data(
            signed_data, _context(pki), lambda algo: hashlib.new(algo, data).digest()
        )
    )


def test_embedded_token_is_valid_and_trusted(pki: DemoPKI, tsa: EmbeddedTSA) -> None:
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    token = timestamp_digest(tsa, DATA)
    status = _validate_token(pki, token, DATA)
    assert status["intact"] and status["valid"]
    assert status["trust_problem_indic"] is None
    tst_info = token["content"]["encap_content_info"]["content"].parsed
    assert tst_info["policy"].dotted == DEMO_TSA_POLICY
    assert tst_info["gen_time"].native >= before
    assert tst_info["nonce"].native is not None


def test_token_for_other_data_is_not_intact(pki: DemoPKI, tsa: EmbeddedTSA) -> None:
    token = timestamp_digest(tsa, DATA)
    assert _validate_token(pki, token, b"other bytes")["intact"] is False


def test_embedded_tsa_uses_its_clock(pki: DemoPKI) -> None:
    fixed = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
    tsa = EmbeddedTSA(
        certificate=pki.tsa.certificate,
        private_key=pki.tsa.private_key,
        chain=pki.chain,
        clock=lambda: fixed,
    )
    token = timestamp_digest(tsa, DATA, md_algorithm="sha512")
    tst_info = token["content"]["encap_content_info"]["content"].parsed
    assert tst_info["gen_time"].native == fixed
    assert tst_info["message_imprint"]["hash_algorithm"]["algorithm"].native == "sha512"


def test_embedded_tsa_refuses_a_foreign_key(pki: DemoPKI) -> None:
    with pytest.raises(TimestampError, match="does not match its certificate"):
        EmbeddedTSA(certificate=pki.tsa.certificate, private_key=pki.root.private_key)


def test_respond_rejects_garbage(tsa: EmbeddedTSA) -> None:
    response = _TimeStampResp.load(tsa.respond(b"\x30\x03garbage"))
    assert response["status"]["status"].native == "rejection"
    assert "malformed request" in response["status"]["status_string"].native[0]


def test_respond_rejects_a_wrong_length_imprint(tsa: EmbeddedTSA) -> None:
    _, request = tsa.request_cms(b"short", "sha256")
    response = _TimeStampResp.load(tsa.respond(request.dump()))
    assert response["status"]["status"].native == "rejection"
    assert response["status"]["fail_info"].native == {"bad_alg"}


def test_timestamp_digest_refuses_unknown_algorithm(tsa: EmbeddedTSA) -> None:
    with pytest.raises(TimestampError, match="unsupported digest algorithm md5"):
        timestamp_digest(tsa, DATA, md_algorithm="md5")


# -- the HTTP client against a real RFC 3161 server on 127.0.0.1 --------------------------


def _server_for(tsa: EmbeddedTSA) -> http.server.ThreadingHTTPServer:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            content_type = "application/timestamp-reply"
            status = 200
            if self.headers.get("Content-Type") != "application/timestamp-query":
                status, answer = 415, b"wrong content type"
            elif self.path == "/tsa":
                answer = tsa.respond(body)
            elif self.path == "/error":
                status, answer = 500, b"internal error"
            elif self.path == "/html":
                content_type, answer = "text/html", b"<html>login</html>"
            elif self.path == "/reject":
                answer = tsa._rejection("system_failure", "out of service")
            elif self.path == "/other-digest":
                request = tsp.TimeStampReq.load(body)
                request["message_imprint"]["hashed_message"] = hashlib.sha256(b"x").digest()
                answer = tsa.respond(request.dump())
            elif self.path == "/other-nonce":
                request = tsp.TimeStampReq.load(body)
                request["nonce"] = 12345
                answer = tsa.respond(request.dump())
            else:
                status, answer = 404, b"not found"
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)


@pytest.fixture(scope="module")
def tsa_url(tsa: EmbeddedTSA) -> Iterator[str]:
    server = _server_for(tsa)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_http_client_gets_a_valid_token(pki: DemoPKI, tsa_url: str) -> None:
    token = timestamp_digest(HttpTSA(tsa_url + "/tsa"), DATA)
    status = _validate_token(pki, token, DATA)
    assert status["intact"] and status["valid"]


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/error", "TSA at http://127.0.0.1:.*/error: Error while contacting timestamp service"),
        ("/html", "TSA at .*/html: Error while contacting timestamp service"),
        (
            "/reject",
            'refused the request \\(rejection\\): "out of service" failInfo "system_failure"',
        ),
        ("/other-nonce", "TSA at .*/other-nonce: "),
        ("/other-digest", "the TSA's token does not cover the requested digest"),
    ],
)
def test_http_failures_are_timestamp_errors(tsa_url: str, path: str, message: str) -> None:
    with pytest.raises(TimestampError, match=message):
        timestamp_digest(HttpTSA(tsa_url + path), DATA)


def test_unreachable_tsa_is_a_timestamp_error() -> None:
    server = http.server.HTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    port = server.server_address[1]
    server.server_close()  # nothing listens there any more
    with pytest.raises(TimestampError, match=f"TSA at http://127.0.0.1:{port}/: Error while"):
        timestamp_digest(HttpTSA(f"http://127.0.0.1:{port}/", timeout=2), DATA)


def test_http_client_refuses_non_http_urls() -> None:
    with pytest.raises(TimestampError, match="not an http"):
        HttpTSA("ftp://tsa.example/")
    with pytest.raises(TimestampError, match="must use https"):
        HttpTSA("http://tsa.example/", require_https=True)


def test_sealer_with_http_tsa_makes_a_timestamped_seal(pki: DemoPKI, tsa_url: str) -> None:
    identity = pki.issuing_department_seal(MARKET_DEPT)
    source = LocalKeySource(
        certificate=identity.certificate, private_key=identity.private_key, chain=pki.chain
    )
    sealer = Sealer(source, timestamper=HttpTSA(tsa_url + "/tsa"), crls=pki.crls())
    sealed = sealer.seal(sample_pdf(), level=PadesLevel.B_LT)
    reader = PdfFileReader(io.BytesIO(sealed))
    # the TSA's certificate came from its token into the DSS, without being configured
    dss_certs = {ref.get_object().data for ref in reader.root["/DSS"]["/Certs"]}
    assert pki.tsa.certificate.public_bytes(Encoding.DER) in dss_certs
    signature = reader.embedded_signatures[0]
    status = validate_pdf_signature(signature, _context(pki))
    assert status.bottom_line
    assert status.timestamp_validity is not None and status.timestamp_validity.valid
    assert status.timestamp_validity.trusted
