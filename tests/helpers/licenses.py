"""The sealed licenses the forgeries in :mod:`tests.helpers.forgeries` start from, and the
drawing they share.

Every license is one A4 page (two for :func:`sealed_two_page_license`) reading
:data:`SIGNED_TEXT` in Helvetica at the top, sealed by :data:`ISSUER` of the demo PKI
(tests/helpers/pki.py) at B-LT unless said otherwise, so that its pristine form verifies as
TOTAL_PASSED against a bundle of the demo PKI's roots alone. Some are *prepared* the way a
forger who controls the document before signing would prepare it: an object that looks
harmless and that a viewer draws, a second body of the content stream, a hidden layer, a
form field over the line, a resource named like document metadata, a reference to an
object that does not exist yet, a page that inherits from a parent no page tree lists, a
colour nested deeper than a walk looks, layers whose states depend on printing, a field
whose appearance viewers make up. The sealed files are cached per process (``functools.cache``).
"""

from __future__ import annotations

import asyncio
import functools
import io
from typing import Any

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.writer import BasePdfFileWriter, PdfFileWriter
from pyhanko.sign.fields import MDPPerm, SigSeedSubFilter
from pyhanko.sign.signers.pdf_signer import PdfSignatureMetadata, PdfSigner
from pyhanko.sign.validation.dss import DocumentSecurityStore

from signing.seal import PadesLevel
from tests.helpers.pki import (
    MARKET_DEPT,
    PUBLIC_SECURITY_DEPT,
    demo_pki,
    embedded_tsa,
    sample_pdf,
    sealer,
)
from tests.helpers.shadow import FIELD, form_pdf

__all__ = [
    "BARE_FIELD",
    "BARE_VALUE",
    "BLANK_BOX",
    "DANGLING",
    "FORGED_TEXT",
    "ISSUER",
    "LINE_BOX",
    "PAGE_BOX",
    "SECOND_DEPT",
    "SIGNED_TEXT",
    "add_validation_data",
    "catalog_update",
    "certified_license",
    "content_ref",
    "cover_content",
    "digit_swapped_font",
    "first_page",
    "forged_content",
    "form_xobject",
    "grey_function",
    "helvetica",
    "incremental",
    "license_pdf",
    "line_appearance",
    "line_content",
    "numbers",
    "objstm_license_pdf",
    "redefine",
    "sealed_bare_field",
    "sealed_dangling",
    "sealed_deep_shading",
    "sealed_field",
    "sealed_form",
    "sealed_layers",
    "sealed_license",
    "sealed_license_signed_last",
    "sealed_named_resource",
    "sealed_objstm_license",
    "sealed_prepared",
    "sealed_print_layers",
    "sealed_stray_parent",
    "sealed_table_license",
    "sealed_tounicode_license",
    "sealed_two_faced",
    "sealed_two_page_license",
    "written",
]

ISSUER = MARKET_DEPT
"""The issuing department whose seal every base carries."""
SECOND_DEPT = PUBLIC_SECURITY_DEPT
"""Another demo department, with a valid seal of its own."""
SIGNED_TEXT = "holder: ZHANG SAN  No. 2024-0001"
"""The line the issuer signed."""
FORGED_TEXT = "holder: LI SI  No. 2024-0001"
"""What a forgery makes a viewer show instead."""
LINE_BOX = (60, 745, 560, 790)
"""(x1, y1, x2, y2): the area of the page where the signed line is drawn."""
BLANK_BOX = (330, 420, 540, 500)
"""(x1, y1, x2, y2): an empty area of the page (no text under it)."""
PAGE_BOX = (0, 0, 595, 842)
"""The A4 page."""
DANGLING = 999
"""An object number a prepared license references and never defines (sealing adds far
fewer objects than that)."""
BARE_FIELD = "number"
"""The text field of :func:`sealed_bare_field`, which has no appearance stream."""
BARE_VALUE = "No. 2024-0001"
"""Its value, which viewers draw themselves."""

_LINE_AT = (72, 760)


def numbers(*values: float) -> generic.ArrayObject:
    return generic.ArrayObject([generic.NumberObject(v) for v in values])


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def line_content(text: str) -> bytes:
    """Page content drawing ``text`` where the license line is, with font /F1."""
    x, y = _LINE_AT
    return f"BT /F1 18 Tf {x} {y} Td ({_escape(text)}) Tj ET".encode("ascii")


