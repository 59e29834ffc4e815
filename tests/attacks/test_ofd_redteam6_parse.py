"""Red team 6: what the verifier read differently from ofdrw, the reference reader, and what
cost it unbounded work (signing/ofd/numbers.py, package.py, zipcheck.py, xmlread.py, ses.py).

* numbers (a02, a02c, a12, r02b): ``float()`` takes fullwidth digits, ``_`` and any white
  space between values; ofdrw does not (its fallback keeps the ASCII digits). A later
  stamp's box written so lies off the page to the verifier and over the text to ofdrw;
* locations (a04, a06): ``str.strip()`` drops U+3000 where Java's ``trim`` does not; an
  XML 1.1 part makes U+2028 a line end to the JDK parser and not to expat;
* GBK entry names (a14): ofdrw decodes unflagged names as UTF-8 and loses the part;
* work (a01, a05, a08): a 64 KB entry name of 32,000 folders, 20,000 certificates in a
  SignedData, a million certificate digests in a seal.

Each forgery is built from the test PKI's genuine license as the red team built it.
"""

from __future__ import annotations

import datetime as dt
import io
import random
import struct
import time
import zipfile
import zlib
from collections.abc import Mapping
from typing import Any

import pytest
from asn1crypto import algos, cms, core, x509

from schemas.report import Indication, SubIndication
from signing.ofd.numbers import decimals
from signing.ofd.pki import Sm2DemoPKI, seal_image
from signing.ofd.sealer import OfdSealer
from signing.ofd.ses import SESealV4, SesSignatureV4
from signing.ofd.sm2 import SM2_SM3_OID, SM3_OID, sm3
from signing.ofd.writer import NS, sample_ofd, write_package
from tests.attacks.ofd_copy_forge import other_department, seal
from tests.attacks.ofd_forge import GENUINE_LINES, genuine, intake_refusal, passes, verify
from tests.attacks.test_ofd_stamp_over import _flagged, _Sealer, _stamps
from tests.helpers.ofd import ofd_parts, ofd_sealer, sm2_pki
from tests.helpers.pki import MARKET_DEPT


def _reasons(data: bytes) -> str:
    report = verify(data)
    return " ".join([*report.reasons, *(r for s in report.signatures for r in s.reasons)])


# -- 1. numbers read as ofdrw reads them ----------------------------------------------


@pytest.mark.parametrize(
    "boundary",
    [
        # float: (200, 560, 40, 40) off the page; ofdrw keeps the ASCII digits: (20, 50, ...)
        pytest.param("2\uff100 5\uff160 40 40", id="a02-fullwidth-digits"),
        # split(): (1, 0, 15, 40) in the margin; ofdrw splits on single spaces: (100, 0, ...)
        pytest.param("1&#9;00  15 40", id="a02c-tab-and-double-space"),
        # float: 1e10; ofdrw's fallback: 110 (over the text at x 20..190)
        pytest.param("1e1_0 60 40 40", id="r02b-underscore-exponent"),
        pytest.param("\u0662\u0660\u0660 56 40 40", id="arabic-indic-digits"),
        pytest.param("200\u3000 56 40 40", id="ideographic-space"),
    ],
)
def test_later_stamp_box_not_in_ascii_grammar_is_flagged(boundary: str) -> None:
    _flagged(seal(ofd_parts(genuine()), _Sealer(other_department(), _stamps(boundary))))


@pytest.mark.parametrize("boundary", ["+1.5E2 120. 4e1 .4e2", " 150 120 40 40 "])
def test_later_stamp_box_in_the_grammar_on_blank_space_passes(boundary: str) -> None:
    stamp = _stamps(boundary)  # 150 120 40 40: blank space
    assert passes(seal(ofd_parts(genuine()), _Sealer(other_department(), stamp)))


@pytest.mark.parametrize(
    "page", [pytest.param("\uff11", id="fullwidth-1"), pytest.param("1\u3000", id="u3000")]
)
def test_later_stamp_page_ref_not_ascii_fails(page: str) -> None:
    """ofdrw's ``Long.parseLong`` reads ``１`` as 1, other readers do not: refused, even
    on blank space (before: flagged over text, passed on blank space)."""
    for box in ("20 56 40 40", "150 120 40 40"):
        data = seal(ofd_parts(genuine()), _Sealer(other_department(), _stamps(box, page=page)))
        assert verify(data).indication is not Indication.TOTAL_PASSED
        assert "readers differ on the ID" in _reasons(data)
        assert intake_refusal(data) is not None


