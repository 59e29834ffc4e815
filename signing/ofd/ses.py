"""The signed values of OFD signatures, read with ASN.1 definitions of our own.

* GB/T 38540-2020 ``SES_Signature`` version 4: the signer signs the DER of ``TBS_Sign``
  (which holds the seal and ``dataHash`` = SM3 of Signature.xml); the signer's certificate
  is ``SES_Signature.cert``; the seal maker signs the DER of ``SES_SealInfo``.
* GM/T 0031-2014 ``SES_Signature`` version 1: the certificate is in ``TBS_Sign``; the seal
  maker signs ``SEQUENCE {esealInfo, cert, signatureAlgorithm}``.
* GB/T 35275 PKCS#7 ``SignedData`` ("Sign" signatures, OID 1.2.840.113549.1.7.2 or the GM
  1.2.156.10197.6.1.4.2.2).
* A bare SM2 value (no certificate): recognised, never verifiable from the file alone.

The signed bytes are always the bytes as found in the file, never a re-encoding. Anything
that does not parse raises :class:`SesFormatError`.
"""

# ruff: noqa: RUF012 - asn1crypto specs are mutable class attributes (_fields) by design
from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field
from typing import Any

from asn1crypto import core

from signing.der import der_tlv
from signing.errors import SigningError

__all__ = [
    "CmsSignature",
    "SealData",
    "SesFormatError",
    "SesSignature",
    "SignedValue",
    "ValueFormat",
    "parse_seal",
    "parse_signed_value",
]


class SesFormatError(SigningError):
    """A signed value or seal that is not one of the structures this module reads."""


class ValueFormat(enum.StrEnum):
    SES_V4 = "SES_Signature V4 (GB/T 38540)"
    SES_V1 = "SES_Signature V1 (GM/T 0031)"
    PKCS7 = "SignedData (GB/T 35275)"
    BARE_SM2 = "bare SM2 value"


# -- ASN.1 ------------------------------------------------------------------------------


class _Bits(core.OctetBitString):
    pass


class SesHeader(core.Sequence):
    _fields = [("id", core.IA5String), ("version", core.Integer), ("vid", core.IA5String)]


class ExtData(core.Sequence):
    _fields = [
        ("extn_id", core.ObjectIdentifier),
        ("critical", core.Boolean, {"default": False}),
        ("extn_value", core.OctetString),
    ]


class ExtensionDatas(core.SequenceOf):
    _child_spec = ExtData


class PictureInfo(core.Sequence):
    _fields = [
        ("type", core.IA5String),
        ("data", core.OctetString),
        ("width", core.Integer),
        ("height", core.Integer),
    ]


class CertDigestObj(core.Sequence):
    _fields = [("type", core.PrintableString), ("value", core.OctetString)]


class CertInfoList(core.SequenceOf):
    _child_spec = core.OctetString


class CertDigestList(core.SequenceOf):
    _child_spec = CertDigestObj


class PropertyInfoV4(core.Sequence):
    _fields = [
        ("type", core.Integer),
        ("name", core.UTF8String),
        ("cert_list_type", core.Integer),
        ("cert_list", core.Any),
        ("create_date", core.GeneralizedTime),
        ("valid_start", core.GeneralizedTime),
        ("valid_end", core.GeneralizedTime),
    ]


class SealInfoV4(core.Sequence):
    _fields = [
        ("header", SesHeader),
        ("es_id", core.IA5String),
        ("property", PropertyInfoV4),
        ("picture", PictureInfo),
        ("ext_datas", ExtensionDatas, {"optional": True}),
    ]


class SESealV4(core.Sequence):
    _fields = [
        ("eseal_info", SealInfoV4),
        ("cert", core.OctetString),
        ("sign_alg_id", core.ObjectIdentifier),
        ("signed_value", _Bits),
    ]


class TbsSignV4(core.Sequence):
    _fields = [
        ("version", core.Integer),
        ("eseal", SESealV4),
        ("time_info", core.GeneralizedTime),
        ("data_hash", _Bits),
        ("property_info", core.IA5String),
        ("ext_datas", ExtensionDatas, {"explicit": 0, "optional": True}),
    ]


