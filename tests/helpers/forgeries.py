"""Forged licenses: a sealed PDF changed after sealing so that a viewer shows something the
issuer never signed, and the benign changes a verifier must still accept.

Each attack is a function from the sealed bytes to the changed bytes; its docstring says
what a viewer shows and why it is an attack. The bases are in :mod:`tests.helpers.licenses`:
each reads :data:`~tests.helpers.licenses.SIGNED_TEXT`, and a forgery makes a viewer show
:data:`~tests.helpers.licenses.FORGED_TEXT` (or paints over the signed line).
:data:`ATTACKS` and :data:`BENIGN` pair every function with its base::

    from tests.helpers.forgeries import ATTACKS, dss_vri_claims_content
    from tests.helpers.licenses import sealed_license

    forged = dss_vri_claims_content(sealed_license())
    for case in ATTACKS:
        data = case.build()          # cached base, fresh forgery

The classes: the new revision vouching for itself (DSS, /Info, /Metadata, objects prepared
with harmless-looking keys or under resource names like /Metadata), object streams
redefined under their old number, other generations, parser differentials (xref and
trailer tricks; raw bytes from :mod:`tests.helpers.rawpdf`), signature widgets that show
what no one signed, visible changes the rules allow (including widgets whose /Rect is
hard to read and a self-signed "amendment"), the published classes (shadow attacks
through references the signed revision leaves dangling among them), and annotations a
renderer may leave out (flags, popups, redactions), and what a viewer inherits through a
page's /Parent, finds below deep nesting, shows only when printing, or draws for a field
with no appearance stream (the second red team), with a page slow to render. The
published classes: ISA, SWA, USF (Mladenov et al., "1 Trillion Dollar Refund", CCS
2019), shadow hide / replace / hide-and-replace (Mainka et al., "Shadow Attacks", NDSS
2021), EAA and SSA (Rohlmann et al., "Breaking the Specification", S&P 2021).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import io
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.content import RawContent
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.layout import (
    AxisAlignment,
    BoxConstraints,
    InnerScaling,
    SimpleBoxLayoutRule,
)
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.sign.signers.pdf_signer import PdfTimeStamper
from pyhanko.stamp import TextStampStyle

from signing.copies import CopyAnnotation, CopyMaker
from signing.seal import PadesLevel, SealAppearance
from tests.helpers import new_objects, rawpdf
from tests.helpers.licenses import (
    BARE_FIELD,
    BLANK_BOX,
    DANGLING,
    FORGED_TEXT,
    LINE_BOX,
    PAGE_BOX,
    SECOND_DEPT,
    add_validation_data,
    certified_license,
    content_ref,
    cover_content,
    digit_swapped_font,
    first_page,
    forged_content,
    form_xobject,
    grey_function,
    incremental,
    license_pdf,
    line_appearance,
    line_content,
    numbers,
    redefine,
    sealed_bare_field,
    sealed_dangling,
    sealed_deep_shading,
    sealed_field,
    sealed_form,
    sealed_layers,
    sealed_license,
    sealed_license_signed_last,
    sealed_named_resource,
    sealed_objstm_license,
    sealed_prepared,
    sealed_print_layers,
    sealed_stray_parent,
    sealed_table_license,
    sealed_tounicode_license,
    sealed_two_faced,
    sealed_two_page_license,
    written,
)
from tests.helpers.pki import embedded_tsa, sealer, self_signed_sealer
from tests.helpers.shadow import FIELD, replace_field

__all__ = ["AMENDMENT_FIELD", "ATTACKS", "BENIGN", "SLOW_OPERATORS", "Case", "slow_page_content"]


def _forge_content(writer: IncrementalPdfFileWriter, **keys: generic.PdfObject) -> None:
    """Redefine the page's content stream to show :data:`FORGED_TEXT` (``keys``: extra
    entries for its dictionary)."""
    ref = content_ref(writer)
    entries = {pdf_name("/" + k): v for k, v in keys.items()}
    redefine(
        writer,
        ref,
        generic.StreamObject(entries, stream_data=forged_content(ref.get_object().data)),
    )


def _append_annot(writer: IncrementalPdfFileWriter, annot: generic.IndirectObject) -> None:
    """Add ``annot`` to the first page's /Annots (direct or indirect array)."""
    page_ref, page = first_page(writer)
    annots = page.raw_get("/Annots") if "/Annots" in page else None
    if isinstance(annots, generic.IndirectObject):
        annots.get_object().append(annot)
        writer.mark_update(annots)
        return
    items = list(annots) if annots is not None else []
    page[pdf_name("/Annots")] = generic.ArrayObject([*items, annot])
    writer.mark_update(page_ref)


def _append_field(writer: IncrementalPdfFileWriter, fld: generic.IndirectObject) -> None:
    """Add ``fld`` to /AcroForm /Fields (creating the form if needed)."""
    root = writer.root
    if "/AcroForm" not in root:
        root[pdf_name("/AcroForm")] = generic.DictionaryObject(
            {pdf_name("/Fields"): generic.ArrayObject()}
        )
        writer.update_root()
    form_raw = root.raw_get("/AcroForm")
    form = form_raw.get_object()
    fields_raw = form.raw_get("/Fields")
    fields_raw.get_object().append(fld)
    if isinstance(fields_raw, generic.IndirectObject):
        writer.mark_update(fields_raw)
    elif isinstance(form_raw, generic.IndirectObject):
        writer.mark_update(form_raw)
    else:
        writer.update_root()


def _annot(
    writer: IncrementalPdfFileWriter,
    subtype: str,
    box: tuple[float, float, float, float] = LINE_BOX,
    **entries: generic.PdfObject,
) -> generic.IndirectObject:
    """An annotation ``subtype`` (printable) at ``box`` on the first page, with
    ``entries`` added or replacing; not yet in the page's /Annots."""
    page_ref, _ = first_page(writer)
    d = generic.DictionaryObject(
        {
            pdf_name("/Type"): pdf_name("/Annot"),
            pdf_name("/Subtype"): pdf_name("/" + subtype),
            pdf_name("/Rect"): numbers(*box),
            pdf_name("/F"): generic.NumberObject(4),
            pdf_name("/P"): page_ref,
        }
    )
    d.update({pdf_name("/" + k): v for k, v in entries.items()})
    return writer.add_object(d)


def _forged_ap(writer: IncrementalPdfFileWriter) -> generic.DictionaryObject:
    """An /AP dictionary for :data:`LINE_BOX`: white, showing :data:`FORGED_TEXT`."""
    return generic.DictionaryObject({pdf_name("/N"): line_appearance(writer)})


def _widget(
    writer: IncrementalPdfFileWriter,
    box: tuple[float, float, float, float],
    **entries: generic.PdfObject,
) -> generic.IndirectObject:
    """A widget annotation (printable) at ``box`` with ``entries``, on the first page."""
    return _annot(writer, "Widget", box, **entries)


def _issuer_signature(reader: Any) -> generic.IndirectObject:
    """The reference of the first signature field's value (the issuer's signature)."""
    fields = reader.root["/AcroForm"]["/Fields"]
    for fld in (fields[i] for i in range(len(fields))):
        if fld.get("/FT") == "/Sig" and "/V" in fld:
            return fld.raw_get("/V")
    raise ValueError("no signed signature field in the document")


# -- 1. the new revision vouching for itself ---------------------------------------------


def _dss(writer: IncrementalPdfFileWriter) -> generic.DictionaryObject:
    """The catalog's /DSS, marked for the update (created when missing)."""
    if "/DSS" not in writer.root:
        writer.root[pdf_name("/DSS")] = writer.add_object(generic.DictionaryObject())
    return _catalog_entry(writer, "/DSS")


def _catalog_entry(writer: IncrementalPdfFileWriter, key: str) -> Any:
    """The catalog's dictionary ``key`` (direct or indirect), marked for the update."""
    raw = writer.root.raw_get(key)
    if isinstance(raw, generic.IndirectObject):
        writer.mark_update(raw)
        return raw.get_object()
    writer.update_root()
    return raw


def dss_vri_claims_content(sealed: bytes) -> bytes:
    """A later update adds a DSS /VRI entry whose value is the page's content stream, and
    rewrites that stream to show :data:`FORGED_TEXT`.

    A viewer shows the forged line. Attack: a diff that takes the *new* revision's DSS as
    the list of validation-data objects lets the content change pass as an LTV update."""
    writer = incremental(sealed)
    dss = _dss(writer)
    dss[pdf_name("/VRI")] = generic.DictionaryObject(
        {pdf_name("/" + "AB" * 20): content_ref(writer)}
    )
    _forge_content(writer)
    return written(writer)


def dss_vri_claims_page(sealed: bytes) -> bytes:
    """As :func:`dss_vri_claims_content`, the /VRI entry naming the page itself, which the
    update redefines to draw a new content stream showing :data:`FORGED_TEXT`."""
    writer = incremental(sealed)
    page_ref, page = first_page(writer)
    _dss(writer)[pdf_name("/VRI")] = generic.DictionaryObject({pdf_name("/" + "CD" * 20): page_ref})
    page[pdf_name("/Contents")] = writer.add_object(
        generic.StreamObject(stream_data=line_content(FORGED_TEXT))
    )
    writer.mark_update(page_ref)
    return written(writer)


def dss_vri_claims_second_page(sealed: bytes) -> bytes:
    """Base :func:`sealed_two_page_license`. As :func:`dss_vri_claims_content`, for the
    content stream of the *second* page: a verifier that compares only the first page's
    rendering sees nothing."""
    writer = incremental(sealed)
    ref = writer.root["/Pages"]["/Kids"][1].raw_get("/Contents")
    _dss(writer)[pdf_name("/VRI")] = generic.DictionaryObject({pdf_name("/" + "EF" * 20): ref})
    redefine(writer, ref, generic.StreamObject(stream_data=forged_content(ref.get_object().data)))
    return written(writer)


def dss_ocsps_claims_content(sealed: bytes) -> bytes:
    """As :func:`dss_vri_claims_content`, with the DSS's /OCSPs entry itself being a
    reference to the content stream (a reference, where an array belongs)."""
    writer = incremental(sealed)
    _dss(writer)[pdf_name("/OCSPs")] = content_ref(writer)
    _forge_content(writer)
    return written(writer)


def info_claims_content(sealed: bytes) -> bytes:
    """A later update points the trailer's /Info at the page's content stream and rewrites
    that stream to show :data:`FORGED_TEXT`.

    A viewer shows the forged line. Attack: "the document information dictionary may
    change", judged by the new trailer, makes any object it names changeable."""
    writer = incremental(sealed)
    ref = content_ref(writer)
    _forge_content(writer)
    # bound to the writer, so that the /ModDate pyHanko writes lands in the forged stream
    writer.set_info(generic.IndirectObject(ref.idnum, ref.generation, writer))
    return written(writer)


def metadata_claims_content(sealed: bytes) -> bytes:
    """A later update sets the catalog's /Metadata to the page's content stream and rewrites
    that stream (now carrying /Type /Metadata /Subtype /XML) to show :data:`FORGED_TEXT`.

    A viewer shows the forged line (content streams' dictionaries are not read for /Type).
    Attack: XMP metadata may change, but which stream is metadata is not for the new
    revision to say."""
    writer = incremental(sealed)
    ref = content_ref(writer)
    writer.root[pdf_name("/Metadata")] = ref
    writer.update_root()
    _forge_content(writer, Type=pdf_name("/Metadata"), Subtype=pdf_name("/XML"))
    return written(writer)


