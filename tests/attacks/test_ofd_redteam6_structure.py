"""Red team redteam-ofd6: a03, a10, a09 and a11 (what ofdrw reads beside what the seals cover).

a03/a10: ofdrw resolves two kinds of relative location twice (it changes to the location's
folder, then resolves the location again from there): a Signature.xml's ``SignedValue``
(``OFDReader.getStampAnnots``) and a Document.xml's ``PublicRes``/``DocumentRes``
(``ResourceManage.loadResFile``). ``sv/SignedValue.dat`` under ``Sign_1`` is read from
``Sign_1/sv/sv/SignedValue.dat``, ``Res/DocumentRes.xml`` from ``Doc_0/Res/Res/``: files the
verifier never checked. a09: ofdrw takes the page size and the attachments from
``<DocRoot's folder>/Document.xml`` whatever DocRoot names (``OFDDir.obtainDocDefault``).
a11: a seal that covers two Document versions but not OFD.xml; DocRoot, unsigned, moved to
the older one (no watermark annotation) passed and intake took it. Each forgery is made
with the test SM2 PKI (tests/helpers/ofd.py), the corpus file where said.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest

from schemas.report import Indication
from signing.errors import SealingError
from signing.ofd.pki import seal_image
from signing.ofd.sealer import OfdSealer
from signing.ofd.sm2 import sm3
from signing.ofd.writer import NS, sample_ofd, write_package
from tests.attacks.ofd_copy_forge import annotation, other_department, vault_maker
from tests.attacks.ofd_forge import GENUINE_LINES, MARKET_NAME, genuine, intake_refusal, verify
from tests.conftest import require
from tests.helpers.ofd import ofd_parts, sm2_pki
from tests.signing.ofd.test_corpus import OFD_CORPUS

SIGN_1 = "Doc_0/Signs/Sign_1"


def _earlier(minutes: int) -> dt.datetime:
    return dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes)


class _Patched(OfdSealer):
    """A sealer whose Signature.xml is changed by ``patch`` before it is signed, and whose
    References leave the parts ``left_out`` out (what a seal's holder may write)."""

    def __init__(
        self,
        base: OfdSealer,
        patch: Callable[[bytes], bytes] = lambda b: b,
        left_out: tuple[str, ...] = (),
    ) -> None:
        super().__init__(base.signer, base.seal)
        self._patch, self._left_out = patch, left_out

    def _signature_xml(self, parts: dict[str, bytes], *args: Any, **kwargs: Any) -> bytes:
        kept = {p: d for p, d in parts.items() if p not in self._left_out}
        return self._patch(super()._signature_xml(kept, *args, **kwargs))


def _market() -> OfdSealer:
    pki = sm2_pki()
    return OfdSealer(pki.signers[MARKET_NAME], pki.seal_for(MARKET_NAME))


def _reasons(data: bytes) -> str:
    report = verify(data)
    return " ".join(report.reasons + [r for s in report.signatures for r in s.reasons])


# -- a03: a later seal's SignedValue relative with a folder --------------------------------


def _a03() -> bytes:
    issuer_value = ofd_parts(genuine())["Doc_0/Signs/Sign_0/SignedValue.dat"]
    extra = f"{SIGN_1}/sv/sv/SignedValue.dat"

    def patch(xml: bytes) -> bytes:
        digest = base64.b64encode(sm3(issuer_value)).decode()
        ref = f'<ofd:Reference FileRef="/{extra}"><ofd:CheckValue>{digest}</ofd:CheckValue>'
        patched = xml.replace(
            b"</ofd:References>", ref.encode() + b"</ofd:Reference></ofd:References>"
        ).replace(
            f"<ofd:SignedValue>/{SIGN_1}/SignedValue.dat</ofd:SignedValue>".encode(),
            b"<ofd:SignedValue>sv/SignedValue.dat</ofd:SignedValue>",
        )
        assert b"sv/SignedValue.dat<" in patched
        return patched

    sealed = _Patched(other_department(), patch).seal_ofd(genuine(), at=_earlier(1))
    parts = ofd_parts(sealed)
    parts[f"{SIGN_1}/sv/SignedValue.dat"] = parts.pop(f"{SIGN_1}/SignedValue.dat")
    parts[extra] = issuer_value
    return write_package(parts)


def test_a03_a_signed_value_relative_with_a_folder_is_refused() -> None:
    data = _a03()
    report = verify(data)
    assert report.indication is Indication.TOTAL_FAILED
    assert all(s.indication is Indication.TOTAL_FAILED for s in report.signatures)
    assert "resolves a relative location with a folder twice" in _reasons(data)
    assert intake_refusal(data) is not None


@pytest.mark.parametrize(
    "loc",
    [
        pytest.param("SignedValue.dat", id="file-name"),
        pytest.param(f"/{SIGN_1}/SignedValue.dat", id="absolute"),
    ],
)
def test_a03_signed_value_locations_read_once_still_pass(loc: str) -> None:
    def patch(xml: bytes) -> bytes:
        return xml.replace(f"/{SIGN_1}/SignedValue.dat<".encode(), f"{loc}<".encode())

    data = _Patched(other_department(), patch).seal_ofd(genuine(), at=_earlier(1))
    assert verify(data).indication is Indication.TOTAL_PASSED


# -- a10: a resource list relative with a folder -------------------------------------------


def _a10_license() -> bytes:
    parts = ofd_parts(sample_ofd("食品经营许可证", GENUINE_LINES, image=seal_image("照片")))
    parts["Doc_0/Res/DocumentRes.xml"] = parts.pop("Doc_0/DocumentRes.xml").replace(
        b'BaseLoc="Res"', b""
    )
    doc = parts["Doc_0/Document.xml"]
    parts["Doc_0/Document.xml"] = doc.replace(
        b"<ofd:DocumentRes>DocumentRes.xml<", b"<ofd:DocumentRes>Res/DocumentRes.xml<"
    )
    assert parts["Doc_0/Document.xml"] != doc
    return _market().seal_ofd(write_package(parts), at=_earlier(5))


def _a10() -> bytes:
    forged_res = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<ofd:Res xmlns:ofd="{NS}">'
        '<ofd:MultiMedias><ofd:MultiMedia ID="3" Type="Image" Format="PNG">'
        "<ofd:MediaFile>/Doc_0/Res/Res/forged.png</ofd:MediaFile></ofd:MultiMedia>"
        "</ofd:MultiMedias></ofd:Res>"
    ).encode()
    parts = ofd_parts(_a10_license())
    parts["Doc_0/Res/Res/DocumentRes.xml"] = forged_res
    parts["Doc_0/Res/Res/forged.png"] = seal_image("伪造")
    return other_department().seal_ofd(write_package(parts), at=_earlier(1))


