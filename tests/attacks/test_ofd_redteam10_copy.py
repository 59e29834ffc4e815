"""Red team round 10, where a certified copy's 加注 goes (r10-05, r10-05b, r10-07, r10-07b,
r10-07c, r10-08, r10-08b, r10-10), checked by copies forged in each bad shape and sealed
with the vault's own copy seal (besides the maker's refusals, which the other
test_ofd_redteam10_*.py files test too). Each issuer original below made the vault's copy
maker write its 加注 (or its identity) where a reader does not read it, and the verifier
passed the copy: a second Annotations or Attachments list (readers read the first, the
copy took the last), a link or entry in a foreign namespace, a list named through a folder
the package does not have, a link inside CommonData.

And what those fixes left (found here): the copy's own annotation part in a foreign
namespace or in none, and a list in no namespace beside an OFD Document.xml (one namespace
in the part, so not "foreign", but no OFD element to ofdrw's strict mode) were accepted;
:func:`signing.ofd.additions.unnamed_namespace` refuses them.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Callable

import pytest

from schemas.report import Indication, VerificationReport
from signing.copies.log_proof import read_copy_id
from signing.errors import SealingError
from signing.ofd.copy import read_copy_attachments
from signing.ofd.package import Package, local_name
from signing.ofd.writer import NS, sample_ofd, write_package
from tests.attacks.ofd_copy_forge import (
    COPY_ANNOTATION,
    COPY_ANNOTATION_ENTRY,
    COPY_INFO_ENTRY,
    annotation,
    forged_copy,
    genuine_copy_part,
    vault_maker,
)
from tests.attacks.ofd_forge import GENUINE_LINES, market_sealer, passes, verify
from tests.helpers.ofd import ofd_parts

DOC = "Doc_0/Document.xml"
HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
LINKS = (
    b"<ofd:Annotations>EvaultCopy/Annotations.xml</ofd:Annotations>"
    b"<ofd:Attachments>EvaultCopy/Attachments.xml</ofd:Attachments>"
)
"""Document.xml's links to the copy's own lists, as the maker writes them."""
_Edit = Callable[[dict[str, bytes]], None]


def _issued(edit: _Edit) -> bytes:
    """The genuine license's body changed by ``edit``, sealed by the market regulator."""
    parts = ofd_parts(sample_ofd("食品经营许可证", GENUINE_LINES))
    edit(parts)
    at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    return market_sealer().seal_ofd(write_package(parts), at=at)


def _a_list(kind: str, entries: str = "", open_tag: str = "") -> bytes:
    tag = open_tag or f'<ofd:{kind} xmlns:ofd="{NS}">'
    close = re.sub(r"<([\w.-]+:)?(\w+).*", r"</\1\2>", tag)
    return f"{HEAD}{tag}{entries}{close}".encode()


def _after_pages(parts: dict[str, bytes], xml: str) -> None:
    parts[DOC] = parts[DOC].replace(b"</ofd:Pages>", b"</ofd:Pages>" + xml.encode())


def _refused(original: bytes, why: str) -> None:
    with pytest.raises(SealingError, match=why):
        vault_maker().make(original, annotation())


def _reasons(report: VerificationReport) -> str:
    return " ".join([*report.reasons, *(r for s in report.signatures for r in s.reasons)])


def _flagged(copy: bytes, why: str) -> None:
    """``copy`` fails (the issuer's seal as modified after signing, or the vault's), for
    ``why``."""
    report = verify(copy)
    assert report.indication is Indication.TOTAL_FAILED, _reasons(report)
    assert any(s.indication is Indication.TOTAL_FAILED for s in report.signatures)
    assert why in _reasons(report), _reasons(report)


def _linked_copy(
    original: bytes, prefix: str = "ofd", changes: dict[str, bytes] | None = None
) -> bytes:
    """A forged copy whose Document.xml gets :data:`LINKS`, written with ``prefix``, before
    its root's end tag."""
    doc = ofd_parts(original)[DOC]
    close = doc.rindex(b"</")
    links = LINKS.replace(b"ofd:", f"{prefix}:".encode())
    return forged_copy(original, {DOC: doc[:close] + links + doc[close:], **(changes or {})})