def metadata_keys_on_content(sealed: bytes) -> bytes:
    """Base :func:`sealed_prepared` ("metadata"): the page's second content stream was
    signed carrying /Type /Metadata /Subtype /XML and drawing nothing. A later update
    rewrites it to paint over the line and draw :data:`FORGED_TEXT`.

    A viewer shows the forged line. Attack: the signed object *looks* like XMP metadata,
    but the signed revision uses it as page content."""
    writer = incremental(sealed)
    _, page = first_page(writer)
    ref = page["/Contents"].raw_get(1)
    entries = {pdf_name("/Type"): pdf_name("/Metadata"), pdf_name("/Subtype"): pdf_name("/XML")}
    redefine(writer, ref, generic.StreamObject(entries, stream_data=cover_content()))
    return written(writer)


def _cover_resources(writer: IncrementalPdfFileWriter) -> None:
    """Redefine the page's indirect resource dictionary so that /Fm0 (drawn by the signed
    content) is a form painting the forged line; its other keys are kept."""
    _, page = first_page(writer)
    ref = page.raw_get("/Resources")
    new = generic.DictionaryObject({k: ref.get_object().raw_get(k) for k in ref.get_object()})
    new[pdf_name("/XObject")] = generic.DictionaryObject(
        {pdf_name("/Fm0"): form_xobject(writer, cover_content())}
    )
    redefine(writer, ref, new)


def struct_keys_on_resources(sealed: bytes) -> bytes:
    """Base :func:`sealed_prepared` ("struct"): the page's resource dictionary was signed
    carrying /S /P /K, the keys of a structure element. A later update redefines it so
    that /Fm0, which the signed content draws, paints the forged line.

    A viewer shows :data:`FORGED_TEXT`. Attack: tagging may change after signing, and the
    object looks like tagging; but the signed page uses it as its resources."""
    writer = incremental(sealed)
    _cover_resources(writer)
    return written(writer)


def info_aliases_resources(sealed: bytes) -> bytes:
    """Base :func:`sealed_prepared` ("info"): the signed revision's trailer /Info *is* the
    page's resource dictionary. A later update redefines it so that /Fm0 paints the forged
    line.

    A viewer shows :data:`FORGED_TEXT`. Attack: the information dictionary may change
    after signing; one object being both must be judged by its strictest use."""
    writer = incremental(sealed)
    _cover_resources(writer)
    return written(writer)


def fields_key_on_content(sealed: bytes) -> bytes:
    """Base :func:`sealed_prepared` ("fields"): the content stream was signed carrying
    /Fields [] (the key of a form dictionary) and room after the line. A later update
    rewrites its data to show :data:`FORGED_TEXT`, keeping /Length and every key.

    A viewer shows the forged line. Attack: a diff that compares a stream's dictionary but
    not its data, or whitelists "form dictionaries" by /Fields, sees nothing changed."""
    writer = incremental(sealed)
    ref = content_ref(writer)
    old = ref.get_object().data
    new = forged_content(old).ljust(len(old))
    redefine(
        writer,
        ref,
        generic.StreamObject({pdf_name("/Fields"): generic.ArrayObject()}, stream_data=new),
    )
    return written(writer)


def structelem_type_on_xobject(sealed: bytes) -> bytes:
    """Base :func:`sealed_prepared` ("structelem"): the page draws form XObject /Fm0,
    signed empty and typed /StructElem (/Type is optional for an XObject, so viewers
    ignore it). A later update rewrites the form to paint the forged line.

    A viewer shows :data:`FORGED_TEXT`. Attack: structure elements may change, and the
    object says it is one."""
    return _forge_form(sealed)


def _forge_form(sealed: bytes) -> bytes:
    """A later update rewriting the one form XObject of the page's /XObject resources to
    show :data:`FORGED_TEXT` (its dictionary kept)."""
    writer = incremental(sealed)
    _, page = first_page(writer)
    xobjects = page["/Resources"]["/XObject"]
    (name,) = list(xobjects)
    ref = xobjects.raw_get(name)
    old = ref.get_object()
    keys = {k: old.raw_get(k) for k in old if k != "/Length"}
    redefine(writer, ref, generic.StreamObject(keys, stream_data=forged_content(old.data)))
    return written(writer)


def xobject_named_like_metadata(sealed: bytes) -> bytes:
    """Base :func:`sealed_named_resource` ("XObject", "Metadata" or "PieceInfo"): the
    signed line is drawn by a form XObject whose *resource name* is /Metadata
    (``/XObject << /Metadata N 0 R >>``, ``/Metadata Do``) or /PieceInfo. A later update
    rewrites that form to show the forged line.

    A viewer shows :data:`FORGED_TEXT`. Attack: XMP metadata and page-piece data may change
    after signing, but a key is only metadata where the catalog or a page puts it; here
    it is a resource name, and the object is page content."""
    return _forge_form(sealed)


def font_named_like_metadata(sealed: bytes) -> bytes:
    """Base :func:`sealed_named_resource` ("Font", "Metadata"): the signed line is set in
    a font whose resource name is /Metadata (``/Metadata 18 Tf``). A later update gives
    that font an /Encoding whose /Differences draw '4' as "nine".

    A viewer shows "No. 2029-0001" from the signed content stream. Attack: as
    :func:`xobject_named_like_metadata`, for the font."""
    writer = incremental(sealed)
    _, page = first_page(writer)
    ref = page["/Resources"]["/Font"].raw_get("/Metadata")
    redefine(writer, ref, digit_swapped_font(ref.get_object()))
    return written(writer)


def number_tree_xobject_dict(sealed: bytes) -> bytes:
    """Base :func:`sealed_prepared` ("numtree"): the page draws /Fm0, which its indirect
    /XObject dictionary (shaped like a number tree node: /Kids []) does not define, so the
    signer sees nothing there. A later update adds /Nums [] and /Fm0 to that dictionary.

    A viewer shows :data:`FORGED_TEXT`. Attack: number trees (page labels, structure
    parents) may grow after signing, and the object looks like one."""
    writer = incremental(sealed)
    _, page = first_page(writer)
    ref = page["/Resources"].raw_get("/XObject")
    redefine(
        writer,
        ref,
        generic.DictionaryObject(
            {
                pdf_name("/Kids"): generic.ArrayObject(),
                pdf_name("/Nums"): generic.ArrayObject(),
                pdf_name("/Fm0"): form_xobject(writer, cover_content()),
            }
        ),
    )
    return written(writer)


# -- 2. object streams redefined under their old number ----------------------------------


def _object_stream_of(reader: PdfFileReader, number: int) -> int:
    """The number of the object stream that holds object ``number`` (in any revision)."""
    for size in range(1, int(reader.trailer_view["/Size"])):
        try:
            obj = reader.get_object(generic.Reference(size, 0, reader))
        except Exception:
            continue
        if isinstance(obj, generic.StreamObject) and obj.get("/Type") == "/ObjStm":
            header = obj.data[: int(obj["/First"])].split()
            if str(number).encode() in header[0::2]:
                return size
    raise ValueError(f"object {number} is in no object stream")


def _members(reader: PdfFileReader, stream_number: int) -> list[tuple[int, Any]]:
    """The (number, object) pairs object stream ``stream_number`` holds, in order."""
    obj = reader.get_object(generic.Reference(stream_number, 0, reader))
    header = obj.data[: int(obj["/First"])].split()
    numbers = [int(n) for n in header[0::2]]
    return [(n, reader.get_object(generic.Reference(n, 0, reader))) for n in numbers]


def _redefine_object_stream(
    sealed: bytes, member: Callable[[PdfFileReader], int], edit: Callable[[Any, int], Any]
) -> bytes:
    """A hand-written update holding a new object stream under the number of the one that
    holds object ``member(reader)``, with the same members; that member is replaced by
    ``edit(obj, free)``, which returns its new value and the bodies of any new objects it
    uses (numbered from ``free``, the first unused number). The members' own xref entries
    are left as they were."""
    reader = PdfFileReader(io.BytesIO(sealed), strict=False)
    target = member(reader)
    number = _object_stream_of(reader, target)
    free = int(reader.trailer_view["/Size"])
    extra: dict[rawpdf.ObjectKey, bytes] = {}
    bodies = []
    for n, obj in _members(reader, number):
        if n == target:
            obj, extra = edit(obj, free)
        bodies.append((n, rawpdf.serialize(obj)))
    return rawpdf.append_update(
        sealed, {**extra, number: rawpdf.object_stream(bodies)}, xref="stream"
    )


def _pages_number(reader: PdfFileReader) -> int:
    return int(reader.root.raw_get("/Pages").idnum)


def _page_number(reader: PdfFileReader) -> int:
    return int(reader.root["/Pages"]["/Kids"].raw_get(0).idnum)


def _font_number(reader: PdfFileReader) -> int:
    page = reader.root["/Pages"]["/Kids"][0]
    return int(page["/Resources"]["/Font"].raw_get("/F1").idnum)


def _forged_page(page: Any, free: int) -> tuple[Any, dict[rawpdf.ObjectKey, bytes]]:
    """``page`` drawing a new content stream (object ``free``) that shows the forgery."""
    new = generic.DictionaryObject({k: page.raw_get(k) for k in page})
    new[pdf_name("/Contents")] = generic.IndirectObject(free, 0, None)
    return new, {free: rawpdf.stream_bytes(line_content(FORGED_TEXT))}


def objstm_redefines_page(sealed: bytes) -> bytes:
    """Base :func:`sealed_objstm_license` (the page is a member of an object stream). A
    later update writes a new object stream under the *same number*, in which the page
    draws a new content stream showing :data:`FORGED_TEXT`; the page's own xref entry
    (in object stream N, index i) is not touched.

    A viewer shows the forged line. Attack: a diff that compares the objects each xref
    section lists sees only an object stream change, which looks like bookkeeping."""
    return _redefine_object_stream(sealed, _page_number, _forged_page)


def objstm_redefines_page_tree(sealed: bytes) -> bytes:
    """As :func:`objstm_redefines_page`, for the page tree: its /Kids now name a new page
    (objects outside any stream) that shows :data:`FORGED_TEXT`."""

    def edit(pages: Any, free: int) -> tuple[Any, dict[rawpdf.ObjectKey, bytes]]:
        page, extra = _forged_page(pages["/Kids"][0], free + 1)
        new = generic.DictionaryObject({k: pages.raw_get(k) for k in pages})
        new[pdf_name("/Kids")] = generic.ArrayObject([generic.IndirectObject(free, 0, None)])
        return new, {free: rawpdf.serialize(page), **extra}

    return _redefine_object_stream(sealed, _pages_number, edit)


def objstm_redefines_font(sealed: bytes) -> bytes:
    """As :func:`objstm_redefines_page`, for the page's font: it gains an /Encoding whose
    /Differences draw code '4' as glyph "nine", so "No. 2024-0001" reads "No. 2029-0001".

    A viewer shows another license number from the same signed content stream."""

    def edit(font: Any, free: int) -> tuple[Any, dict[rawpdf.ObjectKey, bytes]]:
        return digit_swapped_font(font), {}

    return _redefine_object_stream(sealed, _font_number, edit)


def objstm_lists_redefined_page(sealed: bytes) -> bytes:
    """Base :func:`sealed_objstm_license`. A later update writes a *new* object stream
    holding a redefined page (drawing a forged content stream), and its xref stream lists
    the page as a member of it: the honest way to redefine a compressed object.

    A viewer shows :data:`FORGED_TEXT`. Attack: an update made only of object streams must
    be analysed member by member like any other."""
    reader = PdfFileReader(io.BytesIO(sealed), strict=False)
    number = _page_number(reader)
    free = int(reader.trailer_view["/Size"])
    page, extra = _forged_page(reader.get_object(generic.Reference(number, 0, reader)), free)
    stream = rawpdf.object_stream([(number, rawpdf.serialize(page))])
    return rawpdf.append_update(
        sealed,
        {**extra, free + 1: stream},
        xref="stream",
        compressed={number: (free + 1, 0)},
    )


# -- 3. generations -----------------------------------------------------------------------