@pytest.mark.parametrize("build", [_a10_license, _a10], ids=["issuer-only", "forged-list"])
def test_a10_a_resource_list_relative_with_a_folder_is_refused(build: Callable[[], bytes]) -> None:
    data = build()
    report = verify(data)
    assert report.indication is Indication.TOTAL_FAILED
    assert report.signatures[0].indication is Indication.TOTAL_FAILED
    assert "resolves a relative location with a folder twice" in _reasons(data)
    assert intake_refusal(data) is not None


# -- a09: the Document.xml in DocRoot's folder ---------------------------------------------

FORGED_DOC = (
    f'<?xml version="1.0" encoding="UTF-8"?>\n<ofd:Document xmlns:ofd="{NS}"><ofd:CommonData>'
    "<ofd:MaxUnitID>20</ofd:MaxUnitID><ofd:PageArea><ofd:PhysicalBox>0 0 210 60</ofd:PhysicalBox>"
    "</ofd:PageArea></ofd:CommonData>"
    '<ofd:Pages><ofd:Page ID="1" BaseLoc="Pages/Page_0/Content.xml"/></ofd:Pages>'
    "<ofd:Attachments>Attachs/Attachments.xml</ofd:Attachments></ofd:Document>"
).encode()
FORGED_LIST = (
    f'<?xml version="1.0" encoding="UTF-8"?>\n<ofd:Attachments xmlns:ofd="{NS}">'
    '<ofd:Attachment ID="30" Name="食品经营许可证" Format="txt" Visible="true">'
    "<ofd:FileLoc>license.txt</ofd:FileLoc></ofd:Attachment></ofd:Attachments>"
).encode()