def cover_content() -> bytes:
    """Page content painting white over :data:`LINE_BOX` and drawing the forged line."""
    x1, y1, x2, y2 = LINE_BOX
    return f"q 1 g {x1} {y1} {x2 - x1} {y2 - y1} re f Q ".encode() + line_content(FORGED_TEXT)


def forged_content(signed: bytes) -> bytes:
    """A content stream's data made to show :data:`FORGED_TEXT`: the signed line replaced
    where it is written in the clear, else painted over."""
    old = _escape(SIGNED_TEXT).encode("ascii")
    if old in signed:
        return signed.replace(old, _escape(FORGED_TEXT).encode("ascii"))
    return signed + b"\n" + cover_content()


def helvetica(writer: BasePdfFileWriter, obj_stream: Any = None) -> generic.IndirectObject:
    """A Helvetica font dictionary (in object stream ``obj_stream``, if given)."""
    return writer.add_object(
        generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/Font"),
                pdf_name("/Subtype"): pdf_name("/Type1"),
                pdf_name("/BaseFont"): pdf_name("/Helvetica"),
            }
        ),
        obj_stream=obj_stream,
    )


def form_xobject(
    writer: BasePdfFileWriter,
    data: bytes,
    *,
    box: tuple[float, float, float, float] = PAGE_BOX,
    **keys: generic.PdfObject,
) -> generic.IndirectObject:
    """A form XObject of the size of ``box`` drawing ``data`` (font /F1 = Helvetica):
    drawn by a page over the whole page, or a widget's or annotation's appearance.
    ``keys``: more entries for its dictionary (``Type=...`` replaces /XObject)."""
    entries: dict[generic.NameObject, generic.PdfObject] = {
        pdf_name("/Type"): pdf_name("/XObject"),
        pdf_name("/Subtype"): pdf_name("/Form"),
        pdf_name("/BBox"): numbers(0, 0, box[2] - box[0], box[3] - box[1]),
        pdf_name("/Resources"): _resources(writer),
    }
    entries.update({pdf_name("/" + k): v for k, v in keys.items()})
    return writer.add_object(generic.StreamObject(entries, stream_data=data))


def written(writer: BasePdfFileWriter) -> bytes:
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def incremental(data: bytes) -> IncrementalPdfFileWriter:
    return IncrementalPdfFileWriter(io.BytesIO(data), strict=False)


def first_page(writer: BasePdfFileWriter) -> tuple[generic.IndirectObject, Any]:
    """The first page's reference and dictionary."""
    ref = writer.root["/Pages"]["/Kids"].raw_get(0)
    return ref, ref.get_object()


def content_ref(writer: BasePdfFileWriter) -> generic.IndirectObject:
    """The first content stream of the first page."""
    _, page = first_page(writer)
    contents = page.raw_get("/Contents")
    if isinstance(contents, generic.IndirectObject) and isinstance(
        contents.get_object(), generic.ArrayObject
    ):
        contents = contents.get_object()
    if isinstance(contents, generic.ArrayObject):
        contents = contents.raw_get(0)
    return contents


def redefine(
    writer: IncrementalPdfFileWriter, ref: generic.IndirectObject, obj: generic.PdfObject
) -> None:
    """Redefine object ``ref`` in the writer's update (same number and generation)."""
    writer.objects[(ref.generation, ref.idnum)] = obj


def line_appearance(
    writer: BasePdfFileWriter, text: str = FORGED_TEXT, *, opaque: bool = True
) -> generic.IndirectObject:
    """An appearance for :data:`LINE_BOX` showing ``text`` where the signed line is drawn
    (``opaque``: on white, hiding what the page shows there)."""
    x1, y1, x2, y2 = LINE_BOX
    paint = f"q 1 g 0 0 {x2 - x1} {y2 - y1} re f Q " if opaque else ""
    data = f"{paint}BT /F1 18 Tf 0 g {_LINE_AT[0] - x1} {_LINE_AT[1] - y1} Td "
    data += f"({_escape(text)}) Tj ET"
    return form_xobject(writer, data.encode("ascii"), box=LINE_BOX)


# -- the documents the issuer seals ------------------------------------------------------


def _seal(pdf: bytes, level: PadesLevel = PadesLevel.B_LT, dept: str = ISSUER) -> bytes:
    return sealer(dept).seal(pdf, level=level, reason="issued", location="Fuzhou")