@pytest.mark.parametrize(
    ("text", "count", "expected"),
    [
        ("1 2 3 4", 4, [1.0, 2.0, 3.0, 4.0]),
        (" -1.5 +2. .5 1E-1\n", 4, [-1.5, 2.0, 0.5, 0.1]),
        ("1  2 3 4", 4, None),
        ("1\t2 3 4", 4, None),
        ("1 2 3", 4, None),
        ("1 2 3 inf", 4, None),
        ("1 2 3 NaN", 4, None),
        ("1 2 3 0x10", 4, None),
        ("1 2 3 1_0", 4, None),
        ("1 2 3 1d", 4, None),
        ("1 2 3 1e999", 4, None),
        ("\uff11 2 3 4", 4, None),
        ("1\u00a02 3 4", 4, None),
        ("\u30001 2 3 4", 4, None),
    ],
)
def test_numbers_follow_the_ascii_grammar(
    text: str, count: int, expected: list[float] | None
) -> None:
    assert decimals(text, count) == expected


# -- 2. locations read as ofdrw reads them --------------------------------------------


@pytest.mark.parametrize(
    ("before", "after"),
    [
        pytest.param("\u3000", "", id="a04-leading-ideographic-space"),
        pytest.param("", "\u3000", id="trailing-ideographic-space"),
        pytest.param("", "\u00a0", id="trailing-no-break-space"),
        pytest.param("", "\u2028", id="trailing-line-separator"),
        pytest.param("", "\u0085", id="trailing-next-line"),
        pytest.param("\ufeff", "", id="leading-bom"),
    ],
)
def test_signature_entry_location_with_unicode_space_fails(before: str, after: str) -> None:
    """a04: the issuer's own license, only its unsigned Signatures.xml edited: ofdrw opens
    another file (no seal drawn), the verifier must not pass it."""
    parts = ofd_parts(genuine())
    loc = "/Doc_0/Signs/Sign_0/Signature.xml"
    sigs = parts["Doc_0/Signs/Signatures.xml"]
    assert sigs.count(f'BaseLoc="{loc}"'.encode()) == 1
    parts["Doc_0/Signs/Signatures.xml"] = sigs.replace(
        f'BaseLoc="{loc}"'.encode(), f'BaseLoc="{before}{loc}{after}"'.encode()
    )
    data = write_package(parts)
    assert verify(data).indication is not Indication.TOTAL_PASSED
    assert intake_refusal(data) is not None
    assert "readers differ on the location" in _reasons(data)


def test_location_with_a_line_separator_inside_fails() -> None:
    """The Signature.xml under a name with U+2028 inside (a line end to an XML 1.1 reader)."""
    parts = ofd_parts(genuine())
    odd = "Doc_0/Signs/Sign_0/Signa\u2028ture.xml"
    parts[odd] = parts.pop("Doc_0/Signs/Sign_0/Signature.xml")
    parts["Doc_0/Signs/Signatures.xml"] = parts["Doc_0/Signs/Signatures.xml"].replace(
        b"Sign_0/Signature.xml", "Sign_0/Signa\u2028ture.xml".encode()
    )
    data = write_package(parts)
    assert verify(data).indication is not Indication.TOTAL_PASSED
    assert intake_refusal(data) is not None


