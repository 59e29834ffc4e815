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
from tests.helpers.pki import demo_pki, embedded_tsa, sealer

__all__ = [
    "TIMESTAMP_FIELD",
    "prepared_field_shown_by_timestamp",
    "sealed_with_empty_field",
    "sealed_with_visible_field",
    "timestamp_widget_on_blank",
    "tst_as_signature",
    "visible_field_filled_by_timestamp",
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


@functools.cache
def sealed_with_visible_field() -> bytes:
    """The license with an empty signature field :data:`TIMESTAMP_FIELD` already visible
    on :data:`BLANK_BOX` (pyHanko's empty appearance), sealed by the issuer at B-LT
    (cached): as the DSS corpus file timestamped-fields.pdf has its fields before its
    first timestamp."""
    from pyhanko.sign.fields import SigFieldSpec, append_signature_field

    w = incremental(license_pdf())
    append_signature_field(w, SigFieldSpec(TIMESTAMP_FIELD, on_page=0, box=BLANK_BOX))
    return sealer(ISSUER).seal(written(w), level=PadesLevel.B_LT, reason="issued")


def visible_field_filled_by_timestamp(sealed: bytes, *, revoked: bool = False) -> bytes:
    """(base :func:`sealed_with_visible_field`) The signed visible field filled by a
    document timestamp, its rectangle unchanged; ``revoked``: its appearance first
    rewritten to read LICENSE REVOKED (what a later signer may draw in its own widget)."""
    if not revoked:
        return _timestamped(sealed)
    w = incremental(sealed)
    for ref in w.root["/AcroForm"]["/Fields"]:
        field = ref.get_object()
        if field.get("/T") == TIMESTAMP_FIELD:
            field[pdf_name("/AP")] = generic.DictionaryObject(
                {pdf_name("/N"): _revoked_appearance(w)}
            )
            w.mark_update(ref)
    return _timestamped(written(w))


def tst_as_signature(sealed: bytes, subfilter: str = "/adbe.pkcs7.detached") -> bytes:
    """Red team pdf14, p14-03: a later signature of :data:`TIMESTAMP_FIELD` whose /Type is
    /Sig and /SubFilter ``subfilter``, but whose CMS is a timestamp token of the demo PKI's
    TSA over the update's ByteRange (anyone may obtain one), shown on
    :data:`BLANK_BOX`."""
    from pyhanko.sign import fields, signers
    from pyhanko.sign.fields import SigSeedSubFilter

    tsa = embedded_tsa()

    class _TokenSigner(signers.SimpleSigner):  # type: ignore[misc]
        async def async_sign(  # type: ignore[override]
            self, data_digest: bytes, digest_algorithm: str, *args: Any, **kwargs: Any
        ) -> Any:
            return await tsa.async_timestamp(data_digest, digest_algorithm)

    from asn1crypto import keys, x509
    from cryptography.hazmat.primitives import serialization
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    pki = demo_pki()
    der = serialization.Encoding.DER
    signer = _TokenSigner(
        signing_cert=x509.Certificate.load(pki.tsa.certificate.public_bytes(der)),
        signing_key=keys.PrivateKeyInfo.load(
            pki.tsa.private_key.private_bytes(
                der, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        ),
        cert_registry=SimpleCertificateStore(),
    )
    meta = signers.PdfSignatureMetadata(
        field_name=TIMESTAMP_FIELD, subfilter=SigSeedSubFilter(subfilter)
    )
    pdf_signer = signers.PdfSigner(
        meta,
        signer,
        new_field_spec=fields.SigFieldSpec(TIMESTAMP_FIELD, on_page=0, box=BLANK_BOX),
    )
    out = io.BytesIO()
    asyncio.run(pdf_signer.async_sign_pdf(incremental(sealed), output=out))
    return out.getvalue()
