"""Certified copies (加注件) of sealed OFD licenses.

A copy is the original package with every part it had kept byte for byte (carried over
in its compressed form, :func:`signing.ofd.writer.replace_parts`), except two:

- ``Document.xml`` gains an ``<Annotations>`` and an ``<Attachments>`` element naming new
  parts under ``EvaultCopy/`` beside it — the only change to a part the issuer's seal
  covers, and one :mod:`signing.ofd.verifier` accepts only from a later, intact seal that
  covers it and only when removing exactly those elements gives back the signed bytes;
- ``Signatures.xml`` gains the vault's seal (continue signing).

The new parts: the page annotation (a ``Stamp`` annotation whose appearance draws the
加注 — title, the four fields, the notice — with glyph outlines of the shipped CJK font,
and the QR code of the verification URL, all as vector paths; its ``Remark`` and
``Parameters`` say the same in text), the attachments (``evault-copy.json`` with the
加注 fields, copy id and URL, and the transparency-log proof as JSON and as a C2SP
tlog-proof when given), and the vault's seal: a GB/T 38540 V4 ``SES_Signature`` by the
vault's SM2 key over a Signature.xml that references every part but Signatures.xml, its
stamp (the seal's image) over the 加注 box.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import posixpath
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from signing.copies.annotation import CopyAnnotation
from signing.copies.appearance import (
    DEFAULT_SIZE,
    FOOTER,
    TITLE,
    AppearanceLayout,
    TextRun,
    layout,
)
from signing.errors import SealingError
from signing.ofd.additions import list_parts, root_children, unnamed_namespace
from signing.ofd.colours import default_space_problem
from signing.ofd.dlreader import dl_annotation
from signing.ofd.glyphs import GlyphPainter
from signing.ofd.model import (
    OfdDocument,
    default_documents,
    foreign_namespaces,
    read_documents,
    read_signature_xml,
    repeated_sections,
)
from signing.ofd.overlay import (
    annotation_boxes,
    annotation_files,
    clear_of_content_and_stamps,
    page_area,
    stamps_of,
)
from signing.ofd.package import (
    DEFAULT_LIMITS,
    Limits,
    OfdFormatError,
    Package,
    java_trim,
    local_name,
)
from signing.ofd.pki import Sm2Identity
from signing.ofd.sealer import OfdSealer, page_ids
from signing.ofd.structure import doc_info_names
from signing.ofd.writer import replace_parts
from signing.qr import QUIET_ZONE, qr_matrix
from signing.transparency.copy_proof import (
    COPY_LOG_PROOF_FILENAME,
    TLOG_PROOF_FILENAME,
    CopyLogProof,
)

__all__ = [
    "COPY_FOLDER",
    "COPY_INFO_FILENAME",
    "CopyPlan",
    "OfdCopyMaker",
    "OfdPlacement",
    "read_copy_attachments",
]

COPY_FOLDER = "EvaultCopy"
"""The folder (beside Document.xml) holding a copy's annotation and attachments."""
COPY_INFO_FILENAME = "evault-copy.json"
"""The attached 加注 fields, copy id and verification URL."""
COPY_INFO_FORMAT = "evault-ofd-copy/1"

_PT = 25.4 / 72  # mm per point
_COLOURS = {"title": "178 13 13", "label": "89 89 89", "value": "0 0 0", "footer": "89 89 89"}
_RED = _COLOURS["title"]
_ID = re.compile(rb'\bID\s*=\s*"(\d+)"')
_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
_CORNERS = ("bottom-left", "bottom-right", "top-left", "top-right")


@dataclass(frozen=True)
class OfdPlacement:
    """Where the 加注 box goes: a corner of a page (mm). The default, bottom left, stays
    clear of the issuer's seal, which sits bottom right on most licenses."""

    page: int = 0
    corner: str = "bottom-left"
    """The corner tried first; when the box there would cover text of the page or a seal's
    stamp (which verifiers refuse, :mod:`signing.ofd.overlay`), the next clear one of
    bottom-left, bottom-right, top-left, top-right."""
    margin: float = 10.0

    def __post_init__(self) -> None:
        if self.corner not in _CORNERS:
            raise SealingError(f"unknown corner {self.corner!r}")


