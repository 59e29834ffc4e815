"""Our own integrity check of a PDF signature's CMS: digest and signature value.

Independent of pyHanko's, and stricter where the corpus shows pyHanko is lenient:

* signed attributes must be DER-encoded (RFC 5652 §5.4: the signature is computed over
  their DER encoding). When the file's encoding is not DER, the signature is checked over
  the DER re-encoding, as DSS does; if it only verifies over the non-DER bytes, the
  signature is not intact.
* an unknown digest or signature algorithm is reported as unsupported (never a crash),
  and the signature is not reported intact.
* ``adbe.pkcs7.sha1`` (the SHA-1 of the signed bytes is the encapsulated content) is
  checked too, and flagged as relying on SHA-1.
"""

from __future__ import annotations

import contextlib
import hashlib
from dataclasses import dataclass, field
from typing import Any

from signing._verify.lru import Lru
from signing.der import der_set_of

__all__ = ["CmsCheck", "check_cms"]

_HASHES = {
    "sha1": "SHA1",
    "sha224": "SHA224",
    "sha256": "SHA256",
    "sha384": "SHA384",
    "sha512": "SHA512",
    "sha3_224": "SHA3_224",
    "sha3_256": "SHA3_256",
    "sha3_384": "SHA3_384",
    "sha3_512": "SHA3_512",
}


@dataclass
class CmsCheck:
    """What our own check found. ``intact`` is None when it could not be decided."""

    intact: bool | None = None
    digest_ok: bool | None = None
    signature_ok: bool | None = None
    unsupported: str | None = None
    weak: str | None = None
    malformed: str | None = None
    reasons: list[str] = field(default_factory=list)
    signer_cert: Any = None  # asn1crypto x509.Certificate
    certificates: list[Any] = field(default_factory=list)
    md_algorithm: str | None = None
    tst_info: Any = None  # for document timestamps and timestamp tokens
    non_der_attrs: bool = False
    signature_value: bytes | None = None
    signature_timestamp: bytes | None = None  # DER of the signature-time-stamp token
    signing_time: Any = None  # the signing-time signed attribute (claimed), if any


_DETACHED = frozenset({"/adbe.pkcs7.detached", "/ETSI.CAdES.detached"})
_TIMESTAMP = "/ETSI.RFC3161"


def _hash(name: str, data: bytes) -> bytes:
    return hashlib.new(name.replace("_", "-") if name.startswith("sha3") else name, data).digest()


def _signed_content(out: CmsCheck, eci: Any, signed_bytes: bytes, subfilter: str | None) -> bytes:
    """What the signer's message digest must cover: a timestamp token's TSTInfo (whose
    imprint must match the signed bytes), adbe.pkcs7.sha1's SHA-1, enveloped content (which
    must be the signed bytes, and never in a detached signature), or the signed bytes."""
    ctype = eci["content_type"].native
    econtent = eci["content"]
    is_token = ctype in ("tst_info", "1.2.840.113549.1.9.16.1.4")
    if is_token != (subfilter == _TIMESTAMP):
        # red team pdf14, p14-03: a token anyone may obtain from a trusted TSA, under a
        # signature's /SubFilter, is no signature (and a signature is no timestamp)
        raise _WrongKind(
            f"a timestamp token (TSTInfo) under /SubFilter {subfilter}: a timestamp is "
            "valid only as a document timestamp (/ETSI.RFC3161)"
            if is_token
            else f"a document timestamp (/ETSI.RFC3161) whose CMS holds {ctype}, not a "
            "timestamp token (TSTInfo)"
        )
    if is_token:
        tst = econtent.parsed
        out.tst_info = tst
        mi = tst["message_imprint"]
        mi_algo = mi["hash_algorithm"]["algorithm"].native
        if mi_algo not in _HASHES:
            raise _Unsupported(f"timestamp imprint algorithm {mi_algo}")
        imprint_ok = mi["hashed_message"].native == _hash(mi_algo, signed_bytes)
        if not imprint_ok:
            out.reasons.append("the timestamp's message imprint does not match the signed bytes")
        content_for_digest = bytes(econtent.contents)
        out.digest_ok = imprint_ok
    elif subfilter == "/adbe.pkcs7.sha1":
        data = bytes(econtent.native or b"")
        ok = data == _hash("sha1", signed_bytes)
        if not ok:
            out.reasons.append("the SHA-1 of the signed bytes does not match (adbe.pkcs7.sha1)")
        out.weak = "adbe.pkcs7.sha1 (SHA-1 of the signed bytes)"
        out.digest_ok = ok
        content_for_digest = data
    else:
        enveloped = econtent.native is not None and len(bytes(econtent.contents or b"")) > 0
        if enveloped and subfilter in _DETACHED:
            # ETSI EN 319 142-1 / ISO 32000: a detached signature has no content of its own;
            # what it signs is not the PDF's bytes (DSS: not intact)
            content_for_digest = bytes(econtent.native)
            out.digest_ok = False
            out.reasons.append(
                f"a detached signature ({subfilter}) whose CMS encapsulates content: it does "
                "not sign the PDF's bytes"
            )
        elif enveloped:
            # enveloping: the content is inside the CMS; the PDF bytes are not what is signed
            content_for_digest = bytes(econtent.native)
            out.digest_ok = content_for_digest == signed_bytes
            if not out.digest_ok:
                out.reasons.append("the CMS envelops other content than the PDF's signed bytes")
        else:
            content_for_digest = signed_bytes
    return content_for_digest