def content_at_generation_1(sealed: bytes) -> bytes:
    """A later update defines the page's content stream again as generation 1 (``N 1
    obj``, listed as generation 1 in the xref), showing :data:`FORGED_TEXT`; the page still
    says ``N 0 R``.

    poppler finds no generation-0 object and draws the page without its content (the
    holder's line disappears); a reader that ignores generations draws the forged line.
    Attack: a diff that only compares objects with the same (number, generation) sees a
    new object that nothing references."""
    reader = PdfFileReader(io.BytesIO(sealed), strict=False)
    ref = reader.root["/Pages"]["/Kids"][0].raw_get("/Contents")
    body = rawpdf.stream_bytes(forged_content(ref.get_object().data))
    return rawpdf.append_update(sealed, {(ref.idnum, 1): body}, xref="stream")


def page_at_generation_1(sealed: bytes) -> bytes:
    """As :func:`content_at_generation_1`, for the page object: ``P 1 obj`` draws a new
    content stream showing :data:`FORGED_TEXT`; the page tree still says ``P 0 R``."""
    reader = PdfFileReader(io.BytesIO(sealed), strict=False)
    number = _page_number(reader)
    free = int(reader.trailer_view["/Size"])
    page, extra = _forged_page(reader.get_object(generic.Reference(number, 0, reader)), free)
    return rawpdf.append_update(
        sealed, {**extra, (number, 1): rawpdf.serialize(page)}, xref="stream"
    )


def page_at_generation_1_unchanged(sealed: bytes) -> bytes:
    """The signed page written again, *unchanged*, at generation 1; the page tree still
    says ``P 0 R`` (red team pdf11, p11-03).

    pyHanko, poppler and pdf.js find no page ``P 0 R``: poppler shows no page at all,
    pdf.js rebuilds the xref by scanning the file; pdfium ignores generations and shows the
    signed page. Attack: a verifier that reads objects by number sees nothing changed."""
    reader = PdfFileReader(io.BytesIO(sealed), strict=False)
    number = _page_number(reader)
    page = reader.get_object(generic.Reference(number, 0, reader))
    return rawpdf.append_update(sealed, {(number, 1): rawpdf.serialize(page)}, xref="stream")


def _hidden(objects: dict[int, bytes]) -> bytes:
    """``N 0 obj ... endobj`` for each body: what a reader scanning the file indexes."""
    return b"".join(b"\n%d 0 obj\n%s\nendobj\n" % (n, body) for n, body in objects.items())


def _info_hiding(reader: PdfFileReader, hidden: bytes) -> tuple[int, bytes]:
    """The number of the trailer's /Info and its body with a /Subject literal string whose
    bytes are ``hidden`` (balanced parentheses: no escape needed)."""
    ref = reader.trailer_view.raw_get("/Info")
    info = ref.get_object()
    body = rawpdf.serialize(generic.DictionaryObject({k: info.raw_get(k) for k in info}))
    return int(ref.idnum), body[:-2] + b"/Subject (" + hidden + b")\n>>"


def info_string_hides_forged_page(sealed: bytes) -> bytes:
    """The signed page written again unchanged at generation 1 (as
    :func:`page_at_generation_1_unchanged`), and the trailer's /Info rewritten with a
    /Subject string whose bytes are a forged ``P 0 obj`` page and its content stream
    showing :data:`FORGED_TEXT` (red team pdf11, p11-04).

    pdf.js finds no ``P 0 R``, rebuilds the xref by scanning and takes the last ``P 0
    obj`` of the file: the forged page inside the string. Attack: /Info is outside what a
    verifier compares, and a string is not searched for keywords."""
    reader = PdfFileReader(io.BytesIO(sealed), strict=False)
    number = _page_number(reader)
    free = int(reader.trailer_view["/Size"])
    page = reader.get_object(generic.Reference(number, 0, reader))
    forged, extra = _forged_page(page, free)
    info, body = _info_hiding(reader, _hidden({number: rawpdf.serialize(forged), **extra}))
    return rawpdf.append_update(
        sealed, {(number, 1): rawpdf.serialize(page), info: body}, xref="stream"
    )


def info_at_generation_1_hides_content(sealed: bytes) -> bytes:
    """Base :func:`sealed_table_license` (classic xref tables). The trailer's /Info written
    again at generation 1 (the trailer still says ``/Info I 0 R``), its /Subject string
    holding a forged ``C 0 obj``, the page's content stream showing :data:`FORGED_TEXT`
    (red team pdf11, p11-05). No signed object is written.

    poppler reads /Info when it opens the file, finds no generation 0 and rebuilds the
    xref of a file without xref streams by scanning lines: the last ``C 0 obj`` is the
    forged one, and every poppler viewer shows it."""
    reader = PdfFileReader(io.BytesIO(sealed), strict=False)
    number, body = _forged_content_body(sealed)
    info, info_body = _info_hiding(reader, _hidden({number: body}))
    return rawpdf.append_update(sealed, {(info, 1): info_body}, xref="table")


def info_freed_string_hides_content(sealed: bytes) -> bytes:
    """Base :func:`sealed_table_license`. One update (a table) marks the trailer's /Info
    free (the trailer still says ``/Info I 0 R``) and adds an object nothing references
    whose /Note string holds a forged ``C 0 obj``, the page's content stream showing
    :data:`FORGED_TEXT` (red team pdf11, p11-09).

    poppler needs /Info when it opens the file, finds it free and rebuilds the xref of a
    file without xref streams by scanning lines: the last ``C 0 obj`` is the forged one.
    Attack: /Info and an unreferenced object are outside what a comparison of the signed
    objects reaches."""
    reader = PdfFileReader(io.BytesIO(sealed), strict=False)
    base = rawpdf.trailer_of(sealed)
    info = int(reader.trailer_view.raw_get("/Info").idnum)
    number, body = _forged_content_body(sealed)
    out = bytearray(sealed)
    at = len(out)
    out += b"%d 0 obj\n<< /Note (%s) >>\nendobj\n" % (base.size, _hidden({number: body}))
    table = len(out)
    out += b"xref\n%d 1\n0000000000 00001 f \n%d 1\n%010d 00000 n \n" % (info, base.size, at)
    trailer = {"/Size": b"%d" % (base.size + 1), "/Root": base.root, "/Prev": b"%d" % base.prev}
    trailer |= {"/Info": base.info or b"null", "/ID": base.id_entry or b"[]"}
    out += b"trailer\n" + rawpdf.dict_bytes(trailer) + b"\nstartxref\n%d\n%%%%EOF\n" % table
    return bytes(out)


def trailer_line_hides_forged_catalog(sealed: bytes) -> bytes:
    """Base :func:`sealed_table_license`. One update (a table) writes the signed page again
    unchanged at generation 1, the trailer's /Info at generation 1 with hidden objects in
    a string (a forged page under the signed page's number, and a forged catalog, page
    tree and page), and a trailer whose extra /Note string holds a ``trailer`` line naming
    the forged catalog (red team pdf11, p11-06).

    poppler rebuilds the xref by scanning lines and takes the last ``trailer`` line: the
    forged catalog; pdf.js rebuilds it and takes the forged page; pdfium shows the signed
    page. Attack: three readers, three documents, and nothing a comparison of objects by
    number sees."""
    reader = PdfFileReader(io.BytesIO(sealed), strict=False)
    number = _page_number(reader)
    free = int(reader.trailer_view["/Size"])
    page = reader.get_object(generic.Reference(number, 0, reader))
    forged, extra = _forged_page(page, free + 3)
    kid = generic.DictionaryObject({k: forged.raw_get(k) for k in forged})
    kid[pdf_name("/Parent")] = generic.IndirectObject(free + 1, 0, None)
    hidden = _hidden(
        {
            number: rawpdf.serialize(forged),
            free: b"<< /Type /Catalog /Pages %d 0 R >>" % (free + 1),
            free + 1: b"<< /Type /Pages /Count 1 /Kids [%d 0 R] >>" % (free + 2),
            free + 2: rawpdf.serialize(kid),
            **extra,
        }
    )
    info, body = _info_hiding(reader, hidden)
    note = b"(\ntrailer\n<< /Root %d 0 R /Size %d >>\n)" % (free, free + 4)
    return rawpdf.append_update(
        sealed,
        {(number, 1): rawpdf.serialize(page), (info, 1): body},
        xref="table",
        trailer={"/Note": note},
    )


# -- 4. parser differentials ----------------------------------------------------------------


def _content_of(sealed: bytes) -> Any:
    """The reference of the first page's content stream (one stream, not an array)."""
    reader = PdfFileReader(io.BytesIO(sealed), strict=False)
    return reader.root["/Pages"]["/Kids"][0].raw_get("/Contents")


def _forged_content_body(sealed: bytes) -> tuple[int, bytes]:
    """(number, body) of the page's content stream redefined to show the forgery."""
    ref = _content_of(sealed)
    return ref.idnum, rawpdf.stream_bytes(forged_content(ref.get_object().data))


def body_outside_xref_startxref_off(sealed: bytes) -> bytes:
    """A later update carries the page's content stream redefined to show
    :data:`FORGED_TEXT`, a bare ``trailer`` dictionary, and an xref stream that lists
    neither; its startxref points two bytes past the xref stream.

    pyHanko finds the xref stream anyway and sees an empty update; poppler cannot, rebuilds
    the xref by scanning, finds the trailer and takes the last body of the object: it shows
    the forged line. Attack: the file's structure is not exactly valid, and what a
    repairing reader sees is not what the verifier saw."""
    number, body = _forged_content_body(sealed)
    base = rawpdf.trailer_of(sealed)
    bare = b"trailer\n" + rawpdf.dict_bytes({"/Size": str(base.size).encode(), "/Root": base.root})
    return rawpdf.append_update(
        sealed, {number: body}, listed=(), xref="stream", startxref_delta=2, extra=bare + b"\n"
    )


def body_outside_xref_table_startxref_off(sealed: bytes) -> bytes:
    """As :func:`body_outside_xref_startxref_off` with a classic xref table listing nothing
    and a startxref one byte off: poppler rebuilds the xref and shows the forged line."""
    number, body = _forged_content_body(sealed)
    return rawpdf.append_update(sealed, {number: body}, listed=(), xref="table", startxref_delta=1)


def trailer_without_xref(sealed: bytes) -> bytes:
    """A later update carries the page's content stream redefined to show
    :data:`FORGED_TEXT` and a trailer, with no xref section at all; startxref points at
    the trailer.

    poppler rebuilds the xref by scanning and shows the forged line. Attack: an update
    that is not a revision must not be read as "nothing changed"."""
    number, body = _forged_content_body(sealed)
    return rawpdf.append_update(sealed, {number: body}, xref="none")


def xref_omits_carried_object(sealed: bytes) -> bytes:
    """A later update carries the page's content stream redefined to show
    :data:`FORGED_TEXT` and a new information dictionary; its (valid) xref stream lists
    only the information dictionary.

    poppler and pyHanko follow the xref and show the signed line; any reader that scans
    (a repair, a damaged earlier section, a linearization hint) shows the forged one.
    Attack: bytes after the signed revision that no xref accounts for are a loaded gun."""
    number, body = _forged_content_body(sealed)
    free = rawpdf.trailer_of(sealed).size
    info = rawpdf.dict_bytes({"/Producer": b"(evault)"})
    return rawpdf.append_update(
        sealed,
        {number: body, free: info},
        listed=(free,),
        xref="stream",
        trailer={"/Info": f"{free} 0 R".encode()},
    )