class OfdCopyMaker:
    """Makes certified copies of OFD files with the vault's SM2 seal; build once."""

    def __init__(
        self,
        signer: Sm2Identity,
        seal: bytes,
        *,
        provider: str = "evault",
        placement: OfdPlacement | None = None,
        limits: Limits = DEFAULT_LIMITS,
    ) -> None:
        self._limits = limits
        """What an original may hold (:class:`signing.ofd.package.Limits`), as verifying it."""
        self._sealer = OfdSealer(signer, seal, provider=provider)
        self.signer_certificate = signer.cert
        """DER of the certificate the copies are sealed with: what a trust bundle pins as
        the vault's OFD copy seal (``ofd_vault_seals``)."""
        self._placement = placement or OfdPlacement()
        self.glyphs = GlyphPainter()  # loads the font now, not on the first copy
        template = "制作时间者事由有效期截止（）「」北京为办件编号：0123456789-: "
        for ch in set(TITLE + FOOTER + template):
            self.glyphs.outline(ch)  # the template's glyphs, converted once at start

    def unsupported_characters(self, annotation: CopyAnnotation) -> str:
        """Characters of the 加注 the copy font cannot show ("" when all can be)."""
        return self.glyphs.font.missing("".join(value for _, value in annotation.fields()))

    def make(
        self, original: bytes, annotation: CopyAnnotation, *, at: dt.datetime | None = None
    ) -> bytes:
        """The certified copy of the sealed OFD ``original``.

        Raises :class:`SealingError` for an unusable original (unreadable, naming parts
        it lacks, already a copy) or a 加注 that cannot be shown; for nothing else.
        """
        plan = self.plan(original, annotation)
        with _as_sealing_error():
            new = self._sealer.seal_parts(
                {**plan.parts, **plan.added},
                plan.document,
                plan.page_id,
                plan.stamp,
                at or dt.datetime.now(dt.UTC),
            )
            return replace_parts(original, {**plan.added, **new})

    def plan(self, original: bytes, annotation: CopyAnnotation) -> CopyPlan:
        """What the copy adds to ``original`` before the vault's seal (see :meth:`make`)."""
        with _as_sealing_error():
            return self._plan(original, annotation)

    def _plan(self, original: bytes, annotation: CopyAnnotation) -> CopyPlan:
        if not isinstance(annotation, CopyAnnotation):
            raise SealingError("a certified copy needs a CopyAnnotation")
        prepared = layout(annotation)  # text that cannot be drawn fails first
        try:
            with Package(original, self._limits) as pkg:
                docs = read_documents(pkg)
                _one_document(docs)
                doc = docs[0]
                parts = {p: pkg.read(p) for p in pkg.paths}
                if any(p.startswith(_copy_folder(doc)) for p in parts):
                    raise SealingError("the OFD file is already a certified copy")
                if not doc.entries:  # verifiers refuse a vault seal alone (r10-03)
                    raise SealingError("the OFD file has no seal: a copy certifies a sealed one")
                _check_sections(pkg, doc)
                _check_default_documents(pkg, doc)
                target = _target(pkg, doc, self._placement)
                _check_attachment_names(pkg, target.lists.get("Attachments"), annotation)
                _check_doc_info(pkg, doc)
                _complete(doc)
        except OfdFormatError as exc:
            raise SealingError(f"the OFD file cannot be copied: {exc}") from None
        added = self._added_parts(parts, doc, target, annotation, prepared)
        return CopyPlan(parts, added, doc, target.page_id, _stamp_box(target.box))

    def _added_parts(
        self,
        parts: dict[str, bytes],
        doc: OfdDocument,
        target: _Target,
        annotation: CopyAnnotation,
        prepared: AppearanceLayout,
    ) -> dict[str, bytes]:
        base = _copy_folder(doc)
        ns = target.namespace
        ids = iter(range(_max_id(parts) + 1, 1 << 31))
        annot = self._page_annotation(annotation, prepared, target, ns, lambda: next(ids))
        files = _attachment_files(annotation)
        loc = f"/{base}"  # absolute: the same wherever the list that names them is
        attachments = "".join(
            f'<ofd:Attachment ID="{next(ids)}" Name={quoteattr(name)} Format="{fmt}" '
            f'Size="{len(data) / 1024:.3f}" Visible="false" Usage="none">'
            f"<ofd:FileLoc>{loc}{name}</ofd:FileLoc></ofd:Attachment>"
            for name, (fmt, data) in files.items()
        )
        page = (
            f'<ofd:Page PageID="{target.page_id}"><ofd:FileLoc>{target.annotation_loc}'
            "</ofd:FileLoc></ofd:Page>"
        )
        out = {f"{base}Annotation.xml": (_HEAD + annot).encode()}
        out.update({f"{base}{name}": data for name, (_, data) in files.items()})
        links = {}
        for kind, entries in (("Annotations", page), ("Attachments", attachments)):
            existing = target.lists.get(kind)
            if existing is not None:  # the original's list, the copy's entries appended
                out[existing] = _append(parts[existing], kind, entries)
            else:
                out[f"{base}{kind}.xml"] = (
                    f'{_HEAD}<ofd:{kind} xmlns:ofd="{ns}">{entries}</ofd:{kind}>'
                ).encode()
                links[kind] = f"{COPY_FOLDER}/{kind}.xml"
        if links:
            out[doc.root] = _link(parts[doc.root], links)
        return out

    def _page_annotation(
        self,
        annotation: CopyAnnotation,
        prepared: AppearanceLayout,
        target: _Target,
        ns: str,
        next_id: Callable[[], int],
    ) -> str:
        x, y, w, h = target.box
        params = [*annotation.fields(), ("copy_id", annotation.copy_id)]
        params.append(("verify_url", annotation.verify_url))
        remark = "电子证照加注件 " + "；".join(f"{k}：{v}" for k, v in annotation.fields())
        objects = _frame(prepared, next_id)
        for run in prepared.runs:
            objects += self._text(run, prepared.height, next_id)
        objects.append(_qr(annotation.verify_url, prepared, next_id))
        when = annotation.made_at.astimezone(dt.UTC).date().isoformat()
        return (
            f'<ofd:PageAnnot xmlns:ofd="{ns}"><ofd:Annot ID="{next_id()}" Type="Stamp" '
            f'Creator="evault" LastModDate="{when}" ReadOnly="true" Print="true" '
            f'Subtype="EvaultCertifiedCopy"><ofd:Remark>{escape(remark)}</ofd:Remark>'
            "<ofd:Parameters>"
            + "".join(
                f"<ofd:Parameter Name={quoteattr(k)}>{escape(v)}</ofd:Parameter>" for k, v in params
            )
            + f'</ofd:Parameters><ofd:Appearance Boundary="{_mm(x)} {_mm(y)} {_mm(w)} {_mm(h)}">'
            + "".join(objects)
            + "</ofd:Appearance></ofd:Annot></ofd:PageAnnot>"
        )

    def _text(self, run: TextRun, height: float, next_id: Callable[[], int]) -> list[str]:
        return self.glyphs.text(
            run.text,
            run.x * _PT,
            (height - run.y) * _PT,
            run.size * _PT,
            fill=_COLOURS[run.role],
            next_id=next_id,
        )