class SesSignatureV4(core.Sequence):
    _fields = [
        ("to_sign", TbsSignV4),
        ("cert", core.OctetString),
        ("signature_alg_id", core.ObjectIdentifier),
        ("signature", _Bits),
        ("time_stamp", _Bits, {"explicit": 0, "optional": True}),
    ]


class _AnyList(core.SequenceOf):
    _child_spec = core.Any


class PropertyInfoV1(core.Sequence):
    _fields = [
        ("type", core.Integer),
        ("name", core.UTF8String),
        ("cert_list", _AnyList),
        ("create_date", core.Any),
        ("valid_start", core.Any),
        ("valid_end", core.Any),
    ]


class SealInfoV1(core.Sequence):
    _fields = [
        ("header", SesHeader),
        ("es_id", core.IA5String),
        ("property", PropertyInfoV1),
        ("picture", PictureInfo),
        ("ext_datas", ExtensionDatas, {"optional": True}),
    ]


class SignInfoV1(core.Sequence):
    _fields = [
        ("cert", core.OctetString),
        ("signature_algorithm", core.ObjectIdentifier),
        ("sign_data", _Bits),
    ]


class SESealV1(core.Sequence):
    _fields = [("eseal_info", SealInfoV1), ("sign_info", SignInfoV1)]


class TbsSignV1(core.Sequence):
    _fields = [
        ("version", core.Integer),
        ("eseal", SESealV1),
        ("time_info", core.Any),
        ("data_hash", core.Any),
        ("property_info", core.IA5String),
        ("cert", core.OctetString),
        ("signature_algorithm", core.ObjectIdentifier),
    ]


class SesSignatureV1(core.Sequence):
    _fields = [("to_sign", TbsSignV1), ("signature", _Bits)]


# -- what the verifier works with -----------------------------------------------------


@dataclass(frozen=True)
class SealData:
    """An electronic seal (电子印章), whichever version."""

    version: int
    der: bytes
    es_id: str
    name: str
    seal_type: int
    maker_cert: bytes
    maker_algorithm: str
    maker_signature: bytes
    maker_signed: bytes
    """The bytes the seal maker signed."""
    valid_start: dt.datetime | None
    valid_end: dt.datetime | None
    cert_list: list[bytes] = field(default_factory=list)
    """Signer certificates (DER) the seal lists (certListType 1, and V1)."""
    cert_digests: list[tuple[str, bytes]] = field(default_factory=list)
    """(algorithm name, digest) of signer certificates (certListType 2)."""
    picture_type: str = ""
    picture: bytes = b""


@dataclass(frozen=True)
class SesSignature:
    """A V4 or V1 ``SES_Signature``."""

    format: ValueFormat
    signer_cert: bytes
    algorithm: str
    signature: bytes
    signed: bytes
    """The DER of ``TBS_Sign`` as found: what the signer's SM2 signature is over."""
    data_hash: bytes
    signing_time: dt.datetime | None
    property_info: str
    seal: SealData
    timestamp: bytes | None = None


@dataclass(frozen=True)
class CmsSignature:
    """A GB/T 35275 ``SignedData`` over Signature.xml (detached or with the digest inside)."""

    signer_cert: bytes | None
    certificates: list[bytes]
    algorithm: str
    signature: bytes
    signed: bytes
    """What the SM2 signature is over: the signed attributes as a SET, or the content."""
    message_digest: bytes | None
    """The messageDigest attribute or the encapsulated content (SM3 of Signature.xml)."""
    signing_time: dt.datetime | None


@dataclass(frozen=True)
class SignedValue:
    format: ValueFormat
    ses: SesSignature | None = None
    cms: CmsSignature | None = None


_SIGNED_DATA_OIDS = ("1.2.840.113549.1.7.2", "1.2.156.10197.6.1.4.2.2")
MAX_BYTES = 4 * 1024 * 1024
"""Bytes a signed value or seal file may have (the corpus's largest is 31 KB; a seal's
picture is a few KB to a few hundred: red team 6, a08's 40 MB value took 1.2 s to parse)."""
MAX_LISTED = 64
"""Certificates a SignedData, and certificates or digests a seal's certList, may hold
(red team 6, a05/a08: 20,000 look-alike issuer certificates cost 21 s of SM2 checks, a
million certificate digests 39 s and 1.9 GiB; a real seal lists a few)."""


