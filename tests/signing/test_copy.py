"""Certified copies (加注件): round trip through pyHanko, our verifier, pdfsig, a renderer and a
QR decoder; metadata; refusals.

The rendered page of one copy is kept as test-artifacts/copy-page.png (and a 300 dpi crop of
the 加注 box as test-artifacts/copy-box.png) to look at.
"""

from __future__ import annotations

import datetime as dt
import io
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from schemas.report import Indication
from signing._pyhanko import to_asn1
from signing.copies import CopyAnnotation, CopyMaker, CopyPlacement, read_copy_info
from signing.copies.appearance import _tounicode, layout
from signing.copies.font import default_font
from signing.errors import SealingError
from signing.pki import DemoPKI
from signing.qr import QUIET_ZONE, qr_content, qr_matrix
from signing.seal import PadesLevel
from signing.transparency import Checkpoint, CopyLogProof, LogEvent, LogSigner
from signing.trust import TrustBundle
from signing.verify import Verifier
from tests.conftest import ROOT, require_tool
from tests.helpers.pki import MARKET_DEPT, sample_pdf, sealed_pdf, sealer

ARTIFACTS = ROOT / "test-artifacts"
COPY_ID = "q7Vd0cJ9Zk2mR4tW8xY1bA"
URL = f"https://vault.example.gov.cn/v/{COPY_ID}"
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


