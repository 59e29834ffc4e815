"""Red team round 8, reader classes (r8-02, r8-04): ofdrw's ``DLOFDReader`` finds a
document's signatures, seal pictures and annotations by rules of its own
(:mod:`signing.ofd.dlreader`), so one location named two parts.

- r8-02: a Signatures.xml entry ``BaseLoc="Signs/Sign_1/Signature.xml"`` was another
  department's real seal to the verifier (``Doc_0/Signs/Signs/Sign_1``) and, to
  ``DLOFDReader`` (from the DocRoot's folder), a forged Signature.xml whose stamp lay over
  the issuer's validity line. The same for a ``SignedValue`` (the seal picture), which
  ``DLOFDReader`` reads from the package root.
- r8-04: the vault's copy maker named its 加注 ``/Doc_0/EvaultCopy/Annotation.xml`` in an
  original's ``Annots/Annotations.xml``; ``DLOFDReader`` opened
  ``Doc_0/Annots/EvaultCopy/Annotation.xml``, which does not exist, and showed a
  use-limited certified copy without its 加注.
"""

from __future__ import annotations

import datetime as dt

import pytest

from schemas.report import Indication
from signing.ofd import copy as copy_module
from signing.ofd import overlay
from signing.ofd.dlreader import dl_annotation, dl_signature, dl_signed_value
from signing.ofd.writer import sample_ofd, write_package
from tests.attacks.ofd_copy_forge import annotation, other_department, seal, vault_maker
from tests.attacks.ofd_forge import GENUINE_LINES, genuine, passes, verify
from tests.attacks.ofd_pages import PAGE, annotated_parts, annotation_box
from tests.helpers.ofd import ofd_parts, ofd_sealer
from tests.helpers.pki import MARKET_DEPT
from tests.signing.ofd.test_corpus import OFD_CORPUS

SIGS = "Doc_0/Signs/Signatures.xml"


def _refused(data: bytes, why: str) -> None:
    """Every signature fails: the file's reason says which readers differ on what."""
    report = verify(data)
    assert report.indication is Indication.TOTAL_FAILED
    assert all(s.indication is Indication.TOTAL_FAILED for s in report.signatures)
    assert any(why in r for r in report.reasons), report.reasons


# -- what DLOFDReader opens, by its source ----------------------------------------------


@pytest.mark.parametrize(
    ("base_loc", "doc_root", "opened"),
    [
        (
            "/Doc_0/Signs/Sign_0/Signature.xml",
            "Doc_0/Document.xml",
            "Doc_0/Signs/Sign_0/Signature.xml",
        ),
        ("Sign_0/Signature.xml", "Doc_0/Document.xml", "Doc_0/Signs/Sign_0/Signature.xml"),
        ("Signs/Sign_1/Signature.xml", "Doc_0/Document.xml", "Doc_0/Signs/Sign_1/Signature.xml"),
        ("../Signs/S/Signature.xml", "/Doc_0/Document.xml", "Signs/S/Signature.xml"),
        ("../../x.xml", "Document.xml", None),
    ],
)
def test_dl_signature_location(base_loc: str, doc_root: str, opened: str | None) -> None:
    assert dl_signature(base_loc, doc_root) == opened


def test_dl_signed_value_is_read_from_the_package_root() -> None:
    assert dl_signed_value("SignedValue.dat") == "SignedValue.dat"
    assert dl_signed_value("/Doc_0/Signs/Sign_0/SignedValue.dat") == (
        "Doc_0/Signs/Sign_0/SignedValue.dat"
    )


@pytest.mark.parametrize(
    ("file_loc", "doc_root", "listed", "opened"),
    [
        # ofdrw's own layout, and Suwell's absolute one (corpus files)
        ("Page_0/Annotation.xml", "Doc_0/Document.xml", "Annots/Annotations.xml",
         "Doc_0/Annots/Page_0/Annotation.xml"),
        ("/Doc_0/Annots/Page_0/Annotation_0.xml", "Doc_0/Document_0.xml", "Annots/Annotations.xml",
         "Doc_0/Annots/Page_0/Annotation_0.xml"),
        # r8-04: the copy maker's entry before the fix, and after it
        ("/Doc_0/EvaultCopy/Annotation.xml", "Doc_0/Document.xml", "Annots/Annotations.xml",
         "Doc_0/Annots/EvaultCopy/Annotation.xml"),
        ("../EvaultCopy/Annotation.xml", "Doc_0/Document.xml", "Annots/Annotations.xml",
         "Doc_0/EvaultCopy/Annotation.xml"),
        # a DocRoot at the root: every "/" of the entry is removed
        ("/EvaultCopy/Annotation.xml", "Document.xml", "EvaultCopy/Annotations.xml",
         "EvaultCopyAnnotation.xml"),
    ],
)  # fmt: skip
def test_dl_annotation_location(file_loc: str, doc_root: str, listed: str, opened: str) -> None:
    assert dl_annotation(file_loc, doc_root, listed) == opened


