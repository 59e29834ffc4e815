"""Red team pdf13 (p13-01, p13-02, p13-04, p13-06, p13-08): a new object that a rule for
additions judges in one role (an empty signature field listed in the form's /Fields or in
the signed page's /Annots, a font of a new /DR entry) which the final file ALSO uses in
another: as the page the page-tree node now lists. Round 12's walk of what later
revisions bring in stopped at any object a rule for additions had judged, so the new
page, and whatever it carries (a print-only stamp, new content, a text field, a pop-up
note), was never looked at.

Each function takes a sealed license (:func:`tests.helpers.licenses.sealed_license`, or
:func:`sealed_visible_license` for the /DR case) and returns the forgery.
"""

from __future__ import annotations

import functools
from typing import Any

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name

from signing.seal import PadesLevel, SealAppearance
from tests.helpers.licenses import (
    BLANK_BOX,
    ISSUER,
    LINE_BOX,
    SIGNED_TEXT,
    first_page,
    form_xobject,
    incremental,
    license_pdf,
    line_appearance,
    line_content,
    numbers,
    written,
)
from tests.helpers.pki import sealer

__all__ = [
    "listed_spare_page",
    "page_as_annots_entry",
    "page_as_dr_font",
    "page_as_field",
    "page_as_field_sharing_annots",
    "page_as_field_with_text_field",
    "sealed_spare_page",
    "sealed_visible_license",
]


@functools.cache
def sealed_visible_license() -> bytes:
    """:func:`license_pdf` sealed by the issuer at B-LT with a visible seal on blank space
    (its widget has an appearance stream, so the form's /DR may gain entries)."""
    from pyhanko.stamp import TextStampStyle

    style = TextStampStyle(stamp_text="Sealed: %(signer)s")
    return sealer(ISSUER).seal(
        license_pdf(),
        level=PadesLevel.B_LT,
        reason="issued",
        location="Fuzhou",
        appearance=SealAppearance(style=style, box=BLANK_BOX),
    )


def _print_only_stamp(writer: Any) -> generic.IndirectObject:
    """A /Stamp over the holder's line, /F 36 (Print|NoView): only a printout shows it."""
    return writer.add_object(
        generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/Annot"),
                pdf_name("/Subtype"): pdf_name("/Stamp"),
                pdf_name("/F"): generic.NumberObject(36),
                pdf_name("/Rect"): numbers(*LINE_BOX),
                pdf_name("/AP"): generic.DictionaryObject(
                    {pdf_name("/N"): line_appearance(writer)}
                ),
            }
        )
    )


def _new_page(writer: Any, annots: generic.PdfObject, **extra: generic.PdfObject) -> Any:
    """A new page object (added to the update): the signed page's entries, /Annots
    ``annots`` and ``extra`` entries. Returns its reference."""
    _, page = first_page(writer)
    copy = generic.DictionaryObject({k: page.raw_get(k) for k in page})
    copy[pdf_name("/Annots")] = annots
    copy.update({pdf_name("/" + k): v for k, v in extra.items()})
    return writer.add_object(copy)


def _signed_annots(writer: Any) -> list[Any]:
    _, page = first_page(writer)
    return list(page.get("/Annots") or [])


def _kids_to(writer: Any, page_ref: Any) -> None:
    """The page-tree node lists ``page_ref`` instead of the signed page."""
    pages_ref = writer.root.raw_get("/Pages")
    pages_ref.get_object()[pdf_name("/Kids")] = generic.ArrayObject([page_ref])
    writer.mark_update(pages_ref)


def _form(writer: Any) -> Any:
    """The form dictionary, marked for the update."""
    form_ref = writer.root.raw_get("/AcroForm")
    if isinstance(form_ref, generic.IndirectObject):
        writer.mark_update(form_ref)
        return form_ref.get_object()
    writer.update_root()
    return form_ref


def _list_as_field(writer: Any, ref: Any) -> None:
    form = _form(writer)
    fields = form.raw_get("/Fields")
    if isinstance(fields, generic.IndirectObject):
        fields.get_object().append(ref)
        writer.mark_update(fields)
    else:
        form[pdf_name("/Fields")] = generic.ArrayObject([*fields, ref])


def page_as_field(sealed: bytes) -> bytes:
    """p13-01: a new page (the signed page's copy plus a print-only stamp over the
    holder's line) that is also a valueless signature field (/FT /Sig) listed in the
    form's /Fields, and that the page-tree node lists instead of the signed page."""
    w = incremental(sealed)
    annots = generic.ArrayObject([*_signed_annots(w), _print_only_stamp(w)])
    page = _new_page(w, annots, FT=pdf_name("/Sig"))
    _list_as_field(w, page)
    _kids_to(w, page)
    return written(w)


