"""RFC 3161 timestamps: an embedded TSA for the demo and a client for an external TSA.

Both are pyHanko ``TimeStamper`` objects, so a :class:`signing.seal.Sealer` takes either.
Failures surface as :class:`signing.errors.TimestampError`, never as pyHanko's or
aiohttp's exceptions. Every token is checked against the request (status, nonce and
message imprint) before it is used.

:class:`EmbeddedTSA` is keyed once: its private key is parsed when it is built and reused
for every token (pyHanko's ``DummyTimeStamper`` re-parses an RSA key per token). It also
answers raw DER requests (:meth:`EmbeddedTSA.respond`), which is all an HTTP front needs.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import hashlib
import os
import secrets
import struct
from collections.abc import Callable, Sequence
from functools import cache

from asn1crypto import algos, cms, core, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pyhanko.sign.general import as_signing_certificate_v2, simple_cms_attribute
from pyhanko.sign.timestamps.aiohttp_client import HTTPTimeStamper
from pyhanko.sign.timestamps.api import TimeStamper

from signing._pyhanko import to_asn1
from signing.der import der_attribute, der_tlv, signed_data_content_info, signer_info
from signing.errors import TimestampError

__all__ = ["DEMO_TSA_POLICY", "EmbeddedTSA", "HttpTSA", "timestamp_digest"]

DEMO_TSA_POLICY = "1.3.6.1.4.1.55555.3161.1"
"""Policy OID the embedded (demo) TSA writes into its tokens."""

_HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


_TST_INFO_OID = bytes(core.ObjectIdentifier("1.2.840.113549.1.9.16.1.4").dump())
_VERSION_1 = bytes(core.Integer(1).dump())
_SHA256_ALGORITHM = bytes(algos.DigestAlgorithm({"algorithm": "sha256"}).dump())
_ECDSA_SHA256_ALGORITHM = bytes(algos.SignedDigestAlgorithm({"algorithm": "sha256_ecdsa"}).dump())
_ACCURACY_1S = bytes(tsp.Accuracy({"seconds": 1}).dump())
_SIGNING_TIME_OID = bytes(core.ObjectIdentifier("1.2.840.113549.1.9.5").dump())
_MESSAGE_DIGEST_OID = bytes(core.ObjectIdentifier("1.2.840.113549.1.9.4").dump())
_CONTENT_TYPE_TST_INFO = bytes(simple_cms_attribute("content_type", "tst_info").dump())


@cache
def _digest_algorithm(md_algorithm: str) -> bytes:
    """DER of the AlgorithmIdentifier pyHanko puts in a request's message imprint."""
    return bytes(algos.DigestAlgorithm({"algorithm": md_algorithm}).dump())


class _TimeStampResp(core.Sequence):
    """RFC 3161 TimeStampResp with the token OPTIONAL (asn1crypto's requires it)."""

    _fields = [  # noqa: RUF012 - asn1crypto's declaration style
        ("status", tsp.PKIStatusInfo),
        ("time_stamp_token", cms.ContentInfo, {"optional": True}),
    ]


def _refusal(status: tsp.PKIStatusInfo) -> str | None:
    """Why the TSA refused, or None when it granted the request."""
    if status["status"].native in ("granted", "granted_with_mods"):
        return None
    texts = "; ".join(status["status_string"].native or [])
    fail = "; ".join(sorted(status["fail_info"].native or []))
    return f'refused the request ({status["status"].native}): "{texts}" failInfo "{fail}"'


def _check_token(token: cms.ContentInfo, digest: bytes, md_algorithm: str) -> None:
    """The token must be SignedData over a TSTInfo whose imprint is ``digest``."""
    try:
        tst_info = token["content"]["encap_content_info"]["content"].parsed
        imprint = tst_info["message_imprint"]
        algorithm = imprint["hash_algorithm"]["algorithm"].native
        hashed = imprint["hashed_message"].native
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        raise TimestampError(f"the TSA's token is malformed: {exc}") from None
    if algorithm != md_algorithm or hashed != digest:
        raise TimestampError("the TSA's token does not cover the requested digest")


