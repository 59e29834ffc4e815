"""Red team pdf12 (p12-01..p12-03): an update after the seal that changes a page, a
page-tree node, the catalog's /Pages or the form's /Fields so that they name objects the
signed revision does not have: a new page object, new content, new resources, new
annotations, a new field. Each forgery keeps the pixels of both renderers at 72 dpi and
both text layers as signed; what a viewer shows besides them (a printout, pdf.js's text
layer, an HTML form field, a pop-up note, a page-open script) is what the issuer never
signed.

Each function takes :func:`tests.helpers.licenses.sealed_license` (one page, object 5,
content 4, Helvetica 3, the seal's widget in the page's /Annots) and returns the forgery.
"""

from __future__ import annotations

from typing import Any

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name

from tests.helpers.licenses import (
    LINE_BOX,
    first_page,
    form_xobject,
    incremental,
    line_appearance,
    numbers,
    redefine,
    written,
)

__all__ = [
    "empty_signature_field_with_script",
    "field_added_with_script",
    "new_page_copy",
    "new_page_open_popup",
    "new_page_open_script",
    "new_page_print_only",
    "new_page_text_field",
    "new_page_tree_print_only",
    "page_content_replaced",
    "page_group_added",
]

#: Codes Z, H, A, N, G read as L, I, space, S, I: pdf.js, which ignores /ActualText,
#: reads "ZHANG" as "LI SI".
_LI_SI = b"""/CIDInit /ProcSet findresource begin 12 dict begin begincmap
/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def
/CMapName /Adobe-Identity-UCS def /CMapType 2 def
1 begincodespacerange <00> <FF> endcodespacerange
1 beginbfrange <20> <7E> <0020> endbfrange
5 beginbfchar <5A> <004C> <48> <0049> <41> <0020> <4E> <0053> <47> <0049> endbfchar
endcmap CMapName currentdict /CMap defineresource pop end end"""


def _name(key: str) -> generic.NameObject:
    return pdf_name("/" + key)


def _annotation(writer: Any, **entries: generic.PdfObject) -> generic.IndirectObject:
    body = generic.DictionaryObject({pdf_name("/Type"): pdf_name("/Annot")})
    body.update({_name(k): v for k, v in entries.items()})
    return writer.add_object(body)


def _copy_of_page(writer: Any, *annots: generic.IndirectObject, **extra: Any) -> Any:
    """A new page object: the signed page's entries (same /Contents, /Resources), its
    /Annots plus ``annots``, and ``extra`` entries."""
    _, page = first_page(writer)
    copy = generic.DictionaryObject({k: page.raw_get(k) for k in page})
    signed = page.get("/Annots") or generic.ArrayObject()
    copy[pdf_name("/Annots")] = generic.ArrayObject([*signed, *annots])
    copy.update({_name(k): v for k, v in extra.items()})
    return copy


def _kids_to(writer: Any, page: Any) -> bytes:
    """The page-tree node (object 2) rewritten to list the new ``page`` instead of the
    signed one."""
    new_ref = writer.add_object(page)
    pages_ref = writer.root.raw_get("/Pages")
    node = pages_ref.get_object()
    node[pdf_name("/Kids")] = generic.ArrayObject([new_ref])
    writer.mark_update(pages_ref)
    return written(writer)


def _print_only_stamp(writer: Any) -> generic.IndirectObject:
    """A /Stamp over the holder's line, /F 36 (Print|NoView): only a printout shows it."""
    return _annotation(
        writer,
        Subtype=pdf_name("/Stamp"),
        F=generic.NumberObject(36),
        Rect=numbers(*LINE_BOX),
        AP=generic.DictionaryObject({pdf_name("/N"): line_appearance(writer)}),
    )


def new_page_print_only(sealed: bytes) -> bytes:
    """p12-01: the page-tree node lists a new page object, a copy of the signed page whose
    /Annots add a print-only stamp with the forged line: every printout shows it, no
    screen rendering does."""
    w = incremental(sealed)
    return _kids_to(w, _copy_of_page(w, _print_only_stamp(w)))


