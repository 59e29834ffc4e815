"""The hand-written DER of signing/der.py is what asn1crypto encodes for the same values:
lengths of every size class, SET OF order, and the two whole CMS structures the vault makes
(the seal's SignedData and the embedded TSA's token), re-encoded field by field."""

from __future__ import annotations

import asyncio
import hashlib

import pytest
from asn1crypto import cms, core, tsp

from signing._pyhanko import KeyedSigner
from signing.der import der_attribute, der_oid, der_set_of, der_tlv
from tests.helpers.pki import demo_pki, embedded_tsa


@pytest.mark.parametrize("size", [0, 1, 127, 128, 255, 256, 65_535, 65_536, 16_777_216])
def test_lengths_of_every_size_class(size: int) -> None:
    body = b"\x5a" * size
    assert der_tlv(0x04, body) == core.OctetString(body).dump()


class _OctetStrings(core.SetOf):  # type: ignore[misc]
    _child_spec = core.OctetString


def test_set_of_is_in_der_order() -> None:
    """X.690 11.6: ascending encodings, a shorter one padded with zeros at the end."""
    values = (b"\xff", b"\x01\x02", b"", b"\x01", b"zz", b"\x01" * 200)
    elements = [core.OctetString(v).dump() for v in values]
    expected = _OctetStrings([core.OctetString(v) for v in values]).dump()
    assert der_set_of(elements) == expected
    assert der_set_of(list(reversed(elements))) == expected


def test_attribute() -> None:
    value = core.OctetString(b"digest").dump()
    built = der_attribute(der_oid("1.2.840.113549.1.9.4"), value)
    reference = cms.CMSAttribute(
        {"type": "message_digest", "values": [core.OctetString(b"digest")]}
    ).dump()
    assert built == reference


def _rebuilt(der: bytes) -> bytes:
    """The SignedData in ``der`` built again by asn1crypto from its parsed parts: every
    tag, length, version, SET OF order and field order comes from asn1crypto, while the
    certificates, names and values inside keep their bytes."""
    info = cms.ContentInfo.load(der)
    signed = info["content"]
    signers = []
    for si in signed["signer_infos"]:
        fields = {
            "version": si["version"].native,
            "sid": si["sid"],
            "digest_algorithm": si["digest_algorithm"],
            "signed_attrs": cms.CMSAttributes(list(si["signed_attrs"])),
            "signature_algorithm": si["signature_algorithm"],
            "signature": si["signature"].native,
        }
        if si["unsigned_attrs"].native is not None:
            fields["unsigned_attrs"] = cms.CMSAttributes(list(si["unsigned_attrs"]))
        signers.append(cms.SignerInfo(fields))
    rebuilt = cms.ContentInfo(
        {
            "content_type": "signed_data",
            "content": cms.SignedData(
                {
                    "version": signed["version"].native,
                    "digest_algorithms": list(signed["digest_algorithms"]),
                    "encap_content_info": signed["encap_content_info"],
                    "certificates": list(signed["certificates"]),
                    "signer_infos": signers,
                }
            ),
        }
    )
    return bytes(rebuilt.dump())


def test_the_seals_signed_data_is_asn1cryptos_encoding() -> None:
    pki = demo_pki()
    signer = KeyedSigner(
        private_key=pki.vault_seal.private_key,
        certificate=pki.vault_seal.certificate,
        chain=pki.chain,
    )
    digest = hashlib.sha256(b"signed bytes of a PDF").digest()
    info = asyncio.run(
        signer.async_sign(
            digest, "sha256", use_pades=True, timestamper=embedded_tsa(), is_pdf_sig=True
        )
    )
    der = bytes(info.dump())
    assert _rebuilt(der) == der
    signer_info = info["content"]["signer_infos"][0]
    names = [a["type"].native for a in signer_info["signed_attrs"]]
    assert sorted(names) == ["content_type", "message_digest", "signing_certificate_v2"]
    assert [a["type"].native for a in signer_info["unsigned_attrs"]] == [
        "signature_time_stamp_token"
    ]


def test_the_embedded_tsas_token_is_asn1cryptos_encoding() -> None:
    tsa = embedded_tsa()
    request = tsp.TimeStampReq(
        {
            "version": 1,
            "message_imprint": {
                "hash_algorithm": {"algorithm": "sha256"},
                "hashed_message": hashlib.sha256(b"x").digest(),
            },
            "nonce": 12345,
            "cert_req": True,
        }
    )
    der = bytes(tsa.token(request).dump())
    assert _rebuilt(der) == der