class _Xml11Sealer(OfdSealer):
    """a06: a real later seal whose Signature.xml declares XML 1.1 and names its signed
    value ``Signed<U+2028>Value.dat`` (``Signed Value.dat`` to the JDK parser, getTextTrim),
    a copy of the issuer's signed value that its References cover."""

    def __init__(self, base: OfdSealer, issuer_value: bytes) -> None:
        super().__init__(base.signer, base.seal)
        self.issuer_value = issuer_value

    def _signature_xml(self, parts: Mapping[str, bytes], *args: Any, **kwargs: Any) -> bytes:
        import base64

        xml = super()._signature_xml(parts, *args, **kwargs)
        check = base64.b64encode(sm3(self.issuer_value)).decode()
        ref = (
            '<ofd:Reference FileRef="/Doc_0/Signs/Sign_1/Signed Value.dat">'
            f"<ofd:CheckValue>{check}</ofd:CheckValue></ofd:Reference>"
        )
        xml = xml.replace(b'<?xml version="1.0"', b'<?xml version="1.1"', 1)
        xml = xml.replace(b"</ofd:References>", ref.encode() + b"</ofd:References>")
        return xml.replace(b"/SignedValue.dat</", "/Signed\u2028Value.dat</".encode())


def test_xml11_later_seal_with_line_separator_location_fails() -> None:
    original = ofd_parts(genuine())
    issuer_value = original["Doc_0/Signs/Sign_0/SignedValue.dat"]
    sealed = ofd_parts(seal(original, _Xml11Sealer(other_department(), issuer_value)))
    sealed["Doc_0/Signs/Sign_1/Signed\u2028Value.dat"] = sealed.pop(
        "Doc_0/Signs/Sign_1/SignedValue.dat"
    )
    sealed["Doc_0/Signs/Sign_1/Signed Value.dat"] = issuer_value
    data = write_package(sealed)
    report = verify(data)
    assert report.indication is not Indication.TOTAL_PASSED
    assert report.signatures[0].indication is not Indication.TOTAL_PASSED
    assert "not XML 1.0" in _reasons(data)


def test_xml11_declaration_alone_is_refused() -> None:
    parts = ofd_parts(genuine())
    parts["Doc_0/Signs/Signatures.xml"] = parts["Doc_0/Signs/Signatures.xml"].replace(
        b'<?xml version="1.0"', b'<?xml version="1.1"', 1
    )
    data = write_package(parts)
    assert verify(data).indication is not Indication.TOTAL_PASSED
    assert "not XML 1.0" in _reasons(data)


# -- 3. GBK entry names ---------------------------------------------------------------


def _license_with_chinese_photo() -> bytes:
    """The market regulator's license whose photo is the part Doc_0/Res/照片.png."""
    parts = ofd_parts(sample_ofd("食品经营许可证", GENUINE_LINES, image=seal_image("照片")))
    parts["Doc_0/Res/照片.png"] = parts.pop("Doc_0/Res/image_3.png")
    parts["Doc_0/DocumentRes.xml"] = parts["Doc_0/DocumentRes.xml"].replace(
        b"image_3.png", "照片.png".encode()
    )
    at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    return ofd_sealer(MARKET_DEPT).seal_ofd(write_package(parts), boundary=(20, 250, 30, 30), at=at)


def _gbk_names(data: bytes) -> bytes:
    """The same parts deflated again, every non-ASCII name written in GBK without the
    UTF-8 flag (as Chinese tools write them), as the red team's a14 does."""
    out, central = bytearray(), bytearray()
    parts = ofd_parts(data)
    for name, body in parts.items():
        raw = name.encode("gbk")
        flags = 0 if not name.isascii() else 0x800
        comp = zlib.compressobj(6, zlib.DEFLATED, -15)
        packed = comp.compress(body) + comp.flush()
        crc, offset = zlib.crc32(body), len(out)
        # version needed, flags, deflated, time, date, CRC, sizes, name length
        fields = (20, flags, 8, 0, 0x21, crc, len(packed), len(body), len(raw))
        out += struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", *fields, 0) + raw + packed
        central += struct.pack(
            "<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, *fields, 0, 0, 0, 0, 0, offset
        )
        central += raw
    start = len(out)
    out += central + struct.pack(
        "<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(parts), len(parts), len(central), start, 0
    )
    return bytes(out)


def test_gbk_reencoded_part_name_fails() -> None:
    """a14: ofdrw decodes the unflagged GBK name as UTF-8 (U+FFFD) and draws the page
    without the photo; the verifier read it as GBK and passed."""
    original = _license_with_chinese_photo()
    assert passes(original)
    data = _gbk_names(original)
    report = verify(data)
    assert report.indication is Indication.TOTAL_FAILED
    assert report.sub_indication is SubIndication.FORMAT_FAILURE
    assert "is GBK" in _reasons(data)
    assert intake_refusal(data) is not None