def _not_huge(der: bytes, what: str) -> None:
    if len(der) > MAX_BYTES:
        raise SesFormatError(f"the {what} is larger than {MAX_BYTES // (1024 * 1024)} MiB")


def _bounded(value: Any, what: str) -> Any:
    """``value`` (a parsed SEQUENCE OF / SET OF) when it holds at most :data:`MAX_LISTED`
    items, counted on its DER without parsing them; else raise :class:`SesFormatError`."""
    contents = value.contents or b""
    count, pos, end = 0, 0, len(contents)
    while pos < end:
        count += 1
        if count > MAX_LISTED:
            raise SesFormatError(f"{what} holds more than {MAX_LISTED} items")
        pos += 1
        if contents[pos - 1] & 0x1F == 0x1F:  # a high tag number: its bytes, then the last
            while pos < end and contents[pos] & 0x80:
                pos += 1
            pos += 1
        if pos >= end:
            raise SesFormatError(f"{what} is cut short")
        length = contents[pos]
        pos += 1
        if length & 0x80:
            size = length & 0x7F
            if not 0 < size <= 4:
                raise SesFormatError(f"{what} has an item of indefinite or huge length")
            length = int.from_bytes(contents[pos : pos + size], "big")
            pos += size
        pos += length
    if pos != end:
        raise SesFormatError(f"{what} is cut short")
    return value


def parse_signed_value(der: bytes) -> SignedValue:
    """Recognise and parse a SignedValue.dat; raise :class:`SesFormatError` when it is none
    of the known structures."""
    _not_huge(der, "signed value")
    try:
        outer = core.Sequence.load(der, strict=True)
        first = outer[0]
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise SesFormatError(f"the signed value is not DER: {exc}") from None
    if isinstance(first, core.ObjectIdentifier) or first.tag == 6:
        return SignedValue(ValueFormat.PKCS7, cms=_parse_cms(der))
    if first.tag == 2 and len(outer) == 2:  # SEQUENCE { INTEGER r, INTEGER s }
        return SignedValue(ValueFormat.BARE_SM2)
    try:
        version = int(core.Integer.load(core.Sequence.load(first.dump())[0].dump()).native)
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise SesFormatError(f"the signed value is not an SES_Signature: {exc}") from None
    if version == 4:
        return SignedValue(ValueFormat.SES_V4, ses=_guard(_parse_v4, der))
    if version in (1, 2, 3):
        return SignedValue(ValueFormat.SES_V1, ses=_guard(_parse_v1, der))
    raise SesFormatError(f"SES_Signature version {version} is not supported")


def parse_seal(der: bytes) -> SealData:
    """A stand-alone seal file (Seal.esl): V4 ``SESeal`` or V1 ``SESeal``."""
    _not_huge(der, "seal")
    try:
        first = core.Sequence.load(core.Sequence.load(der, strict=True)[0].dump())
        header = SesHeader.load(first[0].dump())
        version = int(header["version"].native)
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise SesFormatError(f"the seal is not an SESeal: {exc}") from None
    if version == 4:
        return _guard(lambda d: _seal_v4(SESealV4.load(d, strict=True)), der)
    return _guard(lambda d: _seal_v1(SESealV1.load(d, strict=True)), der)


def _guard(fn: Any, der: bytes) -> Any:
    try:
        return fn(der)
    except SesFormatError:
        raise
    except (ValueError, TypeError, KeyError, IndexError, OverflowError) as exc:
        raise SesFormatError(f"malformed seal structure: {type(exc).__name__}: {exc}") from None


def _parse_v4(der: bytes) -> SesSignature:
    sig = SesSignatureV4.load(der, strict=True)
    tbs = sig["to_sign"]
    ts = sig["time_stamp"]
    return SesSignature(
        format=ValueFormat.SES_V4,
        signer_cert=bytes(sig["cert"].native),
        algorithm=sig["signature_alg_id"].dotted,
        signature=bytes(sig["signature"].native),
        signed=bytes(tbs.dump()),
        data_hash=bytes(tbs["data_hash"].native),
        signing_time=_zoned(tbs["time_info"].native, "the signing time"),
        property_info=str(tbs["property_info"].native),
        seal=_seal_v4(tbs["eseal"]),
        timestamp=bytes(ts.native) if ts.native is not None else None,
    )


