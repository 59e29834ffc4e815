"""Our own CMS integrity check: adbe.pkcs7.sha1, tampering, unknown algorithms, junk."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from asn1crypto import algos, cms, x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding

from signing._verify.cms_check import check_cms
from tests.helpers.pki import MARKET_DEPT, demo_pki

SIGNED = b"%PDF-1.7 the bytes a ByteRange covers"


def _cms(
    econtent: bytes | None, *, digest_of: bytes, md: str = "sha256", then: bytes | None = None
) -> bytes:
    """A CMS SignedData by the market department's seal, with one SignerInfo over
    ``digest_of`` (and a second over ``then``, if given)."""
    identity = demo_pki().issuing_department_seal(MARKET_DEPT)
    cert = x509.Certificate.load(identity.certificate.public_bytes(Encoding.DER))
    signers = [_signer_info(identity, cert, digest_of, md)]
    if then is not None:
        signers.append(_signer_info(identity, cert, then, md))
    signed_data = cms.SignedData(
        {
            "version": "v1",
            "digest_algorithms": [algos.DigestAlgorithm({"algorithm": md})],
            "encap_content_info": {"content_type": "data", "content": econtent},
            "certificates": [cert],
            "signer_infos": signers,
        }
    )
    return cms.ContentInfo({"content_type": "signed_data", "content": signed_data}).dump()


def _signer_info(identity: Any, cert: x509.Certificate, digest_of: bytes, md: str) -> Any:
    attrs = cms.CMSAttributes(
        [
            cms.CMSAttribute({"type": "content_type", "values": ["data"]}),
            cms.CMSAttribute(
                {"type": "message_digest", "values": [hashlib.new(md, digest_of).digest()]}
            ),
        ]
    )
    key = identity.private_key
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    signature = key.sign(attrs.dump(), ec.ECDSA(hashes.SHA256()))
    signer = cms.SignerInfo(
        {
            "version": "v1",
            "sid": cms.SignerIdentifier(
                {
                    "issuer_and_serial_number": cms.IssuerAndSerialNumber(
                        {"issuer": cert.issuer, "serial_number": cert.serial_number}
                    )
                }
            ),
            "digest_algorithm": algos.DigestAlgorithm({"algorithm": md}),
            "signed_attrs": attrs,
            "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": "sha256_ecdsa"}),
            "signature": signature,
        }
    )
    return signer


def test_detached_signature_is_intact_and_tampering_is_seen() -> None:
    contents = _cms(None, digest_of=SIGNED)
    good = check_cms(contents + b"\x00" * 100, SIGNED, subfilter="/ETSI.CAdES.detached")
    assert good.intact and good.digest_ok and good.signature_ok and not good.non_der_attrs
    bad = check_cms(contents, SIGNED + b"x", subfilter="/ETSI.CAdES.detached")
    assert not bad.intact and not bad.digest_ok
    assert bad.reasons == ["the message digest does not match the signed bytes"]


def test_adbe_pkcs7_sha1_is_checked_and_flagged_weak() -> None:
    sha1 = hashlib.sha1(SIGNED).digest()
    contents = _cms(sha1, digest_of=sha1)
    result = check_cms(contents, SIGNED, subfilter="/adbe.pkcs7.sha1")
    assert result.intact
    assert result.weak == "adbe.pkcs7.sha1 (SHA-1 of the signed bytes)"
    tampered = check_cms(contents, SIGNED + b"x", subfilter="/adbe.pkcs7.sha1")
    assert not tampered.intact
    assert "adbe.pkcs7.sha1" in tampered.reasons[0]


def test_other_enveloped_content_is_not_the_pdf() -> None:
    contents = _cms(b"another document", digest_of=b"another document")
    result = check_cms(contents, SIGNED, subfilter="/adbe.pkcs7.sha256")
    assert not result.intact
    assert "envelops other content" in result.reasons[0]


@pytest.mark.parametrize("subfilter", ["/ETSI.CAdES.detached", "/adbe.pkcs7.detached"])
@pytest.mark.parametrize("content", [b"another document", SIGNED])
def test_a_detached_signature_that_encapsulates_content_is_not_intact(
    subfilter: str, content: bytes
) -> None:
    """As DSS: a detached PAdES signature carries no content; one that does (even the
    PDF's own bytes) is not a signature of the PDF."""
    result = check_cms(_cms(content, digest_of=content), SIGNED, subfilter=subfilter)
    assert not result.intact
    assert result.reasons[0] == (
        f"a detached signature ({subfilter}) whose CMS encapsulates content: it does not sign "
        "the PDF's bytes"
    )


def test_two_signer_infos_read_as_one_signature() -> None:
    """One SignerInfo verifies, the other does not: the signature stands, by the one that
    verifies (DSS reads such a CMS as one signature). DER sorts the SET OF SignerInfos, so
    which comes first depends on their bytes."""
    both = _cms(None, digest_of=b"other bytes", then=SIGNED)
    result = check_cms(both, SIGNED, subfilter="/ETSI.CAdES.detached")
    assert result.intact
    assert all("verifies and is taken as the signer" in r for r in result.reasons)
    alone = check_cms(
        _cms(None, digest_of=b"other bytes"), SIGNED, subfilter="/ETSI.CAdES.detached"
    )
    assert not alone.intact


@pytest.mark.parametrize("junk", [b"", b"\x00" * 64, b"\x30\x82\xff\xff", b"not DER at all"])
def test_junk_is_malformed_not_an_exception(junk: bytes) -> None:
    result = check_cms(junk, SIGNED, subfilter="/ETSI.CAdES.detached")
    assert result.intact is False and result.malformed
    assert result.reasons[0].startswith("the signature value (CMS) cannot be read")