def license_pdf() -> bytes:
    """The unsigned license: one page reading :data:`SIGNED_TEXT` (xref stream, no object
    streams)."""
    return sample_pdf(SIGNED_TEXT)


@functools.cache
def sealed_license(level: PadesLevel = PadesLevel.B_LT) -> bytes:
    """:func:`license_pdf` sealed by :data:`ISSUER` at ``level`` (cached)."""
    return _seal(license_pdf(), level)


def table_license_pdf() -> bytes:
    """The license page written with a classic xref table (no xref stream), as many
    issuers' tools write; the sealer keeps tables in its updates."""
    writer = PdfFileWriter(stream_xrefs=False)
    writer.insert_page(_page_dict(writer, line_content(SIGNED_TEXT)))
    return written(writer)


@functools.cache
def sealed_table_license() -> bytes:
    """:func:`table_license_pdf` sealed by :data:`ISSUER` at B-LT (cached)."""
    return _seal(table_license_pdf())


@functools.cache
def sealed_tounicode_license() -> bytes:
    """The license page whose font carries a /ToUnicode map (every printable ASCII code
    to itself, an object of its own), sealed by :data:`ISSUER` at B-LT (cached)."""
    writer = PdfFileWriter(stream_xrefs=True)
    font = helvetica(writer)
    tounicode = writer.add_object(generic.StreamObject(stream_data=_FOUR_IS_FOUR))
    font.get_object()[pdf_name("/ToUnicode")] = tounicode
    page = _page_dict(writer, line_content(SIGNED_TEXT), _resources(writer, font))
    writer.insert_page(page)
    return _seal(written(writer))


def _resources(
    writer: BasePdfFileWriter, font: generic.PdfObject | None = None, **more: generic.PdfObject
) -> generic.DictionaryObject:
    """Resources with font /F1 (Helvetica unless ``font``) and ``more`` entries."""
    fonts = generic.DictionaryObject({pdf_name("/F1"): font or helvetica(writer)})
    out = generic.DictionaryObject({pdf_name("/Font"): fonts})
    out.update({pdf_name("/" + k): v for k, v in more.items()})
    return out


def _page_dict(
    writer: BasePdfFileWriter, content: bytes, resources: generic.PdfObject | None = None
) -> generic.DictionaryObject:
    """A license page (to insert) drawing a new content stream ``content``, with
    ``resources`` (default: :func:`_resources`)."""
    return generic.DictionaryObject(
        {
            pdf_name("/Type"): pdf_name("/Page"),
            pdf_name("/MediaBox"): numbers(*PAGE_BOX),
            pdf_name("/Resources"): resources or _resources(writer),
            pdf_name("/Contents"): writer.add_object(generic.StreamObject(stream_data=content)),
        }
    )


def _one_page(content: bytes) -> tuple[PdfFileWriter, generic.DictionaryObject]:
    """A new writer and its one license page drawing ``content`` (inserted)."""
    writer = PdfFileWriter(stream_xrefs=True)
    writer.insert_page(_page_dict(writer, content))
    return writer, first_page(writer)[1]


def objstm_license_pdf() -> bytes:
    """The license written with an object stream and an xref stream: the catalog, the page
    tree, the page, its /Annots array and the font are members of one object stream."""
    writer = PdfFileWriter(stream_xrefs=True)
    stream = writer.prepare_object_stream()
    resources = _resources(writer, helvetica(writer, obj_stream=stream))
    page = _page_dict(writer, line_content(SIGNED_TEXT), resources)
    page[pdf_name("/Annots")] = writer.add_object(generic.ArrayObject(), obj_stream=stream)
    writer.insert_page(page)
    pages = writer.root.raw_get("/Pages")
    for ref in (writer.root_ref, pages, pages.get_object()["/Kids"].raw_get(0)):
        obj = writer.objects.pop((0, ref.idnum))
        stream.add_object(ref.idnum, obj)
        writer.objs_in_streams[ref.idnum] = obj
    return written(writer)


@functools.cache
def sealed_objstm_license() -> bytes:
    """:func:`objstm_license_pdf` sealed at B-LT (cached)."""
    return _seal(objstm_license_pdf())


