"""Signature fields, coverage, DocMDP and FieldMDP read straight from the PDF structure.

What pyHanko's ``pyhanko.sign`` package would give us, without importing it: that package
pulls in the whole signing stack and an HTTP client (aiohttp), which is most of
``evault verify``'s start-up time. Only ``pyhanko.pdf_utils`` (the PDF reader) is used.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from schemas.report import Coverage

__all__ = [
    "SigField",
    "claimed_signing_time",
    "coverage",
    "docmdp_permission",
    "field_lock",
    "signature_fields",
    "signed_revision",
]

_MAX_FIELDS = 10_000
_MAX_DEPTH = 32


@dataclass
class SigField:
    """A filled signature field: its full name, the field and the signature dictionary."""

    name: str
    field: Any
    sig_obj: Any
    sig_ref: Any  # the reference of the signature dictionary (None when direct)


def _ref_of(obj: Any) -> Any:
    from pyhanko.pdf_utils import generic

    if isinstance(obj, generic.IndirectObject):
        return obj.reference
    return None


def _raw(container: Any, key: Any) -> Any:
    """``container[key]`` without resolving an indirect reference."""
    getter = getattr(container, "raw_get", None)
    return getter(key) if getter is not None else container[key]


def signature_fields(reader: Any) -> Iterator[SigField]:
    """Every signature field with a value (/V), depth-first in /Fields order (bounded,
    cycles skipped)."""
    from pyhanko.pdf_utils import generic

    root = reader.root
    if "/AcroForm" not in root:
        return
    form: Any = root["/AcroForm"]
    if not isinstance(form, dict) or "/Fields" not in form:
        return
    fields = _raw(form, "/Fields")
    seen: set[Any] = set()
    count = 0
    stack: list[tuple[Any, str, str | None, int]] = []
    top: Any = fields.get_object() if isinstance(fields, generic.IndirectObject) else fields
    if not isinstance(top, list):
        return
    for i in range(len(top) - 1, -1, -1):
        stack.append((_raw(top, i), "", None, 0))
    while stack:
        raw, prefix, inherited_ft, depth = stack.pop()
        count += 1
        if count > _MAX_FIELDS or depth > _MAX_DEPTH:
            break
        ref = _ref_of(raw)
        if ref is not None:
            if ref in seen:
                continue
            seen.add(ref)
        fld: Any = raw.get_object() if isinstance(raw, generic.IndirectObject) else raw
        if not isinstance(fld, dict):
            continue
        partial = fld.get("/T")
        partial = getattr(partial, "decrypted", partial)  # an encrypted file's text string
        name = f"{prefix}.{partial}" if prefix and partial else str(partial or prefix)
        ft = str(fld["/FT"]) if "/FT" in fld else inherited_ft
        kids: Any = fld.get("/Kids") if "/Kids" in fld else None
        if isinstance(kids, list) and any(
            isinstance(k.get_object() if isinstance(k, generic.IndirectObject) else k, dict)
            and "/T" in (k.get_object() if isinstance(k, generic.IndirectObject) else k)
            for k in kids
        ):
            for i in range(len(kids) - 1, -1, -1):
                stack.append((_raw(kids, i), name, ft, depth + 1))
            continue
        if ft != "/Sig" or "/V" not in fld:
            continue
        v_raw = _raw(fld, "/V")
        sig_obj = v_raw.get_object() if isinstance(v_raw, generic.IndirectObject) else v_raw
        if not isinstance(sig_obj, dict):
            continue
        yield SigField(name=name, field=fld, sig_obj=sig_obj, sig_ref=_ref_of(v_raw))


def signed_revision(reader: Any, sig: SigField) -> int | None:
    """The revision in which the signature dictionary was last written."""
    if sig.sig_ref is None:
        return None
    try:
        return int(reader.xrefs.get_last_change(sig.sig_ref))
    except KeyError:
        return None


def coverage(reader: Any, data: bytes, byte_range: list[int], signed_rev: int | None) -> Coverage:
    """How much of the file the (already sanity-checked) byte range covers.

    ENTIRE_REVISION requires the range to end exactly at a revision's ``%%EOF`` whose
    ``startxref`` is the one of the revision the signature was written in, and every xref
    section up to that revision to lie inside the range.
    """
    from pyhanko.pdf_utils.misc import PdfReadError
    from pyhanko.pdf_utils.reader import process_data_at_eof

    end = byte_range[2] + byte_range[3]
    if end == len(data):
        return Coverage.ENTIRE_FILE
    if signed_rev is None:
        return Coverage.CONTIGUOUS_BLOCKS
    stream = io.BytesIO(data)
    stream.seek(end)
    try:
        startxref = process_data_at_eof(stream)
    except (PdfReadError, ValueError):
        return Coverage.CONTIGUOUS_BLOCKS
    xrefs = reader.xrefs
    if startxref != xrefs.get_startxref_for_revision(signed_rev):
        return Coverage.CONTIGUOUS_BLOCKS
    for rev in range(signed_rev + 1):
        if xrefs.get_xref_container_info(rev).end_location > end:
            return Coverage.CONTIGUOUS_BLOCKS
    return Coverage.ENTIRE_REVISION


def _references(sig_obj: Any) -> list[Any]:
    refs = sig_obj.get("/Reference") if "/Reference" in sig_obj else None
    if not isinstance(refs, list):
        return []
    out = []
    for i in range(min(len(refs), 16)):
        r = refs[i]
        if isinstance(r, dict):
            out.append(r)
    return out


def docmdp_permission(sig_obj: Any) -> int | None:
    """The DocMDP /P of a certification signature (1 no changes, 2 form fill and signing,
    3 also annotations), or None for an approval signature."""
    for ref in _references(sig_obj):
        if str(ref.get("/TransformMethod", "")) == "/DocMDP":
            params = ref.get("/TransformParams", {})
            try:
                return int(params.get("/P", 2)) if isinstance(params, dict) else 2
            except (TypeError, ValueError):
                return 2
    return None


def field_lock(field_obj: Any, sig_obj: Any) -> Callable[[str], bool]:
    """Whether the signature's FieldMDP lock covers a field (by full name)."""
    specs = []
    for ref in _references(sig_obj):
        if str(ref.get("/TransformMethod", "")) == "/FieldMDP":
            params = ref.get("/TransformParams")
            if isinstance(params, dict):
                specs.append(params)
    if isinstance(field_obj, dict) and "/Lock" in field_obj:
        lock = field_obj["/Lock"]
        if isinstance(lock, dict):
            specs.append(lock)
    if not specs:
        return lambda name: False

    def locked(name: str) -> bool:
        for spec in specs:
            action = str(spec.get("/Action", ""))
            names = {str(x) for x in spec.get("/Fields", []) or []}
            if (
                action == "/All"
                or (action == "/Include" and name in names)
                or (action == "/Exclude" and name not in names)
            ):
                return True
        return False

    return locked


def claimed_signing_time(
    signer_signing_time: dt.datetime | None, sig_obj: Any
) -> dt.datetime | None:
    """The signer's claimed time: the CMS signing-time attribute, else the PDF's /M."""
    if signer_signing_time is not None:
        return signer_signing_time
    if sig_obj is None or "/M" not in sig_obj:
        return None
    from pyhanko.pdf_utils import generic

    try:
        value: dt.datetime = generic.parse_pdf_date(str(sig_obj["/M"]), strict=False)
        return value
    except Exception:
        return None
