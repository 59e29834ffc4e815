"""Red team round 10, r10-02: an ApplicationBox (显示区域) put the 加注 and the vault's stamp
off the shown page.

GB/T 33190 table 7 (CT_PageArea): the PhysicalBox is the page's paper; the ApplicationBox,
"页面内容实际显示或打印输出的区域", lies inside it and is what is shown or printed; the
ContentBox (版心) is where the body text goes, inside the ApplicationBox (no reader clips to
it); the BleedBox lies outside the paper, the paper when absent. The issuer's PageArea
``PhysicalBox 0 0 210 297, ApplicationBox 0 0 210 200``: the copy maker put the 加注 and the
vault's stamp at y 247..287, which a viewer or printer honouring the ApplicationBox does not
show, and the copy passed. Now the page area used to place the 加注 and to check it (and
the vault's stamp) is the PhysicalBox cut to every ApplicationBox and BleedBox written for
the page: in its own Area, in its templates', in the document's PageArea (a reader may take
one box from one level and another from another); one that cannot be read makes the page's
area unreadable (the copy refused).
"""

from __future__ import annotations

import datetime as dt

import pytest

from schemas.report import Indication
from signing.errors import SealingError
from signing.ofd.writer import NS, sample_ofd, write_package
from tests.attacks.ofd_copy_forge import (
    add_annotation,
    annotation,
    page_annot,
    seal,
    vault_maker,
    vault_sealer,
    white,
)
from tests.attacks.ofd_forge import GENUINE_LINES, intake_refusal, passes, verify
from tests.attacks.ofd_pages import PAGE, passing_copy
from tests.helpers.ofd import ofd_parts, ofd_sealer
from tests.helpers.pki import MARKET_DEPT

DOC = "Doc_0/Document.xml"
PHYSICAL = b"<ofd:PhysicalBox>0 0 210 297</ofd:PhysicalBox>"
STAMP = (150.0, 140.0, 40.0, 40.0)
"""The issuer's stamp, inside the top 200 mm."""


def _license(
    *, document: bytes = b"", page: bytes | None = None, template: bytes | None = None
) -> bytes:
    """The genuine license with ``document`` after the document's PhysicalBox, the page's
    own Area ``page`` and a template (under the page) whose Area is ``template``, sealed
    by the market regulator (its stamp at :data:`STAMP`)."""
    parts = ofd_parts(sample_ofd("食品经营许可证", GENUINE_LINES))
    assert PHYSICAL in parts[DOC]
    parts[DOC] = parts[DOC].replace(PHYSICAL, PHYSICAL + document, 1)
    if page is not None:
        parts[PAGE] = parts[PAGE].replace(
            b"<ofd:Content>", b"<ofd:Area>" + page + b"</ofd:Area><ofd:Content>", 1
        )
    if template is not None:
        parts[DOC] = parts[DOC].replace(
            b"</ofd:CommonData>",
            b'<ofd:TemplatePage ID="900" BaseLoc="Tpls/Tpl_0/Content.xml"/></ofd:CommonData>',
        )
        parts["Doc_0/Tpls/Tpl_0/Content.xml"] = (
            f'<ofd:Page xmlns:ofd="{NS}"><ofd:Area>{template.decode()}</ofd:Area>'
            '<ofd:Content><ofd:Layer ID="901"/></ofd:Content></ofd:Page>'
        ).encode()
        parts[PAGE] = parts[PAGE].replace(
            b"<ofd:Content>", b'<ofd:Template TemplateID="900"/><ofd:Content>', 1
        )
    at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    return ofd_sealer(MARKET_DEPT).seal_ofd(write_package(parts), boundary=STAMP, at=at)


APP_200 = b"<ofd:ApplicationBox>0 0 210 200</ofd:ApplicationBox>"
CASES = {
    "document": {"document": APP_200},
    "document-bleed": {"document": b"<ofd:BleedBox>0 0 210 200</ofd:BleedBox>"},
    "page": {"page": PHYSICAL + APP_200},
    "page-physical-document-application": {"page": PHYSICAL, "document": APP_200},
    "template": {"template": PHYSICAL + APP_200},
}