def _document_children(copy: bytes) -> list[tuple[str, str]]:
    """(namespace, local name) of each child of the copy's Document.xml root."""
    root = ET.fromstring(ofd_parts(copy)[DOC])
    return [(el.tag[1:].split("}")[0], local_name(el)) for el in root]


# -- r10-05, r10-05b: two lists of one kind ---------------------------------------------------


def _two_lists(kind: str) -> _Edit:
    """Document.xml naming two (empty) ``kind`` lists and one of the other kind (so that the
    copy leaves Document.xml as signed)."""
    folders = {"Annotations": ["Annots"], "Attachments": ["Attachs"]}
    folders[kind].append(folders[kind][0] + "2")

    def edit(parts: dict[str, bytes]) -> None:
        named = [(k, f) for k, fs in folders.items() for f in fs]
        _after_pages(parts, "".join(f"<ofd:{k}>{f}/{k}.xml</ofd:{k}>" for k, f in named))
        for k, f in named:
            parts[f"Doc_0/{f}/{k}.xml"] = _a_list(k)

    return edit


@pytest.mark.parametrize("kind", ["Annotations", "Attachments"])
def test_an_original_with_two_lists_of_a_kind_is_refused_and_not_copied(kind: str) -> None:
    """r10-05 / r10-05b: ofdrw reads the first ``<Annotations>`` (``<Attachments>``) of
    Document.xml; the maker appended the 加注 (the copy's identity) to the last. Readers
    take one list of each kind: a Document.xml with two is refused, original and copy."""
    original = _issued(_two_lists(kind))
    report = verify(original)
    assert report.indication is Indication.TOTAL_FAILED
    assert f"has 2 {kind} elements" in _reasons(report)
    _refused(original, f"has 2 {kind} elements")


def test_a_copy_adding_to_the_second_annotations_list_is_flagged() -> None:
    original = _issued(_two_lists("Annotations"))
    second = _a_list("Annotations", COPY_ANNOTATION_ENTRY)
    copy = forged_copy(original, {"Doc_0/Annots2/Annotations.xml": second}, ("Annotation.xml",))
    _flagged(copy, "has 2 Annotations elements")


def test_a_copy_adding_to_the_second_attachments_list_is_flagged() -> None:
    original = _issued(_two_lists("Attachments"))
    second = _a_list("Attachments", COPY_INFO_ENTRY)
    copy = forged_copy(original, {"Doc_0/Attachs2/Attachments.xml": second}, ("evault-copy.json",))
    assert read_copy_id(copy) is None  # what ofdrw and the vault read: the first list
    _flagged(copy, "has 2 Attachments elements")


# -- r10-07, r10-07b, r10-07c: foreign namespaces ---------------------------------------------


def _foreign_root(parts: dict[str, bytes]) -> None:
    doc = parts[DOC].replace(
        f'<ofd:Document xmlns:ofd="{NS}">'.encode(),
        f'<x:Document xmlns:x="urn:x-evil" xmlns:ofd="{NS}">'.encode(),
    )
    parts[DOC] = doc.replace(b"</ofd:Document>", b"</x:Document>")


def test_an_original_whose_document_root_is_in_a_foreign_namespace_is_not_copied() -> None:
    """r10-07: the maker wrote the 加注 in the namespace of Document.xml's root, here
    ``urn:x-evil``: a namespace-aware reader (ofdrw's strict mode) read no Annotations."""
    original = _issued(_foreign_root)
    _refused(original, "not in one OFD namespace")


def test_a_copy_in_the_foreign_namespace_of_its_document_root_is_flagged() -> None:
    copy = _linked_copy(_issued(_foreign_root), prefix="x")
    _flagged(copy, "not in one OFD namespace")


def _comment_before_root(parts: dict[str, bytes]) -> None:
    parts[DOC] = parts[DOC].replace(
        f'<ofd:Document xmlns:ofd="{NS}">'.encode(),
        f'<!-- <y:Document > -->\n<ofd:Document xmlns:ofd="{NS}" xmlns:y="urn:x-evil">'.encode(),
    )


