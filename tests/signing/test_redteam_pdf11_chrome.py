"""Red team pdf11, p11-15: what a viewer shows beside the page, changed after signing.

The attacker added a bookmark titled "持证人 李四 本证已注销 REVOKED", made the file open
with the bookmark pane, and gave the page that label: no pixel of the page changed, so
the catalog's new keys were "undefined, no visible effect": TOTAL_PASSED with a warning,
and intake accepted it. pyHanko's difference analysis rejects it.

Every catalog or page entry a viewer shows beside the page, acts on when the file opens,
or a screen reader speaks by is judged by key (signing/_verify/readable.py): a change of
any of them after signing is never permitted, whatever the pages look like. The bookmark
tree of a signed file is judged object by object the same way: retitling a signed
bookmark is refused too.
"""

from __future__ import annotations

import functools
from typing import Any

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name

from schemas.report import Indication
from signing.seal import PadesLevel
from signing.verify import Verifier
from tests.helpers.intake_rules import check_as_issuer
from tests.helpers.licenses import (
    ISSUER,
    catalog_update,
    first_page,
    incremental,
    license_pdf,
    sealed_license,
    written,
)
from tests.helpers.pki import demo_trust_bundle, sealer
from vault.errors import IntakeRefused

REVOKED = "持证人 李四 本证已注销 REVOKED"


def _outline(w: Any, title: str) -> Any:
    """An outline with one item, titled ``title``, going to the first page."""
    page_ref, _ = first_page(w)
    root = w.add_object(generic.DictionaryObject({pdf_name("/Type"): pdf_name("/Outlines")}))
    item = w.add_object(
        generic.DictionaryObject(
            {
                pdf_name("/Title"): generic.TextStringObject(title),
                pdf_name("/Parent"): root,
                pdf_name("/Dest"): generic.ArrayObject([page_ref, pdf_name("/Fit")]),
            }
        )
    )
    outlines = root.get_object()
    outlines[pdf_name("/First")] = item
    outlines[pdf_name("/Last")] = item
    outlines[pdf_name("/Count")] = generic.NumberObject(1)
    return root


def _labels(text: str) -> generic.DictionaryObject:
    label = generic.DictionaryObject({pdf_name("/P"): generic.TextStringObject(text)})
    return generic.DictionaryObject(
        {pdf_name("/Nums"): generic.ArrayObject([generic.NumberObject(0), label])}
    )


def outlines_added(sealed: bytes) -> bytes:
    """The attacker's file: a bookmark, the pane opened on it, the page labelled."""
    return catalog_update(
        sealed,
        Outlines=lambda w: _outline(w, REVOKED),
        PageMode=pdf_name("/UseOutlines"),
        PageLabels=_labels(REVOKED + " "),
    )


def page_labels(sealed: bytes) -> bytes:
    return catalog_update(sealed, PageLabels=_labels("REVOKED "))


def page_mode(sealed: bytes) -> bytes:
    """The file opens on its attachment pane."""
    return catalog_update(sealed, PageMode=pdf_name("/UseAttachments"))


def window_title(sealed: bytes) -> bytes:
    """The viewer is asked to show the document's title (from /Info) as its window title."""
    prefs = generic.DictionaryObject({pdf_name("/DisplayDocTitle"): generic.BooleanObject(True)})
    return catalog_update(sealed, ViewerPreferences=prefs)


def thumbnail(sealed: bytes) -> bytes:
    """An embedded page thumbnail (the thumbnail pane of viewers that read it)."""
    w = incremental(sealed)
    page_ref, page = first_page(w)
    image = generic.StreamObject(
        {
            pdf_name("/Width"): generic.NumberObject(1),
            pdf_name("/Height"): generic.NumberObject(1),
            pdf_name("/ColorSpace"): pdf_name("/DeviceGray"),
            pdf_name("/BitsPerComponent"): generic.NumberObject(8),
        },
        stream_data=b"\x00",
    )
    page[pdf_name("/Thumb")] = w.add_object(image)
    w.mark_update(page_ref)
    return written(w)


@functools.cache
def sealed_with_outline() -> bytes:
    """A license whose issuer signed a bookmark ("holder ZHANG SAN")."""
    w = incremental(license_pdf())
    w.root[pdf_name("/Outlines")] = _outline(w, "holder ZHANG SAN")
    w.update_root()
    return sealer(ISSUER).seal(written(w), level=PadesLevel.B_LT, reason="issued")


def outline_retitled(sealed: bytes) -> bytes:
    """The signed bookmark's title rewritten in place (the catalog unchanged)."""
    w = incremental(sealed)
    item_ref = w.root["/Outlines"].raw_get("/First")
    item = item_ref.get_object()
    item[pdf_name("/Title")] = generic.TextStringObject(REVOKED)
    w.mark_update(item_ref)
    return written(w)


CASES = {
    "outlines-pagemode-labels": (sealed_license, outlines_added),
    "page-labels": (sealed_license, page_labels),
    "page-mode": (sealed_license, page_mode),
    "window-title": (sealed_license, window_title),
    "thumbnail": (sealed_license, thumbnail),
    "outline-retitled": (sealed_with_outline, outline_retitled),
}


@pytest.fixture(scope="module")
def verifier() -> Verifier:
    return Verifier(demo_trust_bundle())


@pytest.mark.parametrize("base", [sealed_license, sealed_with_outline])
def test_the_bases_pass(verifier: Verifier, base: Any) -> None:
    report = verifier.verify(base())
    assert report.indication is Indication.TOTAL_PASSED, report.reasons


@pytest.mark.parametrize("name", sorted(CASES))
def test_what_a_viewer_shows_beside_the_page_is_signed(verifier: Verifier, name: str) -> None:
    base, forge = CASES[name]
    report = verifier.verify(forge(base()))
    seal = next(s for s in report.signatures if s.signer_credit_code == ISSUER)
    assert seal.intact
    assert seal.modified_after_signing, (seal.changes, seal.warnings)
    assert report.indication is not Indication.TOTAL_PASSED
    with pytest.raises(IntakeRefused):
        check_as_issuer(report, ISSUER)
