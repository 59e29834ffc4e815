"""Finding a PDF's signatures, and what is known about each one as verification goes.

Signatures are found through pyHanko's reader (:func:`find_signatures`) or, when the
file's structure cannot be read, by scanning the raw bytes (:func:`raw_signatures`).
Either way each becomes a :class:`FoundSignature`, which the later steps fill in. The
/ByteRange checks here read the bytes themselves and trust nothing pyHanko derived.
"""

from __future__ import annotations

import binascii
import bisect
import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from schemas.report import Coverage, SignatureKind
from signing._verify.chain import ChainResult
from signing._verify.cms_check import CmsCheck
from signing._verify.modifications import ChangeVerdict
from signing._verify.pdfsig import SigField, signature_fields

__all__ = [
    "MAX_SIGNATURES",
    "SUPPORTED_SUBFILTERS",
    "FoundSignature",
    "SignatureStatus",
    "check_byte_range",
    "find_signatures",
    "raw_coverage",
    "raw_signatures",
    "signed_bytes",
]

SUPPORTED_SUBFILTERS = frozenset({"/adbe.pkcs7.detached", "/ETSI.CAdES.detached", "/ETSI.RFC3161"})
"""The sub-filters whose chain is validated; others are checked for integrity only."""

MAX_SIGNATURES = 500
"""Signatures checked per file; a file with more gets a note, not a longer run."""

_BYTERANGE_RE = re.compile(
    rb"/ByteRange\s*\[\s*(\d{1,12})\s+(\d{1,12})\s+(\d{1,12})\s+(\d{1,12})\s*\]"
)


@dataclass
class SignatureStatus:
    """Chain and signature-timestamp results for one signature."""

    chain: ChainResult
    ts_time: dt.datetime | None = None
    """The signature timestamp's time, when its token verifies."""
    ts_trusted: bool = False
    """Whether the signature timestamp's authority chains to a trusted root, unrevoked."""


@dataclass
class FoundSignature:
    """One signature dictionary found in the file, with what we learned about it.

    Filled in step by step: structure and CMS (``format_error``, ``cms``, ``coverage``,
    ``signed_revision``), later revisions (``changes``), then validation (``status``).
    """

    field_name: str | None
    sig_obj: Any
    subfilter: str | None
    kind: SignatureKind
    byte_range: list[int]
    contents: bytes
    field_obj: SigField | None = None
    reasons: list[str] = field(default_factory=list)
    format_error: str | None = None
    cms: CmsCheck | None = None
    coverage: Coverage = Coverage.NONE
    signed_revision: int | None = None
    changes: ChangeVerdict | None = None
    status: SignatureStatus | None = None


def check_byte_range(data: bytes, br: list[int], contents: bytes | None) -> str | None:
    """A reason when /ByteRange is not a plain [0 a b c] around the /Contents hex string."""
    if len(br) != 4 or any(not isinstance(x, int) or x < 0 for x in br):
        return "/ByteRange must be four non-negative integers"
    a, b_len, c, d = br
    if a != 0:
        return "/ByteRange does not start at the beginning of the file"
    if not b_len < c or c + d > len(data):
        return "/ByteRange points outside the file or overlaps itself"
    gap = data[b_len:c]
    if len(gap) < 2 or gap[:1] != b"<" or gap[-1:] != b">":
        return "the bytes left out by /ByteRange are not the /Contents hex string"
    body = gap[1:-1]
    if not re.fullmatch(rb"[0-9A-Fa-f\s]*", body):
        return "the bytes left out by /ByteRange contain more than the signature value"
    if contents is not None:
        try:
            gap_value = binascii.unhexlify(re.sub(rb"\s", b"", body))
        except binascii.Error:
            return "the /Contents hex string is malformed"
        if gap_value.rstrip(b"\x00") != contents.rstrip(b"\x00"):
            return "the bytes left out by /ByteRange are not this signature's /Contents"
    return None


def signed_bytes(data: bytes, br: list[int]) -> bytes:
    """The two ranges /ByteRange names, joined: what the signature's digest covers."""
    return data[br[0] : br[0] + br[1]] + data[br[2] : br[2] + br[3]]


def _is_placeholder(contents: bytes) -> bool:
    return not contents.strip(b"\x00")


def _kind(subfilter: str | None) -> SignatureKind:
    return SignatureKind.DOC_TIMESTAMP if subfilter == "/ETSI.RFC3161" else SignatureKind.SIGNATURE


def find_signatures(reader: Any, data: bytes) -> tuple[list[FoundSignature], list[str]]:
    """The signed signature fields pyHanko's reader finds, and notes on what was skipped
    (empty placeholders, signatures beyond :data:`MAX_SIGNATURES`)."""
    found: list[FoundSignature] = []
    notes: list[str] = []
    seen: dict[Any, FoundSignature] = {}
    for fld in signature_fields(reader):
        name = fld.name
        if len(found) >= MAX_SIGNATURES:
            notes.append(f"more than {MAX_SIGNATURES} signatures: the rest were not checked")
            break
        key = fld.sig_ref if fld.sig_ref is not None else id(fld.sig_obj)
        if key in seen:
            seen[key].reasons.append(f"the same signature is also the value of field {name!r}")
            continue
        sig = _from_field(fld)
        if sig is None:
            notes.append(f"field {name!r} holds an empty signature placeholder (not signed)")
            continue
        seen[key] = sig
        found.append(sig)
    return found, notes


