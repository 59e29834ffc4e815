"""DER by hand for the two CMS structures the vault signs many times a second: the vault
seal's PAdES SignedData (:class:`signing._pyhanko.KeyedSigner`) and the embedded TSA's
timestamp token (:class:`signing.timestamps.EmbeddedTSA`).

asn1crypto re-serialises (and deep-copies) certificates and names put into new structures:
building these through it cost milliseconds per signature. Here the parts that do not change
are encoded once (by asn1crypto) and the rest is concatenated. tests/signing/test_der.py
checks every builder against asn1crypto's own encoding of the same values.
"""

from __future__ import annotations

from collections.abc import Sequence

from asn1crypto import core

__all__ = [
    "OID_SIGNED_DATA",
    "der_attribute",
    "der_length",
    "der_oid",
    "der_set_of",
    "der_tlv",
    "signed_data_content_info",
    "signer_info",
]


def der_length(length: int) -> bytes:
    """DER length octets."""
    if length < 0x80:
        return bytes([length])
    octets = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(octets)]) + octets


def der_tlv(tag: int, body: bytes) -> bytes:
    """DER of one tag (a single identifier octet) with its body."""
    return bytes([tag]) + der_length(len(body)) + body


def der_oid(dotted: str) -> bytes:
    return bytes(core.ObjectIdentifier(dotted).dump())


def der_set_of(elements: Sequence[bytes], *, tag: int = 0x31) -> bytes:
    """DER of a SET OF (``tag``: another tag for an IMPLICIT one): the encoded elements in
    ascending order (X.690 11.6)."""
    width = max((len(e) for e in elements), default=0)
    ordered = sorted((e.ljust(width, b"\x00"), e) for e in elements)
    return der_tlv(tag, b"".join(e for _, e in ordered))


def der_attribute(oid: bytes, value: bytes) -> bytes:
    """DER of a CMS Attribute with one value (``oid`` and ``value`` already DER)."""
    return der_tlv(0x30, oid + der_tlv(0x31, value))


OID_SIGNED_DATA = der_oid("1.2.840.113549.1.7.2")
_VERSION_1 = bytes(core.Integer(1).dump())


def signer_info(
    *,
    sid: bytes,
    digest_algorithm: bytes,
    signed_attrs: bytes,
    signature_algorithm: bytes,
    signature: bytes,
    unsigned_attrs: bytes = b"",
) -> bytes:
    """DER of a version 1 SignerInfo (RFC 5652 5.3): ``signed_attrs`` are the attributes'
    encodings already in DER order (the SET OF's body), ``unsigned_attrs`` likewise."""
    return der_tlv(
        0x30,
        _VERSION_1
        + sid
        + digest_algorithm
        + der_tlv(0xA0, signed_attrs)
        + signature_algorithm
        + der_tlv(0x04, signature)
        + (der_tlv(0xA1, unsigned_attrs) if unsigned_attrs else b""),
    )


def signed_data_content_info(
    *,
    version: int,
    digest_algorithm: bytes,
    encap_content_info: bytes,
    certificates: Sequence[bytes],
    signer: bytes,
) -> bytes:
    """DER of a ContentInfo holding SignedData (RFC 5652 5.1) with one digest algorithm,
    one signer and ``certificates`` (each certificate's DER; a SET OF, so in DER order)."""
    signed_data = der_tlv(
        0x30,
        bytes(core.Integer(version).dump())
        + der_tlv(0x31, digest_algorithm)
        + encap_content_info
        + der_set_of(certificates, tag=0xA0)
        + der_tlv(0x31, signer),
    )
    return der_tlv(0x30, OID_SIGNED_DATA + der_tlv(0xA0, signed_data))