def _der_set_of(signed_attrs: Any) -> tuple[bytes, bytes]:
    """(the file's encoding, the DER encoding) of the signed attributes as a SET OF."""
    original = bytearray(signed_attrs.dump())
    original[0] = 0x31  # [0] IMPLICIT -> SET OF, as signed
    return bytes(original), der_set_of([attr.dump() for attr in signed_attrs])


#: Parsed certificates by their DER, and loaded public keys by the DER of the key: a
#: seal's certificates and key repeat across the thousands of licenses an issuer seals.
#: Both depend on the bytes alone (nothing about time, trust or revocation is kept).
_certs: Lru[bytes, Any] = Lru(256)
_keys: Lru[bytes, Any] = Lru(256)


def _certificates(signed_data: Any) -> list[tuple[bytes, Any]]:
    """(DER, parsed certificate) of each certificate in the CMS: a certificate seen in an
    earlier signature that was checked through is the object parsed then."""
    out = []
    for choice in signed_data["certificates"] or []:
        if choice.name != "certificate":
            continue
        der = choice.dump()
        hit = _certs.get(der)  # not ``or``: bool() of an asn1crypto value parses it
        out.append((der, hit if hit is not None else choice.chosen))
    return out


def _public_key(der: bytes) -> Any:
    """The public key ``der`` (SubjectPublicKeyInfo) loaded by cryptography."""
    key = _keys.get(der)
    if key is None:
        from cryptography.hazmat.primitives.serialization import load_der_public_key

        key = load_der_public_key(der)
        _keys.put(der, key)
    return key


def _verify_sig(cert: Any, sig_algo: Any, md: str, signature: bytes, data: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, padding, rsa

    key = _public_key(cert.public_key.dump())
    algo = sig_algo.signature_algo
    try:
        hash_name = sig_algo.hash_algo
    except ValueError:
        hash_name = md
    if hash_name not in _HASHES:
        raise _Unsupported(f"hash algorithm {hash_name}")
    h = getattr(hashes, _HASHES[hash_name])()
    try:
        if isinstance(key, rsa.RSAPublicKey):
            if algo == "rsassa_pss":
                params = sig_algo["parameters"]
                mgf_hash = params["mask_gen_algorithm"]["parameters"]["algorithm"].native
                h = getattr(hashes, _HASHES[params["hash_algorithm"]["algorithm"].native])()
                pad: Any = padding.PSS(
                    mgf=padding.MGF1(getattr(hashes, _HASHES[mgf_hash])()),
                    salt_length=params["salt_length"].native,
                )
            elif algo in ("rsassa_pkcs1v15", "rsa"):
                pad = padding.PKCS1v15()
            else:
                raise _Unsupported(f"signature algorithm {algo} with an RSA key")
            key.verify(signature, data, pad, h)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, data, ec.ECDSA(h))
        elif isinstance(key, dsa.DSAPublicKey):
            key.verify(signature, data, h)
        elif isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
            key.verify(signature, data)
        else:
            raise _Unsupported(f"public key type {type(key).__name__}")
    except InvalidSignature:
        return False
    return True


class _Unsupported(Exception):
    pass


class _WrongKind(Exception):
    """A timestamp token under a signature's /SubFilter, or the other way round."""


def _find_signer(certs: list[Any], sid: Any) -> Any:
    for cert in certs:
        if sid.name == "issuer_and_serial_number":
            ias = sid.chosen
            if cert.serial_number == ias["serial_number"].native and (
                cert.issuer.dump() == ias["issuer"].dump() or cert.issuer == ias["issuer"]
            ):
                return cert
        elif sid.name == "subject_key_identifier" and cert.key_identifier == sid.chosen.native:
            return cert
    return None


def check_cms(contents: bytes, signed_bytes: bytes, *, subfilter: str | None) -> CmsCheck:
    """Check the CMS ``contents`` of a signature over ``signed_bytes`` (the ByteRange
    content). A timestamp token (TSTInfo) is one exactly under ``subfilter``
    /ETSI.RFC3161 (a signature timestamp's token is checked as one): anything else is
    ``malformed``. Never raises."""
    out = CmsCheck()
    try:
        _check(out, contents, signed_bytes, subfilter)
    except _WrongKind as exc:
        out.malformed = str(exc)
        out.intact = False
        out.reasons.append(str(exc))
    except _Unsupported as exc:
        out.unsupported = str(exc)
        out.intact = False
        out.reasons.append(f"unsupported: {exc}; the signature cannot be checked")
    except Exception as exc:  # asn1crypto / cryptography on hostile input
        out.malformed = f"{type(exc).__name__}: {str(exc)[:160]}"
        out.intact = False
        out.reasons.append(f"the signature value (CMS) cannot be read: {out.malformed}")
    return out