def _from_field(fld: SigField) -> FoundSignature | None:
    """The signature a field's value holds; None for an empty placeholder."""
    from pyhanko.pdf_utils import generic

    sig_obj = fld.sig_obj
    try:
        raw = sig_obj.raw_get("/Contents", decrypt=generic.EncryptedObjAccess.RAW)
        contents = bytes(raw.original_bytes)
    except Exception:
        contents = b""
    if _is_placeholder(contents):
        return None
    subfilter = str(sig_obj.get("/SubFilter")) if "/SubFilter" in sig_obj else None
    try:
        br = [int(_plain(x)) for x in _plain(sig_obj.get("/ByteRange", []))]
    except (TypeError, ValueError):
        br = []
    sig = FoundSignature(
        field_name=fld.name,
        sig_obj=sig_obj,
        subfilter=subfilter,
        kind=_kind(subfilter),
        byte_range=br,
        contents=contents,
        field_obj=fld,
    )
    if sig.kind is SignatureKind.DOC_TIMESTAMP and str(sig_obj.get("/Type", "")) == "/Sig":
        sig.reasons.append("a document timestamp whose dictionary says /Type /Sig")
    return sig


def _plain(obj: Any) -> Any:
    """Unwrap pyHanko's proxies (decrypted or indirect objects)."""
    from pyhanko.pdf_utils import generic

    for _ in range(4):
        if isinstance(obj, generic.IndirectObject):
            obj = obj.get_object()
        elif hasattr(obj, "decrypted"):
            obj = obj.decrypted
        else:
            break
    return obj


def raw_signatures(data: bytes) -> list[FoundSignature]:
    """Signatures found by scanning the bytes, when the PDF structure cannot be read.

    One pass over the file, whatever it holds (red team pdf14's p14-06): every /ByteRange
    found counts against :data:`MAX_SIGNATURES`, kept or not; the objects, /SubFilter
    entries and field names around them are located once for the whole file; and a
    /Contents gap is decoded only when it overlaps no gap decoded before (the gaps of a
    file's signatures never overlap), so no byte is decoded twice."""
    scan = _RawScan(data)
    out: list[FoundSignature] = []
    ranges: set[tuple[int, ...]] = set()
    for count, m in enumerate(_BYTERANGE_RE.finditer(data)):
        if count >= MAX_SIGNATURES:
            break
        br = [int(g) for g in m.groups()]
        if tuple(br) in ranges:
            continue
        ranges.add(tuple(br))
        sig = scan.signature(br, m.start(), m.end())
        if sig is not None:
            out.append(sig)
    return out


_SUBFILTER_RE = re.compile(rb"/SubFilter\s*/([A-Za-z0-9.#_-]+)")
_FIELD_NAME_RE = re.compile(rb"/T\s*\(([^)]{0,200})\)")
_NAME_WINDOW = 2000
"""Bytes before a signature's object searched for its field's /T."""


class _RawScan:
    """What :func:`raw_signatures` looks up around each /ByteRange, found in one pass."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.obj_ends = [m.end() for m in re.finditer(rb" obj", data)]
        self.endobjs = [m.start() for m in re.finditer(rb"endobj", data)]
        self.subfilters = [(m.start(), m) for m in _SUBFILTER_RE.finditer(data)]
        self.decoded: list[tuple[int, int]] = []
        """The gaps decoded so far, sorted and disjoint."""

    def signature(self, br: list[int], at: int, after: int) -> FoundSignature | None:
        """The signature whose /ByteRange was found at ``data[at:after]``; None for an
        empty placeholder, or when its gap overlaps one decoded before."""
        data = self.data
        i = bisect.bisect_right(self.obj_ends, at) - 1
        start = max(self.obj_ends[i] - 4, 0) if i >= 0 else 0
        j = bisect.bisect_left(self.endobjs, after)
        end = self.endobjs[j] if j < len(self.endobjs) else len(data)
        gap_ok = 0 < br[1] < br[2] <= len(data)
        holes = [(start, br[1]), (br[2], end)] if gap_ok else [(start, end)]
        subfilter = self._subfilter(holes)
        contents = self._gap(br[1], br[2]) if gap_ok else b""
        if _is_placeholder(contents):
            return None
        name = _FIELD_NAME_RE.search(data, max(0, start - _NAME_WINDOW), start)
        return FoundSignature(
            field_name=name.group(1).decode("latin-1") if name else None,
            sig_obj=None,
            subfilter=subfilter,
            kind=_kind(subfilter),
            byte_range=br,
            contents=contents,
        )

    def _subfilter(self, spans: list[tuple[int, int]]) -> str | None:
        """The first /SubFilter lying whole in one of ``spans``."""
        for lo, hi in spans:
            k = bisect.bisect_left(self.subfilters, lo, key=lambda x: x[0])
            if k < len(self.subfilters):
                m = self.subfilters[k][1]
                if m.end() <= hi:
                    return "/" + m.group(1).decode("latin-1")
        return None

    def _gap(self, lo: int, hi: int) -> bytes:
        """``data[lo+1:hi-1]`` decoded from hex, or b"" when malformed or when it overlaps
        a gap decoded before."""
        k = bisect.bisect_left(self.decoded, (lo, hi))
        if (k > 0 and self.decoded[k - 1][1] > lo) or (
            k < len(self.decoded) and self.decoded[k][0] < hi
        ):
            return b""
        self.decoded.insert(k, (lo, hi))
        body = re.sub(rb"\s", b"", self.data[lo + 1 : hi - 1])
        try:
            return binascii.unhexlify(body)
        except binascii.Error:
            return b""


def raw_coverage(data: bytes, br: list[int]) -> Coverage:
    """What /ByteRange covers, judged on the bytes alone (no xref read)."""
    if len(br) != 4:
        return Coverage.NONE
    end = br[2] + br[3]
    if end == len(data):
        return Coverage.ENTIRE_FILE
    if data[:end].rstrip(b"\r\n ").endswith(b"%%EOF"):
        return Coverage.ENTIRE_REVISION
    return Coverage.PARTIAL