def duplicate_prev(sealed: bytes) -> bytes:
    """Two later updates: the first redefines the page's content stream to show
    :data:`FORGED_TEXT`; the second adds an information dictionary and its trailer says
    ``/Prev <the signed file's xref> /Prev <the first update's xref>``.

    pyHanko keeps the first /Prev and never sees the forged update; poppler keeps the last
    and shows the forged line. Attack: two readers, two documents, one file."""
    number, body = _forged_content_body(sealed)
    forged = rawpdf.append_update(sealed, {number: body}, xref="stream")
    first = rawpdf.last_startxref(sealed)
    second = rawpdf.last_startxref(forged)
    free = rawpdf.trailer_of(forged).size
    return rawpdf.append_update(
        forged,
        {free: rawpdf.dict_bytes({"/Producer": b"(evault)"})},
        xref="stream",
        trailer={"/Prev": f"{first} /Prev {second}".encode()},
    )


def prev_skips_forged_section(sealed: bytes) -> bytes:
    """Two later updates: the first redefines the page's content stream to show
    :data:`FORGED_TEXT`; the second (an information dictionary) has /Prev pointing past
    the first, at the signed file's own xref.

    Both pyHanko and poppler follow /Prev and show the signed line; the forged update
    sits in the file unreferenced, for any reader that rebuilds. Attack: a revision that
    the xref chain skips is still in the file."""
    number, body = _forged_content_body(sealed)
    forged = rawpdf.append_update(sealed, {number: body}, xref="stream")
    free = rawpdf.trailer_of(forged).size
    return rawpdf.append_update(
        forged,
        {free: rawpdf.dict_bytes({"/Producer": b"(evault)"})},
        xref="stream",
        prev=rawpdf.last_startxref(sealed),
    )


# -- 5. signature widgets that show what no one signed ---------------------------------------


WriterPart = Callable[[IncrementalPdfFileWriter], Any]
"""Makes one value of a forged object, adding what it needs to the writer."""


def _sig_widget_over_text(
    sealed: bytes, value: WriterPart | None, rect: WriterPart | None = None
) -> bytes:
    """A later update adding signature field ``Seal2`` over the holder's line, with
    value ``value(writer)`` (None: empty) and an opaque appearance showing the forgery
    (``rect``: its /Rect, default :data:`LINE_BOX` written plainly)."""
    writer = incremental(sealed)
    entries: dict[str, generic.PdfObject] = {
        "FT": pdf_name("/Sig"),
        "T": generic.TextStringObject("Seal2"),
        "AP": _forged_ap(writer),
    }
    if value is not None:
        entries["V"] = value(writer)
    if rect is not None:
        entries["Rect"] = rect(writer)
    fld = _widget(writer, LINE_BOX, **entries)
    _append_annot(writer, fld)
    _append_field(writer, fld)
    return written(writer)


def sig_widget_reuses_issuer_signature(sealed: bytes) -> bytes:
    """A later update adds signature field ``Seal2`` whose value (/V) is the issuer's own,
    existing signature dictionary, and whose opaque appearance over the holder's line
    shows :data:`FORGED_TEXT`.

    A viewer shows the forged line, in a field that lists a valid issuer signature.
    Attack: "a new field holding a signature" is permitted, but this one holds no new
    signature: its appearance is signed by no one."""
    return _sig_widget_over_text(sealed, _issuer_signature)


def sig_widget_with_placeholder(sealed: bytes) -> bytes:
    """As :func:`sig_widget_reuses_issuer_signature`, with a placeholder signature value:
    ``/ByteRange [0 0 0 0]`` and an all-zero /Contents, naming the issuer."""

    def placeholder(writer: IncrementalPdfFileWriter) -> Any:
        return writer.add_object(
            generic.DictionaryObject(
                {
                    pdf_name("/Type"): pdf_name("/Sig"),
                    pdf_name("/Filter"): pdf_name("/Adobe.PPKLite"),
                    pdf_name("/SubFilter"): pdf_name("/ETSI.CAdES.detached"),
                    pdf_name("/Name"): generic.TextStringObject("福州市市场监督管理局"),
                    pdf_name("/ByteRange"): numbers(0, 0, 0, 0),
                    pdf_name("/Contents"): generic.ByteStringObject(bytes(64)),
                }
            )
        )

    return _sig_widget_over_text(sealed, placeholder)


# -- 6. visible changes the rules allow ------------------------------------------------------


def form_fill_over_text(sealed: bytes) -> bytes:
    """Base :func:`sealed_form`. The "replace" shadow attack of tests/helpers/shadow.py:
    field ``holder`` gets the value "LI SI" and an opaque appearance over the signed name.

    A viewer shows "holder: LI SI". Form filling after an approval signature is permitted:
    the verifier must say the seal does not cover what the field now shows."""
    return replace_field(sealed, "LI SI")


def empty_signature_field_over_text(sealed: bytes) -> bytes:
    """A later update adds an empty signature field (no /V) whose opaque appearance over
    the holder's line shows :data:`FORGED_TEXT`.

    A viewer shows the forged line. Attack: adding an empty signature field is permitted,
    and its appearance can show anything."""
    return _sig_widget_over_text(sealed, None)


def empty_signature_field_indirect_rect(sealed: bytes) -> bytes:
    """As :func:`empty_signature_field_over_text`, the widget's /Rect an indirect array
    (``/Rect 31 0 R``, a valid PDF).

    A viewer shows the forged line. Attack: a check that reads /Rect without resolving
    it takes the widget for invisible and never looks at what it draws."""
    return _sig_widget_over_text(sealed, None, lambda w: w.add_object(numbers(*LINE_BOX)))


def empty_signature_field_indirect_coordinate(sealed: bytes) -> bytes:
    """As :func:`empty_signature_field_indirect_rect`, one coordinate of the /Rect an
    indirect number (``[60 745 31 0 R 790]``)."""
    x1, y1, x2, y2 = LINE_BOX

    def rect(writer: IncrementalPdfFileWriter) -> generic.ArrayObject:
        far = writer.add_object(generic.NumberObject(x2))
        return generic.ArrayObject([*numbers(x1, y1), far, generic.NumberObject(y2)])

    return _sig_widget_over_text(sealed, None, rect)


def empty_signature_field_five_element_rect(sealed: bytes) -> bytes:
    """As :func:`empty_signature_field_indirect_rect`, the /Rect having a fifth element
    (``[60 745 560 790 0]``).

    Where the widget lands is up to the reader: pdfium draws its appearance at the
    bottom left of the page, over the footer; poppler refuses the box. Attack: a widget
    whose box the verifier cannot read is not thereby invisible."""
    return _sig_widget_over_text(sealed, None, lambda _: numbers(*LINE_BOX, 0))


def _stamp(text: str, *, opaque: bool) -> TextStampStyle:
    """A seal appearance showing ``text`` (``opaque``: on a white background)."""
    if not opaque:
        return TextStampStyle(stamp_text=text, border_width=1)
    white = RawContent(b"1 g 0 0 10 10 re f", box=BoxConstraints(10, 10))
    return TextStampStyle(
        stamp_text=text,
        border_width=0,
        text_box_style=TextBoxStyle(font_size=16),
        background=white,
        background_opacity=1.0,
        background_layout=SimpleBoxLayoutRule(
            x_align=AxisAlignment.ALIGN_MIN,
            y_align=AxisAlignment.ALIGN_MIN,
            inner_content_scaling=InnerScaling.STRETCH_FILL,
        ),
    )


AMENDMENT_FIELD = "Amendment"
"""The field of :func:`self_signed_amendment_on_blank`'s signature."""


def self_signed_amendment_on_blank(sealed: bytes) -> bytes:
    """A second signature, B-B, by a self-signed certificate named like the issuer
    ("福州市市场监督管理局 (amendment)"; no trust bundle holds it), in field
    :data:`AMENDMENT_FIELD` whose widget on an empty area of the page reads "AMENDMENT:
    holder changed to LI SI".

    A viewer shows the amendment as part of the license under the issuer's intact seal;
    nothing the issuer signed is covered. Attack: a later signature's appearance is
    content the issuer never signed; the file must not pass, and the issuer's seal must
    warn about that widget."""
    return self_signed_sealer("福州市市场监督管理局 (amendment)").seal(
        sealed,
        level=PadesLevel.B_B,
        field_name=AMENDMENT_FIELD,
        reason="amended",
        appearance=SealAppearance(
            style=_stamp("AMENDMENT: holder changed to LI SI", opaque=False), box=BLANK_BOX
        ),
    )


def second_seal_over_text(sealed: bytes) -> bytes:
    """A second department (:data:`SECOND_DEPT`) seals the document with a real, valid
    signature (B-LT) whose widget lies over the holder's line and, on a white background,
    shows :data:`FORGED_TEXT`.

    A viewer shows the forged line under two valid seals. Attack: further signatures are
    permitted, and what their appearance covers is not the first signer's."""
    return sealer(SECOND_DEPT).seal(
        sealed,
        level=PadesLevel.B_LT,
        field_name="Seal2",
        reason="reviewed",
        appearance=SealAppearance(style=_stamp(FORGED_TEXT, opaque=True), box=LINE_BOX),
    )


# -- 7. the published classes ----------------------------------------------------------------


def isa_content_rewritten(sealed: bytes) -> bytes:
    """Incremental Saving Attack: a later update redefines the page's content stream to
    show :data:`FORGED_TEXT`. The plainest forgery: a viewer shows the forged line."""
    writer = incremental(sealed)
    _forge_content(writer)
    return written(writer)


def isa_new_content_stream(sealed: bytes) -> bytes:
    """ISA: a later update makes the page draw a new content stream showing
    :data:`FORGED_TEXT` (the signed stream stays, unused)."""
    writer = incremental(sealed)
    page_ref, page = first_page(writer)
    page[pdf_name("/Contents")] = writer.add_object(
        generic.StreamObject(stream_data=line_content(FORGED_TEXT))
    )
    writer.mark_update(page_ref)
    return written(writer)


def isa_new_page_object(sealed: bytes) -> bytes:
    """ISA: a later update points the page tree at a new page object, a copy of the signed
    page drawing a new content stream showing :data:`FORGED_TEXT`."""
    writer = incremental(sealed)
    _, old = first_page(writer)
    pages_ref = writer.root.raw_get("/Pages")
    page = generic.DictionaryObject({k: old.raw_get(k) for k in old})
    page[pdf_name("/Contents")] = writer.add_object(
        generic.StreamObject(stream_data=line_content(FORGED_TEXT))
    )
    pages_ref.get_object()[pdf_name("/Kids")] = generic.ArrayObject([writer.add_object(page)])
    writer.mark_update(pages_ref)
    return written(writer)


def isa_new_catalog(sealed: bytes) -> bytes:
    """ISA: a later update writes a new catalog (a new object number, named by the
    trailer's /Root) whose page tree holds one new page showing :data:`FORGED_TEXT`; the
    form and its signature fields are kept."""
    reader = PdfFileReader(io.BytesIO(sealed), strict=False)
    free = int(reader.trailer_view["/Size"])
    old_page = reader.root["/Pages"]["/Kids"][0]
    page, extra = _forged_page(old_page, free + 3)
    page[pdf_name("/Parent")] = generic.IndirectObject(free + 1, 0, None)
    pages = rawpdf.dict_bytes(
        {"/Type": b"/Pages", "/Count": b"1", "/Kids": f"[{free + 2} 0 R]".encode()}
    )
    catalog = generic.DictionaryObject({k: reader.root.raw_get(k) for k in reader.root})
    catalog[pdf_name("/Pages")] = generic.IndirectObject(free + 1, 0, None)
    return rawpdf.append_update(
        sealed,
        {free: rawpdf.serialize(catalog), free + 1: pages, free + 2: rawpdf.serialize(page)}
        | extra,
        xref="stream",
        trailer={"/Root": f"{free} 0 R".encode()},
    )