def _document_0(**extra: bytes) -> dict[str, bytes]:
    """A license whose DocRoot is Doc_0/Document_0.xml (as Suwell's), unsealed."""
    parts = ofd_parts(sample_ofd("食品经营许可证", GENUINE_LINES))
    parts["Doc_0/Document_0.xml"] = parts.pop("Doc_0/Document.xml")
    parts["OFD.xml"] = parts["OFD.xml"].replace(b"Doc_0/Document.xml", b"Doc_0/Document_0.xml")
    return {**parts, **extra}


def _a09() -> bytes:
    parts = ofd_parts(_market().seal_ofd(write_package(_document_0()), at=_earlier(5)))
    parts["Doc_0/Document.xml"] = FORGED_DOC
    parts["Doc_0/Attachs/Attachments.xml"] = FORGED_LIST
    parts["Doc_0/Attachs/license.txt"] = "有效期至：2099年12月31日".encode()
    return other_department().seal_ofd(write_package(parts), at=_earlier(1))


def test_a09_a_document_xml_beside_the_docroot_is_shown() -> None:
    data = _a09()
    report = verify(data)
    assert report.indication is Indication.TOTAL_FAILED
    issuer = report.signatures[0]
    assert issuer.indication is Indication.TOTAL_FAILED
    assert "Doc_0/Document.xml" in " ".join(issuer.reasons)
    assert intake_refusal(data) is not None


def test_a09_forged_attachments_beside_the_docroot_with_its_page_area_are_drawn() -> None:
    """The forged Document.xml gives the DocRoot's page area, only its attachments differ:
    the issuer's seal does not cover what ofdrw hands out."""
    parts = ofd_parts(_market().seal_ofd(write_package(_document_0()), at=_earlier(5)))
    parts["Doc_0/Document.xml"] = parts["Doc_0/Document_0.xml"].replace(
        b"</ofd:Pages>", b"</ofd:Pages><ofd:Attachments>Attachs/Attachments.xml</ofd:Attachments>"
    )
    parts["Doc_0/Attachs/Attachments.xml"] = FORGED_LIST
    parts["Doc_0/Attachs/license.txt"] = "有效期至：2099年12月31日".encode()
    data = other_department().seal_ofd(write_package(parts), at=_earlier(1))
    issuer = verify(data).signatures[0]
    assert issuer.indication is Indication.TOTAL_FAILED
    assert "it does not cover Doc_0/Attachs/Attachments.xml" in " ".join(issuer.reasons)
    assert intake_refusal(data) is not None


def test_a09_the_issuers_docroot_without_a_document_xml_beside_it_passes() -> None:
    data = _market().seal_ofd(write_package(_document_0()), at=_earlier(5))
    assert verify(data).indication is Indication.TOTAL_PASSED


def test_a09_a_covered_document_xml_that_agrees_passes() -> None:
    """As the corpus's Suwell files: the older Document.xml beside Document_0.xml, both
    covered, the same page area and no attachments."""
    parts = _document_0()
    parts["Doc_0/Document.xml"] = parts["Doc_0/Document_0.xml"]
    data = _market().seal_ofd(write_package(parts), at=_earlier(5))
    assert verify(data).indication is Indication.TOTAL_PASSED


def _document_0_page_area(box: str) -> bytes:
    """Both versions covered by the issuer, the older one with the page area ``box``."""
    parts = _document_0()
    doc = parts["Doc_0/Document_0.xml"]
    parts["Doc_0/Document.xml"] = re.sub(
        rb"<ofd:PhysicalBox>[^<]*<", f"<ofd:PhysicalBox>{box}<".encode(), doc
    )
    assert parts["Doc_0/Document.xml"] != doc
    return _market().seal_ofd(write_package(parts), at=_earlier(5))


def test_a09_a_covered_document_xml_with_another_page_area_is_refused() -> None:
    data = _document_0_page_area("0 0 210 60")
    report = verify(data)
    assert report.indication is Indication.TOTAL_FAILED
    assert "readers differ on the page area" in _reasons(data)


# -- a11: the DocRoot moved to another covered Document ------------------------------------