def test_the_copys_links_take_the_prefix_of_the_root_not_of_a_comment() -> None:
    """r10-07b: the maker took the prefix of the first ``<…Document`` in the bytes, a
    comment's ``<y:Document >``: its links were ``<y:Annotations>``, in ``urn:x-evil``."""
    original = _issued(_comment_before_root)
    copy = vault_maker().make(original, annotation())
    assert _document_children(copy)[-2:] == [(NS, "Annotations"), (NS, "Attachments")]
    assert verify(copy).indication is Indication.TOTAL_PASSED


def test_a_copy_linked_in_a_foreign_prefix_is_flagged() -> None:
    copy = _linked_copy(_issued(_comment_before_root), prefix="y")
    _flagged(copy, "not in one OFD namespace")


def _foreign_list(parts: dict[str, bytes]) -> None:
    _after_pages(parts, "<ofd:Annotations>Annots/Annotations.xml</ofd:Annotations>")
    parts["Doc_0/Annots/Annotations.xml"] = _a_list(
        "Annotations", open_tag='<z:Annotations xmlns:z="urn:x-evil">'
    )


def test_an_original_whose_annotations_list_is_in_a_foreign_namespace_is_not_copied() -> None:
    """r10-07c: the maker took the prefix of the list's closing tag (``z:``, urn:x-evil)
    for the 加注's entry: no entry to a namespace-aware reader."""
    _refused(_issued(_foreign_list), "not in one OFD namespace")


def test_a_copy_entry_in_a_foreign_namespace_is_flagged() -> None:
    original = _issued(_foreign_list)
    entry = COPY_ANNOTATION_ENTRY.replace("ofd:", "z:").replace("/Doc_0/", "../")
    listed = _a_list("Annotations", entry, open_tag='<z:Annotations xmlns:z="urn:x-evil">')
    copy = forged_copy(original, {"Doc_0/Annots/Annotations.xml": listed}, ("Annotation.xml",))
    _flagged(copy, "not in one OFD namespace")


def _unnamed_list(parts: dict[str, bytes]) -> None:
    _after_pages(parts, "<ofd:Annotations>Annots/Annotations.xml</ofd:Annotations>")
    parts["Doc_0/Annots/Annotations.xml"] = f"{HEAD}<Annotations></Annotations>".encode()


def test_an_original_whose_annotations_list_has_no_namespace_is_not_copied() -> None:
    """r10-07c with no namespace at all: beside an OFD Document.xml, a list in none; one
    namespace in the part, so not foreign to it, but ofdrw's strict mode reads only OFD
    elements: no entry of the list, the 加注's neither."""
    original = _issued(_unnamed_list)
    assert passes(original)  # an empty list: nothing of the license is unread
    _refused(original, "not in one named OFD namespace")


def test_a_copy_entry_in_no_namespace_is_flagged() -> None:
    original = _issued(_unnamed_list)
    entry = COPY_ANNOTATION_ENTRY.replace("ofd:", "").replace("/Doc_0/", "../")
    listed = f"{HEAD}<Annotations>{entry}</Annotations>".encode()
    copy = forged_copy(original, {"Doc_0/Annots/Annotations.xml": listed}, ("Annotation.xml",))
    _flagged(copy, "not in one named OFD namespace")


def test_a_copy_whose_own_annotation_is_in_a_foreign_namespace_is_flagged() -> None:
    """The 加注's own parts (a new list, the PageAnnot) must be OFD elements too."""
    original = _issued(lambda parts: None)
    annot = genuine_copy_part("Annotation.xml")
    foreign = annot.replace(f'xmlns:ofd="{NS}"'.encode(), b'xmlns:ofd="urn:x-evil"')
    assert passes(_linked_copy(original))
    _flagged(_linked_copy(original, changes={COPY_ANNOTATION: foreign}), "named OFD namespace")
    unnamed = re.sub(rb"</?ofd:", lambda m: m.group(0).replace(b"ofd:", b""), annot)
    unnamed = unnamed.replace(f' xmlns:ofd="{NS}"'.encode(), b"")
    _flagged(_linked_copy(original, changes={COPY_ANNOTATION: unnamed}), "named OFD namespace")


# -- r10-08, r10-08b: ".." through a folder the package does not have -------------------------