def swa_forged_body_in_gap(sealed: bytes) -> bytes:
    """Signature Wrapping Attack. Base: a file whose last revision is the issuer's
    signature (B-B or B-T). The bytes after the signature value are moved back, and in the
    room made between the two signed ranges go a forged content stream (showing
    :data:`FORGED_TEXT`) and a copy of the signature dictionary whose /ByteRange skips
    them; a new xref at the end lists both and the moved objects at their new offsets.

    The signed bytes are the same, so the signature value verifies; a viewer shows the
    forged line. Attack: the gap of /ByteRange must hold the signature value and nothing
    else."""
    reader = PdfFileReader(io.BytesIO(sealed), strict=False)
    sig_ref = _issuer_signature(reader)
    sig = sig_ref.get_object()
    _, a, b, c = (int(x) for x in sig["/ByteRange"])
    if b + c != len(sealed):
        raise ValueError("SWA needs the signature in the file's last revision (B-B or B-T)")
    number, body = _forged_content_body(sealed)
    marker = b"/ByteRange [0 0000000000 0000000000 0000000000]"
    entries = {k: sig.raw_get(k) for k in sig if k not in ("/ByteRange", "/Contents")}
    sig_body = rawpdf.serialize(generic.DictionaryObject(entries))[:-2] + marker
    sig_body += b" /Contents " + rawpdf.serialize(generic.ByteStringObject(sig["/Contents"]))
    content_obj = f"\n{number} 0 obj\n".encode() + body + b"\nendobj\n"
    sig_obj = f"{sig_ref.idnum} 0 obj\n".encode() + sig_body + b"\n>>\nendobj\n"
    shift = len(content_obj) + len(sig_obj)
    sig_obj = sig_obj.replace(marker, f"/ByteRange [0 {a:010d} {b + shift:010d} {c:010d}]".encode())
    last = reader.xrefs.total_revisions - 1
    offsets = {number: b + 1, sig_ref.idnum: b + len(content_obj)}
    for ref in reader.xrefs.explicit_refs_in_revision(last):
        where = reader.xrefs.get_historical_ref(ref, last)
        if isinstance(where, int) and where >= b and ref.idnum not in offsets:
            offsets[ref.idnum] = where + shift
    return rawpdf.append_update(
        sealed[:b] + content_obj + sig_obj + sealed[b:],
        {},
        offsets=offsets,
        xref="stream",
        like=rawpdf.trailer_of(sealed),
        prev=rawpdf.last_startxref(sealed) + shift,
    )


def _rewrite_issuer_signature(sealed: bytes, edit: Callable[[Any], None]) -> bytes:
    """A later update redefining the issuer's signature dictionary (``edit`` changes a
    copy of it) and the page's content stream (showing :data:`FORGED_TEXT`)."""
    writer = incremental(sealed)
    ref = _issuer_signature(writer)
    old = ref.get_object()
    new = generic.DictionaryObject({k: old.raw_get(k) for k in old})
    edit(new)
    redefine(writer, ref, new)
    _forge_content(writer)
    return written(writer)


def usf_contents_missing(sealed: bytes) -> bytes:
    """Universal Signature Forgery: a later update rewrites the page to show
    :data:`FORGED_TEXT` and the issuer's signature dictionary without /Contents.

    A viewer shows the forged line and a signature field naming the issuer. Attack: a
    verifier that skips what it cannot check may report nothing wrong."""
    return _rewrite_issuer_signature(sealed, lambda sig: sig.pop("/Contents"))


def usf_contents_null(sealed: bytes) -> bytes:
    """USF: as :func:`usf_contents_missing`, with ``/Contents null``."""
    return _rewrite_issuer_signature(
        sealed, lambda sig: sig.__setitem__(pdf_name("/Contents"), generic.NullObject())
    )


def usf_byterange_missing(sealed: bytes) -> bytes:
    """USF: as :func:`usf_contents_missing`, the dictionary keeping /Contents but losing
    /ByteRange."""
    return _rewrite_issuer_signature(sealed, lambda sig: sig.pop("/ByteRange"))


def usf_byterange_null(sealed: bytes) -> bytes:
    """USF: as :func:`usf_contents_missing`, with ``/ByteRange null``."""
    return _rewrite_issuer_signature(
        sealed, lambda sig: sig.__setitem__(pdf_name("/ByteRange"), generic.NullObject())
    )


def usf_byterange_odd(sealed: bytes) -> bytes:
    """USF: as :func:`usf_contents_missing`, with /ByteRange ``[0 -1 -1 0 7]`` (negative
    values, five entries)."""
    return _rewrite_issuer_signature(
        sealed, lambda sig: sig.__setitem__(pdf_name("/ByteRange"), numbers(0, -1, -1, 0, 7))
    )


def usf_contents_zeroed(sealed: bytes) -> bytes:
    """USF without rewriting anything signed: the issuer's /Contents hex string is zeroed
    in place (it lies in the unsigned gap), and a later update shows
    :data:`FORGED_TEXT`. The issuer's field now holds an empty placeholder."""
    reader = PdfFileReader(io.BytesIO(sealed), strict=False)
    _, a, b, _ = (int(x) for x in _issuer_signature(reader).get_object()["/ByteRange"])
    zeroed = sealed[: a + 1] + b"0" * (b - a - 2) + sealed[b - 1 :]
    return isa_content_rewritten(zeroed)


def usf_unsigned_document(unsigned: bytes) -> bytes:
    """USF with no key at all. Base: the unsigned license. The forger makes it show
    :data:`FORGED_TEXT` and adds a signature field whose value names the issuer (/Name,
    /Reason, /M) but has neither /Contents nor /ByteRange.

    Viewers list a signature by "福州市市场监督管理局". Attack: no such signature exists."""
    writer = incremental(unsigned)
    _forge_content(writer)
    value = writer.add_object(
        generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/Sig"),
                pdf_name("/Filter"): pdf_name("/Adobe.PPKLite"),
                pdf_name("/SubFilter"): pdf_name("/ETSI.CAdES.detached"),
                pdf_name("/Name"): generic.TextStringObject("福州市市场监督管理局"),
                pdf_name("/Reason"): generic.TextStringObject("issued"),
                pdf_name("/M"): generic.TextStringObject("D:20240101000000Z"),
            }
        )
    )
    fld = _widget(
        writer, (0, 0, 0, 0), FT=pdf_name("/Sig"), T=generic.TextStringObject("Seal1"), V=value
    )
    _append_annot(writer, fld)
    _append_field(writer, fld)
    return written(writer)


def _field_named(writer: IncrementalPdfFileWriter, name: str) -> generic.IndirectObject:
    fields = writer.root["/AcroForm"]["/Fields"]
    for i in range(len(fields)):
        if str(fields[i].get("/T")) == name:
            return fields.raw_get(i)
    raise ValueError(f"no field {name!r} in the document")


def shadow_hide_field(sealed: bytes) -> bytes:
    """Shadow "hide". Base :func:`sealed_field` ("cover"): the page reads
    :data:`FORGED_TEXT`, covered at signing by field ``holder``'s opaque appearance
    showing :data:`SIGNED_TEXT`. A later update empties the field: no value, a transparent
    appearance that draws nothing.

    A viewer now shows the forged line the signer never saw. Form filling is permitted:
    the verifier must say the seal does not cover what the field (no longer) shows."""
    writer = incremental(sealed)
    ref = _field_named(writer, FIELD)
    fld = ref.get_object()
    fld[pdf_name("/V")] = generic.TextStringObject("")
    fld[pdf_name("/AP")] = generic.DictionaryObject(
        {pdf_name("/N"): form_xobject(writer, b"/Tx BMC EMC", box=LINE_BOX)}
    )
    writer.mark_update(ref)
    return written(writer)


def shadow_hide_and_replace(sealed: bytes) -> bytes:
    """Shadow "hide-and-replace". Base :func:`sealed_two_faced`: the signed file holds two
    bodies of the page's content stream, the first (unused at signing) showing
    :data:`FORGED_TEXT`. A later update is an xref stream and nothing else: it points the
    content stream's entry back at the first body.

    A viewer shows the forged line; the update adds no object body at all. Attack: every
    object is signed, only which body counts has changed."""
    reader = PdfFileReader(io.BytesIO(sealed), strict=False)
    ref = reader.root["/Pages"]["/Kids"][0].raw_get("/Contents")
    first = reader.xrefs.get_historical_ref(ref.reference, 0)
    return rawpdf.append_update(sealed, {}, offsets={ref.idnum: first}, xref="stream")


def shadow_optional_content_toggled(sealed: bytes) -> bytes:
    """Shadow "hide-and-replace" through optional content. Base :func:`sealed_layers`: a
    later update redefines the default layer configuration, turning "signed" off and
    "draft" on. The page and its content are untouched.

    A viewer shows :data:`FORGED_TEXT`. Attack: what a page shows depends on objects
    outside the page."""
    writer = incremental(sealed)
    ref = writer.root["/OCProperties"].raw_get("/D")
    config = ref.get_object()
    redefine(
        writer,
        ref,
        generic.DictionaryObject(
            {pdf_name("/ON"): config.raw_get("/OFF"), pdf_name("/OFF"): config.raw_get("/ON")}
        ),
    )
    return written(writer)


def shadow_dangling_content_defined(sealed: bytes) -> bytes:
    """Shadow "replace" through a reference to nothing. Base :func:`sealed_dangling`
    ("contents"): the signed page's /Contents is ``[N 0 R 999 0 R]`` and object 999
    does not exist, so the signer saw the plain license. A later update (a hand-written xref
    stream) defines 999 as a content stream painting over the line and drawing
    :data:`FORGED_TEXT`.

    A viewer shows the forged line; no signed object was changed. Attack: a reference the
    signed revision cannot resolve is a hole the seal leaves open."""
    return rawpdf.append_update(
        sealed, {DANGLING: rawpdf.stream_bytes(cover_content())}, xref="stream"
    )


def shadow_dangling_xobject_defined(sealed: bytes) -> bytes:
    """As :func:`shadow_dangling_content_defined`, base ("xobject"): the signed content
    draws /X1 after the line and ``/XObject << /X1 999 0 R >>``; the update defines 999
    as a page-sized form painting over the line and drawing :data:`FORGED_TEXT`."""
    reader = PdfFileReader(io.BytesIO(sealed), strict=False)
    font = reader.root["/Pages"]["/Kids"][0]["/Resources"]["/Font"].raw_get("/F1")
    fonts = rawpdf.dict_bytes({"/F1": rawpdf.serialize(font)})
    form = {
        "/Type": b"/XObject",
        "/Subtype": b"/Form",
        "/BBox": rawpdf.serialize(numbers(*PAGE_BOX)),
        "/Resources": rawpdf.dict_bytes({"/Font": fonts}),
    }
    return rawpdf.append_update(
        sealed, {DANGLING: rawpdf.stream_bytes(cover_content(), form)}, xref="stream"
    )


def shadow_dangling_action_defined(sealed: bytes) -> bytes:
    """As :func:`shadow_dangling_content_defined`, base ("open_action" or "page_aa"): the
    catalog's /OpenAction, or the page's /AA /O, is ``999 0 R`` and nothing runs. The
    update defines 999 as a JavaScript action adding a FreeText annotation, white, over
    the holder's line, showing :data:`FORGED_TEXT`.

    A viewer that runs document JavaScript (Acrobat) shows the forged line when the file
    opens; poppler runs none. Attack: an action added after signing is never permitted,
    least of all through a reference the seal could not resolve."""
    script = (
        f"this.addAnnot({{page: 0, type: 'FreeText', rect: {list(LINE_BOX)}, "
        f"contents: '{FORGED_TEXT}', textSize: 18, fillColor: color.white}});"
    )
    action = {
        "/Type": b"/Action",
        "/S": b"/JavaScript",
        "/JS": rawpdf.serialize(generic.TextStringObject(script)),
    }
    return rawpdf.append_update(sealed, {DANGLING: rawpdf.dict_bytes(action)}, xref="stream")