def _seal_v4(seal: SESealV4) -> SealData:
    info = seal["eseal_info"]
    prop = info["property"]
    certs: list[bytes] = []
    digests: list[tuple[str, bytes]] = []
    raw_list = _bounded(prop["cert_list"], "the seal's certList").dump()
    if int(prop["cert_list_type"].native) == 2:
        digests = [
            (str(d["type"].native), bytes(d["value"].native)) for d in CertDigestList.load(raw_list)
        ]
    else:
        certs = [bytes(c.native) for c in CertInfoList.load(raw_list)]
    pic = info["picture"]
    return SealData(
        version=int(info["header"]["version"].native),
        der=bytes(seal.dump()),
        es_id=str(info["es_id"].native),
        name=str(prop["name"].native),
        seal_type=int(prop["type"].native),
        maker_cert=bytes(seal["cert"].native),
        maker_algorithm=seal["sign_alg_id"].dotted,
        maker_signature=bytes(seal["signed_value"].native),
        maker_signed=bytes(info.dump()),
        valid_start=_zoned(prop["valid_start"].native, "the seal's validStart"),
        valid_end=_zoned(prop["valid_end"].native, "the seal's validEnd"),
        cert_list=certs,
        cert_digests=digests,
        picture_type=str(pic["type"].native),
        picture=bytes(pic["data"].native),
    )


def _parse_v1(der: bytes) -> SesSignature:
    sig = SesSignatureV1.load(der, strict=True)
    tbs = sig["to_sign"]
    time_info = _loose_bytes(tbs["time_info"])
    return SesSignature(
        format=ValueFormat.SES_V1,
        signer_cert=bytes(tbs["cert"].native),
        algorithm=tbs["signature_algorithm"].dotted,
        signature=bytes(sig["signature"].native),
        signed=bytes(tbs.dump()),
        data_hash=_loose_bytes(tbs["data_hash"]),
        signing_time=_loose_time(time_info),
        property_info=str(tbs["property_info"].native),
        seal=_seal_v1(tbs["eseal"]),
    )


def _seal_v1(seal: SESealV1) -> SealData:
    info = seal["eseal_info"]
    prop = info["property"]
    sign_info = seal["sign_info"]
    signed = b"".join(
        (info.dump(), sign_info["cert"].dump(), sign_info["signature_algorithm"].dump())
    )
    pic = info["picture"]
    return SealData(
        version=int(info["header"]["version"].native),
        der=bytes(seal.dump()),
        es_id=str(info["es_id"].native),
        name=str(prop["name"].native),
        seal_type=int(prop["type"].native),
        maker_cert=bytes(sign_info["cert"].native),
        maker_algorithm=sign_info["signature_algorithm"].dotted,
        maker_signature=bytes(sign_info["sign_data"].native),
        maker_signed=der_tlv(0x30, signed),
        valid_start=_any_time(prop["valid_start"]),
        valid_end=_any_time(prop["valid_end"]),
        cert_list=[  # some V1 producers put other things here: only certificates count
            bytes(core.OctetString.load(c.dump()).native)
            for c in _bounded(prop["cert_list"], "the seal's certList")
            if c.dump()[:1] == b"\x04"
        ],
        picture_type=str(pic["type"].native),
        picture=bytes(pic["data"].native),
    )


def _loose_bytes(value: core.Any) -> bytes:
    """A BIT STRING or OCTET STRING field's bytes (V1 producers use either)."""
    raw = value.dump()
    if raw[:1] == b"\x03":
        return bytes(_Bits.load(raw).native)
    if raw[:1] == b"\x04":
        return bytes(core.OctetString.load(raw).native)
    raise SesFormatError("a V1 hash or time field is neither BIT STRING nor OCTET STRING")