def new_page_tree_print_only(sealed: bytes) -> bytes:
    """p12-01 through the catalog: /Pages names a new page-tree node, whose one kid is a
    new page with the print-only stamp."""
    w = incremental(sealed)
    page = _copy_of_page(w, _print_only_stamp(w))
    page_ref = w.add_object(page)
    node = w.add_object(
        generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/Pages"),
                pdf_name("/Kids"): generic.ArrayObject([page_ref]),
                pdf_name("/Count"): generic.NumberObject(1),
            }
        )
    )
    page[pdf_name("/Parent")] = node
    w.root[pdf_name("/Pages")] = node
    w.update_root()
    return written(w)


def new_page_copy(sealed: bytes) -> bytes:
    """The page-tree node lists a new page object that is an exact copy of the signed one:
    nothing a reader sees changes, but the page is no longer the signed object (pyHanko
    refuses this too)."""
    w = incremental(sealed)
    return _kids_to(w, _copy_of_page(w))


def new_page_text_field(sealed: bytes) -> bytes:
    """p12-03 (a): the new page adds a text-field widget over the holder's line whose
    appearance is blank and whose /V is the forged line: pdfium and poppler draw the
    blank appearance, pdf.js (forms enabled, Firefox's default) an input showing /V."""
    w = incremental(sealed)
    x1, y1, x2, y2 = LINE_BOX
    widget = _annotation(
        w,
        Subtype=pdf_name("/Widget"),
        FT=pdf_name("/Tx"),
        T=generic.TextStringObject("holder"),
        V=generic.TextStringObject("holder: LI SI  No. 2024-0001"),
        F=generic.NumberObject(4),
        Rect=numbers(*LINE_BOX),
        DA=generic.TextStringObject("/Helv 18 Tf 0 g"),
        MK=generic.DictionaryObject({pdf_name("/BG"): numbers(1, 1, 1)}),
        AP=generic.DictionaryObject(
            {pdf_name("/N"): form_xobject(w, b"", box=(0, 0, x2 - x1, y2 - y1))}
        ),
    )
    return _kids_to(w, _copy_of_page(w, widget))


def new_page_open_popup(sealed: bytes) -> bytes:
    """p12-03 (b): the new page adds a 1x1 pt /Square that draws nothing, with a note
    (/Contents) and an open /Popup: pdf.js and Acrobat show the note on the page."""
    w = incremental(sealed)
    square = _annotation(
        w,
        Subtype=pdf_name("/Square"),
        F=generic.NumberObject(4),
        Rect=numbers(300, 600, 301, 601),
        Border=numbers(0, 0, 0),
        T=generic.TextStringObject("issuer"),
        Contents=generic.TextStringObject("This license was revoked on 2026-12-01"),
        AP=generic.DictionaryObject({pdf_name("/N"): form_xobject(w, b"", box=(0, 0, 1, 1))}),
    )
    popup = _annotation(
        w,
        Subtype=pdf_name("/Popup"),
        Parent=square,
        Open=generic.BooleanObject(True),
        Rect=numbers(300, 500, 560, 640),
    )
    square.get_object()[pdf_name("/Popup")] = popup
    return _kids_to(w, _copy_of_page(w, square))


def new_page_open_script(sealed: bytes) -> bytes:
    """p12-03 (c): the new page carries a page-open action (/AA /O) running JavaScript:
    Acrobat and Firefox run it when the page opens."""
    w = incremental(sealed)
    action = w.add_object(
        generic.DictionaryObject(
            {
                pdf_name("/S"): pdf_name("/JavaScript"),
                pdf_name("/JS"): generic.TextStringObject("app.alert('license REVOKED');"),
            }
        )
    )
    aa = generic.DictionaryObject({pdf_name("/O"): action})
    return _kids_to(w, _copy_of_page(w, AA=aa))


