"""Red team round 9, reader classes (r9-03, r9-04): two respellings of locations no seal
covers, which every reader but ofdrw's reads as before.

- r9-03: the issuer's Signatures.xml entry ``/Doc_0/Signs/Sign_0/Signature.xml/`` (or
  ``…/Signature.xml/.``) named the same part to the verifier (empty and ``.`` segments
  dropped), but ofdrw's ``ResourceLocator`` takes the text after the last ``/`` as the
  file's name: no file, so ``OFDReader`` left the issuer's stamp out of every converter,
  ``DLOFDReader`` showed no stamp, and ofdrw's own validator could not check the file.
- r9-04: with an OFD.xml the issuer's seal leaves out (KingGrid's layout), ``DocRoot``
  respelled ``/Doc_0/Document.xml`` made ``DLOFDReader`` rewrite the issuer's annotation
  entry ``/Doc_0/Annots/Page_0/Annotation.xml`` into a part that does not exist: the
  license was shown without the issuer's annotation (a 注销 mark).
"""

from __future__ import annotations

import datetime as dt

import pytest

from schemas.report import Indication
from signing.ofd.writer import write_package
from tests.attacks.ofd_forge import genuine, market_sealer, passes, verify
from tests.attacks.ofd_pages import annotated_parts
from tests.helpers.ofd import ofd_parts

SIGS = "Doc_0/Signs/Signatures.xml"
ISSUER_ENTRY = b'BaseLoc="/Doc_0/Signs/Sign_0/Signature.xml"'


def _reasons(data: bytes) -> str:
    report = verify(data)
    assert report.indication is Indication.TOTAL_FAILED
    assert all(s.indication is Indication.TOTAL_FAILED for s in report.signatures)
    return " ".join(report.reasons)


@pytest.mark.parametrize("tail", ["/", "/.", "/..", "//"])
def test_issuer_entry_not_ending_in_a_file_name_is_refused(tail: str) -> None:
    parts = ofd_parts(genuine())
    respelled = ISSUER_ENTRY[:-1] + tail.encode() + b'"'
    parts[SIGS] = parts[SIGS].replace(ISSUER_ENTRY, respelled)
    assert "it does not end in a file name" in _reasons(write_package(parts))


def _annotated(doc_root: str) -> bytes:
    """A license whose issuer annotation (a 注销 mark) is named absolutely, as Suwell does
    (``/Doc_0/Annots/Page_0/Annotation.xml``), sealed without OFD.xml in its References,
    its DocRoot then written ``doc_root`` (OFD.xml is signed by no seal)."""
    parts = annotated_parts(
        "/Doc_0/Annots/Page_0/Annotation.xml",
        '<ofd:Annot ID="70" Type="Stamp"><ofd:Remark>本证已于2026年11月注销</ofd:Remark>'
        '<ofd:Appearance Boundary="120 20 60 20"/></ofd:Annot>',
    )
    at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    sealed = market_sealer(cover_ofd_xml=False).seal_ofd(write_package(parts), at=at)
    parts = ofd_parts(sealed)
    parts["OFD.xml"] = parts["OFD.xml"].replace(
        b"<ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot>",
        f"<ofd:DocRoot>{doc_root}</ofd:DocRoot>".encode(),
    )
    return write_package(parts)


def test_docroot_respelled_to_hide_an_issuer_annotation_is_refused() -> None:
    assert passes(_annotated("Doc_0/Document.xml"))  # as issued
    assert (
        "readers differ on the annotation file '/Doc_0/Annots/Page_0/Annotation.xml' of "
        "Doc_0/Annots/Annotations.xml: ofdrw's DLOFDReader opens "
        "Doc_0/AnnotsPage_0/Annotation.xml, which the package lacks"
    ) in _reasons(_annotated("/Doc_0/Document.xml"))