@dataclass(frozen=True)
class CopyPlan:
    """A copy before its seal: the original's parts, the parts added or changed, and where
    the vault's stamp goes."""

    parts: dict[str, bytes]
    added: dict[str, bytes]
    document: OfdDocument
    page_id: str
    stamp: tuple[float, float, float, float]
    """The vault seal's stamp on that page: x, y, width, height (mm)."""


@dataclass(frozen=True)
class _Target:
    page_id: str
    box: tuple[float, float, float, float]
    """The 加注 box on the page: x, y (top), width, height in mm."""
    namespace: str
    lists: dict[str, str]
    """The original's Annotations and Attachments lists (kind -> path), if it has them."""
    annotation_loc: str
    """The ``FileLoc`` of the 加注's entry in the Annotations list (:func:`_annotation_loc`)."""


def _target(pkg: Package, doc: OfdDocument, placement: OfdPlacement) -> _Target:
    root = pkg.xml(doc.root)
    tag = root.tag if isinstance(root.tag, str) else ""
    namespace = tag[1:].split("}", 1)[0] if tag.startswith("{") else "http://www.ofdspec.org/2016"
    lists = {kind: path for path, kind in list_parts(pkg, doc.root).items()}
    pages = page_ids(pkg, doc.root)
    if not -len(pages) <= placement.page < len(pages):
        raise SealingError(f"the document has no page {placement.page + 1}")
    page_id = pages[placement.page]
    area = page_area(pkg, doc.root, page_id)
    if area is None:
        raise SealingError(f"the size of page {placement.page + 1} cannot be read")
    left, top, width, height = area
    w, h = DEFAULT_SIZE[0] * _PT, DEFAULT_SIZE[1] * _PT
    m = placement.margin
    if w + 2 * m > width or h + 2 * m > height:
        raise SealingError(f"the page ({width:.0f}x{height:.0f} mm) is too small for the 加注")
    stamps = [stamp for entry in doc.entries for stamp in stamps_of(pkg, entry.path)]
    if "Annotations" in lists:  # a verifier keeps a 加注 clear of the annotations too
        listed = annotation_files(pkg, lists["Annotations"])
        stamps += annotation_boxes(pkg, listed, drawn_in=doc.root)
    for corner in (placement.corner, *(c for c in _CORNERS if c != placement.corner)):
        x = left + (width - m - w if corner.endswith("right") else m)
        y = top + (height - m - h if corner.startswith("bottom") else m)
        if clear_of_content_and_stamps(pkg, doc.root, page_id, (x, y, w, h), stamps):
            loc = _annotation_loc(pkg, doc, lists.get("Annotations"))
            return _Target(page_id, (x, y, w, h), namespace, lists, loc)
    raise SealingError(
        f"no corner of page {placement.page + 1} is clear of its text and seals (and what "
        "else it draws) for the 加注 (a verifier would take it for an overlay)"
    )


