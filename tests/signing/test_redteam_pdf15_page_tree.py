"""Red team pdf15, s03/s04: a page tree that viewers read differently.

One update makes the catalog the page-tree root (``/Pages`` pointing at itself, ``/Kids
[2 0 R <a page written directly>]``, ``/Count 1``) and gives the signed root node
``/Count 0``: pdfium and poppler walk to the signed page and stop there, so the pixels and
text layers compared are the signed ones; pdf.js skips the node whose ``/Count`` is 0 and
shows the directly written page, with a red "Status: REVOKED". It passed TOTAL_PASSED with
one warning and intake accepted it. A page tree changed after signing must now be well
formed: referenced kids, true counts.
"""

from __future__ import annotations

import pytest

from schemas.report import Indication
from signing.verify import Verifier
from tests.helpers.licenses import sealed_license
from tests.helpers.pki import demo_trust_bundle
from tests.helpers.rawpdf import append_update

_FREE_TEXT = (
    b"<< /Type /Annot /Subtype /FreeText /Rect [70 634 560 660] /F 4 /BS << /W 0 >> "
    b"/DA (/Helv 14 Tf 1 0 0 rg) /Contents (Status: REVOKED 2026-12-01) >>"
)
_DIRECT_PAGE = b"<< /Type /Page /MediaBox [0 0 595 842] /Annots [ " + _FREE_TEXT + b" ] >>"


def _catalog(sealed: bytes) -> bytes:
    at = sealed.rfind(b"\n1 0 obj")
    body = sealed[at : sealed.find(b"endobj", at)].split(b"obj", 1)[1].strip()
    assert body.endswith(b">>") and b"/Pages 2 0 R" in body
    return body[:-2]


def _forged(kids_extra: bytes, root_count: bytes, node_count: bytes) -> bytes:
    sealed = sealed_license()
    catalog = _catalog(sealed).replace(b"/Pages 2 0 R", b"/Pages 1 0 R")
    catalog += b" /Kids [2 0 R " + kids_extra + b"] /Count " + root_count + b" >>"
    node = b"<< /Type /Pages /Kids [5 0 R] /Count " + node_count + b" >>"
    return append_update(sealed, {1: catalog, 2: node})


@pytest.mark.parametrize(
    ("case", "forged"),
    [
        ("s04: the catalog as root, a direct page, node /Count 0", (_DIRECT_PAGE, b"1", b"0")),
        ("the catalog as root, counts true", (b"", b"1", b"1")),
        ("a node /Count 0 alone", (b"", b"0", b"0")),
    ],
)
def test_a_page_tree_viewers_read_differently_is_refused(
    case: str, forged: tuple[bytes, bytes, bytes]
) -> None:
    report = Verifier(demo_trust_bundle(), isolation="thread").verify(_forged(*forged))
    assert report.indication is not Indication.TOTAL_PASSED, case
    seal = report.signatures[0]
    assert seal.modified_after_signing, (case, seal.reasons)
    assert any("page tree" in r for r in seal.reasons + report.reasons), (case, seal.reasons)


def test_the_sealed_license_still_passes() -> None:
    report = Verifier(demo_trust_bundle(), isolation="thread").verify(sealed_license())
    assert report.indication is Indication.TOTAL_PASSED
