"""Red team pdf11, p11-11: what a reader extracts from a license besides its pixels.

The attacker rewrote the signed font's /ToUnicode after sealing: every viewer draws 张三,
and every text layer (copy and paste, search, a screen reader, pdftotext, a system that
reads the license's text) says 李四. The pixels did not change, so the change was
"undefined, no visible effect": TOTAL_PASSED with a warning, and intake accepted it.
pyHanko's own difference analysis rejects the file.

Each case here changes only what a reader extracts (the pixels of both renderers stay
the same) and must not pass, nor get into the vault: a /ToUnicode map added to the
signed font, the signed line wrapped in /ActualText, invisible text (render mode 3) added,
the document's /Lang changed, a structure tree whose /Alt text a screen reader speaks.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name

from schemas.report import ChangeCategory, Indication
from signing.verify import Verifier
from tests.helpers.intake_rules import check_as_issuer
from tests.helpers.licenses import (
    ISSUER,
    catalog_update,
    content_ref,
    first_page,
    incremental,
    redefine,
    sealed_license,
    written,
)
from tests.helpers.pki import demo_trust_bundle
from vault.errors import IntakeRefused

# 'Z' -> 'L', 'H' -> 'I': "ZHANG SAN" reads "LIANG SAN" in every text layer.
_REMAP = b"""/CIDInit /ProcSet findresource begin 12 dict begin begincmap
/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def
/CMapName /Adobe-Identity-UCS def /CMapType 2 def
1 begincodespacerange <00> <FF> endcodespacerange
1 beginbfrange <20> <7E> <0020> endbfrange
2 beginbfchar <5A> <004C> <48> <0049> endbfchar
endcmap CMapName currentdict /CMap defineresource pop end end"""


def _font_ref(writer: Any) -> generic.IndirectObject:
    _, page = first_page(writer)
    return page["/Resources"]["/Font"].raw_get("/F1")


def tounicode_remapped(sealed: bytes) -> bytes:
    """The signed Helvetica given a /ToUnicode map that says Z is L and H is I."""
    w = incremental(sealed)
    ref = _font_ref(w)
    font = ref.get_object()
    new = generic.DictionaryObject({k: font.raw_get(k) for k in font})
    new[pdf_name("/ToUnicode")] = w.add_object(generic.StreamObject(stream_data=_REMAP))
    redefine(w, ref, new)
    return written(w)


def _content(sealed: bytes, change: Any) -> bytes:
    w = incremental(sealed)
    ref = content_ref(w)
    stream = ref.get_object()
    redefine(w, ref, generic.StreamObject(stream_data=change(stream.data)))
    return written(w)


def actual_text(sealed: bytes) -> bytes:
    """The signed content wrapped in a span whose /ActualText is another holder."""
    return _content(
        sealed,
        lambda data: (
            b"/Span << /ActualText (holder: LI SI  No. 2024-0001) >> BDC\n" + data + b"\nEMC"
        ),
    )


def invisible_text(sealed: bytes) -> bytes:
    """Text drawn in render mode 3 (invisible) added to the signed content."""
    return _content(
        sealed, lambda data: data + b"\nBT 3 Tr /F1 18 Tf 72 700 Td (REVOKED: LI SI) Tj ET"
    )


def language(sealed: bytes) -> bytes:
    """The document's /Lang set after signing (a screen reader's voice and words)."""
    return catalog_update(sealed, Lang=generic.TextStringObject("de-DE"))


def structure_alt(sealed: bytes) -> bytes:
    """A structure tree added after signing whose figure's /Alt a screen reader speaks
    for the page (tagged reading: /MarkInfo /Marked true)."""

    def tree(w: Any) -> Any:
        page_ref, _ = first_page(w)
        root = w.add_object(
            generic.DictionaryObject({pdf_name("/Type"): pdf_name("/StructTreeRoot")})
        )
        elem = generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/StructElem"),
                pdf_name("/S"): pdf_name("/Figure"),
                pdf_name("/P"): root,
                pdf_name("/Pg"): page_ref,
                pdf_name("/Alt"): generic.TextStringObject("holder: LI SI, license revoked"),
            }
        )
        root.get_object()[pdf_name("/K")] = w.add_object(elem)
        return root

    return catalog_update(
        sealed,
        StructTreeRoot=tree,
        MarkInfo=generic.DictionaryObject({pdf_name("/Marked"): generic.BooleanObject(True)}),
    )


CASES = {
    "tounicode": tounicode_remapped,
    "actualtext": actual_text,
    "invisible": invisible_text,
    "lang": language,
    "structure-alt": structure_alt,
}


@pytest.fixture(scope="module")
def verifier() -> Verifier:
    return Verifier(demo_trust_bundle())


def test_the_sealed_license_passes_and_is_accepted(verifier: Verifier) -> None:
    report = verifier.verify(sealed_license())
    assert report.indication is Indication.TOTAL_PASSED, report.reasons
    check_as_issuer(report, ISSUER)


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_text_layer_changed_after_signing_does_not_pass(verifier: Verifier, name: str) -> None:
    forged = CASES[name](sealed_license())
    report = verifier.verify(forged)
    seal = next(s for s in report.signatures if s.signer_credit_code == ISSUER)
    assert seal.intact
    assert seal.modified_after_signing, (seal.changes, seal.warnings, seal.visual_check)
    assert report.indication is not Indication.TOTAL_PASSED
    with pytest.raises(IntakeRefused):
        check_as_issuer(report, ISSUER)


def test_a_fonts_text_map_is_never_rewritten(verifier: Verifier) -> None:
    """Besides the text comparison (which needs pdfium to read the map as others do), a
    signed font's /ToUnicode changed is refused by key, whatever any renderer reads."""
    report = verifier.verify(tounicode_remapped(sealed_license()))
    seal = next(s for s in report.signatures if s.signer_credit_code == ISSUER)
    assert ChangeCategory.FORBIDDEN in seal.changes, (seal.changes, seal.reasons)


def test_poppler_words_leave_a_later_widget_on_blank_space_out() -> None:
    """poppler's words (``pdftotext -bbox``) include what a widget draws: the vault's
    certified copy adds its 加注 words, which count only outside the widget allowed on
    blank space; pdfium's text page leaves annotations out altogether."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    from signing._verify import visual
    from tests.helpers.forgeries import certified_copy

    sealed = sealed_license()
    copy = certified_copy(sealed)
    page = PdfFileReader(io.BytesIO(copy), strict=False).root["/Pages"]["/Kids"][0]
    annots = [a.get_object() for a in page["/Annots"]]
    boxes = [[float(v) for v in a["/Rect"]] for a in annots if a.get("/FT") == "/Sig"]
    rects = [visual.Rect(*b) for b in boxes if b[0] < b[2] and b[1] < b[3]]  # visible ones
    assert len(rects) == 1
    allowed = visual.compare_revisions(sealed, copy, allowed=[(0, rects[0])])
    assert allowed.identical, (allowed.differences, allowed.text_differences)
    anywhere = visual.compare_revisions(sealed, copy)
    assert anywhere.text_differences == (0,)