WATERMARK = (
    f'<?xml version="1.0" encoding="UTF-8"?>\n<ofd:PageAnnot xmlns:ofd="{NS}">'
    '<ofd:Annot ID="40" Type="Watermark" Creator="issuer"><ofd:Appearance Boundary="10 100 190 40">'
    '<ofd:TextObject ID="41" Boundary="0 0 190 40" Font="2" Size="16">'
    '<ofd:FillColor Value="200 0 0"/><ofd:TextCode X="0" Y="20">已注销 仅供查询</ofd:TextCode>'
    "</ofd:TextObject></ofd:Appearance></ofd:Annot></ofd:PageAnnot>"
).encode()
DOCINFO = re.compile(rb"<ofd:DocInfo>.*?</ofd:DocInfo>", re.S)


def _a11_license() -> bytes:
    """The issuer's license: Document_0.xml (DocRoot) adds a watermark annotation to the
    older Document.xml, both covered, OFD.xml left out (as Suwell's first seal)."""
    parts = ofd_parts(sample_ofd("食品经营许可证", GENUINE_LINES))
    old = parts["Doc_0/Document.xml"]
    parts["Doc_0/Document_0.xml"] = old.replace(
        b"</ofd:Pages>", b"</ofd:Pages><ofd:Annotations>Annots/Annotations.xml</ofd:Annotations>"
    )
    parts["Doc_0/Annots/Annotations.xml"] = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<ofd:Annotations xmlns:ofd="{NS}">'
        '<ofd:Page PageID="1"><ofd:FileLoc>Page_0/Annotation_0.xml</ofd:FileLoc></ofd:Page>'
        "</ofd:Annotations>"
    ).encode()
    parts["Doc_0/Annots/Page_0/Annotation_0.xml"] = WATERMARK
    parts["OFD.xml"] = parts["OFD.xml"].replace(b"Doc_0/Document.xml", b"Doc_0/Document_0.xml")
    sealer = _Patched(_market(), left_out=("OFD.xml",))
    return sealer.seal_ofd(write_package(parts), at=_earlier(5))


def _a11() -> bytes:
    parts = ofd_parts(_a11_license())
    ofd = parts["OFD.xml"].replace(b"Doc_0/Document_0.xml", b"Doc_0/Document.xml")
    parts["OFD.xml"] = DOCINFO.sub(
        b"<ofd:DocInfo><ofd:DocID>evault-sample</ofd:DocID></ofd:DocInfo>", ofd
    )
    return write_package(parts)


@pytest.mark.parametrize("build", [_a11, _a11_license], ids=["moved", "issuer-only"])
def test_a11_a_seal_over_two_documents_without_ofd_xml_fails(build: Callable[[], bytes]) -> None:
    """Which of the two covered documents the signer showed cannot be told: OFD.xml, which
    names it, is unsigned."""
    data = build()
    report = verify(data)
    assert report.indication is Indication.TOTAL_FAILED
    assert "DocRoot" in " ".join(report.signatures[0].reasons)
    assert intake_refusal(data) is not None


def test_a11_the_same_signers_later_seal_over_ofd_xml_names_the_document() -> None:
    """As the corpus's Suwell files: the signer's own later seal covers OFD.xml."""
    data = _market().seal_ofd(_a11_license(), at=_earlier(1))
    assert verify(data).indication is Indication.TOTAL_PASSED


def test_a11_another_signers_later_seal_over_ofd_xml_does_not() -> None:
    data = other_department().seal_ofd(_a11(), at=_earlier(1))
    report = verify(data)
    assert report.signatures[0].indication is Indication.TOTAL_FAILED
    assert intake_refusal(data) is not None


def test_a11_the_corpus_file_with_its_second_signature_dropped_fails() -> None:
    """a11 part 1: converter-testImageOverridePage.ofd without Sign_1 (and the Annotations
    list only it covered), DocRoot moved to the older Document.xml."""
    path = OFD_CORPUS / "files" / "converter-testImageOverridePage.ofd"
    require(path.is_file(), f"the OFD corpus at {OFD_CORPUS}")
    parts = {p: d for p, d in ofd_parts(path.read_bytes()).items() if not p.endswith("/")}
    for p in ("Sign_1/Signature.xml", "Sign_1/SignedValue.dat"):
        del parts[f"Doc_0/Signs/{p}"]
    del parts["Doc_0/Annots/Annotations.xml"]
    sigs = parts["Doc_0/Signs/Signatures.xml"]
    parts["Doc_0/Signs/Signatures.xml"] = re.sub(
        rb'<ofd:Signature ID="2".*?</ofd:Signature>', b"", sigs
    ).replace(b"<ofd:MaxSignId>2<", b"<ofd:MaxSignId>1<")
    ofd = parts["OFD.xml"].replace(b"Doc_0/Document_0.xml", b"Doc_0/Document.xml")
    parts["OFD.xml"] = DOCINFO.sub(
        b"<ofd:DocInfo><ofd:DocID>50fe8d9e97b243b38e1fb77c646dfca1</ofd:DocID></ofd:DocInfo>", ofd
    )
    report = verify(write_package(parts))
    (sig,) = report.signatures
    assert sig.intact
    assert sig.indication is Indication.TOTAL_FAILED