def page_as_field_with_text_field(sealed: bytes) -> bytes:
    """p13-02: the laundered page of :func:`page_as_field` carrying a text field whose
    value pdf.js shows (blank appearance) and an open pop-up note."""
    w = incremental(sealed)
    x1, y1, x2, y2 = LINE_BOX
    text_field = w.add_object(
        generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/Annot"),
                pdf_name("/Subtype"): pdf_name("/Widget"),
                pdf_name("/FT"): pdf_name("/Tx"),
                pdf_name("/T"): generic.TextStringObject("status"),
                pdf_name("/V"): generic.TextStringObject("Status: REVOKED"),
                pdf_name("/F"): generic.NumberObject(4),
                pdf_name("/Rect"): numbers(*LINE_BOX),
                pdf_name("/AP"): generic.DictionaryObject(
                    {pdf_name("/N"): form_xobject(w, b"", box=(0, 0, x2 - x1, y2 - y1))}
                ),
            }
        )
    )
    square = w.add_object(
        generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/Annot"),
                pdf_name("/Subtype"): pdf_name("/Square"),
                pdf_name("/F"): generic.NumberObject(4),
                pdf_name("/Rect"): numbers(300, 600, 301, 601),
                pdf_name("/Contents"): generic.TextStringObject("revoked on 2026-12-01"),
            }
        )
    )
    popup = w.add_object(
        generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/Annot"),
                pdf_name("/Subtype"): pdf_name("/Popup"),
                pdf_name("/Parent"): square,
                pdf_name("/Open"): generic.BooleanObject(True),
                pdf_name("/Rect"): numbers(300, 500, 560, 640),
            }
        )
    )
    square.get_object()[pdf_name("/Popup")] = popup
    annots = generic.ArrayObject([*_signed_annots(w), text_field, square])
    page = _new_page(w, annots, FT=pdf_name("/Sig"))
    _list_as_field(w, page)
    _kids_to(w, page)
    return written(w)


def page_as_annots_entry(sealed: bytes) -> bytes:
    """p13-08: the laundered page (/FT /Sig, no /Rect, no /V) is appended to the SIGNED
    page's /Annots instead of /Fields; the page-tree node lists it."""
    w = incremental(sealed)
    page_ref, signed_page = first_page(w)
    annots = generic.ArrayObject([*_signed_annots(w), _print_only_stamp(w)])
    page = _new_page(w, annots, FT=pdf_name("/Sig"))
    signed_page[pdf_name("/Annots")] = generic.ArrayObject([*_signed_annots(w), page])
    w.mark_update(page_ref)
    _kids_to(w, page)
    return written(w)


def page_as_dr_font(sealed: bytes) -> bytes:
    """p13-04 (base :func:`sealed_visible_license`): the form gains ``/DR << /Font << /Z
    page >> >>`` naming a new page that the page-tree node lists, with a print-only
    stamp."""
    w = incremental(sealed)
    annots = generic.ArrayObject([*_signed_annots(w), _print_only_stamp(w)])
    page = _new_page(w, annots)
    form = _form(w)
    form[pdf_name("/DR")] = generic.DictionaryObject(
        {pdf_name("/Font"): generic.DictionaryObject({pdf_name("/Z"): page})}
    )
    _kids_to(w, page)
    return written(w)


def page_as_field_sharing_annots(sealed: bytes) -> bytes:
    """p13-06: the signed page and the laundered page (a /Fields entry with /FT /Sig)
    share one new indirect /Annots array holding the signed entries, so that a later
    signature's widget appended to it (the vault's certified copy) counts as added to the
    signed page. The laundered page draws a new content stream (the same drawing: what a
    reader extracts from it could be anything)."""
    w = incremental(sealed)
    page_ref, signed_page = first_page(w)
    shared = w.add_object(generic.ArrayObject(_signed_annots(w)))
    content = signed_page["/Contents"]
    drawing = content.data if isinstance(content, generic.StreamObject) else b""
    new_content = w.add_object(generic.StreamObject(stream_data=drawing))
    page = _new_page(w, shared, FT=pdf_name("/Sig"), Contents=new_content)
    signed_page[pdf_name("/Annots")] = shared
    w.mark_update(page_ref)
    _list_as_field(w, page)
    _kids_to(w, page)
    return written(w)


@functools.cache
def sealed_spare_page() -> bytes:
    """A license prepared before signing with a spare page object that no page tree lists
    (the catalog's ``/Spare`` names it: the signed walk reaches it, but not as a page): a
    copy of the license page whose /Annots hold a print-only stamp with the forged line.
    Sealed by the issuer at B-LT (cached)."""
    from pyhanko.pdf_utils.writer import PdfFileWriter

    writer = PdfFileWriter(stream_xrefs=True)
    font = writer.add_object(
        generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/Font"),
                pdf_name("/Subtype"): pdf_name("/Type1"),
                pdf_name("/BaseFont"): pdf_name("/Helvetica"),
            }
        )
    )
    resources = generic.DictionaryObject(
        {pdf_name("/Font"): generic.DictionaryObject({pdf_name("/F1"): font})}
    )
    content = writer.add_object(generic.StreamObject(stream_data=line_content(SIGNED_TEXT)))
    page = generic.DictionaryObject(
        {
            pdf_name("/Type"): pdf_name("/Page"),
            pdf_name("/MediaBox"): numbers(0, 0, 595, 842),
            pdf_name("/Resources"): resources,
            pdf_name("/Contents"): content,
        }
    )
    writer.insert_page(page)
    spare = generic.DictionaryObject({k: page.raw_get(k) for k in page})
    spare[pdf_name("/Parent")] = writer.root.raw_get("/Pages")
    spare[pdf_name("/Annots")] = generic.ArrayObject([_print_only_stamp(writer)])
    writer.root[pdf_name("/Spare")] = writer.add_object(spare)
    return sealer(ISSUER).seal(written(writer), level=PadesLevel.B_LT, reason="issued")


def listed_spare_page(sealed: bytes) -> bytes:
    """(base :func:`sealed_spare_page`) The page-tree node lists the spare page instead of
    the signed one: a signed object, unchanged, that the final file uses as a page."""
    w = incremental(sealed)
    _kids_to(w, w.root.raw_get("/Spare"))
    return written(w)