# -- 4. bounded work ------------------------------------------------------------------


def _timed(data: bytes) -> tuple[float, str]:
    start = time.process_time()
    reasons = _reasons(data)
    return time.process_time() - start, reasons


def test_deep_entry_name_is_refused_quickly() -> None:
    """a01: a 64 KB name of 32,000 one-letter folders (1 GiB of folder keys before)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for path, body in ofd_parts(genuine()).items():
            zf.writestr(path, body)
        zf.writestr("X/" + "a/" * 32000 + "f", b"")
    seconds, reasons = _timed(out.getvalue())
    assert "longer than 1024 bytes or deeper than 32 folders" in reasons
    assert seconds < 2


def _signed_data(identity: Any, signature_xml: bytes, extra: list[x509.Certificate]) -> bytes:
    cert = x509.Certificate.load(identity.cert)
    attrs = cms.CMSAttributes(
        [
            {"type": "content_type", "values": ["data"]},
            {"type": "message_digest", "values": [sm3(signature_xml)]},
        ]
    )
    signer = {
        "version": "v1",
        "sid": cms.SignerIdentifier(
            name="issuer_and_serial_number",
            value={"issuer": cert.issuer, "serial_number": cert.serial_number},
        ),
        "digest_algorithm": algos.DigestAlgorithm({"algorithm": SM3_OID}),
        "signed_attrs": attrs,
        "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": SM2_SM3_OID}),
        "signature": identity.key.sign(attrs.dump()),
    }
    signed = cms.SignedData(
        {
            "version": "v1",
            "digest_algorithms": [algos.DigestAlgorithm({"algorithm": SM3_OID})],
            "encap_content_info": {"content_type": "data"},
            "certificates": [cert, *extra],
            "signer_infos": [signer],
        }
    )
    return bytes(cms.ContentInfo({"content_type": "signed_data", "content": signed}).dump())


def _appended_entry(
    parts: dict[str, bytes], folder: str, value: str, kind: str, index: int = 0
) -> bytes:
    """A Signature.xml under ``folder`` naming the signed value ``value``, appended to the
    unsigned Signatures.xml."""
    xml = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<ofd:Signature xmlns:ofd="{NS}">'
        '<ofd:SignedInfo><ofd:Provider ProviderName="x"/>'
        f"<ofd:SignatureMethod>{SM2_SM3_OID}</ofd:SignatureMethod>"
        "<ofd:SignatureDateTime>20261201020000Z</ofd:SignatureDateTime>"
        f'<ofd:References CheckMethod="{SM3_OID}"></ofd:References></ofd:SignedInfo>'
        f"<ofd:SignedValue>/{value}</ofd:SignedValue></ofd:Signature>"
    ).encode()
    parts[f"{folder}/Signature.xml"] = xml
    entry = f'<ofd:Signature ID="x{index}" Type="{kind}" BaseLoc="/{folder}/Signature.xml"/>'
    parts["Doc_0/Signs/Signatures.xml"] = parts["Doc_0/Signs/Signatures.xml"].replace(
        b"</ofd:Signatures>", entry.encode() + b"</ofd:Signatures>"
    )
    return xml


def test_signed_data_with_thousands_of_certificates_is_refused_quickly() -> None:
    """a05: a self-made 'Sign' entry whose SignedData brings 3,000 certificates named as
    the signer's issuer (each an SM2 check before)."""
    own = Sm2DemoPKI.build(seed=b"a05", departments=[("attacker", "91350100000000000X")])
    signer = next(iter(own.signers.values()))
    base = x509.Certificate.load(sm2_pki().maker.cert)
    issuer = x509.Certificate.load(own.ca.cert).subject
    junk = []
    for i in range(3000):
        tbs = x509.TbsCertificate.load(base["tbs_certificate"].dump())
        tbs["serial_number"] = 0x7000_0000 + i
        tbs["subject"] = issuer
        junk.append(
            x509.Certificate(
                {
                    "tbs_certificate": tbs,
                    "signature_algorithm": base["signature_algorithm"],
                    "signature_value": base["signature_value"],
                }
            )
        )
    parts = ofd_parts(genuine())
    xml = _appended_entry(parts, "Doc_0/Signs/X", "Doc_0/Signs/X/SignedValue.dat", "Sign")
    parts["Doc_0/Signs/X/SignedValue.dat"] = _signed_data(signer, xml, junk)
    seconds, reasons = _timed(write_package(parts))
    assert "the SignedData's certificates holds more than 64 items" in reasons
    assert seconds < 2