def _any_time(value: core.Any) -> dt.datetime | None:
    raw = value.dump()
    if raw[:1] == b"\x17":
        return _zoned(core.UTCTime.load(raw).native, "a seal time")
    if raw[:1] == b"\x18":
        return _zoned(core.GeneralizedTime.load(raw).native, "a seal time")
    return _loose_time(_loose_bytes(value))


def _zoned(moment: Any, what: str) -> Any:
    """``moment`` if it is aware: a DER GeneralizedTime ends in Z (X.690 11.7); one without
    a zone is local time of an unknown place, so no comparison with it can be decided."""
    if isinstance(moment, dt.datetime) and moment.tzinfo is None:
        raise SesFormatError(f"{what} ({moment.isoformat()}) carries no time zone")
    return moment


def _loose_time(raw: bytes) -> dt.datetime | None:
    """A V1 timeInfo holding a time as text (``yyyyMMddHHmmss[Z]`` or UTCTime), if it does."""
    text = raw.decode("ascii", "replace").strip()
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    except ValueError:
        text = text.rstrip("Z")
    for fmt in ("%Y%m%d%H%M%S", "%y%m%d%H%M%S", "%Y-%m-%d %H:%M:%S"):
        try:
            return dt.datetime.strptime(
                text[: len(dt.datetime(2000, 1, 1).strftime(fmt))], fmt
            ).replace(tzinfo=dt.UTC)
        except ValueError:
            continue
    return None


def _parse_cms(der: bytes) -> CmsSignature:
    from asn1crypto import cms, parser

    try:
        _, _, _, _, body, _ = parser.parse(der, strict=True)
        first = parser.parse(body)
        oid = core.ObjectIdentifier.load(first[3] + first[4]).dotted
        if oid not in _SIGNED_DATA_OIDS:
            raise SesFormatError(f"a PKCS#7 content of type {oid} is not SignedData")
        cls, _, tag, _, content, _ = parser.parse(body[len(first[3] + first[4]) :], strict=True)
        if (cls, tag) != (2, 0):
            raise SesFormatError("the SignedData content is not [0] EXPLICIT")
        signed_data = cms.SignedData.load(content, strict=True)
        return _cms_fields(signed_data)
    except SesFormatError:
        raise
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise SesFormatError(f"malformed SignedData: {type(exc).__name__}: {exc}") from None


def _cms_fields(signed_data: Any) -> CmsSignature:
    infos = signed_data["signer_infos"]
    if len(infos) != 1:
        raise SesFormatError(f"SignedData has {len(infos)} signers (one is expected)")
    si = infos[0]
    pool = signed_data["certificates"]
    pool = [] if isinstance(pool, core.Void) else _bounded(pool, "the SignedData's certificates")
    certs = [c.chosen.dump() for c in pool if c.name == "certificate"]
    signer = _cms_signer(si, pool)
    attrs = si["signed_attrs"]
    digest = None
    signing_time = None
    if attrs.native is not None and len(attrs):
        signed = b"\x31" + attrs.dump()[1:]
        for attr in attrs:
            kind = attr["type"].dotted
            if kind == "1.2.840.113549.1.9.4":
                digest = bytes(attr["values"][0].native)
            elif kind == "1.2.840.113549.1.9.5":
                signing_time = _zoned(attr["values"][0].native, "the signing time")
    else:
        content = signed_data["encap_content_info"]["content"]
        signed = bytes(content.native) if content.native is not None else b""
        digest = signed
    return CmsSignature(
        signer_cert=signer,
        certificates=certs,
        algorithm=si["signature_algorithm"]["algorithm"].dotted,
        signature=bytes(si["signature"].native),
        signed=signed,
        message_digest=digest,
        signing_time=signing_time,
    )


def _cms_signer(si: Any, certificates: Any) -> bytes | None:
    sid = si["sid"]
    for choice in certificates:
        if choice.name != "certificate":
            continue
        cert = choice.chosen
        if sid.name == "issuer_and_serial_number":
            ias = sid.chosen
            if cert.serial_number == ias["serial_number"].native and cert.issuer == ias["issuer"]:
                return bytes(cert.dump())
        elif cert.key_identifier == sid.chosen.native:
            return bytes(cert.dump())
    return None