def _field_pdf(page_text: str, field_text: str, *, opaque: bool, hidden: bool = False) -> bytes:
    """A license page reading ``page_text``, with text field ``holder`` over the line
    showing ``field_text`` (``opaque``: painting white under it; ``hidden``: /F 2)."""
    writer, _ = _one_page(line_content(page_text))
    appearance = line_appearance(writer, field_text, opaque=opaque)
    _add_text_field(
        writer,
        FIELD,
        field_text,
        LINE_BOX,
        DA=generic.TextStringObject("/F1 18 Tf 0 g"),
        F=generic.NumberObject(2 if hidden else 4),
        AP=generic.DictionaryObject({pdf_name("/N"): appearance}),
    )
    return written(writer)


def _add_text_field(
    writer: PdfFileWriter,
    name: str,
    value: str,
    box: tuple[float, float, float, float],
    **entries: generic.PdfObject,
) -> generic.DictionaryObject:
    """Text field ``name`` (a widget at ``box`` on the first page, printable unless
    ``entries`` say otherwise) with value ``value``, as the page's only annotation and the
    form's only field. Returns the form dictionary (/AcroForm, direct)."""
    page_ref, page = first_page(writer)
    entries = {"F": generic.NumberObject(4), **entries}
    fld = writer.add_object(
        generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/Annot"),
                pdf_name("/Subtype"): pdf_name("/Widget"),
                pdf_name("/FT"): pdf_name("/Tx"),
                pdf_name("/T"): generic.TextStringObject(name),
                pdf_name("/V"): generic.TextStringObject(value),
                pdf_name("/Rect"): numbers(*box),
                pdf_name("/P"): page_ref,
                **{pdf_name("/" + k): v for k, v in entries.items()},
            }
        )
    )
    page[pdf_name("/Annots")] = generic.ArrayObject([fld])
    form = generic.DictionaryObject({pdf_name("/Fields"): generic.ArrayObject([fld])})
    writer.root[pdf_name("/AcroForm")] = form
    return form


@functools.cache
def sealed_two_page_license() -> bytes:
    """A two-page license, each page reading :data:`SIGNED_TEXT`, sealed at B-LT."""
    return _seal(sample_pdf(SIGNED_TEXT, pages=2))


@functools.cache
def sealed_form() -> bytes:
    """tests/helpers/shadow.py's form (field ``holder`` over the name, transparent)
    sealed at B-LT (cached)."""
    return _seal(form_pdf("ZHANG SAN"))


@functools.cache
def certified_license(permission: int = 2) -> bytes:
    """:func:`license_pdf` certified by :data:`ISSUER` (DocMDP ``permission``: 1 no
    changes, 2 form fill and signing, 3 also annotations), B-T, then the validation data
    in a DSS revision (B-LT; cached)."""
    meta = PdfSignatureMetadata(
        field_name="Seal1",
        md_algorithm="sha256",
        subfilter=SigSeedSubFilter.PADES,
        certify=True,
        docmdp_permissions=MDPPerm(permission),
        reason="issued",
    )
    signer = PdfSigner(meta, sealer(ISSUER).key_source.signer, timestamper=embedded_tsa())
    out = io.BytesIO()
    asyncio.run(signer.async_sign_pdf(incremental(license_pdf()), output=out))
    return add_validation_data(out.getvalue())


def add_validation_data(data: bytes) -> bytes:
    """``data`` plus a DSS revision with the demo PKI's certificates and CRLs (what
    signing/seal.py writes at B-LT)."""
    from asn1crypto import crl as asn1_crl

    from signing._pyhanko import to_asn1_all

    pki = demo_pki()
    seals = [pki.issuing_department_seal(code).certificate for code in (ISSUER, SECOND_DEPT)]
    certs = to_asn1_all(list(dict.fromkeys([*seals, *pki.chain, pki.tsa.certificate])))
    stream = io.BytesIO(data)
    DocumentSecurityStore.add_dss(
        output_stream=stream,
        sig_contents=None,
        certs=certs,
        crls=[asn1_crl.CertificateList.load(c) for c in pki.crls()],
        force_write=True,
        strict=False,
    )
    return stream.getvalue()


@functools.cache
def sealed_license_signed_last() -> bytes:
    """:func:`license_pdf` sealed at B-LT with the DSS inside the signed revision: the
    signature's revision is the file's last (cached)."""
    return _seal_last(license_pdf())


def _seal_last(pdf: bytes) -> bytes:
    """``pdf`` sealed by :data:`ISSUER` at B-LT, the DSS inside the signed revision."""
    return sealer(ISSUER).seal(
        pdf, level=PadesLevel.B_LT, reason="issued", dss_in_signed_revision=True
    )