def _through(folder: str) -> _Edit:
    def edit(parts: dict[str, bytes]) -> None:
        loc = f"{folder}/../Annots/Annotations.xml"
        _after_pages(parts, f"<ofd:Annotations>{loc}</ofd:Annotations>")
        parts["Doc_0/Annots/Annotations.xml"] = _a_list("Annotations")

    return edit


def test_a_list_named_through_a_missing_folder_is_refused_and_not_copied() -> None:
    """r10-08: ``Nope/../Annots/Annotations.xml``; ofdrw's ``exist()`` asks the file system,
    which cannot walk through ``Doc_0/Nope``: no list, no 加注, while the verifier and the
    maker folded ``..`` and took ``Annots/Annotations.xml``."""
    original = _issued(_through("Nope"))
    report = verify(original)
    assert report.indication is Indication.TOTAL_FAILED
    assert "the folder 'Doc_0/Nope', which holds no part" in _reasons(report)
    _refused(original, "which holds no part")


def test_a_copy_added_to_a_list_named_through_a_missing_folder_is_flagged() -> None:
    original = _issued(_through("Nope"))
    listed = _a_list("Annotations", COPY_ANNOTATION_ENTRY.replace("/Doc_0/", "../"))
    copy = forged_copy(original, {"Doc_0/Annots/Annotations.xml": listed}, ("Annotation.xml",))
    _flagged(copy, "which holds no part")


def test_a_folder_entry_is_no_folder_a_location_may_pass_through() -> None:
    """r10-08b: ``Sub/../Annots/Annotations.xml`` with a ZIP folder entry ``Doc_0/Sub/``
    (no part under it): ofdrw unpacks the folder and shows the list; a holder who deletes
    the entry (no digest covers it) hides it. A folder entry alone is no folder."""
    sealed = _issued(_through("Sub"))
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(sealed)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        dst.writestr(zipfile.ZipInfo("Doc_0/Sub/", date_time=(2026, 1, 1, 0, 0, 0)), b"")
    for data in (out.getvalue(), sealed):
        assert "the folder 'Doc_0/Sub', which holds no part" in _reasons(verify(data))


def test_dots_through_folders_the_package_has_still_resolve() -> None:
    """A ``..`` out of a folder that holds parts walks on any file system: the copy of
    such an original is made and passes."""
    original = _issued(_through("Pages"))
    assert passes(original)
    with Package(original) as pkg:
        loc = "Pages/../Annots/Annotations.xml"
        assert pkg.resolve(loc, "Doc_0") == "Doc_0/Annots/Annotations.xml"
    assert passes(vault_maker().make(original, annotation()))


# -- r10-09: a second document: tests/attacks/test_ofd_redteam10_documents.py ---------------


# -- r10-10: an Extensions element inside CommonData ------------------------------------------


def _extensions_in_common_data(parts: dict[str, bytes]) -> None:
    parts[DOC] = parts[DOC].replace(b"</ofd:CommonData>", b"<ofd:Extensions/></ofd:CommonData>")


def test_the_copys_links_are_children_of_the_document_root() -> None:
    """r10-10: the maker put its links before the first ``<ofd:Extensions`` in the bytes,
    here inside CommonData, where no reader looks for the document's lists."""
    original = _issued(_extensions_in_common_data)
    copy = vault_maker().make(original, annotation())
    assert _document_children(copy) == [
        (NS, "CommonData"),
        (NS, "Pages"),
        (NS, "Annotations"),
        (NS, "Attachments"),
    ]
    assert verify(copy).indication is Indication.TOTAL_PASSED
    assert read_copy_attachments(copy)


def test_a_copy_linked_inside_common_data_is_flagged() -> None:
    original = _issued(_extensions_in_common_data)
    doc = ofd_parts(original)[DOC]
    inside = doc.replace(b"<ofd:Extensions/>", LINKS + b"<ofd:Extensions/>")
    copy = forged_copy(original, {DOC: inside})
    with Package(copy) as pkg:
        assert [local_name(el) for el in pkg.xml(DOC)] == ["CommonData", "Pages"]
    _flagged(copy, "changed after signing: Doc_0/Document.xml")