def _annotation(**changes: object) -> CopyAnnotation:
    values: dict[str, object] = {
        "copy_id": COPY_ID,
        "made_at": NOW,
        "maker": "evault 电子证照库",
        "department": "福州市住房和城乡建设局",
        "purpose": "商品房预售许可申请",
        "case_no": "FZ-2026-00012345",
        "valid_until": NOW + dt.timedelta(days=30),
        "verify_url": URL,
    }
    values.update(changes)
    return CopyAnnotation(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def maker() -> CopyMaker:
    return CopyMaker(sealer(None))


@pytest.fixture(scope="module")
def original() -> bytes:
    return sealed_pdf(PadesLevel.B_LT, MARKET_DEPT)


def _log_proof() -> CopyLogProof:
    """A real (if tiny) proof: one event in a one-leaf log, a signed checkpoint."""
    event = LogEvent(
        idx=0, time=dt.datetime(2026, 1, 2, tzinfo=dt.UTC), event_type="access.copy", payload={}
    )
    signer = LogSigner.generate("evault.test/log")
    checkpoint = Checkpoint(origin="evault.test/log", size=1, root_hash=event.leaf_hash())
    return CopyLogProof(
        index=0, leaf=event.leaf_data(), checkpoint=signer.sign(checkpoint), inclusion_proof=()
    )


LOG_PROOF = _log_proof()


@pytest.fixture(scope="module")
def copy(maker: CopyMaker, original: bytes) -> bytes:
    return maker.make(original, _annotation(log_proof=LOG_PROOF.to_json().encode()))


def _context(pki: DemoPKI) -> ValidationContext:
    return ValidationContext(
        trust_roots=[to_asn1(pki.root.certificate)],
        other_certs=[to_asn1(pki.issuing_ca.certificate)],
        crls=pki.crls(),
        ocsps=[],
        allow_fetching=False,
        revocation_mode="hard-fail",
    )


# -- the file --------------------------------------------------------------------------------


def test_copy_is_the_original_plus_one_incremental_update(original: bytes, copy: bytes) -> None:
    assert copy[: len(original)] == original
    added = copy[len(original) :]
    assert added.count(b"%%EOF") == 1
    assert b"/DSS" in added  # validation data in the same update as the seal
    assert b"/ETSI.CAdES.detached" in added


def test_pyhanko_issuer_intact_not_modified_and_vault_seal_valid(pki: DemoPKI, copy: bytes) -> None:
    reader = PdfFileReader(io.BytesIO(copy))
    issuer, vault = reader.embedded_signatures
    assert vault.field_name == "EvaultCopySeal"
    issuer_status = validate_pdf_signature(issuer, _context(pki))
    assert issuer_status.intact and issuer_status.valid and issuer_status.trusted
    assert issuer_status.docmdp_ok
    # a new signature field with its widget, /Info and /DSS: nothing beyond form filling
    assert issuer_status.modification_level is not None
    assert issuer_status.modification_level <= ModificationLevel.FORM_FILLING
    vault_status = validate_pdf_signature(vault, _context(pki))
    assert vault_status.intact and vault_status.valid and vault_status.trusted
    assert vault_status.modification_level == ModificationLevel.NONE
    assert vault_status.timestamp_validity is not None
    assert vault_status.timestamp_validity.intact and vault_status.timestamp_validity.valid


def test_our_verifier_passes_both_seals(pki: DemoPKI, copy: bytes) -> None:
    bundle = TrustBundle.from_certificates(
        roots=[pki.root.certificate],
        intermediates=[pki.issuing_ca.certificate],
        vault_seal=pki.vault_seal.certificate,
    )
    report = Verifier(bundle).verify(copy)
    by_name = {s.field_name: s for s in report.signatures}
    issuer, vault = by_name["Seal1"], by_name["EvaultCopySeal"]
    assert issuer.indication is Indication.TOTAL_PASSED, issuer.reasons
    assert not issuer.covers_whole_file
    assert vault.indication is Indication.TOTAL_PASSED, vault.reasons
    assert vault.covers_whole_file
    assert vault.pades_level in ("B-LT", "B-LTA"), vault.pades_level


def test_metadata_holds_the_four_fields(copy: bytes) -> None:
    reader = PdfFileReader(io.BytesIO(copy))
    info = read_copy_info(reader.trailer["/Info"])
    annotation = _annotation()
    assert info == {
        "制作时间": annotation.made_at_text,
        "制作者": "evault 电子证照库（为「福州市住房和城乡建设局」制作）",
        "制作事由": "「商品房预售许可申请」（办件编号：「FZ-2026-00012345」）",
        "有效期截止时间": annotation.valid_until_text,
        "copy_id": COPY_ID,
        "verify_url": URL,
    }


def test_log_proof_is_attached_to_the_seal_appearance(copy: bytes) -> None:
    reader = PdfFileReader(io.BytesIO(copy))
    vault = reader.embedded_signatures[1]
    widget = vault.sig_field
    appearance = widget["/AP"]["/N"]
    as_json, as_tlog_proof = (ref.get_object() for ref in appearance["/AF"])
    assert as_json["/F"] == "evault-log-proof.json"
    assert CopyLogProof.from_json(as_json["/EF"]["/F"].data) == LOG_PROOF
    assert as_tlog_proof["/F"] == "evault-log-proof.tlog-proof"
    text = as_tlog_proof["/EF"]["/F"].data.decode()
    assert text == LOG_PROOF.to_tlog_proof() and text.startswith("c2sp.org/tlog-proof@v1\n")


def test_a_malformed_log_proof_is_refused_before_sealing(maker: CopyMaker, original: bytes) -> None:
    with pytest.raises(SealingError, match="the log proof is malformed: log proof: index"):
        maker.make(original, _annotation(log_proof=b'{"format": "evault-log-proof/1"}'))


def test_text_is_extractable_as_unicode(copy: bytes, tmp_path: Path) -> None:
    pdftotext = require_tool("pdftotext")
    path = tmp_path / "copy.pdf"
    path.write_bytes(copy)
    text = subprocess.run(
        [pdftotext, "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    for needle in ("电子证照加注件", "制作事由", "商品房预售许可申请", "有效期截止时间"):
        assert needle in text


# -- independent verifier: poppler's pdfsig ----------------------------------------------------


def pdfsig_output(pki: DemoPKI, pdf: bytes, tmp_path: Path) -> str:
    """What poppler's pdfsig says of ``pdf``, with the demo root trusted in an NSS database."""
    certutil = require_tool("certutil")
    pdfsig = require_tool("pdfsig")
    db = tmp_path / "nss"
    db.mkdir()
    subprocess.run(
        [certutil, "-N", "-d", f"sql:{db}", "--empty-password"], check=True, capture_output=True
    )
    (db / "root.pem").write_bytes(pki.root.certificate.public_bytes(Encoding.PEM))
    pem = str(db / "root.pem")
    subprocess.run(
        [certutil, "-A", "-d", f"sql:{db}", "-n", "demo-root", "-t", "CT,C,C", "-i", pem],
        check=True,
        capture_output=True,
    )
    path = tmp_path / "copy.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        [pdfsig, "-nssdir", f"sql:{db}", str(path)], capture_output=True, text=True, timeout=60
    ).stdout


@pytest.mark.pdfsig
def test_pdfsig_both_signatures_valid_and_trusted(
    pki: DemoPKI, copy: bytes, tmp_path: Path
) -> None:
    out = pdfsig_output(pki, copy, tmp_path)
    first, second = out.split("Signature #2:")
    for part in (first, second):
        assert "Signature Validation: Signature is Valid." in part
        assert "Certificate Validation: Certificate is Trusted." in part
    assert "Signature Field Name: EvaultCopySeal" in second
    assert "Total document signed" in second


# -- rendering: the picture shows Chinese text and a QR code that decodes to the URL ----------


def _render(pdf: bytes, tmp_path: Path, dpi: int, **crop: float) -> Path:
    pdftoppm = require_tool("pdftoppm")
    src = tmp_path / "render.pdf"
    src.write_bytes(pdf)
    args = [pdftoppm, "-r", str(dpi), "-png", "-singlefile", "-f", "1", "-l", "1"]
    for key, value in crop.items():
        args += [f"-{key}", str(round(value * dpi / 72))]
    out = tmp_path / f"page{dpi}"
    subprocess.run([*args, str(src), str(out)], check=True, capture_output=True)
    return out.with_suffix(".png")


def test_rendered_copy_shows_qr_code_of_the_url_and_chinese_text(
    copy: bytes, tmp_path: Path
) -> None:
    import zxingcpp  # a dev dependency: CI must have it
    from PIL import Image

    png = _render(copy, tmp_path, 150)
    ARTIFACTS.mkdir(exist_ok=True)
    image = Image.open(png).convert("L")
    image.save(ARTIFACTS / "copy-page.png")
    results = zxingcpp.read_barcodes(image)
    assert [r.text for r in results] == [URL]
    assert results[0].format == zxingcpp.BarcodeFormat.QRCode

    # The 加注 box: bottom-right, 320x112 pt, 28 pt from the edges of the 595x842 A4 page.
    box = _render(copy, tmp_path, 300, x=595 - 28 - 320, y=842 - 28 - 112, W=320, H=112)
    Image.open(box).save(ARTIFACTS / "copy-box.png")
    crop = Image.open(box).convert("L")
    scale = 300 / 72

    def ink(x0: float, y0: float, x1: float, y1: float) -> float:
        """Share of dark pixels in a rectangle given in points from the box's top left."""
        region = crop.crop(
            (round(x0 * scale), round(y0 * scale), round(x1 * scale), round(y1 * scale))
        )
        histogram = region.histogram()  # 256 bins: grey levels
        return sum(histogram[:128]) / (region.width * region.height)

    title, fields, empty = ink(8, 6, 90, 18), ink(8, 22, 120, 70), ink(175, 92, 205, 108)
    assert title > 0.05, title  # 电子证照加注件 drawn
    assert fields > 0.05, fields  # the four fields drawn
    assert empty < 0.002, empty  # blank area stays blank


# -- layout and refusals -----------------------------------------------------------------------


def test_character_outside_the_font_is_refused_with_its_code_point(maker: CopyMaker) -> None:
    annotation = _annotation(department="𠀀市局")
    assert maker.unsupported_characters(annotation) == "𠀀"
    with pytest.raises(SealingError) as caught:
        maker.make(sample_pdf(), annotation)
    assert str(caught.value).startswith(
        "制作者 has characters the copy font cannot show: U+20000 '𠀀'"
    )


def test_text_too_long_for_the_box_is_refused() -> None:
    with pytest.raises(SealingError) as caught:
        layout(_annotation(purpose="很长的事由" * 12), size=(320, 70))
    assert str(caught.value).startswith("the 加注 text does not fit its box")


def test_long_department_names_wrap_and_shrink() -> None:
    short = layout(_annotation())
    name = "福州市人力资源和社会保障局社会保险基金管理中心鼓楼分中心"
    long = layout(_annotation(department=name * 2))
    assert short.font_size == 7.5
    lines = short.content.count(b" Tj "), long.content.count(b" Tj ")
    assert long.font_size < short.font_size or lines[1] > lines[0]
    assert set(name) <= set(long.used.values())


def test_annotation_checks_itself() -> None:
    with pytest.raises(SealingError) as caught:
        _annotation(valid_until=NOW - dt.timedelta(seconds=1))
    assert str(caught.value) == "copy annotation: valid_until must be after made_at"
    with pytest.raises(SealingError) as caught:
        _annotation(made_at=NOW.replace(tzinfo=None))
    assert str(caught.value) == "copy annotation: made_at must be a timezone-aware datetime"
    with pytest.raises(SealingError) as caught:
        _annotation(verify_url="javascript:alert(1)")
    assert str(caught.value) == "copy annotation: verify_url must be an http(s) URL"


def test_placement_on_a_missing_page_is_refused() -> None:
    maker = CopyMaker(sealer(None), placement=CopyPlacement(page=3))
    with pytest.raises(SealingError) as caught:
        maker.make(sample_pdf(), _annotation())
    assert "page 3 does not exist: the document has 1 page(s)" in str(caught.value)


def test_copy_of_an_unsigned_pdf_from_the_last_page_top_left(pki: DemoPKI) -> None:
    """The placement's corner is tried first; the title is printed there (and "page 2 of 2"
    in the bottom left), so the box takes the next blank corner of that page."""
    maker = CopyMaker(sealer(None), placement=CopyPlacement(page=-1, corner="top-left"))
    data = maker.make(sample_pdf(pages=2), _annotation())
    reader = PdfFileReader(io.BytesIO(data))
    (vault,) = reader.embedded_signatures
    status = validate_pdf_signature(vault, _context(pki))
    assert status.intact and status.valid and status.trusted
    rect = [float(v) for v in vault.sig_field["/Rect"]]
    assert rect == [595.0 - 28 - 320, 28.0, 595.0 - 28, 28.0 + 112]  # bottom right
    assert vault.sig_field["/P"] == reader.root["/Pages"]["/Kids"][1]


def test_lower_levels_are_refused() -> None:
    with pytest.raises(SealingError) as caught:
        CopyMaker(sealer(None), level=PadesLevel.B_T)
    assert str(caught.value) == "a certified copy is sealed at B-LT or B-LTA, not B-T"


# -- the parts -----------------------------------------------------------------------------


def test_per_copy_font_program_holds_only_the_used_glyphs_renumbered() -> None:
    from fontTools.pens.recordingPen import RecordingPen
    from fontTools.ttLib import TTFont

    font = default_font()
    order = (0, *font.glyph_ids("加注件"))
    program = font.program(order)
    assert len(program) < 4_000  # the whole shipped font is ~2 MB
    parsed = TTFont(io.BytesIO(program))
    assert parsed["maxp"].numGlyphs == 4
    full = TTFont(str(font.path), lazy=True)
    full_set, cut_set = full.getGlyphSet(), parsed.getGlyphSet()
    for new, old in enumerate(order):
        a, b = RecordingPen(), RecordingPen()
        full_set[full.getGlyphOrder()[old]].draw(a)
        cut_set[parsed.getGlyphOrder()[new]].draw(b)
        assert a.value == b.value
        assert parsed["hmtx"][parsed.getGlyphOrder()[new]][0] == font.advances[old]
    with pytest.raises(SealingError) as caught:
        font.program((5, 0))
    assert str(caught.value) == "a font program starts with glyph 0 (.notdef)"


def test_tounicode_maps_each_cid_to_its_utf16_code_units() -> None:
    cmap = _tounicode({1: "中", 2: "a", 3: "\U0001f600"}).decode("ascii")
    assert "3 beginbfchar\n<0001> <4E2D>\n<0002> <0061>\n<0003> <D83DDE00>\nendbfchar" in cmap


def test_qr_content_draws_one_rectangle_per_dark_run() -> None:
    matrix = qr_matrix(URL)
    content = qr_content(matrix, x=0, y=0, side=100)
    assert content.count(b" re\n") + content.count(b" re f") == len(matrix.runs()) + 1
    assert matrix.size == 17 + 4 * matrix.version


@pytest.mark.parametrize("text", [URL, "x" * 400])
def test_qr_runs_are_the_dark_stretches_of_the_rows(text: str) -> None:
    matrix = qr_matrix(text)
    n = matrix.size
    drawn = [[False] * n for _ in range(n)]
    for y, x, length in matrix.runs():
        assert length > 0 and not any(drawn[y][x : x + length])
        drawn[y][x : x + length] = [True] * length
        assert x == 0 or not matrix.rows[y][x - 1]  # each run as long as it goes
        assert x + length == n or not matrix.rows[y][x + length]
    assert tuple(map(tuple, drawn)) == matrix.rows
    assert any(map(any, matrix.rows))


@pytest.mark.parametrize("text", [URL, "加注件 " + URL, "x" * 400, "证" * 300])
def test_qr_matrix_reads_back_as_the_text(text: str) -> None:
    """The modules, drawn with the quiet zone, read back as the text (zxing-cpp's reader)."""
    import zxingcpp
    from PIL import Image

    matrix = qr_matrix(text)
    assert matrix.size == 17 + 4 * matrix.version == len(matrix.rows)
    scale, side = 4, matrix.size + 2 * QUIET_ZONE
    image = Image.new("L", (side * scale, side * scale), 255)
    for row, col, length in matrix.runs():
        x, y = (col + QUIET_ZONE) * scale, (row + QUIET_ZONE) * scale
        image.paste(0, (x, y, x + length * scale, y + scale))
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    assert [code.text for code in found] == [text]


def test_qr_payload_too_long_is_refused() -> None:
    with pytest.raises(SealingError) as caught:
        qr_matrix("x" * 3000)
    assert str(caught.value) == "cannot encode 3000 bytes as a QR code: too long"


def test_make_async_inside_an_event_loop(maker: CopyMaker, original: bytes) -> None:
    import asyncio

    async def inside() -> bytes:
        with pytest.raises(SealingError) as caught:
            maker.make(original, _annotation())
        assert str(caught.value) == (
            "Sealer.seal called inside a running event loop: use seal_async"
        )
        return await maker.make_async(original, _annotation())

    data = asyncio.run(inside())
    assert data[: len(original)] == original
    assert len(PdfFileReader(io.BytesIO(data)).embedded_signatures) == 2


def test_a_copy_of_a_copy_is_refused(maker: CopyMaker, copy: bytes) -> None:
    with pytest.raises(SealingError) as caught:
        maker.make(copy, _annotation())
    assert str(caught.value) == (
        "pyHanko refused to seal: "
        "Signature field with name EvaultCopySeal appears to be filled already."
    )


def test_a_copy_whose_notes_name_structure_keywords_still_verifies(
    pki: DemoPKI, maker: CopyMaker, original: bytes
) -> None:
    """The copy's notes are written into /Info in the update after the issuer's seal, and
    the verifier refuses structure keywords in an update's strings (what a reader
    rebuilding the xref by scanning would index, red team pdf11). The notes join the
    department's text with Chinese labels, so pyHanko writes them as UTF-16 (no ASCII run
    of 'trailer' or 'xref' in the bytes): a purpose in plain ASCII naming them must not
    make the vault refuse its own copy."""
    purpose = "trailer xref startxref endobj 1 0 obj"
    copy = maker.make(original, _annotation(purpose=purpose))
    bundle = TrustBundle.from_certificates(
        roots=[pki.root.certificate],
        intermediates=[pki.issuing_ca.certificate],
        vault_seal=pki.vault_seal.certificate,
    )
    report = Verifier(bundle).verify(copy)
    assert report.indication is Indication.TOTAL_PASSED, report.reasons
    info = read_copy_info(PdfFileReader(io.BytesIO(copy)).trailer["/Info"])
    assert purpose in info["制作事由"]
