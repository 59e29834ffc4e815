"""Building blocks for the OFD red-team tests: genuine licenses sealed by the test SM2 PKI
(as the demo sealer makes them, or as a producer that leaves OFD.xml out of its References,
like the KingGrid tax-bureau seal of the corpus file converter-999.ofd), forged documents,
and the verdicts of the real verifier and of intake's report rules."""

from __future__ import annotations

import datetime as dt
import functools
import io
import re
import struct
import zipfile
import zlib
from typing import Any

from schemas.report import Indication, VerificationReport
from signing.ofd.pki import Sm2DemoPKI, Sm2Identity, make_seal, seal_image
from signing.ofd.sealer import OfdSealer
from signing.ofd.verifier import OfdVerifier
from signing.ofd.writer import sample_ofd, write_package
from tests.helpers.ofd import ofd_parts, sm2_bundle, sm2_pki
from tests.helpers.pki import DEPARTMENTS, MARKET_DEPT

__all__ = [
    "FORGED_LINES",
    "GENUINE_LINES",
    "accepted_by_intake",
    "forged_document",
    "genuine",
    "intake_refusal",
    "market_sealer",
    "market_signer",
    "passes",
    "verify",
]

GENUINE_LINES = ["许可证编号：JY00000001", "经营者名称：张三", "有效期至：2021年01月01日"]
FORGED_LINES = ["许可证编号：JY99999999", "经营者名称：李四", "有效期至：2099年12月31日"]
MARKET_NAME = DEPARTMENTS[0][0]


class _NoOfdXmlSealer(OfdSealer):
    """A sealer whose References leave OFD.xml out, as KingGrid's tax-bureau seal does
    (corpus file converter-999.ofd: 20 References, none of them /OFD.xml)."""

    def _signature_xml(self, parts: dict[str, bytes], *args: Any, **kwargs: Any) -> bytes:
        kept = {p: d for p, d in parts.items() if p != "OFD.xml"}
        return super()._signature_xml(kept, *args, **kwargs)


def market_signer() -> Sm2Identity:
    return sm2_pki().signers[MARKET_NAME]


def market_sealer(*, cover_ofd_xml: bool = True) -> OfdSealer:
    """The market regulator's sealer (its SM2 signer and V4 seal); without
    ``cover_ofd_xml``, its References leave OFD.xml out (KingGrid's layout)."""
    pki = sm2_pki()
    cls = OfdSealer if cover_ofd_xml else _NoOfdXmlSealer
    return cls(pki.signers[MARKET_NAME], pki.seal_for(MARKET_NAME))


@functools.cache
def genuine(*, cover_ofd_xml: bool = True) -> bytes:
    """A license the market regulator really sealed (its SM2 signer and V4 seal)."""
    body = sample_ofd("食品经营许可证", GENUINE_LINES)
    return market_sealer(cover_ofd_xml=cover_ofd_xml).seal_ofd(
        body, at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    )


def forged_document(folder: str = "Doc_1") -> dict[str, bytes]:
    """The parts of an unsealed document showing other license data, under ``folder``."""
    parts = ofd_parts(sample_ofd("食品经营许可证", FORGED_LINES))
    return {
        p.replace("Doc_0/", f"{folder}/", 1): d for p, d in parts.items() if p.startswith("Doc_0/")
    }


@functools.cache
def _verifier() -> OfdVerifier:
    return OfdVerifier(sm2_bundle())


def verify(data: bytes) -> VerificationReport:
    return _verifier().verify(data)


def passes(data: bytes) -> bool:
    return verify(data).indication is Indication.TOTAL_PASSED


def intake_refusal(
    data: bytes, department_code: str = MARKET_DEPT, verifier: OfdVerifier | None = None
) -> str | None:
    """The reason code intake's report rules give the file pushed by ``department_code``,
    or None when intake accepts it (the file verified with the same trust as intake)."""
    import hashlib

    from vault.errors import IntakeRefused
    from vault.services.intake import _Context, check_report

    name = next(n for n, c in DEPARTMENTS if c == department_code)
    context = _Context(
        department_id=1,
        department_name=name,
        department_code=department_code,
        license_type_id=1,
        license_type_code="food",
        fingerprints=frozenset(),
    )
    report = (verifier or _verifier()).verify(data)
    try:
        check_report(report, sha256=hashlib.sha256(data).hexdigest(), context=context)
    except IntakeRefused as exc:
        return exc.reason
    return None