def _annotation_over_text(certified: bytes, subtype: str, *, as_signature: bool = False) -> bytes:
    writer = incremental(certified)
    entries: dict[str, generic.PdfObject] = {
        "Contents": generic.TextStringObject(FORGED_TEXT),
        "DA": generic.TextStringObject("/Helv 18 Tf 0 g"),
        "AP": _forged_ap(writer),
    }
    if as_signature:
        entries |= {
            "FT": pdf_name("/Sig"),
            "T": generic.TextStringObject("Seal2"),
            "V": _issuer_signature(writer),
        }
    annot = _annot(writer, subtype, **entries)
    _append_annot(writer, annot)
    if as_signature:
        _append_field(writer, annot)
    return written(writer)


def eaa_freetext(certified: bytes) -> bytes:
    """Evil Annotation Attack. Base: a certified license (:func:`certified_license`). A
    later update adds a FreeText annotation over the holder's line, its appearance white
    with :data:`FORGED_TEXT`.

    A viewer shows the forged line on a "certified" document. DocMDP P=1 and P=2 forbid
    annotations."""
    return _annotation_over_text(certified, "FreeText")


def eaa_stamp(certified: bytes) -> bytes:
    """EAA: as :func:`eaa_freetext`, with a Stamp annotation."""
    return _annotation_over_text(certified, "Stamp")


def eaa_freetext_as_signature_field(certified: bytes) -> bytes:
    """EAA: as :func:`eaa_freetext`, the FreeText annotation also carrying /FT /Sig, a
    field name and the issuer's signature as its value, and listed in /AcroForm /Fields:
    disguised as a signature field to pass as "signing, permitted by P=2"."""
    return _annotation_over_text(certified, "FreeText", as_signature=True)


# -- 8. annotations a renderer may leave out ------------------------------------------------


class _Verbatim(generic.PdfObject):
    """A token written as given (pyHanko writes the real number 36.0 as ``36``)."""

    def __init__(self, token: bytes) -> None:
        self.token = token

    def write_to_stream(self, stream: Any, handler: Any = None, container_ref: Any = None) -> None:
        stream.write(self.token)


def _with_annotation(sealed: bytes, subtype: str, part: WriterPart) -> bytes:
    """A later update adding annotation ``subtype`` over the holder's line, with the
    entries ``part(writer)`` returns (names without the slash)."""
    writer = incremental(sealed)
    _append_annot(writer, _annot(writer, subtype, **part(writer)))
    return written(writer)


def square_rollover_appearance_forged(sealed: bytes) -> bytes:
    """A later update adds a Square annotation over the holder's line whose normal
    appearance (/AP /N) is empty, and whose rollover and down appearances (/R, /D) are
    white with :data:`FORGED_TEXT` (red team pdf11, p11-01).

    pdfium and poppler draw /N only: nothing, the pages compare identical; Acrobat shows
    the forged line when the mouse passes over the holder's name. Attack: only /N is
    rendered and compared."""

    def part(writer: IncrementalPdfFileWriter) -> dict[str, generic.PdfObject]:
        forged = line_appearance(writer)
        blank = form_xobject(writer, b"", box=LINE_BOX)
        ap = {pdf_name("/N"): blank, pdf_name("/R"): forged, pdf_name("/D"): forged}
        return {"AP": generic.DictionaryObject(ap)}

    return _with_annotation(sealed, "Square", part)


def square_note_text_forged(sealed: bytes) -> bytes:
    """A later update adds a Square annotation over the holder's line that draws nothing
    (an empty /AP /N) but carries /T and /Contents :data:`FORGED_TEXT` (red team pdf11,
    p11-01).

    pdf.js (Firefox) and Acrobat show the note's title and text in a pop-up when the mouse
    passes over the holder's line. Attack: no pixel comparison sees a pop-up note."""

    def part(writer: IncrementalPdfFileWriter) -> dict[str, generic.PdfObject]:
        blank = form_xobject(writer, b"", box=LINE_BOX)
        return {
            "AP": generic.DictionaryObject({pdf_name("/N"): blank}),
            "T": generic.TextStringObject("Registrar"),
            "Contents": generic.TextStringObject(FORGED_TEXT),
        }

    return _with_annotation(sealed, "Square", part)


_Z_IS_L = (
    b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap "
    b"/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def "
    b"/CMapName /Adobe-Identity-UCS def /CMapType 2 def "
    b"1 begincodespacerange <00> <FF> endcodespacerange "
    b"2 beginbfchar <5A> <004C> <48> <0049> endbfchar "
    b"endcmap CMapName currentdict /CMap defineresource pop end end"
)


def font_text_layer_rewritten(sealed: bytes) -> bytes:
    """A later update gives the page's font a /ToUnicode map reading code 'Z' as 'L' and
    'H' as 'I': the page still shows ZHANG SAN, its text layer says LIANG SAN (red team
    pdf11, p11-11).

    Copying, searching, a screen reader, any system that reads the license's text gets
    another holder; the pixels do not change. Attack: only the pixels are compared."""
    writer = incremental(sealed)
    _, page = first_page(writer)
    ref = page["/Resources"]["/Font"].raw_get("/F1")
    font = ref.get_object()
    font[pdf_name("/ToUnicode")] = writer.add_object(generic.StreamObject(stream_data=_Z_IS_L))
    writer.mark_update(ref)
    return written(writer)


def outline_and_page_label_added(sealed: bytes) -> bytes:
    """A later update gives the catalog an outline whose one item reads
    :data:`FORGED_TEXT` (pointing at the page), /PageMode /UseOutlines (viewers open the
    bookmark pane with the file) and /PageLabels giving the page the same text (red team
    pdf11, p11-15).

    Firefox, Chrome and Acrobat show the forged holder beside the page, in the bookmark
    pane and the page number box. Attack: the pages compare identical."""
    writer = incremental(sealed)
    page_ref, _ = first_page(writer)
    outlines = writer.add_object(
        generic.DictionaryObject({pdf_name("/Type"): pdf_name("/Outlines")})
    )
    item = writer.add_object(
        generic.DictionaryObject(
            {
                pdf_name("/Title"): generic.TextStringObject(FORGED_TEXT),
                pdf_name("/Parent"): outlines,
                pdf_name("/Dest"): generic.ArrayObject([page_ref, pdf_name("/Fit")]),
            }
        )
    )
    node = outlines.get_object()
    node.update({pdf_name("/First"): item, pdf_name("/Last"): item})
    node[pdf_name("/Count")] = generic.NumberObject(1)
    label = generic.DictionaryObject({pdf_name("/P"): generic.TextStringObject(FORGED_TEXT)})
    root = writer.root
    root[pdf_name("/Outlines")] = outlines
    root[pdf_name("/PageMode")] = pdf_name("/UseOutlines")
    root[pdf_name("/PageLabels")] = generic.DictionaryObject(
        {pdf_name("/Nums"): generic.ArrayObject([generic.NumberObject(0), label])}
    )
    writer.update_root()
    return written(writer)


def tounicode_map_rewritten(sealed: bytes) -> bytes:
    """Base :func:`sealed_tounicode_license`. A later update rewrites the font's
    /ToUnicode map in place (same object number, the font untouched) so that code 'Z'
    reads 'L' and 'H' 'I': the page shows ZHANG SAN, its text layer LIANG SAN (red team
    pdf11, p11-11, as the red team wrote it).

    Attack: the map is reached only through the font, which did not change."""
    reader = PdfFileReader(io.BytesIO(sealed), strict=False)
    font = reader.root["/Pages"]["/Kids"][0]["/Resources"]["/Font"]["/F1"]
    number = int(font.raw_get("/ToUnicode").idnum)
    return rawpdf.append_update(sealed, {number: rawpdf.stream_bytes(_Z_IS_L)}, xref="stream")


def invisible_text_added(sealed: bytes) -> bytes:
    """A later update rewrites the page's content stream: the same drawing, plus
    :data:`FORGED_TEXT` in text render mode 3 (invisible) (red team pdf11, p11-11's class:
    the text layer, not the pixels).

    The page looks the same; copying, searching, a screen reader or any system reading
    the license's text finds the forged holder. Attack: only the pixels are compared."""
    writer = incremental(sealed)
    ref = content_ref(writer)
    hidden = b"\nBT 3 Tr /F1 18 Tf 72 700 Td (" + FORGED_TEXT.encode("ascii") + b") Tj ET"
    redefine(writer, ref, generic.StreamObject(stream_data=ref.get_object().data + hidden))
    return written(writer)


def annotation_noview_indirect_flags(sealed: bytes) -> bytes:
    """A later update adds a Square annotation over the holder's line whose appearance is
    white with :data:`FORGED_TEXT`, its flags indirect: ``/F 33 0 R``, object 33 being
    36 (NoView | Print).

    On screen nothing shows; a printed copy (poppler's pdftocairo prints it) reads the
    forged line. Attack: a check
    that reads /F without resolving it, or only looks at the screen, calls it harmless."""
    return _with_annotation(
        sealed,
        "Square",
        lambda w: {"F": w.add_object(generic.NumberObject(36)), "AP": _forged_ap(w)},
    )


def annotation_noview_real_flags(sealed: bytes) -> bytes:
    """As :func:`annotation_noview_indirect_flags`, the flags a real number: ``/F 36.0``.
    A reader that takes only integers as flags ignores them and shows the forged line on
    screen as well."""
    return _with_annotation(
        sealed, "Square", lambda w: {"F": _Verbatim(b"36.0"), "AP": _forged_ap(w)}
    )


def popup_open_shows_parent_contents(sealed: bytes) -> bytes:
    """A later update adds an open Popup annotation (/Open true, no appearance) over the
    holder's line; its parent, a hidden Text annotation outside the page's /Annots, has
    /Contents :data:`FORGED_TEXT`.

    A viewer that opens popups (Acrobat) shows a note over the license reading the forged
    line; poppler, pdfium and MuPDF draw nothing. Attack: a popup has no appearance of its
    own; the viewer draws it from its parent's text, so no renderer comparison sees it."""
    writer = incremental(sealed)
    parent = _annot(
        writer,
        "Text",
        (0, 0, 0, 0),
        F=generic.NumberObject(6),
        Contents=generic.TextStringObject(FORGED_TEXT),
        T=generic.TextStringObject("Registrar"),
    )
    popup = _annot(writer, "Popup", Open=generic.BooleanObject(True), Parent=parent)
    parent.get_object()[pdf_name("/Popup")] = popup
    _append_annot(writer, popup)
    return written(writer)


def text_annotation_open(sealed: bytes) -> bytes:
    """A later update adds an open Text annotation (/Open true, no appearance, no popup)
    at the holder's line, its /Contents :data:`FORGED_TEXT`.

    A viewer draws a note icon on the line and opens its window reading the forged
    line. Attack: what the note says is not signed, and it shows without a click."""
    x1, _, _, y2 = LINE_BOX
    return _with_annotation(
        sealed,
        "Text",
        lambda _: {
            "Rect": numbers(x1, y2 - 20, x1 + 20, y2),
            "Open": generic.BooleanObject(True),
            "Contents": generic.TextStringObject(FORGED_TEXT),
            "T": generic.TextStringObject("Registrar"),
        },
    )


def freetext_without_appearance(sealed: bytes) -> bytes:
    """A later update adds a FreeText annotation over the holder's line with /Contents
    :data:`FORGED_TEXT` and /DA but no /AP.

    A viewer builds the appearance itself and shows the forged line. Attack: a renderer
    that draws only /AP streams sees nothing to compare."""
    return _with_annotation(
        sealed,
        "FreeText",
        lambda _: {
            "Contents": generic.TextStringObject(FORGED_TEXT),
            "DA": generic.TextStringObject("/Helv 18 Tf 0 g"),
        },
    )