def _annotation_loc(pkg: Package, doc: OfdDocument, listed: str | None) -> str:
    """A ``FileLoc`` for the 加注's entry that every reader opens as the 加注's part: in the
    original's Annotations list ``listed``, or else the copy's own. ofdrw's ``DLOFDReader``
    reads such entries by rules of its own (:func:`signing.ofd.dlreader.dl_annotation`):
    ``/Doc_0/EvaultCopy/Annotation.xml`` is ``Doc_0/Annots/EvaultCopy/Annotation.xml`` to it
    beside ofdrw's ``Annots/Annotations.xml`` (red team 8, r8-04), so the absolute and the
    relative location are tried and the first both readers agree on is taken."""
    part = f"{_copy_folder(doc)}Annotation.xml"
    text: str | None
    if listed is None:
        folder, text = part.rsplit("/", 1)[0], f"{COPY_FOLDER}/Annotations.xml"
    else:
        folder = listed.rsplit("/", 1)[0] if "/" in listed else ""
        text = next((el.text for el in pkg.xml(doc.root) if local_name(el) == "Annotations"), None)
    for loc in (f"/{part}", posixpath.relpath(part, folder or ".")):
        if pkg.resolve(loc, folder) == part and dl_annotation(loc, doc.root_loc, text) == part:
            return loc
    raise SealingError(
        "the 加注 has no location every OFD reader opens alike (ofdrw's DLOFDReader reads "
        "the original's Annotations list by rules of its own)"
    )


@contextlib.contextmanager
def _as_sealing_error() -> Iterator[None]:
    """Last resort: whatever else a hostile original makes fail (a bug it reaches) is the
    maker's :class:`SealingError`, naming the exception, never a KeyError or the like
    leaking to the caller (red team 12, r12-09). An OFD reading error is said as such."""
    try:
        yield
    except SealingError:
        raise
    except OfdFormatError as exc:
        raise SealingError(f"the OFD file cannot be copied: {exc}") from exc
    except Exception as exc:
        raise SealingError(f"the OFD file cannot be copied ({type(exc).__name__})") from exc


def _complete(doc: OfdDocument) -> None:
    """Refuse an original that names parts it lacks (a page, template, font, image, an
    annotation, attachment or custom-tag list), or has them only under another letter
    case, as intake does (``missing_parts``): the vault would certify a document readers
    show otherwise or not at all, and extend a list that is not there (red team 12, r12-09:
    a missing Attachments list was a KeyError). An empty resource list a producer names
    and leaves out (ofdrw does) is no part of what is shown."""
    lacking = sorted({*doc.missing_content, *doc.twins})
    if lacking:
        raise SealingError(
            "the OFD file cannot be copied: it names parts it lacks: " + ", ".join(lacking[:10])
        )


def _one_document(docs: list[OfdDocument]) -> None:
    """Refuse an original of several documents: the 加注 and the vault's seal go on one,
    and a reader that shows another (a document switcher, a last-wins binder) shows a
    sealed license without them (red team 10, r10-09)."""
    if len(docs) > 1:
        raise SealingError(
            f"the OFD file holds {len(docs)} documents: a certified copy's 加注 and seal "
            "would be on one only, and a reader may show another"
        )