@pytest.mark.parametrize(
    "build",
    [_a03, _a10, _a09, _a11, lambda: _document_0_page_area("0 0 210 60")],
    ids=["a03", "a10", "a09", "a11", "page-area"],
)
def test_the_new_reasons_read_in_chinese(build: Callable[[], bytes]) -> None:
    """The verify page shows these reasons in Chinese (api/pages/reasons.py)."""
    from api.pages.reasons import reason_zh

    report = verify(build())
    reasons = [*report.reasons, *(r for s in report.signatures for r in s.reasons)]
    new = [r for r in reasons if re.search(r"readers differ on the|several documents", r)]
    assert new
    assert [r for r in new if reason_zh(r) is None] == []


# -- a11b and the copies of these layouts ---------------------------------------------------


def test_a11b_the_vaults_copy_of_the_moved_docroot_fails() -> None:
    """The copy seal covers the forged OFD.xml; the issuer's seal still names two
    documents, one of them now extended by the copy's 加注."""
    copy = vault_maker().make(_a11(), annotation())
    report = verify(copy)
    issuer = report.signatures[0]
    assert issuer.indication is Indication.TOTAL_FAILED
    assert "several documents" in " ".join(issuer.reasons)


def test_a_license_with_an_agreeing_document_xml_is_not_copied() -> None:
    """The copy maker extends the DocRoot (Document_0.xml) only, and ofdrw reads the
    attachments from the older Document.xml beside it, which would list none of the copy's
    (red team 12, r12-04: tests/attacks/test_ofd_redteam12_attachments.py)."""
    parts = _document_0()
    parts["Doc_0/Document.xml"] = parts["Doc_0/Document_0.xml"]
    original = _market().seal_ofd(write_package(parts), at=_earlier(5))
    assert verify(original).indication is Indication.TOTAL_PASSED
    with pytest.raises(SealingError, match=r"ofdrw reads the document from Doc_0/Document\.xml"):
        vault_maker().make(original, annotation())


def test_a_docroot_naming_a_part_that_is_no_document_is_refused() -> None:
    """What a seal's document count reads (a part with a <Document> root) is what a DocRoot
    may name: an unsigned DocRoot moved to another covered part is refused."""
    parts = ofd_parts(genuine(cover_ofd_xml=False))
    parts["OFD.xml"] = parts["OFD.xml"].replace(b"Doc_0/Document.xml", b"Doc_0/PublicRes.xml")
    data = write_package(parts)
    reasons = _reasons(data)
    assert verify(data).indication is Indication.TOTAL_FAILED
    said = "Doc_0/PublicRes.xml: its root element is <Res>, not <Document>"
    assert said in reasons

    from api.pages.reasons import reason_zh

    assert reason_zh(said) is not None


@pytest.mark.parametrize(
    ("head", "shaped"),
    [
        (b'<?xml version="1.0"?>\n<ofd:Document xmlns:ofd="u">', True),
        (b"\xef\xbb\xbf<!-- c --><?pi x?>\n <Document/>", True),
        ("<文档:Document xmlns:文档='u'>".encode(), True),
        (b"<ofd:Documents>", False),
        (b'<ofd:Res xmlns:ofd="u"><ofd:Document>', False),
        (b"<!---->" * 600 + b"<x", False),
    ],
)
def test_document_shaped_reads_the_root_element(head: bytes, shaped: bool) -> None:
    from signing.ofd.structure import document_shaped

    assert document_shaped(head[:4096]) is shaped
