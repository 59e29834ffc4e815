"""Red team pdf13, p13-11: a document timestamp whose widget draws on the page.

A document timestamp is obtainable by anyone from a TSA the trust bundle trusts (it must
trust the TSA of the issuer's own seals): its token signs a digest the requester sent and
states nothing about the widget of the field it fills. A forger adds an empty signature
field whose appearance reads "LICENSE REVOKED" in red on blank space, then fills it with
a document timestamp.
"""

from __future__ import annotations

import asyncio
import functools
import io
from typing import Any

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.sign.signers.pdf_signer import PdfTimeStamper

from signing.seal import PadesLevel
from tests.helpers.licenses import (
    BLANK_BOX,
    ISSUER,
    first_page,
    incremental,
    license_pdf,
    numbers,
    written,
)
from tests.helpers.pki import embedded_tsa, sealer

__all__ = [
    "TIMESTAMP_FIELD",
    "prepared_field_shown_by_timestamp",
    "sealed_with_empty_field",
    "timestamp_widget_on_blank",
]

TIMESTAMP_FIELD = "TS1"

_REVOKED = b"1 0 0 rg BT /F1 28 Tf 4 30 Td (LICENSE REVOKED) Tj ET"


def _revoked_appearance(writer: Any) -> generic.IndirectObject:
    x1, y1, x2, y2 = BLANK_BOX
    font = generic.DictionaryObject(
        {
            pdf_name("/Type"): pdf_name("/Font"),
            pdf_name("/Subtype"): pdf_name("/Type1"),
            pdf_name("/BaseFont"): pdf_name("/Helvetica"),
        }
    )
    resources = generic.DictionaryObject(
        {pdf_name("/Font"): generic.DictionaryObject({pdf_name("/F1"): writer.add_object(font)})}
    )
    return writer.add_object(
        generic.StreamObject(
            {
                pdf_name("/Type"): pdf_name("/XObject"),
                pdf_name("/Subtype"): pdf_name("/Form"),
                pdf_name("/BBox"): numbers(0, 0, x2 - x1, y2 - y1),
                pdf_name("/Resources"): resources,
            },
            stream_data=_REVOKED,
        )
    )


def timestamp_widget_on_blank(sealed: bytes) -> bytes:
    """p13-11: update 1 adds empty signature field :data:`TIMESTAMP_FIELD` (printable,
    on :data:`BLANK_BOX`) whose appearance reads LICENSE REVOKED in red; update 2 fills
    it with a document timestamp from the demo PKI's TSA."""
    w = incremental(sealed)
    page_ref, page = first_page(w)
    field = w.add_object(
        generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/Annot"),
                pdf_name("/Subtype"): pdf_name("/Widget"),
                pdf_name("/FT"): pdf_name("/Sig"),
                pdf_name("/T"): generic.TextStringObject(TIMESTAMP_FIELD),
                pdf_name("/F"): generic.NumberObject(4),
                pdf_name("/Rect"): numbers(*BLANK_BOX),
                pdf_name("/P"): page_ref,
                pdf_name("/AP"): generic.DictionaryObject({pdf_name("/N"): _revoked_appearance(w)}),
            }
        )
    )
    annots = page.raw_get("/Annots")
    if isinstance(annots, generic.IndirectObject):
        annots.get_object().append(field)
        w.mark_update(annots)
    else:
        page[pdf_name("/Annots")] = generic.ArrayObject([*(annots or []), field])
        w.mark_update(page_ref)
    form_ref = w.root.raw_get("/AcroForm")
    form = form_ref.get_object()
    form[pdf_name("/Fields")] = generic.ArrayObject([*form["/Fields"], field])
    if isinstance(form_ref, generic.IndirectObject):
        w.mark_update(form_ref)
    else:
        w.update_root()
    return _timestamped(written(w))


def _timestamped(data: bytes) -> bytes:
    out = io.BytesIO()
    stamper = PdfTimeStamper(embedded_tsa(), field_name=TIMESTAMP_FIELD)
    asyncio.run(stamper.async_timestamp_pdf(incremental(data), "sha256", output=out))
    return out.getvalue()


@functools.cache
def sealed_with_empty_field() -> bytes:
    """The license with an empty, invisible signature field :data:`TIMESTAMP_FIELD`
    (``/Rect [0 0 0 0]``, on the page), sealed by the issuer at B-LT (cached): a field
    prepared for a later timestamp."""
    from pyhanko.sign.fields import SigFieldSpec, append_signature_field

    w = incremental(license_pdf())
    append_signature_field(w, SigFieldSpec(TIMESTAMP_FIELD, on_page=0))
    return sealer(ISSUER).seal(written(w), level=PadesLevel.B_LT, reason="issued")


def prepared_field_shown_by_timestamp(sealed: bytes) -> bytes:
    """(base :func:`sealed_with_empty_field`) The signed empty field given a rectangle on
    blank space and the LICENSE REVOKED appearance, then filled with a document
    timestamp: in the final file it is a signed field that was given a value (and a
    widget)."""
    w = incremental(sealed)
    for ref in w.root["/AcroForm"]["/Fields"]:
        field = ref.get_object()
        if field.get("/T") == TIMESTAMP_FIELD:
            field[pdf_name("/Rect")] = numbers(*BLANK_BOX)
            field[pdf_name("/F")] = generic.NumberObject(4)
            field[pdf_name("/AP")] = generic.DictionaryObject(
                {pdf_name("/N"): _revoked_appearance(w)}
            )
            w.mark_update(ref)
    return _timestamped(written(w))