def _prepared_pdf(kind: str) -> bytes:
    """A license prepared before signing with an object that looks harmless to a diff
    that whitelists object kinds, and that a viewer draws (see the ``*_keys_*`` attacks).

    ``kind``: ``metadata`` (a second content stream with /Type /Metadata /Subtype /XML),
    ``struct`` (an indirect resource dictionary with /S /P /K), ``fields`` (the content
    stream carries /Fields and room to keep its /Length), ``structelem`` (a form XObject
    whose /Type is /StructElem), ``numtree`` (an /XObject dictionary shaped like a number
    tree node), ``info`` (the trailer's /Info is the page's resource dictionary).
    """
    if kind == "fields":
        writer, page = _one_page(line_content(SIGNED_TEXT) + b"\n%" + b" " * 160)
        page["/Contents"][pdf_name("/Fields")] = generic.ArrayObject()
    elif kind == "metadata":
        writer, page = _one_page(line_content(SIGNED_TEXT))
        hole = generic.StreamObject(
            {pdf_name("/Type"): pdf_name("/Metadata"), pdf_name("/Subtype"): pdf_name("/XML")},
            stream_data=b"% reserved\n",
        )
        page[pdf_name("/Contents")] = generic.ArrayObject(
            [page.raw_get("/Contents"), writer.add_object(hole)]
        )
    else:
        writer, page = _prepared_resources_page(kind)
    if kind == "info":
        writer.set_info(page.raw_get("/Resources"))
    return written(writer)


def _prepared_resources_page(kind: str) -> tuple[PdfFileWriter, generic.DictionaryObject]:
    """The page of :func:`_prepared_pdf` (inserted) for the kinds that draw /Fm0."""
    writer = PdfFileWriter(stream_xrefs=True)
    if kind == "numtree":  # /Fm0 does not exist yet: the page draws nothing there
        xobjects: generic.PdfObject = writer.add_object(
            generic.DictionaryObject({pdf_name("/Kids"): generic.ArrayObject()})
        )
    else:
        keys = {"Type": pdf_name("/StructElem")} if kind == "structelem" else {}
        xobjects = generic.DictionaryObject({pdf_name("/Fm0"): form_xobject(writer, b"", **keys)})
    resources: generic.PdfObject = _resources(writer, XObject=xobjects)
    if kind == "struct":
        root = generic.IndirectObject(writer.root_ref.idnum, 0, writer)
        resources.update(
            {
                pdf_name("/S"): pdf_name("/Span"),
                pdf_name("/P"): root,
                pdf_name("/K"): generic.NumberObject(0),
            }
        )
    if kind in ("struct", "info"):
        resources = writer.add_object(resources)
    page = _page_dict(writer, line_content(SIGNED_TEXT) + b" q /Fm0 Do Q", resources)
    writer.insert_page(page)
    return writer, page


@functools.cache
def sealed_prepared(kind: str) -> bytes:
    """:func:`_prepared_pdf` of ``kind`` sealed at B-LT (cached)."""
    return _seal(_prepared_pdf(kind))


@functools.cache
def sealed_two_faced() -> bytes:
    """A license whose content stream was written twice before signing: first showing
    :data:`FORGED_TEXT`, then (in an incremental update, what the signer sees) showing
    :data:`SIGNED_TEXT`. Sealed at B-LT: both bodies are signed."""
    writer, _ = _one_page(line_content(FORGED_TEXT))
    update = incremental(written(writer))
    ref = content_ref(update)
    redefine(update, ref, generic.StreamObject(stream_data=line_content(SIGNED_TEXT)))
    return _seal(written(update))


@functools.cache
def sealed_field(kind: str) -> bytes:
    """A license with a text field, sealed at B-LT (cached). ``kind``: ``cover`` (the page
    reads :data:`FORGED_TEXT`, hidden under the field's opaque appearance showing
    :data:`SIGNED_TEXT`: what the signer sees) or ``hidden`` (a hidden field, /F 2, over
    the line, the page reading :data:`SIGNED_TEXT`)."""
    if kind == "cover":
        return _seal(_field_pdf(FORGED_TEXT, SIGNED_TEXT, opaque=True))
    return _seal(_field_pdf(SIGNED_TEXT, "internal reference 1", opaque=False, hidden=True))