def redact_overlay_text(sealed: bytes) -> bytes:
    """A later update adds a Redact annotation over the holder's line with /OverlayText
    :data:`FORGED_TEXT` and an /RO form (white, the forged line).

    MuPDF outlines the line in red; Acrobat shows the overlay text over it, and applying
    the redaction (one click, or any "sanitise" step) burns the forged line into the page.
    Attack: the redaction is the forger's, and what it shows is signed by no one."""
    return _with_annotation(
        sealed,
        "Redact",
        lambda w: {
            "OverlayText": generic.TextStringObject(FORGED_TEXT),
            "RO": line_appearance(w),
        },
    )


# -- 9. what a viewer inherits, nests, prints or makes up (the second red team) -----------


def stray_parent_resources_rewritten(sealed: bytes) -> bytes:
    """Base :func:`sealed_stray_parent`: the page inherits its resources, and its /Parent
    is a second page-tree node that the tree root's /Kids never leads to. A later update
    redefines that node alone, its /Resources now naming a new dictionary in which /Fm0
    paints over the line and draws :data:`FORGED_TEXT`.

    pdfium and MuPDF, which inherit through /Parent, show the forged line; poppler, which
    inherits through /Kids, shows the signed one. Attack: a walk that follows /Kids down
    from the catalog never reaches the node the page actually inherits from."""
    writer = incremental(sealed)
    _, page = first_page(writer)
    ref = page.raw_get("/Parent")
    node = ref.get_object()
    resources = generic.DictionaryObject(
        {
            pdf_name("/Font"): node["/Resources"].raw_get("/Font"),
            pdf_name("/XObject"): generic.DictionaryObject(
                {pdf_name("/Fm0"): form_xobject(writer, cover_content())}
            ),
        }
    )
    new = generic.DictionaryObject({k: node.raw_get(k) for k in node})
    new[pdf_name("/Resources")] = writer.add_object(resources)
    redefine(writer, ref, new)
    return written(writer)


def _innermost_function(shading: Any) -> generic.IndirectObject:
    """The reference at the bottom of a shading's nested (direct) stitching functions."""
    function = shading.raw_get("/Function")
    while not isinstance(function, generic.IndirectObject):
        function = function.raw_get("/Functions").raw_get(0)
    return function


def deep_function_swapped(sealed: bytes) -> bytes:
    """Base :func:`sealed_deep_shading` (70 or 20 levels): a later update swaps the two
    innermost functions, the signed line's shading now painting white and the forged
    line's black.

    A viewer shows :data:`FORGED_TEXT` (the signed line, multiplied by white, is gone):
    poppler, pdfium and MuPDF at 20 levels; at 70, poppler and MuPDF (pdfium draws
    neither line, before or after: it gives up on functions nested that deep). Attack:
    the only objects changed sit below more direct levels than a walk of the signed
    revision may follow; a walk that stops there never learns they are drawn."""
    writer = incremental(sealed)
    _, page = first_page(writer)
    shadings = page["/Resources"]["/Shading"]
    redefine(writer, _innermost_function(shadings["/ShR"]), grey_function(1))
    redefine(writer, _innermost_function(shadings["/ShF"]), grey_function(0))
    return written(writer)


def _layers_usage(sealed: bytes, usage: Callable[[str], generic.DictionaryObject]) -> bytes:
    """A later update giving each optional content group of the base a /Usage
    dictionary, ``usage("/OFF")`` for "signed" and ``usage("/ON")`` for "draft"."""
    writer = incremental(sealed)
    signed, draft = (writer.root["/OCProperties"]["/OCGs"].raw_get(i) for i in (0, 1))
    for ref, state in ((signed, "/OFF"), (draft, "/ON")):
        group = ref.get_object()
        new = generic.DictionaryObject({k: group.raw_get(k) for k in group})
        new[pdf_name("/Usage")] = usage(state)
        redefine(writer, ref, new)
    return written(writer)


def _usage_entry(category: str, key: str) -> Callable[[str], generic.DictionaryObject]:
    """``state -> << /category << /key state >> >>``, a /Usage dictionary."""

    def usage(state: str) -> generic.DictionaryObject:
        entry = generic.DictionaryObject({pdf_name(key): pdf_name(state)})
        return generic.DictionaryObject({pdf_name(category): entry})

    return usage


def layers_print_state_added(sealed: bytes) -> bytes:
    """Base :func:`sealed_print_layers` (its default configuration has /AS for the Print
    event over both groups): a later update adds only ``/Usage << /Print << /PrintState
    /OFF >> >>`` to group "signed" and ``/PrintState /ON`` to group "draft".

    On screen nothing changes; a printed copy (pdfium's print path, as Chrome prints;
    Acrobat, ISO 32000 8.11.4.4) reads :data:`FORGED_TEXT`. Attack: a check that renders
    for the screen only calls the change harmless."""
    return _layers_usage(sealed, _usage_entry("/Print", "/PrintState"))


def layers_view_state_added(sealed: bytes) -> bytes:
    """As :func:`layers_print_state_added`, the /Usage being ``/View << /ViewState ... >>``
    (the configuration's /AS has the View event too): pdfium and MuPDF show
    :data:`FORGED_TEXT` on screen; poppler keeps the /ON and /OFF states."""
    return _layers_usage(sealed, _usage_entry("/View", "/ViewState"))


def layers_intent_changed(sealed: bytes) -> bytes:
    """Base :func:`sealed_print_layers`: a later update gives group "draft" (off) the
    intent /Design. The default configuration considers only /View groups, so a viewer
    that honours intents leaves "draft" out when it decides what is hidden: pdfium draws
    :data:`FORGED_TEXT` over the signed line; poppler and MuPDF keep it hidden. Attack:
    whether a layer counts is itself signed content."""
    writer = incremental(sealed)
    ref = writer.root["/OCProperties"]["/OCGs"].raw_get(1)
    group = ref.get_object()
    new = generic.DictionaryObject({k: group.raw_get(k) for k in group})
    new[pdf_name("/Intent")] = pdf_name("/Design")
    redefine(writer, ref, new)
    return written(writer)


def form_font_added(sealed: bytes) -> bytes:
    """Base :func:`sealed_bare_field`: field :data:`BARE_FIELD` has no appearance stream,
    and the /DA it inherits from the form names font /Fx, which the form's /DR lacks. A
    later update adds /Fx to /DR: Helvetica drawing '4' as "nine". The field is
    untouched.

    Viewers make the field's appearance themselves, there being none: poppler and pdfium
    now read "No. 2029-0001" (MuPDF still falls back to plain Helvetica). Attack: with no
    appearance stream, the form's resources are what the field looks like."""
    writer = incremental(sealed)
    fonts = _catalog_entry(writer, "/AcroForm")["/DR"]["/Font"]
    fonts[pdf_name("/Fx")] = writer.add_object(digit_swapped_font(fonts["/Helv"], writer))
    return written(writer)


def form_da_names_other_font(sealed: bytes) -> bytes:
    """Base :func:`sealed_bare_field`: a later update changes only the form's /DA, which
    the field inherits, to ``/Sx 18 Tf 0 g``; /Sx, signed in /DR and used by nothing,
    draws '4' as "nine".

    poppler and pdfium read "No. 2029-0001" in the field. Attack: /DA is how a field
    without an appearance stream looks, not a form value."""
    writer = incremental(sealed)
    form = _catalog_entry(writer, "/AcroForm")
    form[pdf_name("/DA")] = generic.TextStringObject("/Sx 18 Tf 0 g")
    return written(writer)


def field_da_names_other_font(sealed: bytes) -> bytes:
    """As :func:`form_da_names_other_font`, the /DA ``/Sx 18 Tf 0 g`` added to the field
    itself. poppler and pdfium read "No. 2029-0001"; the field's own entries changed,
    which is a form fill (/DA is among the keys a fill may set): the seal must be
    reported modified, and a passing file must warn about the field."""
    writer = incremental(sealed)
    ref = _field_named(writer, BARE_FIELD)
    ref.get_object()[pdf_name("/DA")] = generic.TextStringObject("/Sx 18 Tf 0 g")
    writer.mark_update(ref)
    return written(writer)


SLOW_OPERATORS = 3_000_000
"""Fill operators in the red team's slow page: its verification takes longer than the
verifier's default bound."""


def slow_page_content(sealed: bytes, operators: int = 100_000) -> bytes:
    """A later update redefines the page's content stream as a deflated stream of
    ``operators`` tiny fills (``1 1 0.5 0.5 re f``, 17 bytes each, compressing to almost
    nothing): the signed line is gone.

    A denial more than a forgery: the update is a few kilobytes and takes seconds to
    render (at :data:`SLOW_OPERATORS`, longer than the verifier's bound). The verdict
    must come, and not be a pass, within that bound."""
    number = _content_of(sealed).idnum
    data = zlib.compress(b"0 g " + b"1 1 0.5 0.5 re f " * operators, 9)
    body = rawpdf.stream_bytes(data, {"/Filter": b"/FlateDecode"})
    return rawpdf.append_update(sealed, {number: body}, xref="stream")


# -- benign: what must keep passing -----------------------------------------------------------


def second_seal_on_blank(sealed: bytes) -> bytes:
    """A second department seals the license (valid signature, B-LT) with a visible seal
    on an empty area of the page. Nothing signed is covered."""
    return sealer(SECOND_DEPT).seal(
        sealed,
        level=PadesLevel.B_LT,
        field_name="Seal2",
        reason="reviewed",
        appearance=SealAppearance(style=_stamp("seen", opaque=False), box=BLANK_BOX),
    )


def document_timestamp_added(sealed: bytes) -> bytes:
    """A document timestamp added in a later revision."""
    writer = incremental(sealed)
    out = io.BytesIO()
    stamper = PdfTimeStamper(embedded_tsa(), field_name="DocTimeStamp1")
    asyncio.run(stamper.async_timestamp_pdf(writer, "sha256", output=out))
    return out.getvalue()


def validation_data_and_timestamp_added(sealed: bytes) -> bytes:
    """Base: a B-T license. Later revisions add what B-LTA adds (signing/seal.py): a DSS
    with the chain's certificates and CRLs, then a document timestamp."""
    return document_timestamp_added(add_validation_data(sealed))


def hidden_field_filled(sealed: bytes) -> bytes:
    """Base :func:`sealed_field` ("hidden"): a later update changes the value of a hidden
    text field (/F 2). Nothing a viewer shows changes."""
    writer = incremental(sealed)
    ref = _field_named(writer, FIELD)
    ref.get_object()[pdf_name("/V")] = generic.TextStringObject("internal reference 2")
    writer.mark_update(ref)
    return written(writer)


def certified_copy(sealed: bytes) -> bytes:
    """The vault's own certified copy (signing/copies): the original untouched plus one
    update with the vault's B-LT seal and its 加注 box in a corner."""

    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    annotation = CopyAnnotation(
        copy_id="forgeries0000000000001",
        made_at=now,
        maker="evault 电子证照库",
        department="福州市住房和城乡建设局",
        purpose="商品房预售许可申请",
        case_no="FZ-2026-00012345",
        valid_until=now + dt.timedelta(days=30),
        verify_url="https://vault.example.gov.cn/v/forgeries0000000000001",
    )
    return CopyMaker(sealer(None)).make(sealed, annotation)


def unchanged(sealed: bytes) -> bytes:
    """The base itself (for a base that is the benign case: B-LTA, object streams)."""
    return sealed


