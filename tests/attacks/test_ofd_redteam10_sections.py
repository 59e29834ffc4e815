"""Red team round 10, r10-10 and r10-07: where and in which namespace the copy writes its
sections.

r10-10: an ``<ofd:Extensions/>`` inside the issuer's CommonData (an element readers
ignore): the copy maker put its ``<Annotations>`` and ``<Attachments>`` before the first
``<…Extensions`` in the bytes, inside CommonData, and the verifier matched the added
elements at any depth: no reader saw the 加注, the copy passed. Now the sections are the
root's children, to the maker (placed there) and to the verifier (an element found deeper
is no section: the part changed).

r10-07: a Document.xml root in a foreign namespace (its children in OFD's) made the copy
write its sections, lists and 加注 in that namespace; r10-07b: the sections' prefix was read
from a comment before the root; r10-07c: an issuer's list in a foreign namespace got the
copy's entry in it. Readers that read OFD elements by namespace skip them all. Document.xml
and the lists must have their root and its children in one OFD namespace (the verifier and
the maker refuse others), and the prefix is the root's as the parser reads it.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

import pytest

from schemas.report import Indication
from signing.errors import SealingError
from signing.ofd import copy as copy_module
from signing.ofd.package import local_name
from signing.ofd.writer import NS, sample_ofd, write_package
from tests.attacks.ofd_copy_forge import annotation, vault_maker
from tests.attacks.ofd_forge import GENUINE_LINES, intake_refusal, verify
from tests.attacks.ofd_pages import passing_copy
from tests.helpers.ofd import ofd_parts, ofd_sealer
from tests.helpers.pki import MARKET_DEPT

DOC = "Doc_0/Document.xml"


def _license(edit: dict[bytes, bytes], extra: dict[str, bytes] | None = None) -> bytes:
    parts = ofd_parts(sample_ofd("食品经营许可证", GENUINE_LINES))
    for old, new in edit.items():
        assert old in parts[DOC], old
        parts[DOC] = parts[DOC].replace(old, new, 1)
    parts.update(extra or {})
    at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    return ofd_sealer(MARKET_DEPT).seal_ofd(write_package(parts), at=at)


LISTED = b"<ofd:Annotations>Annots/Annotations.xml</ofd:Annotations>"
FOREIGN_LIST = b'<z:Annotations xmlns:z="urn:x-evil"></z:Annotations>'
EXTENSIONS_IN_COMMON = {b"</ofd:CommonData>": b"<ofd:Extensions/></ofd:CommonData>"}


def _sections(copy: bytes) -> list[str]:
    return [local_name(el) for el in ET.fromstring(ofd_parts(copy)[DOC])]


def test_the_copys_sections_are_children_of_the_root() -> None:
    lic = _license(EXTENSIONS_IN_COMMON)
    passing_copy(lic)
    copy = vault_maker().make(lic, annotation())
    assert _sections(copy) == ["CommonData", "Pages", "Annotations", "Attachments"]


def test_sections_added_inside_common_data_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """The copy as the maker made it before: its sections inside CommonData."""
    sections = (
        b"<ofd:Annotations>EvaultCopy/Annotations.xml</ofd:Annotations>"
        b"<ofd:Attachments>EvaultCopy/Attachments.xml</ofd:Attachments>"
    )
    monkeypatch.setattr(
        copy_module,
        "_link",
        lambda document, _links: document.replace(
            b"<ofd:Extensions/>", sections + b"<ofd:Extensions/>"
        ),
    )
    copy = vault_maker().make(_license(EXTENSIONS_IN_COMMON), annotation())
    assert _sections(copy) == ["CommonData", "Pages"]
    monkeypatch.undo()
    report = verify(copy)
    issuer = report.signatures[0]
    assert issuer.indication is Indication.TOTAL_FAILED
    assert f"changed after signing: {DOC}" in issuer.reasons, issuer.reasons


def test_the_prefix_is_the_roots_not_a_comments() -> None:
    """r10-07b."""
    lic = _license(
        {
            b"<ofd:Document ": b'<!-- <y:Document > --><ofd:Document xmlns:y="urn:x-evil" ',
        }
    )
    copy = vault_maker().make(lic, annotation())
    document = ofd_parts(copy)[DOC]
    assert b"<y:" not in document.split(b"-->", 1)[1]
    assert {el.tag for el in ET.fromstring(document)} == {
        f"{{{NS}}}{name}" for name in ("CommonData", "Pages", "Annotations", "Attachments")
    }
    assert verify(copy).indication is Indication.TOTAL_PASSED


@pytest.mark.parametrize(
    ("edit", "extra"),
    [
        (  # r10-07: the root in a foreign namespace
            {
                b"<ofd:Document xmlns:ofd": b'<x:Document xmlns:x="urn:x-evil" xmlns:ofd',
                b"</ofd:Document>": b"</x:Document>",
            },
            {},
        ),
        (  # r10-07c: the issuer's (empty) Annotations list in one
            {b"</ofd:Pages>": b"</ofd:Pages>" + LISTED},
            {"Doc_0/Annots/Annotations.xml": FOREIGN_LIST},
        ),
    ],
    ids=["document-root", "annotations-list"],
)
def test_a_part_outside_one_ofd_namespace_is_refused(
    edit: dict[bytes, bytes], extra: dict[str, bytes]
) -> None:
    lic = _license(edit, extra)
    report = verify(lic)
    assert report.indication is Indication.TOTAL_FAILED
    assert "not in one OFD namespace" in " ".join(report.signatures[0].reasons)
    assert intake_refusal(lic) is not None
    with pytest.raises(SealingError, match="not in one OFD namespace"):
        vault_maker().make(lic, annotation())