def _check(out: CmsCheck, contents: bytes, signed_bytes: bytes, subfilter: str | None) -> None:
    from asn1crypto import cms, tsp

    assert tsp  # importing asn1crypto.tsp registers the tst_info content type and attributes
    info = cms.ContentInfo.load(contents, strict=False)  # /Contents is zero-padded
    if info["content_type"].native != "signed_data":
        raise ValueError(f"content type is {info['content_type'].native}, not signed data")
    sd = info["content"]
    certificates = _certificates(sd)
    out.certificates = [cert for _, cert in certificates]
    signer_infos = list(sd["signer_infos"])
    if not signer_infos:
        raise ValueError("the CMS holds no signer info")
    if len(signer_infos) > 8:
        raise ValueError(f"{len(signer_infos)} signer infos")
    # Several SignerInfos sign the same content independently (DSS reads them as one
    # signature): the first that verifies is this signature's signer.
    first: CmsCheck | None = None
    for index, si in enumerate(signer_infos):
        attempt = CmsCheck(certificates=out.certificates)
        _check_signer(attempt, sd, si, signed_bytes, subfilter)
        if first is None:
            first = attempt
        if attempt.intact:
            if index:
                attempt.reasons.append(
                    f"the CMS holds {len(signer_infos)} signer infos; number {index + 1} "
                    "verifies and is taken as the signer"
                )
            first = attempt
            break
    assert first is not None
    out.__dict__.update(first.__dict__)
    for der, cert in certificates:  # read through without error: kept for the next file
        if _parses_whole(cert):  # never kept half-parsed; junk no check read is not kept
            _certs.put(der, cert)


def _parses_whole(cert: Any) -> bool:
    """Whether every field of ``cert`` parses (asn1crypto parses lazily; parsed now)."""
    try:
        cert.native  # noqa: B018
    except (ValueError, TypeError, KeyError):
        return False
    return True


def _check_signer(
    out: CmsCheck, sd: Any, si: Any, signed_bytes: bytes, subfilter: str | None
) -> None:
    """One SignerInfo of SignedData ``sd`` over ``signed_bytes``."""
    md = si["digest_algorithm"]["algorithm"].native
    out.md_algorithm = md
    if md not in _HASHES:
        raise _Unsupported(f"digest algorithm {md}")
    if md == "sha1":
        out.weak = "SHA-1 digest"
    cert = _find_signer(out.certificates, si["sid"])
    out.signer_cert = cert
    eci = sd["encap_content_info"]
    ctype = eci["content_type"].native
    content_for_digest = _signed_content(out, eci, signed_bytes, subfilter)
    digest = _hash(md, content_for_digest)
    attrs = si["signed_attrs"]
    signature = si["signature"].native
    out.signature_value = signature
    try:
        for attr in si["unsigned_attrs"] or []:
            if attr["type"].dotted == "1.2.840.113549.1.9.16.2.14":
                out.signature_timestamp = attr["values"][0].dump()
                break
    except Exception:  # noqa: S110 - an unreadable token is as good as none
        pass
    sig_algo = si["signature_algorithm"]
    if cert is None:
        out.reasons.append("the signer's certificate is not in the signature")
        out.intact = False
        out.signature_ok = None
        return
    if not attrs.contents:
        if ctype == "data" and out.digest_ok is None:
            out.digest_ok = True  # checked through the signature value itself
        signed = content_for_digest
        out.signature_ok = _verify_sig(cert, sig_algo, md, signature, signed)
    else:
        md_attr = [a for a in attrs if a["type"].native == "message_digest"]
        if len(md_attr) != 1:
            raise ValueError("the signed attributes must hold exactly one message digest")
        attr_digest = md_attr[0]["values"][0].native
        for a in attrs:
            if a["type"].native == "signing_time":
                with contextlib.suppress(Exception):  # an unreadable claim is no claim
                    out.signing_time = a["values"][0].native
                break
        digest_ok = attr_digest == digest
        if not digest_ok:
            out.reasons.append("the message digest does not match the signed bytes")
        out.digest_ok = digest_ok if out.digest_ok is None else (out.digest_ok and digest_ok)
        original, der = _der_set_of(attrs)
        ok = _verify_sig(cert, sig_algo, md, signature, der)
        if original != der:
            out.non_der_attrs = True
            if not ok and _verify_sig(cert, sig_algo, md, signature, original):
                out.reasons.append(
                    "the signed attributes are not DER-encoded; over their DER encoding "
                    "the signature does not verify"
                )
        out.signature_ok = ok
    if not out.signature_ok and not any("signature" in r for r in out.reasons):
        out.reasons.append("the signature value does not verify with the signer's key")
    out.intact = bool(out.digest_ok) and bool(out.signature_ok)