def accepted_by_intake(data: bytes, department_code: str = MARKET_DEPT) -> bool:
    return intake_refusal(data, department_code) is None


# -- ZIP helpers ---------------------------------------------------------------------------


def append_entries(data: bytes, extra: dict[str, bytes]) -> bytes:
    """``data`` with more entries written after the existing ones (same central directory)."""
    parts = ofd_parts(data)
    for name, value in extra.items():
        assert name not in parts, name
        parts[name] = value
    return write_package(parts)


def local_entries(parts: dict[str, bytes]) -> bytes:
    """Only the local file headers and data of ``parts`` (stored): no central directory."""
    out = io.BytesIO()
    for name, data in parts.items():
        raw = name.encode()
        crc = zlib.crc32(data) & 0xFFFFFFFF
        out.write(
            struct.pack(
                "<4s5H3L2H",
                b"PK\x03\x04",
                20,
                0x800,
                0,
                0,
                0,
                crc,
                len(data),
                len(data),
                len(raw),
                0,
            )
        )
        out.write(raw + data)
    return out.getvalue()


def with_docbody_first(ofd_xml: bytes, doc_root: str) -> bytes:
    """OFD.xml with a new first DocBody (no Signatures) for ``doc_root``."""
    match = re.search(rb"<ofd:DocBody>", ofd_xml)
    assert match is not None
    body = f"<ofd:DocBody><ofd:DocRoot>{doc_root}</ofd:DocRoot></ofd:DocBody>".encode()
    return ofd_xml[: match.start()] + body + ofd_xml[match.start() :]


