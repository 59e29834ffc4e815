"""收件核验 seals on deposited materials: content sniffing, the image page, the seal."""

from __future__ import annotations

import datetime as dt
import io
import struct
import zlib

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader

from signing.copies import CopyMaker
from signing.copies.receipt import (
    RECEIPT_FIELD,
    ReceiptNote,
    ReceiptSealer,
    image_pdf,
    material_kind,
    read_receipt_info,
)
from signing.errors import SealingError
from signing.seal import PadesLevel
from signing.verify import Verifier
from tests.helpers.pki import demo_trust_bundle, sample_pdf, sealer
from tests.helpers.scans import scan_jpeg, scan_png

CHECKED = dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC)


def note(**overrides: object) -> ReceiptNote:
    values: dict[str, object] = {
        "material_id": "m_abcdefghijklmnopqrstuv",
        "material": "居民身份证",
        "department": "福州市市场监督管理局政务服务窗口",
        "clerk": "王小明",
        "purpose": "企业开办",
        "case_no": "A-2026-0001",
        "checked_at": CHECKED,
        "maker": "evault 电子证照库",
    }
    values.update(overrides)
    return ReceiptNote(**values)  # type: ignore[arg-type]


def _png(width: int, height: int) -> bytes:
    """A PNG header claiming ``width`` x ``height`` (its data does not matter: never decoded)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def test_kind_is_judged_by_content() -> None:
    assert material_kind(scan_jpeg()) == "image/jpeg"
    assert material_kind(scan_png()) == "image/png"
    assert material_kind(sample_pdf()) == "application/pdf"
    with pytest.raises(SealingError, match="not a JPEG or PNG image nor a PDF"):
        material_kind(b"GIF89a" + b"\x00" * 100)
    with pytest.raises(SealingError, match="not a JPEG or PNG"):
        material_kind(b"<html>%PDF-1.7</html>")
    with pytest.raises(SealingError, match="the JPEG image cannot be read"):
        material_kind(scan_jpeg()[:200])  # a truncated JPEG
    with pytest.raises(SealingError, match="the PNG image cannot be read"):
        material_kind(scan_png()[:60])


def test_a_decompression_bomb_is_refused_before_decoding() -> None:
    with pytest.raises(SealingError, match="pixels"):
        material_kind(_png(20_000, 20_000))


def test_note_is_checked_when_built() -> None:
    with pytest.raises(SealingError, match="clerk must be a non-empty text"):
        note(clerk=" ")
    with pytest.raises(SealingError, match="timezone-aware"):
        note(checked_at=dt.datetime(2026, 12, 1, 9, 30))
    with pytest.raises(SealingError, match="control characters"):
        note(case_no="A\n1")
    assert "核验人：王小明" in note().reason and "办件编号：A-2026-0001" in note().reason


@pytest.mark.parametrize("scan", ["jpeg", "png-rgba", "png-palette", "png-gray"])
def test_image_page_holds_the_scan_and_the_note(scan: str) -> None:
    data = {
        "jpeg": scan_jpeg(),
        "png-rgba": scan_png(),
        "png-palette": scan_png(mode="P"),
        "png-gray": scan_png(mode="L"),
    }[scan]
    pdf = image_pdf(data, note())
    reader = PdfFileReader(io.BytesIO(pdf))
    page = reader.root["/Pages"]["/Kids"][0]
    image = page["/Resources"]["/XObject"]["/Im1"]
    assert (int(image["/Width"]), int(image["/Height"])) == (640, 404)
    if scan == "jpeg":  # the scan's own bytes, not re-encoded
        assert image["/Filter"] == "/DCTDecode" and image.encoded_data == data


def test_note_with_a_character_outside_the_font_is_refused() -> None:
    with pytest.raises(SealingError, match="cannot show"):
        image_pdf(scan_jpeg(), note(clerk="王\U0002a6a5"))


@pytest.fixture(scope="module")
def verifier() -> Verifier:
    return Verifier(demo_trust_bundle(crls=True), timeout=120)


def test_sealed_image_verifies_and_carries_the_note(verifier: Verifier) -> None:
    sealed = ReceiptSealer(sealer()).seal(image_pdf(scan_jpeg(), note()), note())
    report = verifier.verify(sealed)
    assert report.indication == "TOTAL_PASSED", report.reasons
    [signature] = report.signatures
    assert signature.field_name == RECEIPT_FIELD
    info = read_receipt_info(PdfFileReader(io.BytesIO(sealed)).trailer["/Info"])
    assert info["clerk"] == "王小明" and info["case_no"] == "A-2026-0001"
    assert info["department"] == "福州市市场监督管理局政务服务窗口"
    assert info["check"] == "与原件核对一致"


def test_sealed_pdf_keeps_its_bytes_and_the_copy_maker_seals_the_same(verifier: Verifier) -> None:
    original = sample_pdf("a contract")
    sealed = CopyMaker(sealer()).seal_receipt(original, note())
    assert sealed.startswith(original)  # one incremental update on top
    assert verifier.verify(sealed).indication == "TOTAL_PASSED"
    with pytest.raises(SealingError):  # sealed as a deposit already: the field is taken
        ReceiptSealer(sealer()).seal(sealed, note())


def test_a_seal_below_b_lt_is_refused() -> None:
    with pytest.raises(SealingError, match="B-LT or B-LTA"):
        ReceiptSealer(sealer(), level=PadesLevel.B_B)