# -- r8-02: a Signatures.xml entry and a SignedValue -----------------------------------


def _entry_read_from_two_places(*, dl_part: bool) -> bytes:
    """The issuer's license with another department's seal moved to
    ``Doc_0/Signs/Signs/Sign_1`` and listed as ``Signs/Sign_1/Signature.xml`` (which the
    verifier resolves from Signatures.xml's folder); with ``dl_part``, a forged
    Signature.xml where ``DLOFDReader`` looks (from the DocRoot's folder)."""
    parts = ofd_parts(seal(ofd_parts(genuine()), other_department(), box=(20, 100, 40, 40)))
    second = parts.pop("Doc_0/Signs/Sign_1/Signature.xml")
    parts["Doc_0/Signs/Signs/Sign_1/Signature.xml"] = second
    if dl_part:  # a stamp over the validity line, its picture from the real seal's value
        parts["Doc_0/Signs/Sign_1/Signature.xml"] = second.replace(
            b'Boundary="20 100 40 40"', b'Boundary="20 66 170 10"'
        )
    listed = parts[SIGS].replace(
        b'BaseLoc="/Doc_0/Signs/Sign_1/Signature.xml"', b'BaseLoc="Signs/Sign_1/Signature.xml"'
    )
    assert listed != parts[SIGS]
    parts[SIGS] = listed
    return write_package(parts)


def test_signature_entry_dl_reads_elsewhere_is_refused() -> None:
    _refused(
        _entry_read_from_two_places(dl_part=False),
        "readers differ on the BaseLoc of signature '2' in Doc_0/Signs/Signatures.xml: "
        "ofdrw's DLOFDReader opens Doc_0/Signs/Sign_1/Signature.xml, which the package lacks",
    )
    _refused(
        _entry_read_from_two_places(dl_part=True),
        "readers differ on the BaseLoc of signature '2' in Doc_0/Signs/Signatures.xml: "
        "ofdrw's DLOFDReader opens Doc_0/Signs/Sign_1/Signature.xml, "
        "not Doc_0/Signs/Signs/Sign_1/Signature.xml",
    )


@pytest.mark.parametrize(
    ("base_loc", "shown"),
    [
        ("Sign_0/Signature.xml", True),  # ofdrw's own spelling: Signs/ put in front
        ("../Signs/Sign_0/Signature.xml", False),  # r8-08: from Doc_0, that is /Signs/...
        ("./Sign_0/Signature.xml", True),  # Signs/./Sign_0 from Doc_0: the same part
    ],
)
def test_issuer_entry_dl_cannot_open_is_refused(base_loc: str, shown: bool) -> None:
    """r8-08: Signatures.xml is signed by no seal; the issuer's entry respelled so that
    ``DLOFDReader`` cannot open it made it show no stamp at all (it stops at the first
    entry it cannot read), on a license and on a certified copy alike."""
    parts = ofd_parts(genuine())
    parts[SIGS] = parts[SIGS].replace(
        b'BaseLoc="/Doc_0/Signs/Sign_0/Signature.xml"', f'BaseLoc="{base_loc}"'.encode()
    )
    data = write_package(parts)
    if shown:
        assert passes(data)
    else:
        _refused(
            data, "ofdrw's DLOFDReader opens Signs/Sign_0/Signature.xml, which the package lacks"
        )


def test_signed_value_dl_reads_from_the_root_is_refused() -> None:
    """Suwell's corpus files name their signed values ``SignedValue.dat``: the verifier
    reads it beside Signature.xml, ``DLOFDReader`` from the package root. One put there is
    a seal picture only ``DLOFDReader`` shows."""
    name = "converter-testPathClip.ofd"
    data = (OFD_CORPUS / "files" / name).read_bytes()
    parts = ofd_parts(data)
    parts["SignedValue.dat"] = parts["Doc_0/Signs/Sign_1/SignedValue.dat"]
    report = verify(write_package(parts))
    assert report.indication is Indication.TOTAL_FAILED
    assert any(
        "readers differ on the SignedValue of Doc_0/Signs/Sign_0/Signature.xml: ofdrw's "
        "DLOFDReader opens SignedValue.dat, not Doc_0/Signs/Sign_0/SignedValue.dat" in r
        for r in report.reasons
    ), report.reasons


# -- r8-04: the 加注 in an original's Annotations list --------------------------------


def _with_annots_list() -> bytes:
    """The genuine license with an issuer annotation in ofdrw's layout
    (``Annots/Annotations.xml`` naming ``Page_0/Annotation.xml``), sealed by the market
    regulator."""
    parts = annotated_parts(
        "Page_0/Annotation.xml",
        '<ofd:Annot ID="70" Type="Watermark"><ofd:Appearance Boundary="180 5 20 10"/></ofd:Annot>',
    )
    at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    return ofd_sealer(MARKET_DEPT).seal_ofd(write_package(parts), at=at)