def page_content_replaced(sealed: bytes) -> bytes:
    """p12-02: the signed page's /Contents and /Resources name new objects. The new
    content draws the signed line, but ZHANG with a new font (the same Helvetica) whose
    /ToUnicode reads it as LI SI, inside a span whose /ActualText says ZHANG: pdfium and
    poppler honour /ActualText (both text layers read as signed, pixels identical),
    pdf.js ignores it and copies, finds and reads aloud "holder: LI SI"."""
    w = incremental(sealed)
    page_ref, page = first_page(w)
    font = page["/Resources"]["/Font"].raw_get("/F1")
    remapped = generic.DictionaryObject(
        {k: font.get_object().raw_get(k) for k in font.get_object()}
    )
    remapped[pdf_name("/ToUnicode")] = w.add_object(generic.StreamObject(stream_data=_LI_SI))
    content = (
        b"BT /F1 18 Tf 72 760 Td (holder: ) Tj "
        b"/F2 18 Tf /Span << /ActualText (ZHANG) >> BDC (ZHANG) Tj EMC "
        b"/F1 18 Tf ( SAN  No. 2024-0001) Tj ET BT /F1 10 Tf 72 60 Td (page 1 of 1) Tj ET"
    )
    new = generic.DictionaryObject({k: page.raw_get(k) for k in page})
    new[pdf_name("/Contents")] = w.add_object(generic.StreamObject(stream_data=content))
    new[pdf_name("/Resources")] = w.add_object(
        generic.DictionaryObject(
            {
                pdf_name("/Font"): generic.DictionaryObject(
                    {pdf_name("/F1"): font, pdf_name("/F2"): w.add_object(remapped)}
                )
            }
        )
    )
    redefine(w, page_ref, new)
    return written(w)


def field_added_with_script(sealed: bytes) -> bytes:
    """The form's /Fields gains a new text field (listed on no page) whose calculate
    action (/AA /C) runs JavaScript: Acrobat runs calculation scripts when the form is
    recalculated."""
    w = incremental(sealed)
    action = w.add_object(
        generic.DictionaryObject(
            {
                pdf_name("/S"): pdf_name("/JavaScript"),
                pdf_name("/JS"): generic.TextStringObject("app.alert('license REVOKED');"),
            }
        )
    )
    field = w.add_object(
        generic.DictionaryObject(
            {
                pdf_name("/FT"): pdf_name("/Tx"),
                pdf_name("/T"): generic.TextStringObject("status"),
                pdf_name("/V"): generic.TextStringObject("REVOKED"),
                pdf_name("/AA"): generic.DictionaryObject({pdf_name("/C"): action}),
            }
        )
    )
    form_ref = w.root.raw_get("/AcroForm")
    form = form_ref.get_object()
    form[pdf_name("/Fields")] = generic.ArrayObject([*form["/Fields"], field])
    w.mark_update(form_ref)
    return written(w)


def page_group_added(sealed: bytes) -> bytes:
    """The signed page object itself (its page-tree node unchanged) given a /Group naming
    a new transparency group dictionary: a page key other than /Annots naming an object
    the signed revision does not have (pyHanko refuses it)."""
    w = incremental(sealed)
    page_ref, page = first_page(w)
    page[pdf_name("/Group")] = w.add_object(
        generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/Group"),
                pdf_name("/S"): pdf_name("/Transparency"),
                pdf_name("/CS"): pdf_name("/DeviceRGB"),
            }
        )
    )
    w.mark_update(page_ref)
    return written(w)


def empty_signature_field_with_script(sealed: bytes) -> bytes:
    """An empty, invisible signature field added to the form and the page (what a
    signing tool prepares) whose widget runs JavaScript when the page opens (/AA /PO):
    a new object's action, which no page comparison sees."""
    w = incremental(sealed)
    page_ref, page = first_page(w)
    action = w.add_object(
        generic.DictionaryObject(
            {
                pdf_name("/S"): pdf_name("/JavaScript"),
                pdf_name("/JS"): generic.TextStringObject("app.alert('license REVOKED');"),
            }
        )
    )
    field = _annotation(
        w,
        Subtype=pdf_name("/Widget"),
        FT=pdf_name("/Sig"),
        T=generic.TextStringObject("Seal2"),
        F=generic.NumberObject(132),
        Rect=numbers(0, 0, 0, 0),
        P=page_ref,
        AA=generic.DictionaryObject({pdf_name("/PO"): action}),
    )
    page[pdf_name("/Annots")] = generic.ArrayObject([*page["/Annots"], field])
    w.mark_update(page_ref)
    form_ref = w.root.raw_get("/AcroForm")
    form = form_ref.get_object()
    form[pdf_name("/Fields")] = generic.ArrayObject([*form["/Fields"], field])
    w.mark_update(form_ref)
    return written(w)