class _CheckedTimeStamper(TimeStamper):
    """Turns every failure into TimestampError and checks the token's imprint."""

    async def async_timestamp(self, message_digest: bytes, md_algorithm: str) -> cms.ContentInfo:
        try:
            token = await super().async_timestamp(message_digest, md_algorithm)
        except TimestampError:
            raise
        except (TimeoutError, OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
            # AttributeError: pyHanko 0.38 fails so while reporting a wrong nonce
            raise TimestampError(f"{self.describe()}: {exc}") from None
        _check_token(token, message_digest, md_algorithm)
        self._remember_certificates(token)
        return token

    def _remember_certificates(self, token: cms.ContentInfo) -> None:
        seen: dict[bytes, asn1_x509.Certificate] = self.__dict__.setdefault("_seen_certs", {})
        try:
            for choice in token["content"]["certificates"] or ():
                if choice.name == "certificate":
                    seen.setdefault(choice.chosen.dump(), choice.chosen)
        except (ValueError, TypeError, KeyError):
            return

    def token_certificates(self) -> list[asn1_x509.Certificate]:
        """Certificates carried by the tokens received so far (for a B-LT seal's DSS)."""
        seen: dict[bytes, asn1_x509.Certificate] = self.__dict__.get("_seen_certs", {})
        return list(seen.values())

    def describe(self) -> str:
        return "timestamp authority"


class EmbeddedTSA(_CheckedTimeStamper):
    """An in-process RFC 3161 TSA keyed once (ECDSA P-256 or larger curve)."""

    def __init__(
        self,
        *,
        certificate: x509.Certificate,
        private_key: ec.EllipticCurvePrivateKey,
        chain: Sequence[x509.Certificate] = (),
        clock: Callable[[], _dt.datetime] | None = None,
        policy: str = DEMO_TSA_POLICY,
    ) -> None:
        """``chain``: issuer first; embedded in each token with the TSA certificate."""
        super().__init__(include_nonce=True)
        if not isinstance(private_key, ec.EllipticCurvePrivateKey):
            raise TimestampError("the embedded TSA needs an EC private key")
        if private_key.public_key() != certificate.public_key():
            raise TimestampError("the TSA private key does not match its certificate")
        self._key = private_key
        self._chain = (certificate, *chain)
        self._cert = to_asn1(certificate)
        self._certificates = tuple(c.public_bytes(serialization.Encoding.DER) for c in self._chain)
        self._clock = clock or (lambda: _dt.datetime.now(_dt.UTC))
        self._policy = policy
        # Everything constant in a token is encoded once (see token()).
        self._ess_attr = bytes(
            simple_cms_attribute(
                "signing_certificate_v2", as_signing_certificate_v2(self._cert)
            ).dump()
        )
        self._sid = bytes(
            cms.IssuerAndSerialNumber(
                {"issuer": self._cert.issuer, "serial_number": self._cert.serial_number}
            ).dump()
        )
        self._tsa_name = der_tlv(0xA0, der_tlv(0xA4, bytes(self._cert.subject.dump())))
        self._policy_der = bytes(core.ObjectIdentifier(policy).dump())
        self._asn1_chain = tuple(asn1_x509.Certificate.load(der) for der in self._certificates)

    def describe(self) -> str:
        return "embedded TSA"

    @property
    def certificates(self) -> tuple[x509.Certificate, ...]:
        """The TSA certificate and its chain (what a B-LT seal embeds for it)."""
        return self._chain

    def token_size(self, md_algorithm: str = "sha256") -> int:
        """DER size of a token (within a few bytes: ECDSA signature length varies)."""
        _, request = self.request_cms(bytes(_HASHES[md_algorithm]().digest_size), md_algorithm)
        return len(self.token(request).dump())

    def token(self, request: tsp.TimeStampReq) -> cms.ContentInfo:
        """Sign a TSTInfo for ``request`` (a granted request's token)."""
        imprint = request["message_imprint"]
        algorithm = imprint["hash_algorithm"]["algorithm"].native
        if algorithm not in _HASHES:
            raise TimestampError(f"unsupported message imprint algorithm {algorithm}")
        nonce = request["nonce"].native
        return cms.ContentInfo.load(self._token_der(bytes(imprint.dump()), nonce))

    async def async_timestamp(self, message_digest: bytes, md_algorithm: str) -> cms.ContentInfo:
        """The token for ``message_digest``, signed here and now, with a fresh nonce.

        What pyHanko's request / response round trip gives (a token over the same
        imprint, echoing a random nonce), without encoding a request and parsing a
        response in between: the token is built from the digest directly. Checked like
        every token (:func:`_check_token`)."""
        make = _HASHES.get(md_algorithm)
        if make is None or len(message_digest) != make().digest_size:
            raise TimestampError(f"{self.describe()}: unsupported digest {md_algorithm}")
        imprint = der_tlv(0x30, _digest_algorithm(md_algorithm) + der_tlv(0x04, message_digest))
        nonce = struct.unpack(">q", b"\x01" + os.urandom(7))[0]  # as pyHanko's get_nonce
        try:
            token: cms.ContentInfo = cms.ContentInfo.load(self._token_der(imprint, nonce))
        except (ValueError, TypeError) as exc:  # e.g. a clock giving no usable time
            raise TimestampError(f"{self.describe()}: {exc}") from None
        _check_token(token, message_digest, md_algorithm)
        return token

    def token_certificates(self) -> list[asn1_x509.Certificate]:
        """The certificates every token of this TSA carries (its own and its chain)."""
        return list(self._asn1_chain)

    def _token_der(self, imprint: bytes, nonce: int | None) -> bytes:
        """DER of the token over ``imprint`` (a MessageImprint's DER), echoing ``nonce``."""
        moment = self._clock().astimezone(_dt.UTC)
        # Encoded by hand from pre-encoded parts: asn1crypto re-serialises (and deep-copies)
        # certificates and names put into new structures, which made a token cost ~13 ms.
        tst_info = der_tlv(
            0x30,
            _VERSION_1
            + self._policy_der
            + imprint
            + bytes(core.Integer(secrets.randbits(63)).dump())
            + bytes(core.GeneralizedTime(moment).dump())
            + _ACCURACY_1S
            + (bytes(core.Integer(nonce).dump()) if nonce is not None else b"")
            + self._tsa_name,
        )
        attributes = sorted(
            [
                _CONTENT_TYPE_TST_INFO,
                der_attribute(_SIGNING_TIME_OID, bytes(core.UTCTime(moment).dump())),
                der_attribute(
                    _MESSAGE_DIGEST_OID,
                    bytes(core.OctetString(hashlib.sha256(tst_info).digest()).dump()),
                ),
                self._ess_attr,
            ]
        )
        signed_attrs = b"".join(attributes)
        signature = self._key.sign(der_tlv(0x31, signed_attrs), ec.ECDSA(hashes.SHA256()))
        return signed_data_content_info(
            version=3,
            digest_algorithm=_SHA256_ALGORITHM,
            encap_content_info=der_tlv(
                0x30, _TST_INFO_OID + der_tlv(0xA0, der_tlv(0x04, tst_info))
            ),
            certificates=self._certificates,
            signer=signer_info(
                sid=self._sid,
                digest_algorithm=_SHA256_ALGORITHM,
                signed_attrs=signed_attrs,
                signature_algorithm=_ECDSA_SHA256_ALGORITHM,
                signature=signature,
            ),
        )

    def request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        return tsp.TimeStampResp(
            {"status": {"status": "granted"}, "time_stamp_token": self.token(req)}
        )

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        return self.request_tsa_response(req)

    def respond(self, request_der: bytes) -> bytes:
        """Answer a DER ``TimeStampReq`` with a DER ``TimeStampResp`` (for an HTTP front).

        A malformed or unsupported request gets a ``rejection`` response, not an exception.
        """
        try:
            request = tsp.TimeStampReq.load(request_der)
            algorithm = request["message_imprint"]["hash_algorithm"]["algorithm"].native
            hashed = request["message_imprint"]["hashed_message"].native
            if algorithm not in _HASHES or len(hashed) != _HASHES[algorithm]().digest_size:
                return self._rejection("bad_alg", f"unsupported or malformed imprint {algorithm}")
            return bytes(self.request_tsa_response(request).dump())
        except (ValueError, TypeError, KeyError) as exc:
            return self._rejection("bad_data_format", f"malformed request: {exc}")

    @staticmethod
    def _rejection(fail_info: str, text: str) -> bytes:
        status = tsp.PKIStatusInfo(
            {
                "status": "rejection",
                "status_string": [text[:200]],
                "fail_info": tsp.PKIFailureInfo({fail_info}),
            }
        )
        # asn1crypto's TimeStampResp insists on a token: write SEQUENCE { status } by hand.
        body = status.dump()
        return der_tlv(0x30, body)


class HttpTSA(_CheckedTimeStamper, HTTPTimeStamper):
    """RFC 3161 client for an external TSA over HTTP(S) (pyHanko's ``HTTPTimeStamper``)."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 5.0,
        auth: tuple[str, str] | None = None,
        headers: dict[str, str] | None = None,
        require_https: bool = False,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise TimestampError(f"not an http(s) URL for a TSA: {url!r}")
        if require_https and not url.startswith("https://"):
            raise TimestampError("the TSA URL must use https")
        HTTPTimeStamper.__init__(self, url, timeout=timeout, auth=auth, headers=headers)

    def describe(self) -> str:
        return f"TSA at {self.url}"

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        response = await super().async_request_tsa_response(req)
        try:
            status = _TimeStampResp.load(response.dump())["status"]
            refusal = _refusal(status)
        except (ValueError, TypeError, KeyError) as exc:
            raise TimestampError(f"{self.describe()}: malformed response: {exc}") from None
        if refusal is not None:
            raise TimestampError(f"{self.describe()} {refusal}")
        return response


def timestamp_digest(
    timestamper: TimeStamper, data: bytes, *, md_algorithm: str = "sha256"
) -> cms.ContentInfo:
    """Timestamp ``data`` synchronously (outside an event loop): the token (asn1crypto)."""
    if md_algorithm not in _HASHES:
        raise TimestampError(f"unsupported digest algorithm {md_algorithm}")
    digest = hashlib.new(md_algorithm, data).digest()
    token: cms.ContentInfo = asyncio.run(timestamper.async_timestamp(digest, md_algorithm))
    return token