def _check_sections(pkg: Package, doc: OfdDocument) -> None:
    """Refuse an original whose Document.xml or lists readers read differently: a section
    twice (red team 10, r10-05: the 加注 went into the second Annotations list, which no
    reader reads), elements outside one OFD namespace (r10-07: the 加注 written in it), a
    default colour space not plain RGB (r10-01: :mod:`signing.ofd.colours`)."""
    found = repeated_sections(doc.root, pkg.xml(doc.root))
    found += foreign_namespaces(doc.root, pkg.xml(doc.root))
    default = default_space_problem(pkg, doc.root)
    if default is not None:  # the 加注's colours name no space (red team 10, r10-01)
        found.append(f"{default}: the 加注's colours, which name none, would be read in it")
    for path in list_parts(pkg, doc.root):
        if pkg.has(path):
            found += foreign_namespaces(path, pkg.xml(path))
    for path in (doc.root, *list_parts(pkg, doc.root)):  # where the copy writes its entries
        unnamed = unnamed_namespace(pkg, path, whole=False) if pkg.has(path) else None
        found += [unnamed] if unnamed is not None else []
    if found:
        raise SealingError(f"the OFD file cannot be copied: {found[0]}")


def _check_default_documents(pkg: Package, doc: OfdDocument) -> None:
    """Refuse an original with a Document.xml beside its DocRoot (the layout of Suwell's
    files: DocRoot ``Doc_0/Document_0.xml``, an older ``Doc_0/Document.xml`` beside it;
    :func:`signing.ofd.model.default_documents`). ofdrw reads the document's attachments
    from that file whatever DocRoot names (``OFDDir.obtainDocDefault``), and the copy
    extends the DocRoot only: ofdrw's list of the copy's attachments was the issuer's, an
    ``evault-copy.json`` of its own (red team 12, r12-04), or none. Extending that file
    too would be a second change to a part the issuer's seal covers, which the verifier
    accepts only in the DocRoot."""
    found = default_documents(pkg, doc.root)
    if found:
        raise SealingError(
            f"the OFD file cannot be copied: ofdrw reads the document from {found[0]}, "
            f"beside its DocRoot {doc.root}, and would not list the copy's 加注 and "
            "attachments there"
        )


def _check_attachment_names(pkg: Package, listed: str | None, annotation: CopyAnnotation) -> None:
    """Refuse an original whose Attachments list ``listed`` already names an attachment as
    the copy names one of its own (``evault-copy.json``, the log proof's two forms, white
    space trimmed): ofdrw looks an attachment up by name and takes the first
    (``OFDReader.getAttachment``), so it would hand out the issuer's file as the copy's.
    evault reads the copy's own (:func:`read_copy_attachments`, red team 9, r9-06); the
    verifier fails such a copy's Attachments list (red team 12, r12-04's class)."""
    if listed is None or not pkg.has(listed):
        return
    mine = set(_attachment_files(annotation))
    entries = [el for el in pkg.xml(listed) if local_name(el) == "Attachment"]
    names = {java_trim(el.get("Name") or "") for el in entries}
    taken = sorted(names & mine)
    if taken:
        raise SealingError(
            f"the OFD file cannot be copied: it already attaches a file named {taken[0]}, "
            "which a reader that looks attachments up by name (ofdrw) would hand out as the "
            "copy's"
        )


def _check_doc_info(pkg: Package, doc: OfdDocument) -> None:
    """Refuse an original whose OFD.xml a seal leaves out while its DocInfo carries what a
    reader shows (a title, custom data): the vault's seal would cover that unsigned,
    possibly forged metadata and make it look sealed (docs/verification.md, "OFD")."""
    shown = doc_info_names(pkg.xml("OFD.xml"))
    if not shown:
        return
    for entry in doc.entries:
        refs = read_signature_xml(pkg, entry.path).references
        if not any(r.path == "OFD.xml" for r in refs):
            raise SealingError(
                f"the OFD file cannot be copied: its seal {entry.id} does not cover OFD.xml, "
                f"whose document information ({', '.join(shown)}) is then unsigned; the "
                "vault's seal would make it look sealed"
            )


