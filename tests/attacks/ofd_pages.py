"""Pages of the genuine license for the OFD drawing attacks (red teams 6 and 7): the page
content part, the license sealed by the market regulator around a page of the attacker's,
the verdict a drawing forgery must get, and where a passing copy puts its 加注."""

from __future__ import annotations

import datetime as dt
import re

from schemas.report import Indication
from signing.ofd.package import Package
from signing.ofd.writer import NS, sample_ofd, write_package
from tests.attacks.ofd_copy_forge import annotation, vault_maker
from tests.attacks.ofd_forge import GENUINE_LINES, intake_refusal, passes, verify
from tests.helpers.ofd import ofd_parts, ofd_sealer
from tests.helpers.pki import MARKET_DEPT

__all__ = [
    "ONE_PX_PNG",
    "PAGE",
    "annotated_parts",
    "annotation_box",
    "flagged",
    "genuine_page",
    "issued",
    "passing_copy",
]

PAGE = "Doc_0/Pages/Page_0/Content.xml"

ONE_PX_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63f8ffffff7f0009fb03fd2a86e38a0000000049454e44ae426082"
)
"""One opaque white pixel (a PNG every reader decodes: a page background of blank paper)."""


def issued(
    content: bytes | None = None,
    *,
    image: bool = False,
    stamp: tuple[float, ...] = (150, 230, 40, 40),
    page_id: str = "1",
) -> bytes:
    """The genuine license's body (with a 1-pixel image resource when ``image``), its page
    content replaced by ``content``, its page's ID written ``page_id``, sealed by the
    market regulator (its stamp at ``stamp``)."""
    parts = ofd_parts(
        sample_ofd("食品经营许可证", GENUINE_LINES, image=ONE_PX_PNG if image else None)
    )
    if content is not None:
        parts[PAGE] = content
    doc = "Doc_0/Document.xml"
    parts[doc] = parts[doc].replace(b'<ofd:Page ID="1"', f'<ofd:Page ID="{page_id}"'.encode(), 1)
    at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    return ofd_sealer(MARKET_DEPT).seal_ofd(write_package(parts), boundary=stamp, at=at)


def genuine_page() -> bytes:
    return ofd_parts(sample_ofd("食品经营许可证", GENUINE_LINES))[PAGE]


def flagged(data: bytes, why: str = "covers what this signature signed") -> None:
    report = verify(data)
    assert report.indication is Indication.TOTAL_FAILED, report.signatures[0].reasons
    assert why in " ".join(report.signatures[0].reasons), report.signatures[0].reasons
    assert intake_refusal(data) == "modified_after_signing"


def annotation_box(copy: bytes) -> tuple[float, ...]:
    with Package(copy) as pkg:
        part = next(p for p in pkg.paths if p.endswith("EvaultCopy/Annotation.xml"))
        found = re.search(rb'<ofd:Appearance Boundary="([^"]+)"', pkg.read(part))
    assert found is not None
    return tuple(float(v) for v in found.group(1).split())


def passing_copy(lic: bytes) -> tuple[float, ...]:
    """The vault's copy of ``lic`` (a passing license) passes: where its 加注 box is."""
    assert passes(lic)
    copy = vault_maker().make(lic, annotation())
    report = verify(copy)
    assert report.indication is Indication.TOTAL_PASSED, [s.reasons for s in report.signatures]
    return annotation_box(copy)


def annotated_parts(file_loc: str, annot: str) -> dict[str, bytes]:
    """The genuine license's parts (unsealed) with an issuer annotation ``annot`` (one
    ``<ofd:Annot>``) in ofdrw's layout: ``Annots/Annotations.xml`` naming ``file_loc``, the
    annotation part at ``Doc_0/Annots/Page_0/Annotation.xml``."""
    parts = ofd_parts(sample_ofd("食品经营许可证", GENUINE_LINES))
    parts["Doc_0/Document.xml"] = parts["Doc_0/Document.xml"].replace(
        b"</ofd:Document>",
        b"<ofd:Annotations>Annots/Annotations.xml</ofd:Annotations></ofd:Document>",
    )
    parts["Doc_0/Annots/Annotations.xml"] = (
        f'<ofd:Annotations xmlns:ofd="{NS}"><ofd:Page PageID="1">'
        f"<ofd:FileLoc>{file_loc}</ofd:FileLoc></ofd:Page></ofd:Annotations>"
    ).encode()
    parts["Doc_0/Annots/Page_0/Annotation.xml"] = (
        f'<ofd:PageAnnot xmlns:ofd="{NS}">{annot}</ofd:PageAnnot>'
    ).encode()
    return parts