@functools.cache
def sealed_layers() -> bytes:
    """A license whose page draws the signed line in optional content group "signed"
    (on) and :data:`FORGED_TEXT` in group "draft" (off, so the signer never sees it);
    the default configuration /OCProperties /D is an indirect dictionary. Sealed at
    B-LT (cached)."""
    return _seal(_layers_pdf(auto_state=False))


@functools.cache
def sealed_print_layers() -> bytes:
    """As :func:`sealed_layers`, the default configuration also carrying /AS: usage
    application dictionaries for the Print and the View event over both groups, so that
    a viewer sets each group's state from its /Usage when it prints or shows the page.
    Neither group has /Usage, so the states stay as /ON and /OFF say. Sealed at B-LT
    (cached)."""
    return _seal(_layers_pdf(auto_state=True))


def _layers_pdf(*, auto_state: bool) -> bytes:
    """The license of :func:`sealed_layers` (``auto_state``: with the /AS of
    :func:`sealed_print_layers`)."""
    writer = PdfFileWriter(stream_xrefs=True)
    groups = [
        writer.add_object(
            generic.DictionaryObject(
                {
                    pdf_name("/Type"): pdf_name("/OCG"),
                    pdf_name("/Name"): generic.TextStringObject(n),
                }
            )
        )
        for n in ("signed", "draft")
    ]
    config = generic.DictionaryObject(
        {
            pdf_name("/ON"): generic.ArrayObject([groups[0]]),
            pdf_name("/OFF"): generic.ArrayObject([groups[1]]),
        }
    )
    if auto_state:
        config[pdf_name("/AS")] = generic.ArrayObject(
            generic.DictionaryObject(
                {
                    pdf_name("/Event"): pdf_name("/" + event),
                    pdf_name("/OCGs"): generic.ArrayObject(groups),
                    pdf_name("/Category"): generic.ArrayObject([pdf_name("/" + event)]),
                }
            )
            for event in ("Print", "View")
        )
    writer.root[pdf_name("/OCProperties")] = generic.DictionaryObject(
        {pdf_name("/OCGs"): generic.ArrayObject(groups), pdf_name("/D"): writer.add_object(config)}
    )
    properties = generic.DictionaryObject(
        {pdf_name("/oc0"): groups[0], pdf_name("/oc1"): groups[1]}
    )
    content = b"/OC /oc0 BDC " + line_content(SIGNED_TEXT) + b" EMC /OC /oc1 BDC "
    content += line_content(FORGED_TEXT) + b" EMC"
    writer.insert_page(_page_dict(writer, content, _resources(writer, Properties=properties)))
    return written(writer)


def _named_resource_pdf(category: str, name: str) -> bytes:
    """A license whose signed line is drawn through the page resource ``/name`` alone, a
    name a diff may take for a document-level key (/Metadata, /PieceInfo). ``category``:
    ``XObject`` (a form drawing the line, ``/name Do``) or ``Font`` (the line's font)."""
    writer = PdfFileWriter(stream_xrefs=True)
    key = pdf_name("/" + name)
    if category == "XObject":
        content = f"q /{name} Do Q".encode()
        entry = form_xobject(writer, line_content(SIGNED_TEXT))
    elif category == "Font":
        content = line_content(SIGNED_TEXT).replace(b"/F1 ", f"/{name} ".encode())
        entry = helvetica(writer)
    else:
        raise ValueError(f"no prepared license draws through a {category!r} resource")
    named = generic.DictionaryObject({key: entry})
    resources = generic.DictionaryObject({pdf_name("/" + category): named})
    writer.insert_page(_page_dict(writer, content, resources))
    return written(writer)


@functools.cache
def sealed_named_resource(category: str, name: str) -> bytes:
    """:func:`_named_resource_pdf` sealed at B-LT (cached)."""
    return _seal(_named_resource_pdf(category, name))


def _dangling_pdf(kind: str) -> bytes:
    """A license whose page or catalog references object :data:`DANGLING`, which the file
    does not define: readers draw or run nothing for it, so the signer sees the plain
    license. ``kind``: ``contents`` (a second entry of the page's /Contents array),
    ``xobject`` (form /X1, drawn after the line), ``open_action`` (the catalog's
    /OpenAction), ``page_aa`` (the page's /AA /O, run when the page opens)."""
    extra = b" q /X1 Do Q" if kind == "xobject" else b""
    writer, page = _one_page(line_content(SIGNED_TEXT) + extra)
    missing = generic.IndirectObject(DANGLING, 0, writer)
    if kind == "contents":
        page[pdf_name("/Contents")] = generic.ArrayObject([page.raw_get("/Contents"), missing])
    elif kind == "xobject":
        page["/Resources"][pdf_name("/XObject")] = generic.DictionaryObject(
            {pdf_name("/X1"): missing}
        )
    elif kind == "open_action":
        writer.root[pdf_name("/OpenAction")] = missing
    elif kind == "page_aa":
        page[pdf_name("/AA")] = generic.DictionaryObject({pdf_name("/O"): missing})
    else:
        raise ValueError(f"no dangling reference of kind {kind!r}")
    return written(writer)