# -- the cases -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One forgery (or benign change) with the sealed base it applies to."""

    name: str
    base: Callable[[], bytes]
    """The file as the issuer sealed it (cached per process)."""
    change: Callable[[bytes], bytes]
    """The forgery or the benign change, applied to the base."""
    form_fill: bool = False
    """A form fill the rules permit: the seal must be reported modified, but the file may
    still pass if the report warns about it."""
    shown_by_poppler: bool = True
    """poppler draws the first page differently from the base (False: poppler follows the
    xref and shows the signed line, a reader that scans or repairs shows the forgery; or
    only a viewer that runs scripts, opens popups, applies redactions or prints shows
    it, or poppler refuses what another renderer draws)."""
    later_signature: str | None = None
    """The field of a later signature whose widget shows what the issuer never signed, on
    blank space: the issuer's seal may stay unmodified, but must warn naming this field,
    and the file must not pass."""

    def build(self) -> bytes:
        return self.change(self.base())

    def __repr__(self) -> str:
        return f"Case({self.name})"


@functools.cache
def _base(sealed: Callable[..., bytes], *args: Any) -> Callable[[], bytes]:
    """``sealed`` bound to ``args``, the same object for the same arguments (the suite
    checks each distinct base once)."""
    return functools.partial(sealed, *args)


_prepared = functools.partial(_base, sealed_prepared)
_certified = functools.partial(_base, certified_license)
_field = functools.partial(_base, sealed_field)
_named = functools.partial(_base, sealed_named_resource)
_dangling = functools.partial(_base, sealed_dangling)
_deep = functools.partial(_base, sealed_deep_shading)


ATTACKS: tuple[Case, ...] = (
    # 1. the new revision vouching for itself
    Case("dss_vri_claims_content", sealed_license, dss_vri_claims_content),
    Case("dss_vri_claims_page", sealed_license, dss_vri_claims_page),
    Case("dss_vri_claims_second_page", sealed_two_page_license, dss_vri_claims_second_page),
    Case("dss_ocsps_claims_content", sealed_license, dss_ocsps_claims_content),
    Case("info_claims_content", sealed_license, info_claims_content),
    Case("metadata_claims_content", sealed_license, metadata_claims_content),
    Case("metadata_keys_on_content", _prepared("metadata"), metadata_keys_on_content),
    Case("struct_keys_on_resources", _prepared("struct"), struct_keys_on_resources),
    Case("info_aliases_resources", _prepared("info"), info_aliases_resources),
    Case("fields_key_on_content", _prepared("fields"), fields_key_on_content),
    Case("structelem_type_on_xobject", _prepared("structelem"), structelem_type_on_xobject),
    Case("number_tree_xobject_dict", _prepared("numtree"), number_tree_xobject_dict),
    Case("xobject_named_metadata", _named("XObject", "Metadata"), xobject_named_like_metadata),
    Case("xobject_named_pieceinfo", _named("XObject", "PieceInfo"), xobject_named_like_metadata),
    Case("font_named_metadata", _named("Font", "Metadata"), font_named_like_metadata),
    # 2. object streams
    Case("objstm_redefines_page", sealed_objstm_license, objstm_redefines_page),
    Case("objstm_redefines_page_tree", sealed_objstm_license, objstm_redefines_page_tree),
    Case("objstm_redefines_font", sealed_objstm_license, objstm_redefines_font),
    Case("objstm_lists_redefined_page", sealed_objstm_license, objstm_lists_redefined_page),
    # 3. generations
    Case("content_at_generation_1", sealed_license, content_at_generation_1),
    Case("page_at_generation_1", sealed_license, page_at_generation_1),
    Case("page_at_generation_1_unchanged", sealed_license, page_at_generation_1_unchanged),
    Case("info_string_hides_forged_page", sealed_license, info_string_hides_forged_page),
    Case(
        "info_at_generation_1_hides_content",
        sealed_table_license,
        info_at_generation_1_hides_content,
    ),
    Case(
        "trailer_line_hides_forged_catalog",
        sealed_table_license,
        trailer_line_hides_forged_catalog,
    ),
    Case("info_freed_string_hides_content", sealed_table_license, info_freed_string_hides_content),
    # 4. parser differentials
    Case("body_outside_xref_startxref_off", sealed_license, body_outside_xref_startxref_off),
    Case(
        "body_outside_xref_table_startxref_off",
        sealed_license,
        body_outside_xref_table_startxref_off,
    ),
    Case("trailer_without_xref", sealed_license, trailer_without_xref),
    Case(
        "xref_omits_carried_object",
        sealed_license,
        xref_omits_carried_object,
        shown_by_poppler=False,
    ),
    Case("duplicate_prev", sealed_license, duplicate_prev),
    Case(
        "prev_skips_forged_section",
        sealed_license,
        prev_skips_forged_section,
        shown_by_poppler=False,
    ),
    # 5. signature widgets
    Case("sig_widget_reuses_issuer_signature", sealed_license, sig_widget_reuses_issuer_signature),
    Case("sig_widget_with_placeholder", sealed_license, sig_widget_with_placeholder),
    # 6. visible changes the rules allow
    Case("form_fill_over_text", sealed_form, form_fill_over_text, form_fill=True),
    Case("empty_signature_field_over_text", sealed_license, empty_signature_field_over_text),
    Case(
        "empty_signature_field_indirect_rect",
        sealed_license,
        empty_signature_field_indirect_rect,
    ),
    Case(
        "empty_signature_field_indirect_coordinate",
        sealed_license,
        empty_signature_field_indirect_coordinate,
    ),
    Case(
        "empty_signature_field_five_element_rect",
        sealed_license,
        empty_signature_field_five_element_rect,
        shown_by_poppler=False,
    ),
    Case(
        "self_signed_amendment_on_blank",
        sealed_license,
        self_signed_amendment_on_blank,
        later_signature=AMENDMENT_FIELD,
    ),
    Case("second_seal_over_text", sealed_license, second_seal_over_text),
    # 7. the published classes
    Case("isa_content_rewritten", sealed_license, isa_content_rewritten),
    Case("isa_new_content_stream", sealed_license, isa_new_content_stream),
    Case("isa_new_page_object", sealed_license, isa_new_page_object),
    Case("isa_new_catalog", sealed_license, isa_new_catalog),
    Case("swa_forged_body_in_gap", sealed_license_signed_last, swa_forged_body_in_gap),
    Case("usf_contents_missing", sealed_license, usf_contents_missing),
    Case("usf_contents_null", sealed_license, usf_contents_null),
    Case("usf_contents_zeroed", sealed_license, usf_contents_zeroed),
    Case("usf_byterange_missing", sealed_license, usf_byterange_missing),
    Case("usf_byterange_null", sealed_license, usf_byterange_null),
    Case("usf_byterange_odd", sealed_license, usf_byterange_odd),
    Case("usf_unsigned_document", license_pdf, usf_unsigned_document),
    Case("shadow_hide_field", _field("cover"), shadow_hide_field, form_fill=True),
    Case("shadow_hide_and_replace", sealed_two_faced, shadow_hide_and_replace),
    Case("shadow_optional_content_toggled", sealed_layers, shadow_optional_content_toggled),
    Case("shadow_dangling_content", _dangling("contents"), shadow_dangling_content_defined),
    Case("shadow_dangling_xobject", _dangling("xobject"), shadow_dangling_xobject_defined),
    Case(
        "shadow_dangling_open_action",
        _dangling("open_action"),
        shadow_dangling_action_defined,
        shown_by_poppler=False,
    ),
    Case(
        "shadow_dangling_page_aa",
        _dangling("page_aa"),
        shadow_dangling_action_defined,
        shown_by_poppler=False,
    ),
    Case("eaa_freetext_p1", _certified(1), eaa_freetext),
    Case("eaa_freetext_p2", _certified(2), eaa_freetext),
    Case("eaa_stamp_p1", _certified(1), eaa_stamp),
    Case("eaa_stamp_p2", _certified(2), eaa_stamp),
    Case("eaa_freetext_as_signature_field_p1", _certified(1), eaa_freetext_as_signature_field),
    Case("eaa_freetext_as_signature_field_p2", _certified(2), eaa_freetext_as_signature_field),
    Case("ssa_empty_signature_field_p2", _certified(2), empty_signature_field_over_text),
    Case("ssa_second_seal_over_text_p2", _certified(2), second_seal_over_text),
    # 8. annotations a renderer may leave out
    Case(
        "annotation_noview_indirect_flags",
        sealed_license,
        annotation_noview_indirect_flags,
        shown_by_poppler=False,
    ),
    Case("annotation_noview_real_flags", sealed_license, annotation_noview_real_flags),
    Case(
        "popup_open_shows_parent_contents",
        sealed_license,
        popup_open_shows_parent_contents,
        shown_by_poppler=False,
    ),
    Case("text_annotation_open", sealed_license, text_annotation_open),
    Case("freetext_without_appearance", sealed_license, freetext_without_appearance),
    Case(
        "square_rollover_appearance_forged",
        sealed_license,
        square_rollover_appearance_forged,
        shown_by_poppler=False,
    ),
    Case(
        "outline_and_page_label_added",
        sealed_license,
        outline_and_page_label_added,
        shown_by_poppler=False,
    ),
    Case("invisible_text_added", sealed_license, invisible_text_added, shown_by_poppler=False),
    Case(
        "tounicode_map_rewritten",
        sealed_tounicode_license,
        tounicode_map_rewritten,
        shown_by_poppler=False,
    ),
    Case(
        "font_text_layer_rewritten",
        sealed_license,
        font_text_layer_rewritten,
        shown_by_poppler=False,
    ),
    Case(
        "square_note_text_forged",
        sealed_license,
        square_note_text_forged,
        shown_by_poppler=False,
    ),
    Case("redact_overlay_text", sealed_license, redact_overlay_text, shown_by_poppler=False),
    # 9. what a viewer inherits, nests, prints or makes up (the second red team)
    Case(
        "stray_parent_resources_rewritten",
        sealed_stray_parent,
        stray_parent_resources_rewritten,
        shown_by_poppler=False,
    ),
    Case("deep_function_swapped_70", _deep(70), deep_function_swapped),
    Case("deep_function_swapped_20", _deep(20), deep_function_swapped),
    Case(
        "layers_print_state_added",
        sealed_print_layers,
        layers_print_state_added,
        shown_by_poppler=False,
    ),
    Case(
        "layers_view_state_added",
        sealed_print_layers,
        layers_view_state_added,
        shown_by_poppler=False,
    ),
    Case(
        "layers_intent_changed", sealed_print_layers, layers_intent_changed, shown_by_poppler=False
    ),
    Case("form_font_added", sealed_bare_field, form_font_added),
    Case("form_da_names_other_font", sealed_bare_field, form_da_names_other_font),
    Case("field_da_names_other_font", sealed_bare_field, field_da_names_other_font, form_fill=True),
    Case("slow_page_content", sealed_license, slow_page_content),
    *(
        Case(name, sealed_license, getattr(new_objects, name), shown_by_poppler=False)
        for name in new_objects.__all__
    ),
)
"""Every forgery: none may leave the issuer's seal intact and unmodified."""

BENIGN: tuple[Case, ...] = (
    Case("second_seal_on_blank", sealed_license, second_seal_on_blank),
    Case("second_seal_on_blank_certified_p2", _certified(2), second_seal_on_blank),
    Case("document_timestamp_added", sealed_license, document_timestamp_added),
    Case("document_timestamp_on_certified_p1", _certified(1), document_timestamp_added),
    Case(
        "validation_data_and_timestamp_added",
        functools.partial(sealed_license, PadesLevel.B_T),
        validation_data_and_timestamp_added,
    ),
    Case("sealed_at_b_lta", functools.partial(sealed_license, PadesLevel.B_LTA), unchanged),
    Case("object_streams_original", sealed_objstm_license, unchanged),
    Case("hidden_field_filled", _field("hidden"), hidden_field_filled),
    Case("certified_copy", sealed_license, certified_copy),
    Case("certified_copy_of_object_streams_original", sealed_objstm_license, certified_copy),
)
"""Every change that must keep the issuer's seal intact, unmodified, and the file passing."""