def _junk_value(genuine_value: bytes, digests: int, picture: int) -> bytes:
    """The issuer's signed value with its seal listing ``digests`` certificate digests
    (certListType 2, none the signer's) and ``picture`` random bytes as its picture."""
    value = SesSignatureV4.load(genuine_value)
    sealed = SESealV4.load(value["to_sign"]["eseal"].dump())
    body = (b"\x30\x27\x13\x03SM3\x04\x20" + b"\x11" * 32) * digests
    prop = sealed["eseal_info"]["property"]
    prop["cert_list_type"] = 2
    prop["cert_list"] = core.Any.load(b"\x30\x83" + len(body).to_bytes(3, "big") + body)
    sealed["eseal_info"]["picture"]["data"] = random.Random(8).randbytes(picture)
    value["to_sign"]["eseal"] = SESealV4.load(sealed.dump(force=True))
    return bytes(SesSignatureV4.load(value.dump(force=True)).dump())


def _entries_naming(value: bytes, entries: int) -> bytes:
    """The genuine license plus ``entries`` signature entries, appended to the unsigned
    Signatures.xml, all naming one signed value ``value``."""
    parts = ofd_parts(genuine())
    parts["Doc_0/Signs/J/SignedValue.dat"] = value
    for i in range(entries):
        _appended_entry(parts, f"Doc_0/Signs/J/S{i}", "Doc_0/Signs/J/SignedValue.dat", "Seal", i)
    return write_package(parts)


def test_seal_with_a_long_certificate_digest_list_is_refused_quickly() -> None:
    """a08: a seal listing 20,000 certificate digests (a million in the red team's file),
    in entries appended to the unsigned Signatures.xml."""
    value = _junk_value(ofd_parts(genuine())["Doc_0/Signs/Sign_0/SignedValue.dat"], 20_000, 0)
    seconds, reasons = _timed(_entries_naming(value, 3))
    assert "the seal's certList holds more than 64 items" in reasons
    assert seconds < 2


def test_huge_signed_value_named_by_many_entries_is_refused_quickly() -> None:
    """a08 as built: a 4.5 MB signed value (its picture random, so within the inflation
    ratio) named by 40 entries: refused by its size, read once."""
    genuine_value = ofd_parts(genuine())["Doc_0/Signs/Sign_0/SignedValue.dat"]
    value = _junk_value(genuine_value, 100, 4_500_000)
    seconds, reasons = _timed(_entries_naming(value, 40))
    assert "the signed value is larger than 4 MiB" in reasons
    assert seconds < 2


@pytest.mark.parametrize(
    "boundary",
    [
        pytest.param("20 66  170 10", id="double-space"),
        pytest.param("2\uff10 66 170 10", id="fullwidth-digit"),
    ],
)
def test_unreadable_text_box_is_not_skipped_by_the_annotation_rule(boundary: str) -> None:
    """A text object whose Boundary the strict grammar cannot read (``float()`` read
    both) lies anywhere to the 加注 rule: no added annotation may cover the page there."""
    from signing.ofd.overlay import clear_of_content_and_stamps
    from signing.ofd.package import Package

    parts = ofd_parts(sample_ofd("食品经营许可证", GENUINE_LINES))
    page = "Doc_0/Pages/Page_0/Content.xml"
    assert parts[page].count(b'Boundary="20 66 170 10"') == 1
    parts[page] = parts[page].replace(b'Boundary="20 66 170 10"', f'Boundary="{boundary}"'.encode())
    with Package(write_package(parts)) as pkg:
        for box in ((20, 67, 40, 8), (150, 120, 40, 40)):
            assert not clear_of_content_and_stamps(pkg, "Doc_0/Document.xml", "1", box, [])
