"""Certified copies of sealed OFD licenses: both seals verify; the issuer's parts are kept
byte for byte and any change to them, to the 加注 or to the vault's seal is flagged; the QR
code decodes to the verification URL; refusals.

No OFD renderer is available here, so the QR code is checked by rasterising the path the
copy draws (its rectangles, in module units) and decoding that image with zxing-cpp.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import zipfile

import pytest

from schemas.report import Indication, ModificationLevel, VerificationReport
from signing.copies import CopyAnnotation
from signing.copies.log_proof import check_copy_log_proof, read_copy_id
from signing.errors import SealingError
from signing.ofd import verify_ofd
from signing.ofd.copy import COPY_INFO_FILENAME, OfdCopyMaker, OfdPlacement
from signing.ofd.model import read_documents, read_signature_xml
from signing.ofd.package import Package
from signing.ofd.pki import Sm2DemoPKI
from signing.ofd.writer import write_package
from signing.transparency import Checkpoint, CopyLogProof, LogEvent, LogSigner
from signing.transparency.copy_proof import COPY_LOG_PROOF_FILENAME, TLOG_PROOF_FILENAME
from signing.trust import TrustBundle
from tests.signing.ofd.conftest import AT, VAULT

COPY_ID = "Zk2mR4tW8xY1bAq7Vd0cJ9"
URL = f"https://vault.example.gov.cn/v/{COPY_ID}"
MADE = dt.datetime(2026, 5, 30, 8, 0, tzinfo=dt.UTC)
FOLDER = "Doc_0/EvaultCopy/"


LOG = LogSigner.generate("evault.test/log")


def _proof(copy_id: str = COPY_ID) -> CopyLogProof:
    """A real (if tiny) proof: this copy's event in a one-leaf log, a signed checkpoint."""
    event = LogEvent(
        idx=0,
        time=dt.datetime(2026, 1, 2, tzinfo=dt.UTC),
        event_type="access.copy",
        payload={"copy": copy_id},
    )
    checkpoint = Checkpoint(origin="evault.test/log", size=1, root_hash=event.leaf_hash())
    return CopyLogProof(
        index=0, leaf=event.leaf_data(), checkpoint=LOG.sign(checkpoint), inclusion_proof=()
    )


PROOF = _proof()