def _stamp_box(box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    """The vault seal's stamp: a 30 mm circle over the middle of the 加注's text."""
    x, y, w, h = box
    side = min(30.0, h - 6)
    return (round(x + (w - h) / 2 - side / 2, 2), round(y + (h - side) / 2, 2), side, side)


def _link(document: bytes, links: dict[str, str]) -> bytes:
    """Document.xml with ``<Annotations>``/``<Attachments>`` (``links``: name -> location)
    added as children of its root (the sections readers read; red team 10, r10-10: an
    ``<Extensions/>`` inside CommonData drew them into it) in schema order (Annotations
    before CustomTags, both before Extensions), in the root element's prefix as the parser
    reads it (r10-07b: not one a comment before the root names)."""
    for name, before in (
        ("Annotations", ("CustomTags", "Attachments", "Extensions")),
        ("Attachments", ("Extensions",)),
    ):
        if name not in links:
            continue
        try:
            root, children = root_children(document)
        except OfdFormatError:
            raise SealingError("Document.xml cannot be extended (unexpected layout)") from None
        close = _close(document, root.encode())
        if close is None:
            raise SealingError("Document.xml cannot be extended (unexpected layout)")
        p = root.rsplit(":", 1)[0].encode() + b":" if ":" in root else b""
        later = (at for at, child in children if child.rsplit(":", 1)[-1] in before)
        at = next(later, close)
        tag = name.encode()
        element = b"<" + p + tag + b">" + links[name].encode() + b"</" + p + tag + b">"
        document = document[:at] + element + document[at:]
    return document


def _copy_folder(doc: OfdDocument) -> str:
    """``EvaultCopy/`` beside the document's Document.xml (a package path prefix)."""
    folder = doc.root.rsplit("/", 1)[0] + "/" if "/" in doc.root else ""
    return f"{folder}{COPY_FOLDER}/"


def _close(data: bytes, name: bytes) -> int | None:
    """Where the closing tag of the root element ``name`` (qualified) starts."""
    match = re.search(rb"</" + re.escape(name) + rb"\s*>\s*$", data)
    return match.start() if match is not None else None


def _append(current: bytes, kind: str, entries: str) -> bytes:
    """An Annotations or Attachments list with ``entries`` appended, in its prefix."""
    match = re.search(rb"</([\w.-]+:)?" + kind.encode() + rb"\s*>\s*$", current)
    if match is None:
        raise SealingError(f"the original's {kind} list cannot be extended (unexpected layout)")
    prefix = (match.group(1) or b"").decode()
    if prefix != "ofd:":
        entries = entries.replace("<ofd:", f"<{prefix}").replace("</ofd:", f"</{prefix}")
    return current[: match.start()] + entries.encode() + current[match.start() :]


_ID_ROOM = 1 << 20
"""Object IDs kept free under 2^31 for a copy's new objects (a 加注 uses a few hundred)."""


def _max_id(parts: dict[str, bytes]) -> int:
    """The largest object ID any XML part uses (new objects are numbered after it). Raises
    :class:`SealingError` when that leaves no room below 2^31, the largest ID readers take
    (red team 9, r9-08: an ID of ten digits, or of 5000, crashed the maker)."""
    top = 0
    for path, data in parts.items():
        if path.lower().endswith(".xml"):
            for match in _ID.finditer(data):
                digits = match.group(1).lstrip(b"0") or b"0"
                top = max(top, int(digits) if len(digits) <= 10 else 1 << 40)
    if top >= (1 << 31) - _ID_ROOM:
        raise SealingError("the original's object IDs leave no room for the copy's")
    return top


def _attachment_files(annotation: CopyAnnotation) -> dict[str, tuple[str, bytes]]:
    info = {
        "format": COPY_INFO_FORMAT,
        "copy_id": annotation.copy_id,
        "verify_url": annotation.verify_url,
        "made_at": annotation.made_at.isoformat(),
        "valid_until": annotation.valid_until.isoformat(),
        "fields": dict(annotation.fields()),
    }
    files = {COPY_INFO_FILENAME: ("json", json.dumps(info, ensure_ascii=False).encode())}
    if annotation.log_proof is not None:
        try:
            proof = CopyLogProof.from_json(annotation.log_proof)
        except Exception as exc:  # LogVerificationError and its LogFormatError
            raise SealingError(f"copy annotation: the log proof is malformed: {exc}") from None
        files[COPY_LOG_PROOF_FILENAME] = ("json", annotation.log_proof)
        files[TLOG_PROOF_FILENAME] = ("txt", proof.to_tlog_proof().encode())
    return files


def _frame(prepared: AppearanceLayout, next_id: Callable[[], int]) -> list[str]:
    """The box's red border and the red rule under the title. Not filled: ofdrw's
    converters draw the stamps before the annotations, so a white box hid the vault's
    stamp that lies on it (red team 9, r9-02); the box lies where the page draws nothing."""
    w, h = prepared.width * _PT, prepared.height * _PT
    x1, x2, y = prepared.rule
    ry = (prepared.height - y) * _PT
    return [
        f'<ofd:PathObject ID="{next_id()}" Boundary="0 0 {_mm(w)} {_mm(h)}" LineWidth="0.35" '
        f'Stroke="true"><ofd:StrokeColor Value="{_RED}"/>'
        f"<ofd:AbbreviatedData>M 0.2 0.2 L {_mm(w - 0.2)} 0.2 "
        f"L {_mm(w - 0.2)} {_mm(h - 0.2)} L 0.2 {_mm(h - 0.2)} C</ofd:AbbreviatedData>"
        "</ofd:PathObject>",
        f'<ofd:PathObject ID="{next_id()}" Boundary="0 0 {_mm(w)} {_mm(h)}" LineWidth="0.18">'
        f'<ofd:StrokeColor Value="{_RED}"/><ofd:AbbreviatedData>M {_mm(x1 * _PT)} {_mm(ry)} '
        f"L {_mm(x2 * _PT)} {_mm(ry)}</ofd:AbbreviatedData></ofd:PathObject>",
    ]


def _qr(url: str, prepared: AppearanceLayout, next_id: Callable[[], int]) -> str:
    """The QR code of ``url``: its quiet zone white, each run of dark modules a rectangle
    (module units; the CTM scales them to the square)."""
    matrix = prepared.qr or qr_matrix(url)
    qx, qy, side = prepared.qr_box
    total = matrix.size + 2 * QUIET_ZONE
    module = side * _PT / total
    top = (prepared.height - qy - side) * _PT
    path = " ".join(
        f"M {c + QUIET_ZONE} {r + QUIET_ZONE} L {c + n + QUIET_ZONE} {r + QUIET_ZONE} "
        f"L {c + n + QUIET_ZONE} {r + 1 + QUIET_ZONE} L {c + QUIET_ZONE} {r + 1 + QUIET_ZONE} C"
        for r, c, n in matrix.runs()
    )
    box = f"{_mm(qx * _PT)} {_mm(top)} {_mm(side * _PT)} {_mm(side * _PT)}"
    return (
        f'<ofd:PathObject ID="{next_id()}" Boundary="{box}" CTM="{module:.6g} 0 0 {module:.6g} '
        f'0 0" Stroke="false" Fill="true"><ofd:FillColor Value="0 0 0"/>'
        f"<ofd:AbbreviatedData>{path}</ofd:AbbreviatedData></ofd:PathObject>"
    )


def _mm(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".") or "0"


def read_copy_attachments(ofd: bytes) -> dict[str, bytes]:
    """The files a copy attaches (by name: :data:`COPY_INFO_FILENAME`, the log proof's two
    forms), read from the first document's Attachments.xml, only those in the copy's own
    folder (``EvaultCopy/``): an original may carry attachments of the same names, listed
    first (red team 9, r9-06: the copy's id was read from the issuer's ``evault-copy.json``);
    {} when it has none or the file is unreadable. Unverified: whether the vault's seal
    covers them is the report's business.
    """
    found: dict[str, bytes] = {}
    try:
        with Package(ofd) as pkg:
            doc = read_documents(pkg)[0]
            root = pkg.xml(doc.root)
            loc = next((el.text for el in root if local_name(el) == "Attachments"), None)
            if not loc:
                return {}
            path = pkg.resolve(loc, doc.root.rsplit("/", 1)[0] if "/" in doc.root else "")
            folder = path.rsplit("/", 1)[0] if "/" in path else ""
            own = _copy_folder(doc)
            for el in pkg.xml(path):
                name = el.get("Name") or ""
                file_loc = next((c.text for c in el if local_name(c) == "FileLoc"), None)
                if local_name(el) != "Attachment" or not file_loc or name in found:
                    continue
                target = pkg.resolve(file_loc, folder)
                if target.startswith(own):
                    found[name] = pkg.read(target)
    except OfdFormatError:
        return {}
    return found
