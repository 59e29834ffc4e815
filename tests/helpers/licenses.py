"""The sealed licenses the forgeries in :mod:`tests.helpers.forgeries` start from, and the
drawing they share.

Every license is one A4 page (two for :func:`sealed_two_page_license`) reading
:data:`SIGNED_TEXT` in Helvetica at the top, sealed by :data:`ISSUER` of the demo PKI
(tests/helpers/pki.py) at B-LT unless said otherwise, so that its pristine form verifies as
TOTAL_PASSED against a bundle of the demo PKI's roots alone. Some are *prepared* the way a
forger who controls the document before signing would prepare it: an object that looks
harmless and that a viewer draws, a second body of the content stream, a hidden layer, a
form field over the line, a resource named like document metadata, a reference to an
object that does not exist yet. The sealed files are cached per process (``functools.cache``).
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
    "BLANK_BOX",
    "DANGLING",
    "FORGED_TEXT",
    "ISSUER",
    "LINE_BOX",
    "PAGE_BOX",
    "SECOND_DEPT",
    "SIGNED_TEXT",
    "add_validation_data",
    "certified_license",
    "content_ref",
    "cover_content",
    "first_page",
    "forged_content",
    "form_xobject",
    "helvetica",
    "incremental",
    "license_pdf",
    "line_appearance",
    "line_content",
    "numbers",
    "objstm_license_pdf",
    "redefine",
    "sealed_dangling",
    "sealed_field",
    "sealed_form",
    "sealed_layers",
    "sealed_license",
    "sealed_license_signed_last",
    "sealed_named_resource",
    "sealed_objstm_license",
    "sealed_prepared",
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
    writer, page = _one_page(line_content(page_text))
    page_ref, page = first_page(writer)
    fld = writer.add_object(
        generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/Annot"),
                pdf_name("/Subtype"): pdf_name("/Widget"),
                pdf_name("/FT"): pdf_name("/Tx"),
                pdf_name("/T"): generic.TextStringObject(FIELD),
                pdf_name("/V"): generic.TextStringObject(field_text),
                pdf_name("/DA"): generic.TextStringObject("/F1 18 Tf 0 g"),
                pdf_name("/Rect"): numbers(*LINE_BOX),
                pdf_name("/F"): generic.NumberObject(2 if hidden else 4),
                pdf_name("/P"): page_ref,
                pdf_name("/AP"): generic.DictionaryObject(
                    {pdf_name("/N"): line_appearance(writer, field_text, opaque=opaque)}
                ),
            }
        )
    )
    page[pdf_name("/Annots")] = generic.ArrayObject([fld])
    writer.root[pdf_name("/AcroForm")] = generic.DictionaryObject(
        {pdf_name("/Fields"): generic.ArrayObject([fld])}
    )
    return written(writer)


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
    return sealer(ISSUER).seal(
        license_pdf(), level=PadesLevel.B_LT, reason="issued", dss_in_signed_revision=True
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
    config = writer.add_object(
        generic.DictionaryObject(
            {
                pdf_name("/ON"): generic.ArrayObject([groups[0]]),
                pdf_name("/OFF"): generic.ArrayObject([groups[1]]),
            }
        )
    )
    writer.root[pdf_name("/OCProperties")] = generic.DictionaryObject(
        {pdf_name("/OCGs"): generic.ArrayObject(groups), pdf_name("/D"): config}
    )
    properties = generic.DictionaryObject(
        {pdf_name("/oc0"): groups[0], pdf_name("/oc1"): groups[1]}
    )
    content = b"/OC /oc0 BDC " + line_content(SIGNED_TEXT) + b" EMC /OC /oc1 BDC "
    content += line_content(FORGED_TEXT) + b" EMC"
    writer.insert_page(_page_dict(writer, content, _resources(writer, Properties=properties)))
    return _seal(written(writer))


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