@functools.cache
def sealed_dangling(kind: str) -> bytes:
    """:func:`_dangling_pdf` of ``kind`` sealed at B-LT (cached)."""
    return _seal(_dangling_pdf(kind))


@functools.cache
def sealed_stray_parent() -> bytes:
    """A license whose page inherits its resources, font /F1 and form /Fm0 (empty, drawn
    after the line): the page has none of its own, and its /Parent is not the page-tree
    root that lists it in /Kids but a second /Pages node (``/Kids [the page] /Count 1``)
    that nothing else reaches. Both nodes carry the same resource dictionary, so every
    viewer draws the same page: pdfium and MuPDF inherit through /Parent, poppler through
    /Kids. Sealed at B-LT (cached)."""
    writer = PdfFileWriter(stream_xrefs=True)
    xobjects = generic.DictionaryObject({pdf_name("/Fm0"): form_xobject(writer, b"")})
    resources = writer.add_object(_resources(writer, XObject=xobjects))
    page = _page_dict(writer, line_content(SIGNED_TEXT) + b" q /Fm0 Do Q")
    del page["/Resources"]
    writer.insert_page(page)
    page_ref, page = first_page(writer)
    writer.root["/Pages"][pdf_name("/Resources")] = resources
    stray = generic.DictionaryObject(
        {
            pdf_name("/Type"): pdf_name("/Pages"),
            pdf_name("/Kids"): generic.ArrayObject([page_ref]),
            pdf_name("/Count"): generic.NumberObject(1),
            pdf_name("/Resources"): resources,
        }
    )
    page[pdf_name("/Parent")] = writer.add_object(stray)
    return _seal(written(writer))


def grey_function(level: float) -> generic.DictionaryObject:
    """A type 2 (exponential) function whose value is grey ``level`` everywhere (0 black,
    1 white)."""
    return generic.DictionaryObject(
        {
            pdf_name("/FunctionType"): generic.NumberObject(2),
            pdf_name("/Domain"): numbers(0, 1),
            pdf_name("/C0"): numbers(level),
            pdf_name("/C1"): numbers(level),
            pdf_name("/N"): generic.NumberObject(1),
        }
    )


def _stitched(function: generic.PdfObject, depth: int) -> generic.PdfObject:
    """``function`` wrapped in ``depth`` type 3 (stitching) functions of one piece each,
    direct dictionaries one inside the other."""
    for _ in range(depth):
        function = generic.DictionaryObject(
            {
                pdf_name("/FunctionType"): generic.NumberObject(3),
                pdf_name("/Domain"): numbers(0, 1),
                pdf_name("/Functions"): generic.ArrayObject([function]),
                pdf_name("/Bounds"): generic.ArrayObject(),
                pdf_name("/Encode"): numbers(0, 1),
            }
        )
    return function


def _painted_through(text: str, shading: str) -> bytes:
    """Page content setting ``text`` where the license line is as a clip (text render
    mode 7) and painting shading resource ``/shading`` through it."""
    clip = line_content(text).replace(b"BT ", b"BT 7 Tr ", 1)
    return b"q " + clip + f" /{shading} sh Q".encode()