def self_made_seal(
    maker: Sm2Identity, signer: Sm2Identity, name: str, *, naive_times: bool = False
) -> bytes:
    """A V4 seal ``maker`` makes for ``signer``, named and pictured ``name``."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(days=1)
    seal = make_seal(
        maker=maker,
        name=f"{name}电子印章",
        es_id="FORGED0000001",
        signer_certs=[signer.cert],
        image=seal_image(name),
        valid_from=now,
        valid_to=now + dt.timedelta(days=365),
    )
    if not naive_times:
        return seal
    return _naive_seal(maker, signer, name, now)


def _naive_seal(maker: Sm2Identity, signer: Sm2Identity, name: str, now: dt.datetime) -> bytes:
    """A seal whose GeneralizedTimes carry no zone (``YYYYMMDDHHMMSS``, as DER allows for
    local time): asn1crypto reads them as naive datetimes."""
    from asn1crypto import core

    from signing.ofd.ses import (
        CertInfoList,
        PictureInfo,
        PropertyInfoV4,
        SealInfoV4,
        SESealV4,
        SesHeader,
    )
    from signing.ofd.sm2 import SM2_SM3_OID

    def gt(moment: dt.datetime) -> core.GeneralizedTime:
        return core.GeneralizedTime.load(b"\x18\x0e" + moment.strftime("%Y%m%d%H%M%S").encode())

    info = SealInfoV4(
        {
            "header": SesHeader({"id": "ES", "version": 4, "vid": "evault"}),
            "es_id": "FORGED0000002",
            "property": PropertyInfoV4(
                {
                    "type": 1,
                    "name": name,
                    "cert_list_type": 1,
                    "cert_list": core.Any.load(CertInfoList([signer.cert]).dump()),
                    "create_date": gt(now),
                    "valid_start": gt(now),
                    "valid_end": gt(now + dt.timedelta(days=365)),
                }
            ),
            "picture": PictureInfo(
                {"type": "PNG", "data": seal_image(name), "width": 40, "height": 40}
            ),
        }
    )
    signed = bytes(info.dump())
    return bytes(
        SESealV4(
            {
                "eseal_info": SealInfoV4.load(signed),
                "cert": maker.cert,
                "sign_alg_id": SM2_SM3_OID,
                "signed_value": maker.key.sign(signed),
            }
        ).dump()
    )


@functools.cache
def attacker_pki() -> Sm2DemoPKI:
    """A PKI the attacker made: same department names, not in the trust bundle."""
    return Sm2DemoPKI.build(seed=b"attacker", departments=DEPARTMENTS)


def case_insensitive_extraction(data: bytes) -> dict[str, bytes]:
    """What a viewer that unpacks the ZIP onto a Windows (or default macOS) file system
    gets: names compared without case, trailing dots and spaces dropped, the later entry
    of two that collide overwriting the earlier one."""
    out: dict[str, bytes] = {}
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for info in zf.infolist():
            key = "/".join(part.rstrip(". ") for part in info.filename.split("/")).casefold()
            out[key] = zf.read(info)
    return out


def streamed_entries(data: bytes) -> dict[str, bytes]:
    """What a streaming ZIP reader (java.util.zip.ZipInputStream and the like) gets: the
    local file entries from the first byte on, the first of a name kept, stopping at the
    first record that is not a local file header."""
    out: dict[str, bytes] = {}
    at = 0
    while data[at : at + 4] == b"PK\x03\x04":
        fields = struct.unpack("<4s5H3L2H", data[at : at + 30])
        method, size, name_len, extra_len = fields[3], fields[7], fields[9], fields[10]
        name = data[at + 30 : at + 30 + name_len].decode()
        start = at + 30 + name_len + extra_len
        raw = data[start : start + size]
        value = raw if method == 0 else zlib.decompress(raw, -15)
        out.setdefault(name, value)
        at = start + size
    return out


def v1_seal(maker: Sm2Identity, name: str, cert_list: list[Any]) -> bytes:
    """A GM/T 0031 V1 ``SESeal`` ``maker`` makes, whose certList holds ``cert_list`` (the
    iOFD seal of corpus file converter-n.ofd lists one IA5String "1", no certificate)."""
    from asn1crypto import core

    from signing.der import der_tlv
    from signing.ofd.ses import PictureInfo, SesHeader
    from signing.ofd.sm2 import SM2_SM3_OID

    now = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(days=1)
    gt = core.GeneralizedTime
    prop = core.Sequence()
    prop.contents = b"".join(
        [
            core.Integer(1).dump(),
            core.UTF8String(f"{name}电子印章").dump(),
            core.Sequence(contents=b"".join(c.dump() for c in cert_list)).dump(),
            gt(now).dump(),
            gt(now).dump(),
            gt(now + dt.timedelta(days=365)).dump(),
        ]
    )
    picture = PictureInfo({"type": "PNG", "data": seal_image(name), "width": 40, "height": 40})
    info = der_tlv(
        0x30,
        SesHeader({"id": "ES", "version": 1, "vid": "evault"}).dump()
        + core.IA5String("V1SEAL0000001").dump()
        + prop.dump()
        + picture.dump(),
    )
    cert = core.OctetString(maker.cert).dump()
    alg = core.ObjectIdentifier(SM2_SM3_OID).dump()
    signed = der_tlv(0x30, info + cert + alg)
    sign_info = der_tlv(0x30, cert + alg + _bits(maker.key.sign(signed)))
    return der_tlv(0x30, info + sign_info)


def _bits(data: bytes) -> bytes:
    from signing.der import der_tlv

    return der_tlv(0x03, b"\x00" + data)


class UncheckedSealer(OfdSealer):
    """Seals with any seal bytes: no check that the seal is well formed (the attacker's
    own tool, which evault's sealer would refuse)."""

    def __init__(self, signer: Sm2Identity, seal: bytes) -> None:
        self.signer, self.seal, self.provider = signer, seal, "evault"


class V1Sealer(OfdSealer):
    """Seals with a V1 seal and a GM/T 0031 V1 ``SES_Signature`` (what iOFD writes)."""

    def __init__(self, signer: Sm2Identity, seal: bytes) -> None:
        self.signer, self.seal, self.provider = signer, seal, "iOFD"

    def _signed_value(self, signature_xml: bytes, sign_dir: str, at: dt.datetime) -> bytes:
        from asn1crypto import core

        from signing.der import der_tlv
        from signing.ofd.sm2 import SM2_SM3_OID, sm3

        tbs = der_tlv(
            0x30,
            core.Integer(1).dump()
            + self.seal
            + _bits(at.astimezone(dt.UTC).strftime("%Y%m%d%H%M%SZ").encode())
            + _bits(sm3(signature_xml))
            + core.IA5String(f"/{sign_dir}/Signature.xml").dump()
            + core.OctetString(self.signer.cert).dump()
            + core.ObjectIdentifier(SM2_SM3_OID).dump(),
        )
        return der_tlv(0x30, tbs + _bits(self.signer.key.sign(tbs)))