def _annotation(**changes: object) -> CopyAnnotation:
    values: dict[str, object] = {
        "copy_id": COPY_ID,
        "made_at": MADE,
        "maker": "福建省电子证照库",
        "department": "福州市住房和城乡建设局",
        "purpose": "商品房预售许可申请",
        "case_no": "FZ-2026-00012345",
        "valid_until": MADE + dt.timedelta(days=30),
        "verify_url": URL,
        "log_proof": PROOF.to_json().encode(),
    }
    values.update(changes)
    return CopyAnnotation(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def maker(sm2_pki: Sm2DemoPKI) -> OfdCopyMaker:
    return OfdCopyMaker(sm2_pki.signers[VAULT], sm2_pki.seal_for(VAULT))


@pytest.fixture(scope="module")
def copy(maker: OfdCopyMaker, sealed: bytes) -> bytes:
    return maker.make(sealed, _annotation(), at=MADE)


def _parts(ofd: bytes) -> dict[str, bytes]:
    with Package(ofd) as pkg:
        return {p: pkg.read(p) for p in pkg.paths}


def _issuer_refs(ofd: bytes) -> list[str]:
    with Package(ofd) as pkg:
        entry = read_documents(pkg)[0].entries[0]
        return [r.path for r in read_signature_xml(pkg, entry.path).references if r.path]


def _verify(ofd: bytes, bundle: TrustBundle) -> VerificationReport:
    return verify_ofd(ofd, trust=bundle, at=AT)


def _changed(ofd: bytes, path: str, data: bytes) -> bytes:
    parts = _parts(ofd)
    parts[path] = data
    return write_package(parts)


def _flip(data: bytes, at: int | None = None) -> bytes:
    i = len(data) // 2 if at is None else at
    return data[:i] + bytes([data[i] ^ 0x01]) + data[i + 1 :]


# -- both seals verify ------------------------------------------------------------------------


def test_copy_verifies_with_both_seals(copy: bytes, sm2_bundle: TrustBundle) -> None:
    report = _verify(copy, sm2_bundle)
    assert report.indication is Indication.TOTAL_PASSED, report.reasons
    issuer, vault = report.signatures
    assert issuer.indication is Indication.TOTAL_PASSED, issuer.reasons
    assert vault.indication is Indication.TOTAL_PASSED, vault.reasons
    assert issuer.seal_name == "福州市市场监督管理局电子印章"
    assert vault.seal_name == f"{VAULT}电子印章"
    assert issuer.intact and not issuer.modified_after_signing
    assert issuer.modification_level is ModificationLevel.ANNOTATIONS
    assert any("added Annotations and Attachments" in r for r in issuer.reasons)
    assert vault.covers_whole_file and vault.modification_level is ModificationLevel.NONE


def test_issuer_parts_are_kept_byte_for_byte(copy: bytes, sealed: bytes) -> None:
    before, after = _parts(sealed), _parts(copy)
    sigs = "Doc_0/Signs/Signatures.xml"
    for path, data in before.items():
        if path not in ("Doc_0/Document.xml", sigs):
            assert after[path] == data, path
    # stored as they were: the compressed entries are carried over, not deflated again
    with zipfile.ZipFile(io.BytesIO(sealed)) as a, zipfile.ZipFile(io.BytesIO(copy)) as b:
        image_a, image_b = a.getinfo("Doc_0/Res/image_3.png"), b.getinfo("Doc_0/Res/image_3.png")
        raw_a = sealed[image_a.header_offset : image_a.header_offset + 30 + image_a.compress_size]
        raw_b = copy[image_b.header_offset : image_b.header_offset + 30 + image_b.compress_size]
        assert raw_a == raw_b
    # Document.xml: only the two links added; Signatures.xml: only the vault's entry appended
    doc = after["Doc_0/Document.xml"]
    stripped = re.sub(rb"<ofd:(Annotations|Attachments)>[^<]*</ofd:\1>", b"", doc)
    assert stripped == before["Doc_0/Document.xml"]
    entry = b'<ofd:Signature ID="2" Type="Seal" BaseLoc="/Doc_0/Signs/Sign_1/Signature.xml"/>'
    assert after[sigs].replace(entry, b"").replace(b">2<", b">1<") == before[sigs]


def test_copy_carries_its_annotation_and_attachments(copy: bytes) -> None:
    parts = _parts(copy)
    annot = parts[FOLDER + "Annotation.xml"].decode()
    assert 'Type="Stamp"' in annot
    for text in (
        "电子证照加注件",
        "商品房预售许可申请",
        "FZ-2026-00012345",
        "福州市住房和城乡建设局",
    ):
        assert text in annot
    info = json.loads(parts[FOLDER + COPY_INFO_FILENAME])
    assert info["copy_id"] == COPY_ID and info["verify_url"] == URL
    assert info["fields"]["制作事由"] == "「商品房预售许可申请」（办件编号：「FZ-2026-00012345」）"
    assert CopyLogProof.from_json(parts[FOLDER + COPY_LOG_PROOF_FILENAME]) == PROOF
    assert CopyLogProof.from_tlog_proof(parts[FOLDER + TLOG_PROOF_FILENAME]) == PROOF
    # the text is drawn: one path per visible character of the laid-out lines
    assert annot.count("<ofd:PathObject") > 100
    with Package(copy) as pkg:
        doc = read_documents(pkg)[0]
        assert FOLDER + "Annotation.xml" in doc.shown_parts
        assert FOLDER + COPY_INFO_FILENAME in doc.shown_parts


def test_each_caller_field_is_inside_corner_brackets_in_the_annotation(copy: bytes) -> None:
    """r14-03: the sealed 加注's text (Remark and Parameters) shows every caller field inside
    「…」, which no field can hold, so none can close its own field or the template's."""
    annot = _parts(copy)[FOLDER + "Annotation.xml"].decode()
    remark = re.search(r"<ofd:Remark>([^<]*)</ofd:Remark>", annot)
    assert remark is not None, annot[:500]
    assert "制作者：福建省电子证照库（为「福州市住房和城乡建设局」制作）" in remark.group(1)
    assert "制作事由：「商品房预售许可申请」（办件编号：「FZ-2026-00012345」）" in remark.group(1)
    params = dict(re.findall(r'<ofd:Parameter Name="([^"]*)">([^<]*)<', annot))
    assert params["制作者"] == "福建省电子证照库（为「福州市住房和城乡建设局」制作）"
    assert params["制作事由"] == "「商品房预售许可申请」（办件编号：「FZ-2026-00012345」）"


def test_qr_code_decodes_to_the_url(copy: bytes) -> None:
    import zxingcpp  # a dev dependency: CI must have it
    from PIL import Image, ImageDraw

    annot = _parts(copy)[FOLDER + "Annotation.xml"].decode()
    paths = re.findall(r"<ofd:AbbreviatedData>([^<]*)</ofd:AbbreviatedData>", annot)
    qr = paths[-1]  # the QR code is drawn last, in module units with its quiet zone
    rects = re.findall(r"M (\d+) (\d+) L (\d+) \d+ L \d+ (\d+) L \d+ \d+ C", qr)
    assert rects and len(rects) == qr.count("M ")
    side = max(int(r[2]) for r in rects) + 4
    scale = 8
    image = Image.new("L", (side * scale, side * scale), 255)
    draw = ImageDraw.Draw(image)
    for x1, y1, x2, y2 in ((int(a), int(b), int(c), int(d)) for a, b, c, d in rects):
        draw.rectangle((x1 * scale, y1 * scale, x2 * scale - 1, y2 * scale - 1), fill=0)
    results = zxingcpp.read_barcodes(image)
    assert [r.text for r in results] == [URL]


def test_log_proof_checks_offline_against_the_copy_id(
    copy: bytes, maker: OfdCopyMaker, sealed: bytes
) -> None:
    check = check_copy_log_proof(copy, LOG.verifier())
    assert check.verified, check.reason
    assert "(JSON and C2SP tlog-proof)" in check.reason
    assert read_copy_id(copy) == COPY_ID
    other = maker.make(
        sealed, _annotation(log_proof=_proof("someoneElse0000000000a").to_json().encode())
    )
    assert check_copy_log_proof(other, LOG.verifier()).reason == (
        "the logged event is not this copy's (copy ids differ)"
    )
    unlogged = maker.make(sealed, _annotation(log_proof=None))
    assert not check_copy_log_proof(unlogged, LOG.verifier()).verified
    assert read_copy_id(sealed) is None


# -- tampering is flagged -----------------------------------------------------------------------


def test_every_issuer_part_changed_in_the_copy_is_flagged(
    copy: bytes, sealed: bytes, sm2_bundle: TrustBundle
) -> None:
    parts = _parts(copy)
    refs = _issuer_refs(sealed)
    assert "Doc_0/Document.xml" in refs and len(refs) >= 6
    for path in refs:
        for at in (0, len(parts[path]) // 2, len(parts[path]) - 1):
            report = _verify(_changed(copy, path, _flip(parts[path], at)), sm2_bundle)
            issuer = report.signatures[0] if report.signatures else None
            assert report.indication is not Indication.TOTAL_PASSED, (path, at)
            if issuer is not None:
                assert issuer.indication is not Indication.TOTAL_PASSED, (path, at)


def test_changed_annotation_is_flagged(copy: bytes, sm2_bundle: TrustBundle) -> None:
    path = FOLDER + "Annotation.xml"
    data = _parts(copy)[path]
    report = _verify(
        _changed(copy, path, data.replace("商品房预售".encode(), "二手房买卖".encode())), sm2_bundle
    )
    assert report.indication is Indication.TOTAL_FAILED
    vault = report.signatures[1]
    assert vault.indication is Indication.TOTAL_FAILED
    assert any(path in r for r in vault.reasons)


@pytest.mark.parametrize(
    "part", ["Seal.esl", "SignedValue.dat", "Signature.xml", "evault-copy.json"]
)
def test_changed_vault_seal_or_attachment_is_flagged(
    copy: bytes, sm2_bundle: TrustBundle, part: str
) -> None:
    parts = _parts(copy)
    path = next(p for p in parts if p.endswith("/" + part) and "Sign_0" not in p)
    report = _verify(_changed(copy, path, _flip(parts[path], len(parts[path]) - 20)), sm2_bundle)
    assert report.indication is not Indication.TOTAL_PASSED
    assert report.signatures[-1].indication is not Indication.TOTAL_PASSED


def test_annotations_added_without_a_later_seal_are_flagged(
    copy: bytes, sealed: bytes, sm2_bundle: TrustBundle
) -> None:
    """The 加注 alone, taken into the original without the vault's seal: the issuer's
    Document.xml changed with no seal to answer for it."""
    parts = _parts(sealed)
    copied = _parts(copy)
    for path, data in copied.items():
        if path.startswith(FOLDER) or path == "Doc_0/Document.xml":
            parts[path] = data
    report = _verify(write_package(parts), sm2_bundle)
    assert report.indication is Indication.TOTAL_FAILED
    assert "Doc_0/Document.xml" in report.signatures[0].reasons[0]


def test_a_later_seal_may_not_relink_a_covered_part(
    sealed: bytes, sm2_bundle: TrustBundle, sm2_pki: Sm2DemoPKI
) -> None:
    """Only links to parts the earlier seal did not cover are accepted as a 加注."""
    from signing.ofd.sealer import OfdSealer

    parts = _parts(sealed)
    parts["Doc_0/Document.xml"] = parts["Doc_0/Document.xml"].replace(
        b"</ofd:Document>", b"<ofd:Annotations>PublicRes.xml</ofd:Annotations></ofd:Document>"
    )
    resealed = OfdSealer(sm2_pki.signers[VAULT], sm2_pki.seal_for(VAULT)).seal_ofd(
        write_package(parts), at=MADE
    )
    report = _verify(resealed, sm2_bundle)
    assert report.signatures[0].indication is Indication.TOTAL_FAILED


# -- refusals ---------------------------------------------------------------------------------


def test_a_copy_of_a_copy_is_refused(maker: OfdCopyMaker, copy: bytes) -> None:
    with pytest.raises(SealingError, match="the OFD file is already a certified copy"):
        maker.make(copy, _annotation())


def test_text_outside_the_font_is_refused(maker: OfdCopyMaker, sealed: bytes) -> None:
    annotation = _annotation(department="𠀀部门")
    assert maker.unsupported_characters(annotation) == "𠀀"
    with pytest.raises(SealingError, match="U\\+20000"):
        maker.make(sealed, annotation)


def test_not_an_ofd_is_refused(maker: OfdCopyMaker) -> None:
    with pytest.raises(SealingError, match="cannot be copied"):
        maker.make(b"PK\x03\x04 not really", _annotation())


def test_malformed_log_proof_is_refused(maker: OfdCopyMaker, sealed: bytes) -> None:
    with pytest.raises(SealingError, match="log proof is malformed"):
        maker.make(sealed, _annotation(log_proof=b'{"format": "evault-log-proof/1"}'))


def test_placement_corner_and_page(sm2_pki: Sm2DemoPKI, sealed: bytes) -> None:
    with pytest.raises(SealingError, match="unknown corner"):
        OfdPlacement(corner="middle")
    maker = OfdCopyMaker(
        sm2_pki.signers[VAULT], sm2_pki.seal_for(VAULT), placement=OfdPlacement(page=3)
    )
    with pytest.raises(SealingError, match="no page 4"):
        maker.make(sealed, _annotation())


# -- the 加注 may not hide what the issuer sealed ----------------------------------------------


def _overlaid(sealed: bytes, pki: Sm2DemoPKI, boundary: str) -> bytes:
    """A copy, sealed by the vault as usual, whose 加注 box was moved to ``boundary``."""
    from signing.ofd.sealer import OfdSealer
    from signing.ofd.writer import replace_parts

    maker = OfdCopyMaker(pki.signers[VAULT], pki.seal_for(VAULT))
    plan = maker.plan(sealed, _annotation())
    added = dict(plan.added)
    path = FOLDER + "Annotation.xml"
    added[path] = re.sub(
        rb'Appearance Boundary="[^"]*"', f'Appearance Boundary="{boundary}"'.encode(), added[path]
    )
    new = OfdSealer(pki.signers[VAULT], pki.seal_for(VAULT)).seal_parts(
        {**plan.parts, **added}, plan.document, plan.page_id, plan.stamp, MADE
    )
    return replace_parts(sealed, {**added, **new})


_COVERS_CONTENT = (
    "an added annotation on page 1 covers the page's text or other content (what its text, "
    "paths, images or composite objects draw)"
)


@pytest.mark.parametrize(
    ("boundary", "reason"),
    [
        ("15 25 112.889 39.511", _COVERS_CONTENT),
        ("140 245 50 30", "an added annotation on page 1 covers a seal's stamp"),  # not the image
    ],
    ids=["text", "stamp"],
)
def test_a_copy_whose_annotation_covers_text_or_the_stamp_fails(
    sealed: bytes, sm2_pki: Sm2DemoPKI, sm2_bundle: TrustBundle, boundary: str, reason: str
) -> None:
    report = _verify(_overlaid(sealed, sm2_pki, boundary), sm2_bundle)
    issuer, vault = report.signatures
    assert vault.indication is Indication.TOTAL_PASSED  # the vault sealed what it drew
    assert issuer.indication is Indication.TOTAL_FAILED
    assert issuer.reasons[0] == "changed after signing: Doc_0/Document.xml"
    assert reason in issuer.reasons


def test_the_maker_moves_the_box_off_text_and_refuses_a_full_page(
    sm2_pki: Sm2DemoPKI, sealed: bytes, sm2_bundle: TrustBundle, market_sealer: object
) -> None:
    from signing.ofd.sealer import OfdSealer
    from signing.ofd.writer import sample_ofd

    top_left = OfdCopyMaker(
        sm2_pki.signers[VAULT], sm2_pki.seal_for(VAULT), placement=OfdPlacement(corner="top-left")
    )
    copy = top_left.make(sealed, _annotation(), at=MADE)
    box = re.search(rb'Appearance Boundary="([^"]*)"', _parts(copy)[FOLDER + "Annotation.xml"])
    assert box is not None and float(box.group(1).split()[1]) > 200  # bottom-left instead
    assert _verify(copy, sm2_bundle).indication is Indication.TOTAL_PASSED
    assert isinstance(market_sealer, OfdSealer)
    full = market_sealer.seal_ofd(sample_ofd("满页", [f"第{i}行" for i in range(22)]), at=MADE)
    with pytest.raises(SealingError, match="no corner of page 1 is clear of its text and seals"):
        top_left.make(full, _annotation())


@pytest.fixture(scope="module")
def listed(market_sealer: object, license_ofd: bytes) -> bytes:
    """A license whose issuer sealed an (empty) Annotations list and an Attachments list."""
    from signing.ofd.sealer import OfdSealer
    from signing.ofd.writer import NS

    parts = _parts(license_ofd)
    parts["Doc_0/Document.xml"] = parts["Doc_0/Document.xml"].replace(
        b"</ofd:Document>",
        b"<ofd:Annotations>Annots/Annotations.xml</ofd:Annotations>"
        b"<ofd:Attachments>Attachs/Attachments.xml</ofd:Attachments></ofd:Document>",
    )
    parts["Doc_0/Annots/Annotations.xml"] = (
        f'<ofd:Annotations xmlns:ofd="{NS}">\n</ofd:Annotations>'.encode()
    )
    parts["Doc_0/Attachs/Attachments.xml"] = (
        f'<ofd:Attachments xmlns:ofd="{NS}"><ofd:Attachment ID="90" Name="data" Format="xml">'
        "<ofd:FileLoc>data.xml</ofd:FileLoc></ofd:Attachment></ofd:Attachments>"
    ).encode()
    parts["Doc_0/Attachs/data.xml"] = b"<data/>"
    assert isinstance(market_sealer, OfdSealer)
    return market_sealer.seal_ofd(write_package(parts), at=MADE)


def test_a_copy_extends_the_originals_lists(
    maker: OfdCopyMaker, listed: bytes, sm2_bundle: TrustBundle
) -> None:
    copy = maker.make(listed, _annotation(), at=MADE)
    parts = _parts(copy)
    assert parts["Doc_0/Document.xml"] == _parts(listed)["Doc_0/Document.xml"]
    # relative: ofdrw's DLOFDReader opens /Doc_0/EvaultCopy/... as Doc_0/Annots/EvaultCopy/...
    assert b">../EvaultCopy/Annotation.xml<" in parts["Doc_0/Annots/Annotations.xml"]
    assert b"/Doc_0/EvaultCopy/evault-copy.json" in parts["Doc_0/Attachs/Attachments.xml"]
    report = _verify(copy, sm2_bundle)
    assert report.indication is Indication.TOTAL_PASSED, report.reasons
    issuer = report.signatures[0]
    assert issuer.modification_level is ModificationLevel.ANNOTATIONS
    assert any(
        "an annotation of page 1 to Doc_0/Annots/Annotations.xml" in r for r in issuer.reasons
    )
    assert read_copy_id(copy) == COPY_ID


def test_an_entry_added_to_the_list_over_text_fails(
    listed: bytes, sm2_pki: Sm2DemoPKI, sm2_bundle: TrustBundle
) -> None:
    report = _verify(_overlaid(listed, sm2_pki, "15 25 112.889 39.511"), sm2_bundle)
    issuer = report.signatures[0]
    assert issuer.indication is Indication.TOTAL_FAILED
    assert issuer.reasons[0] == "changed after signing: Doc_0/Annots/Annotations.xml"
    assert _COVERS_CONTENT in issuer.reasons


def test_one_maker_serves_threads_from_a_cold_start(
    sm2_pki: Sm2DemoPKI, sealed: bytes, sm2_bundle: TrustBundle
) -> None:
    """The API's worker threads share one maker; its glyph outlines load on first use."""
    from concurrent.futures import ThreadPoolExecutor

    cold = OfdCopyMaker(sm2_pki.signers[VAULT], sm2_pki.seal_for(VAULT))
    with ThreadPoolExecutor(4) as pool:
        copies = list(pool.map(lambda _: cold.make(sealed, _annotation(), at=MADE), range(4)))
    annotations = {_parts(c)[FOLDER + "Annotation.xml"] for c in copies}
    assert len(annotations) == 1  # the same drawing each time
    for copy in copies:
        assert _verify(copy, sm2_bundle).indication is Indication.TOTAL_PASSED
