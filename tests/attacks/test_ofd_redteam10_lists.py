"""Red team round 10, r10-05 (high): two Annotations lists in the issuer's Document.xml.

GB/T 33190's CT_Document has each of its sections at most once (CommonData and Pages
exactly once). ofdrw reads the first ``<Annotations>`` (``Document.getAnnotations``, used by
every converter and by ``DLOFDReader``); the copy maker took the last one and appended the
加注 there: no reader showed it, and the copy passed. Only a second CommonData or Pages was
refused. Now a second of any section of Document.xml is refused (readers differ on which
one they read), by the verifier and by the copy maker, and the copy maker reads the
original's lists as readers do: the first of each kind.
"""

from __future__ import annotations

import datetime as dt

import pytest

from schemas.report import Indication
from signing.errors import SealingError
from signing.ofd.additions import list_parts
from signing.ofd.package import Package
from signing.ofd.writer import NS, sample_ofd, write_package
from tests.attacks.ofd_copy_forge import annotation, vault_maker
from tests.attacks.ofd_forge import GENUINE_LINES, intake_refusal, verify
from tests.attacks.ofd_pages import passing_copy
from tests.helpers.ofd import ofd_parts, ofd_sealer
from tests.helpers.pki import MARKET_DEPT

DOC = "Doc_0/Document.xml"
HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
REPEATED = "readers differ on which one they read"


def _with_sections(sections: str, lists: dict[str, str]) -> bytes:
    """The genuine license whose Document.xml has ``sections`` after its Pages and the
    empty ``lists`` (path -> root element name), sealed by the market regulator."""
    parts = ofd_parts(sample_ofd("食品经营许可证", GENUINE_LINES))
    parts[DOC] = parts[DOC].replace(b"</ofd:Pages>", b"</ofd:Pages>" + sections.encode(), 1)
    for path, tag in lists.items():
        parts[path] = f'{HEAD}<ofd:{tag} xmlns:ofd="{NS}"></ofd:{tag}>'.encode()
    at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    return ofd_sealer(MARKET_DEPT).seal_ofd(
        write_package(parts), boundary=(150, 230, 40, 40), at=at
    )


TWO_LISTS = (
    "<ofd:Annotations>Annots/Annotations.xml</ofd:Annotations>"
    "<ofd:Annotations>Annots2/Annotations.xml</ofd:Annotations>"
    "<ofd:Attachments>Attachs/Attachments.xml</ofd:Attachments>"
)
LISTS = {
    "Doc_0/Annots/Annotations.xml": "Annotations",
    "Doc_0/Annots2/Annotations.xml": "Annotations",
    "Doc_0/Attachs/Attachments.xml": "Attachments",
}


def test_two_annotation_lists_are_refused_and_not_copied() -> None:
    """The attacker's r10_05: the copy's entry went to Annots2, which no reader reads."""
    lic = _with_sections(TWO_LISTS, LISTS)
    report = verify(lic)
    assert report.indication is Indication.TOTAL_FAILED
    reasons = " ".join(report.signatures[0].reasons)
    assert f"{DOC} has 2 Annotations elements: {REPEATED}" in reasons, reasons
    assert intake_refusal(lic) is not None
    with pytest.raises(SealingError, match=f"2 Annotations elements: {REPEATED}"):
        vault_maker().make(lic, annotation())


@pytest.mark.parametrize(
    "section",
    [
        "<ofd:Attachments>Attachs/Attachments.xml</ofd:Attachments>",
        "<ofd:CustomTags>Tags/CustomTags.xml</ofd:CustomTags>",
        "<ofd:Extensions/>",
        "<ofd:Outlines/>",
        '<ofd:Permissions><ofd:Print Printable="false"/></ofd:Permissions>',
        "<ofd:VPreferences><ofd:PageMode>None</ofd:PageMode></ofd:VPreferences>",
        "<ofd:Bookmarks/>",
        "<ofd:Actions/>",
    ],
    ids=lambda s: s.split(">", 1)[0].split(":", 1)[1].rstrip("/"),
)
def test_any_section_of_document_xml_twice_is_refused(section: str) -> None:
    name = section.split(">", 1)[0].split(":", 1)[1].rstrip("/")
    lists = {"Doc_0/Attachs/Attachments.xml": "Attachments"} if name == "Attachments" else {}
    if name == "CustomTags":
        lists = {"Doc_0/Tags/CustomTags.xml": "CustomTags"}
    lic = _with_sections(section * 2, lists)
    report = verify(lic)
    assert report.indication is Indication.TOTAL_FAILED
    reasons = " ".join(report.signatures[0].reasons)
    assert f"{DOC} has 2 {name} elements: {REPEATED}" in reasons, reasons
    with pytest.raises(SealingError, match=REPEATED):
        vault_maker().make(lic, annotation())


def test_one_of_each_list_is_copied_and_the_lists_read_are_the_first() -> None:
    lic = _with_sections(
        "<ofd:Attachments>Attachs/Attachments.xml</ofd:Attachments>"
        "<ofd:Annotations>Annots/Annotations.xml</ofd:Annotations>",
        {
            "Doc_0/Annots/Annotations.xml": "Annotations",
            "Doc_0/Attachs/Attachments.xml": "Attachments",
        },
    )
    passing_copy(lic)
    with Package(_with_sections(TWO_LISTS, LISTS)) as pkg:
        # readers (ofdrw's getAnnotations, DLOFDReader) take the first of each
        assert list_parts(pkg, DOC) == {
            "Doc_0/Annots/Annotations.xml": "Annotations",
            "Doc_0/Attachs/Attachments.xml": "Attachments",
        }