def test_copy_names_its_annotation_so_dl_opens_it() -> None:
    original = _with_annots_list()
    assert passes(original)
    copy = vault_maker().make(original, annotation())
    listed = ofd_parts(copy)["Doc_0/Annots/Annotations.xml"]
    assert b"<ofd:FileLoc>../EvaultCopy/Annotation.xml</ofd:FileLoc>" in listed
    assert dl_annotation(
        "../EvaultCopy/Annotation.xml", "Doc_0/Document.xml", "Annots/Annotations.xml"
    ) == ("Doc_0/EvaultCopy/Annotation.xml")
    report = verify(copy)
    assert report.indication is Indication.TOTAL_PASSED, [s.reasons for s in report.signatures]


def test_copy_whose_annotation_dl_does_not_open_is_flagged(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The copy as the maker wrote it before r8-04 (the vault's own seal over it)."""
    monkeypatch.setattr(
        copy_module, "_annotation_loc", lambda *_: "/Doc_0/EvaultCopy/Annotation.xml"
    )
    copy = vault_maker().make(_with_annots_list(), annotation())
    _refused(
        copy,
        "readers differ on the annotation file '/Doc_0/EvaultCopy/Annotation.xml' of "
        "Doc_0/Annots/Annotations.xml: ofdrw's DLOFDReader opens "
        "Doc_0/Annots/EvaultCopy/Annotation.xml, which the package lacks",
    )
    # and the part DLOFDReader would open, supplied: two readers, two 加注
    parts = ofd_parts(copy)
    parts["Doc_0/Annots/EvaultCopy/Annotation.xml"] = parts["Doc_0/EvaultCopy/Annotation.xml"]
    _refused(
        write_package(parts),
        "readers differ on the annotation file '/Doc_0/EvaultCopy/Annotation.xml' of "
        "Doc_0/Annots/Annotations.xml: ofdrw's DLOFDReader opens "
        "Doc_0/Annots/EvaultCopy/Annotation.xml",
    )


def test_copy_of_a_document_at_the_package_root_names_its_annotation_relative() -> None:
    """With the DocRoot at the root, ``DLOFDReader`` removes every ``/`` of an entry that
    names the document's folder (the empty text, in every entry): the maker's entry is
    relative to its own list then."""
    parts = {
        path.removeprefix("Doc_0/"): data
        for path, data in ofd_parts(sample_ofd("食品经营许可证", GENUINE_LINES)).items()
    }
    parts["OFD.xml"] = parts["OFD.xml"].replace(b"Doc_0/Document.xml", b"Document.xml")
    at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    original = ofd_sealer(MARKET_DEPT).seal_ofd(write_package(parts), at=at)
    assert passes(original)
    copy = vault_maker().make(original, annotation())
    copy_parts = ofd_parts(copy)
    assert b"<ofd:FileLoc>Annotation.xml</ofd:FileLoc>" in copy_parts["EvaultCopy/Annotations.xml"]
    report = verify(copy)
    assert report.indication is Indication.TOTAL_PASSED, [s.reasons for s in report.signatures]


# -- DLOFDReader's page: the document's PageArea, else 210 x 140 -----------------------


def _a4_without_page_area() -> bytes:
    """The genuine license with no ``CommonData/PageArea``, its page A4 by its own Area:
    ``DLOFDReader`` gives a viewer a 210 x 140 mm page."""
    parts = ofd_parts(sample_ofd("食品经营许可证", GENUINE_LINES))
    doc = parts["Doc_0/Document.xml"]
    area = b"<ofd:PageArea><ofd:PhysicalBox>0 0 210 297</ofd:PhysicalBox></ofd:PageArea>"
    assert area in doc
    parts["Doc_0/Document.xml"] = doc.replace(area, b"")
    parts[PAGE] = parts[PAGE].replace(
        b"<ofd:Content>",
        b"<ofd:Area><ofd:PhysicalBox>0 0 210 297</ofd:PhysicalBox></ofd:Area><ofd:Content>",
    )
    at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    return ofd_sealer(MARKET_DEPT).seal_ofd(write_package(parts), at=at)


def test_copy_keeps_to_the_page_dl_shows(monkeypatch: pytest.MonkeyPatch) -> None:
    original = _a4_without_page_area()
    assert passes(original)
    copy = vault_maker().make(original, annotation())
    _, y, _, h = annotation_box(copy)
    assert y + h <= 140
    assert verify(copy).indication is Indication.TOTAL_PASSED
    # the copy as the maker placed it before: at the foot of the A4 page
    monkeypatch.setattr(overlay, "_dl_area", lambda *_: (0.0, 0.0, 210.0, 297.0))
    low = vault_maker().make(original, annotation())
    assert annotation_box(low)[1] > 140
    monkeypatch.undo()
    report = verify(low)
    assert report.signatures[0].indication is Indication.TOTAL_FAILED
    assert any("lies outside the page" in r for r in report.signatures[0].reasons), (
        report.signatures[0].reasons
    )