@pytest.mark.parametrize("where", list(CASES))
def test_the_copy_keeps_to_the_shown_area(where: str) -> None:
    """The attacker's r10_02 (``document``) and the same box written elsewhere: the 加注
    (and the vault's stamp, on it) lie in the top 200 mm, and the copy passes."""
    lic = _license(**CASES[where])
    _, y, _, h = passing_copy(lic)
    assert y + h <= 200


def test_an_application_box_with_margins_holds_the_copy() -> None:
    """Word's layout (corpus sign-DigitalSign.ofd): the ApplicationBox is the page less its
    margins; the 加注 keeps 10 mm inside it."""
    lic = _license(document=b"<ofd:ApplicationBox>31.7 25.4 146.6 246.2</ofd:ApplicationBox>")
    x, y, _, h = passing_copy(lic)
    assert x >= 31.7 + 10 - 1e-6 and y + h <= 25.4 + 246.2 - 10 + 1e-6


@pytest.mark.parametrize("where", list(CASES))
def test_a_later_annotation_off_the_shown_area_is_flagged(where: str) -> None:
    """The vault's seal (misused) over an annotation at y 250..262, below the 200 mm a
    reader honouring the box shows."""
    lic = _license(**CASES[where])
    assert passes(lic)
    forged = seal(
        add_annotation(lic, page_annot("20 250 170 12", white((0, 0, 1, 1)))),
        vault_sealer(),
        box=(60, 150, 30, 30),
    )
    report = verify(forged)
    assert report.indication is Indication.TOTAL_FAILED
    reasons = " ".join(report.signatures[0].reasons)
    assert "lies outside the page" in reasons, reasons
    assert intake_refusal(forged) is not None


@pytest.mark.parametrize(
    "box", [b"0 0 210", b"0 0 210 0", b"0 0 210 nan", b""], ids=["three", "empty", "nan", "blank"]
)
def test_an_unreadable_application_box_is_refused(box: bytes) -> None:
    lic = _license(document=b"<ofd:ApplicationBox>" + box + b"</ofd:ApplicationBox>")
    with pytest.raises(SealingError, match="the size of page 1 cannot be read"):
        vault_maker().make(lic, annotation())
    forged = seal(
        add_annotation(lic, page_annot("20 150 100 12", white((0, 0, 1, 1)))),
        vault_sealer(),
        box=(60, 150, 30, 30),
    )
    assert not passes(forged)


def test_a_content_box_does_not_cut_the_page() -> None:
    """The 版心 is where the body goes, inside the shown area; readers show the page
    around it (headers, footers): the 加注 may lie outside it."""
    lic = _license(document=b"<ofd:ContentBox>20 20 170 100</ofd:ContentBox>")
    _, y, _, _ = passing_copy(lic)
    assert y > 120


@pytest.mark.parametrize(
    ("document", "page"),
    [
        (b"<ofd:PhysicalBox>0 0 210 200</ofd:PhysicalBox>", None),
        (APP_200 + APP_200, None),
        (b"", PHYSICAL + b"<ofd:PhysicalBox>0 0 210 200</ofd:PhysicalBox>"),
        (b"", b"</ofd:Area><ofd:Area>" + PHYSICAL),
    ],
    ids=["two-physical", "two-application", "page-two-physical", "page-two-areas"],
)
def test_a_page_box_written_twice_is_refused(document: bytes, page: bytes | None) -> None:
    """Readers differ on which of two boxes (or page Areas) they read: the page's size is
    not known (the class of r10-02, with r10-05's rule)."""
    lic = _license(document=document, page=page if page is None else PHYSICAL + page)
    report = verify(lic)
    assert report.indication is Indication.TOTAL_FAILED
    reasons = " ".join(report.signatures[0].reasons)
    assert "readers differ on which one they read" in reasons, reasons
