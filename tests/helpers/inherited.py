"""Red team pdf14 (p14-07, p14-08): what a viewer takes from a page-tree node or up a
/Parent chain, written after the seal inside DIRECT dictionaries of a changed object (no
object number: nothing is brought in by number).

pdf.js inherits /Annots from a page's ancestors when the page has none of its own, and
collects /AA (page open, document will-print) from every dictionary up the /Parent chain,
of a page and of the catalog; pdfium and poppler take neither, so the pages compare
identical. Each function takes a sealed license and returns the forgery: p14-07's need a
page without /Annots of its own (page 2 of :func:`tests.helpers.licenses.
sealed_two_page_license`).
"""

from __future__ import annotations

from typing import Any

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name

from tests.helpers.licenses import (
    BLANK_BOX,
    LINE_BOX,
    first_page,
    form_xobject,
    incremental,
    numbers,
    written,
)

__all__ = [
    "annotation_parent_open_script",
    "catalog_parent_will_print_script",
    "node_annots_direct",
    "node_annots_direct_script",
    "node_parent_open_script",
]


def _dict(**entries: generic.PdfObject) -> generic.DictionaryObject:
    return generic.DictionaryObject({pdf_name("/" + k): v for k, v in entries.items()})


def _script(text: str) -> generic.DictionaryObject:
    return _dict(S=pdf_name("/JavaScript"), JS=generic.TextStringObject(text))


def _node(writer: Any) -> tuple[generic.IndirectObject, Any]:
    ref = writer.root.raw_get("/Pages")
    return ref, ref.get_object()


def node_parent_open_script(sealed: bytes) -> bytes:
    """p14-08: the root page-tree node gets a DIRECT ``/Parent << /AA << /O script >> >>``:
    pdf.js runs it when any page opens."""
    w = incremental(sealed)
    ref, node = _node(w)
    opened = _dict(O=_script("app.alert('LICENSE REVOKED on 2026-12-01');"))
    node[pdf_name("/Parent")] = _dict(AA=opened)
    w.mark_update(ref)
    return written(w)


def catalog_parent_will_print_script(sealed: bytes) -> bytes:
    """p14-08 through the catalog: ``/Parent << /AA << /WP script >> >>``, which pdf.js
    collects as the document's will-print action."""
    w = incremental(sealed)
    printed = _dict(WP=_script("app.alert('LICENSE REVOKED - this printout is void');"))
    w.root[pdf_name("/Parent")] = _dict(AA=printed)
    w.update_root()
    return written(w)


def _node_annots(sealed: bytes, *annots: generic.DictionaryObject) -> bytes:
    w = incremental(sealed)
    ref, node = _node(w)
    node[pdf_name("/Annots")] = generic.ArrayObject(annots)
    w.mark_update(ref)
    return written(w)


def node_annots_direct(sealed: bytes) -> bytes:
    """p14-07: the root page-tree node gets /Annots of direct annotation dictionaries (an
    open note and a FreeText reading REVOKED, no appearance streams): pdf.js shows them on
    every page without /Annots of its own."""
    note = _dict(
        Type=pdf_name("/Annot"),
        Subtype=pdf_name("/Text"),
        Rect=numbers(380, 700, 400, 720),
        F=generic.NumberObject(4),
        Open=generic.BooleanObject(True),
        Contents=generic.TextStringObject("LICENSE REVOKED"),
    )
    free = _dict(
        Type=pdf_name("/Annot"),
        Subtype=pdf_name("/FreeText"),
        Rect=numbers(*LINE_BOX),
        F=generic.NumberObject(4),
        DA=generic.TextStringObject("/Helv 28 Tf 1 0 0 rg"),
        Contents=generic.TextStringObject("Status: REVOKED 2026-12-01"),
    )
    return _node_annots(sealed, note, free)


def node_annots_direct_script(sealed: bytes) -> bytes:
    """p14-07 with what is refused anywhere else, inside the direct dictionaries: a text
    field widget with page-open JavaScript and a link with a /URI action."""
    widget = _dict(
        Type=pdf_name("/Annot"),
        Subtype=pdf_name("/Widget"),
        FT=pdf_name("/Tx"),
        T=generic.TextStringObject("status"),
        V=generic.TextStringObject("Status: REVOKED"),
        F=generic.NumberObject(4),
        Rect=numbers(72, 500, 532, 540),
        DA=generic.TextStringObject("/Helv 24 Tf 1 0 0 rg"),
        AA=_dict(PO=_script("app.alert('LICENSE REVOKED');")),
    )
    link = _dict(
        Type=pdf_name("/Annot"),
        Subtype=pdf_name("/Link"),
        Rect=numbers(72, 700, 532, 780),
        Border=numbers(0, 0, 0),
        A=_dict(S=pdf_name("/URI"), URI=generic.TextStringObject("https://verify.example/x")),
    )
    return _node_annots(sealed, widget, link)


def annotation_parent_open_script(sealed: bytes) -> bytes:
    """A new, drawn /Square on blank space (an annotation the pages judge) whose direct
    ``/Parent`` holds page-open JavaScript: the script is inside a direct dictionary of an
    added object, where only its own keys were looked at."""
    w = incremental(sealed)
    page_ref, page = first_page(w)
    square = w.add_object(
        _dict(
            Type=pdf_name("/Annot"),
            Subtype=pdf_name("/Square"),
            F=generic.NumberObject(4),
            Rect=numbers(*BLANK_BOX),
            AP=_dict(N=form_xobject(w, b"0 0 1 rg 0 0 5 5 re f", box=BLANK_BOX)),
            Parent=_dict(AA=_dict(PO=_script("app.alert('LICENSE REVOKED');"))),
        )
    )
    annots = page.get("/Annots") or generic.ArrayObject()
    page[pdf_name("/Annots")] = generic.ArrayObject([*annots, square])
    w.mark_update(page_ref)
    return written(w)