@functools.cache
def sealed_deep_shading(depth: int) -> bytes:
    """A license whose lines are painted by shadings through text clips, in blend mode
    Multiply: :data:`FORGED_TEXT` by /ShF, then :data:`SIGNED_TEXT` by /ShR. Each
    shading's colour is a function nested ``depth`` levels deep (:func:`_stitched`, all
    direct) around an indirect :func:`grey_function`: black for /ShR, white for /ShF
    (white multiplied leaves the page as it was, so the signer sees the signed line
    alone). Sealed at B-LT (cached); deeper than 64 levels, with the DSS inside the signed
    revision: the verifier refuses any later revision over nesting that deep (it cannot
    tell what the nesting reaches), the DSS revision too."""
    writer = PdfFileWriter(stream_xrefs=True)

    def shading(level: float) -> generic.DictionaryObject:
        return generic.DictionaryObject(
            {
                pdf_name("/ShadingType"): generic.NumberObject(2),
                pdf_name("/ColorSpace"): pdf_name("/DeviceGray"),
                pdf_name("/Coords"): numbers(0, 0, PAGE_BOX[2], 0),
                pdf_name("/Function"): _stitched(writer.add_object(grey_function(level)), depth),
            }
        )

    multiply = generic.DictionaryObject({pdf_name("/BM"): pdf_name("/Multiply")})
    resources = _resources(
        writer,
        Shading=generic.DictionaryObject(
            {pdf_name("/ShR"): shading(0), pdf_name("/ShF"): shading(1)}
        ),
        ExtGState=generic.DictionaryObject({pdf_name("/GS1"): multiply}),
    )
    content = b"/GS1 gs " + _painted_through(FORGED_TEXT, "ShF") + b" "
    content += _painted_through(SIGNED_TEXT, "ShR")
    writer.insert_page(_page_dict(writer, content, resources))
    return _seal_last(written(writer)) if depth > 64 else _seal(written(writer))


_FOUR_IS_FOUR = b"""/CIDInit /ProcSet findresource begin 12 dict begin begincmap
/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def
/CMapName /Adobe-Identity-UCS def /CMapType 2 def
1 begincodespacerange <00> <FF> endcodespacerange
1 beginbfrange <20> <7E> <0020> endbfrange
endcmap CMapName currentdict /CMap defineresource pop end end"""
"""A /ToUnicode CMap mapping every printable ASCII code to its own character."""


def digit_swapped_font(
    font: Any, writer: BasePdfFileWriter | None = None
) -> generic.DictionaryObject:
    """A copy of ``font`` whose /Encoding draws code '4' as glyph "nine". With ``writer``,
    it also gets a /ToUnicode map (added to ``writer``) saying code '4' is the character
    '4': viewers that lay out text themselves (a field with no appearance stream) look the
    character up there, and draw a nine for every four."""
    new = generic.DictionaryObject({k: font.raw_get(k) for k in font})
    if writer is not None:
        new[pdf_name("/ToUnicode")] = writer.add_object(
            generic.StreamObject(stream_data=_FOUR_IS_FOUR)
        )
    new[pdf_name("/Encoding")] = generic.DictionaryObject(
        {
            pdf_name("/Type"): pdf_name("/Encoding"),
            pdf_name("/BaseEncoding"): pdf_name("/WinAnsiEncoding"),
            pdf_name("/Differences"): generic.ArrayObject(
                [generic.NumberObject(ord("4")), pdf_name("/nine")]
            ),
        }
    )
    return new


@functools.cache
def sealed_bare_field() -> bytes:
    """A license with text field :data:`BARE_FIELD` on blank space, valued
    :data:`BARE_VALUE`, with no appearance stream: viewers draw the value themselves,
    from the form's /DA ``/Fx 18 Tf 0 g`` (the field has none of its own) and the form's
    /DR. /DR names /Helv (Helvetica) and /Sx (Helvetica drawing '4' as "nine",
    :func:`digit_swapped_font`, used by nothing); /Fx is not there, and viewers fall back
    to Helvetica. Sealed at B-LT (cached)."""
    writer, _ = _one_page(line_content(SIGNED_TEXT))
    font = helvetica(writer)
    swapped = digit_swapped_font(font.get_object(), writer)
    fonts = {"/Helv": font, "/Sx": writer.add_object(swapped)}
    form = _add_text_field(writer, BARE_FIELD, BARE_VALUE, BLANK_BOX)
    form[pdf_name("/DA")] = generic.TextStringObject("/Fx 18 Tf 0 g")
    form[pdf_name("/DR")] = generic.DictionaryObject(
        {pdf_name("/Font"): generic.DictionaryObject({pdf_name(k): v for k, v in fonts.items()})}
    )
    return _seal(written(writer))


def catalog_update(sealed: bytes, **entries: Any) -> bytes:
    """``sealed`` plus one update setting catalog entries (``Lang=...``); a callable
    value is called with the writer to make the entry (objects it adds go in the update)."""
    w = incremental(sealed)
    for key, value in entries.items():
        w.root[pdf_name("/" + key)] = value(w) if callable(value) else value
    w.update_root()
    return written(w)
