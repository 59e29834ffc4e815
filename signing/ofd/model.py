"""The OFD parts a verifier needs (GB/T 33190 sections 7.3-7.5 and 18): the documents of
``OFD.xml``, the parts each document shows, its ``Signatures.xml`` and each
``Signature.xml`` with its References.

Element names are matched without their namespace: producers use both
``http://www.ofdspec.org/2016`` and ``http://www.ofdspec.org``. Locations (ST_Loc) are
resolved against the folder of the part that names them, as the standard says.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element

from signing.ofd.dlreader import DL, dl_annotation, dl_signature, dl_signed_value
from signing.ofd.package import OfdFormatError, Package, java_trim, local_name, ref_id
from signing.ofd.structure import OFD_NAMESPACES, signatures_xml_problems

__all__ = [
    "OfdDocument",
    "Reference",
    "SignatureEntry",
    "SignatureXml",
    "default_documents",
    "foreign_namespaces",
    "read_documents",
    "read_signature_xml",
    "repeated_sections",
    "res_file_locations",
]

_MAX_SIGNATURES = 200
"""Signature entries in all of a file's Signatures.xml lists together: every one is verified
in full (about 1 ms) before one listed twice is told apart, and each DocBody may list its
own (red team 8, r8-06: 300 documents listing one set of 200 seals again took 61 s)."""
_Add = Callable[..., None]
_Walker = Callable[[Element, str, _Add], None]


@dataclass(frozen=True)
class Reference:
    """One ``<Reference FileRef>`` of a Signature.xml with its recorded digest."""

    file_ref: str
    path: str | None
    """The package path it resolves to (None when it leaves the package)."""
    check_value: bytes | None
    """The decoded CheckValue (None when it is not base64)."""


@dataclass(frozen=True)
class SignatureXml:
    """What a Signature.xml says (its raw bytes are what the SES signature hashes)."""

    path: str
    raw: bytes
    check_method: str
    references: list[Reference]
    signed_value: str | None
    seal: str | None
    signature_method: str | None
    signature_time: str | None
    provider: str | None


@dataclass(frozen=True)
class SignatureEntry:
    """One ``<Signature>`` of Signatures.xml."""

    id: str
    type: str
    """``Seal`` (电子签章, the default) or ``Sign`` (电子签名)."""
    path: str
    """The Signature.xml's package path."""


@dataclass
class OfdDocument:
    """One document of the package: what it shows and the signatures over it."""

    root: str
    """Its Document.xml path."""
    root_loc: str | None
    """Its ``DocRoot`` as OFD.xml writes it (what ofdrw's ``DLOFDReader`` works from)."""
    signatures_path: str | None
    entries: list[SignatureEntry] = field(default_factory=list)
    shown_parts: set[str] = field(default_factory=set)
    """Parts that make up what a reader sees: Document.xml, pages, templates, resources,
    annotations, attachments, custom tags and the media and fonts they name."""
    missing: list[str] = field(default_factory=list)
    """Locations the document names that are not in the package."""
    missing_content: list[str] = field(default_factory=list)
    """Those of :attr:`missing` that a reader draws or shows (a page or template, a font,
    an image, an annotation, attachment or custom-tag file): all but a resource list
    (``PublicRes``, ``DocumentRes``, ``PageRes``), which ofdrw names even when empty and
    leaves out."""
    problems: list[str] = field(default_factory=list)
    """What is wrong with its Signatures.xml (see :mod:`signing.ofd.structure`)."""
    twins: dict[str, str] = field(default_factory=dict)
    """Those of :attr:`missing` another part becomes once unpacked (:meth:`.Package.twin`)
    -> that part: what a reader on a case-insensitive file system shows for it, so it is
    one of :attr:`shown_parts`."""


def _children(element: Element, name: str) -> Iterator[Element]:
    return (c for c in element if local_name(c) == name)


def _child(element: Element, name: str) -> Element | None:
    return next(_children(element, name), None)


def _text(element: Element | None) -> str | None:
    if element is None or element.text is None:
        return None
    return java_trim(element.text) or None


def _dir(path: str) -> str:
    return path.rsplit("/", 1)[0] if "/" in path else ""


def read_documents(pkg: Package) -> list[OfdDocument]:
    """The documents listed in OFD.xml, each with its signature entries and shown parts."""
    if not pkg.has("OFD.xml"):
        raise OfdFormatError("the package has no OFD.xml: not an OFD file")
    root = pkg.xml("OFD.xml")
    if local_name(root) != "OFD":
        raise OfdFormatError("OFD.xml is not an <OFD> document")
    docs = []
    listed = 0
    for body in _children(root, "DocBody"):
        doc_root = pkg.resolve(_text(_child(body, "DocRoot")), "")
        sigs_loc = _text(_child(body, "Signatures"))
        sigs_path = pkg.resolve(sigs_loc, "") if sigs_loc else None
        root_loc = _text(_child(body, "DocRoot"))
        doc = OfdDocument(root=doc_root, root_loc=root_loc, signatures_path=sigs_path)
        if sigs_path is not None:
            doc.entries = _read_signatures(pkg, sigs_path, doc.problems, root_loc)
            listed += len(doc.entries)
            if listed > _MAX_SIGNATURES:
                raise OfdFormatError(
                    f"the documents list more than {_MAX_SIGNATURES} signatures in all"
                )
        _collect_shown_parts(pkg, doc)
        _same_annotations_for_dl(pkg, doc)
        doc.shown_parts.update(default_documents(pkg, doc.root))
        docs.append(doc)
    if not docs:
        raise OfdFormatError("OFD.xml lists no document (no <DocBody>)")
    return docs


def default_documents(pkg: Package, doc_root: str) -> list[str]:
    """The parts other than ``doc_root`` that ofdrw reads as the document (red team 6,
    a09): ``Document.xml`` in the folder of the last DocBody's DocRoot, whatever file that
    DocRoot names (``OFDDir.obtainDocDefault`` and ``DocDir.getDocument``), which gives the
    page size of pages that name none (``OFDReader.getPageArea``) and the attachments
    (``getAttachmentList``); and, as other readers may do the same per document, the
    ``Document.xml`` in ``doc_root``'s own folder. Those in the package (or the part that
    becomes one once unpacked: :meth:`.Package.locate`)."""
    roots = [doc_root]
    bodies = list(_children(pkg.xml("OFD.xml"), "DocBody"))
    last = _text(_child(bodies[-1], "DocRoot")) if bodies else None
    if last:
        roots.append(pkg.resolve(last, ""))
    found: list[str] = []
    for root in roots:
        path = pkg.locate("/".join(p for p in (_dir(root), "Document.xml") if p))
        if path is not None and path != doc_root and path not in found:
            found.append(path)
    return found


def _read_signatures(
    pkg: Package, path: str, problems: list[str], doc_root: str | None
) -> list[SignatureEntry]:
    root = pkg.xml(path)
    if local_name(root) != "Signatures":
        raise OfdFormatError(f"{path} is not a <Signatures> list")
    problems += signatures_xml_problems(root, pkg.read(path), path)
    entries: list[SignatureEntry] = []
    seen: set[str] = set()
    targets: set[str] = set()
    for el in _children(root, "Signature"):
        if len(entries) >= _MAX_SIGNATURES:
            raise OfdFormatError(f"{path} lists more than {_MAX_SIGNATURES} signatures")
        sig_id = java_trim(el.get("ID") or "")
        target = pkg.resolve(el.get("BaseLoc"), _dir(path))
        what = f"the BaseLoc of signature {sig_id!r} in {path}"
        # required: where DLOFDReader cannot open one entry it shows no stamp at all (r8-08)
        dl_target = dl_signature(el.get("BaseLoc"), doc_root)
        pkg.same_part(target, dl_target, what, DL, required=True)
        if pkg.twin(target) is not None:
            pkg.read(target)  # raises: missing, and another part becomes it once unpacked
        if not sig_id or sig_id in seen:
            raise OfdFormatError(f"{path}: a signature ID is missing or repeated ({sig_id!r})")
        if target in targets:
            raise OfdFormatError(f"{path}: two signatures share {target}")
        seen.add(sig_id)
        targets.add(target)
        entries.append(SignatureEntry(sig_id, java_trim(el.get("Type") or "Seal"), target))
    return entries


def read_signature_xml(pkg: Package, path: str) -> SignatureXml:
    """Parse one Signature.xml."""
    root = pkg.xml(path)
    if local_name(root) != "Signature":
        raise OfdFormatError(f"{path} is not a <Signature>")
    info = _child(root, "SignedInfo")
    if info is None:
        raise OfdFormatError(f"{path} has no <SignedInfo>")
    refs_el = _child(info, "References")
    if refs_el is None:
        raise OfdFormatError(f"{path} has no <References>")
    base = _dir(path)
    refs = _references(pkg, path, refs_el, base)
    seal_el = _child(info, "Seal")
    seal_loc = _text(_child(seal_el, "BaseLoc")) if seal_el is not None else None
    value_loc = _text(_child(root, "SignedValue"))
    signed_value = (
        pkg.resolve_once(value_loc, base, f"the SignedValue of {path}") if value_loc else None
    )
    if signed_value is not None:
        what = f"the SignedValue of {path}"
        pkg.same_part(signed_value, dl_signed_value(value_loc), what, DL)
    provider = _child(info, "Provider")
    return SignatureXml(
        path=path,
        raw=pkg.read(path),
        check_method=java_trim(refs_el.get("CheckMethod") or "MD5"),
        references=refs,
        signed_value=signed_value,
        seal=pkg.resolve(seal_loc, base) if seal_loc else None,
        signature_method=_text(_child(info, "SignatureMethod")),
        signature_time=_text(_child(info, "SignatureDateTime")),
        provider=(
            provider.get("ProviderName") or _text(_child(provider, "ProviderName"))
            if provider is not None
            else None
        ),
    )


def _references(pkg: Package, path: str, refs_el: Element, base: str) -> list[Reference]:
    """The References of the Signature.xml ``path``, each part named once and no more of
    them than a package may hold parts (``Limits.max_entries``). Each earlier seal asks
    each later one about its References: 199 seals of 900 References each naming one part
    took seconds of CPU (red team 12, r12-08). No producer seen names a part twice, and
    two References of one part with different CheckValues say two things of it."""
    cap = pkg.limits.max_entries
    elements = list(_children(refs_el, "Reference"))
    if len(elements) > cap:
        raise OfdFormatError(
            f"{path} has more than {cap} References (more than a package may hold parts)"
        )
    refs: list[Reference] = []
    seen: set[str] = set()
    for el in elements:
        ref = _reference(pkg, el, base)
        key = ref.path if ref.path is not None else f"outside:{ref.file_ref}"
        if key in seen:
            raise OfdFormatError(
                f"{path} names {ref.path or repr(ref.file_ref)} twice in its References "
                "(a seal's References name each part once)"
            )
        seen.add(key)
        refs.append(ref)
    return refs


def _reference(pkg: Package, el: Element, base: str) -> Reference:
    file_ref = java_trim(el.get("FileRef") or "")
    try:
        path: str | None = pkg.resolve(file_ref, base)
    except OfdFormatError:
        path = None
    try:
        value: bytes | None = base64.b64decode(_text(_child(el, "CheckValue")) or "", validate=True)
    except (binascii.Error, ValueError):
        value = None
    return Reference(file_ref, path, value or None)


# -- the parts a reader sees ----------------------------------------------------------


def _same_annotations_for_dl(pkg: Package, doc: OfdDocument) -> None:
    """Each entry of the document's Annotations list names, to ofdrw's ``DLOFDReader``, no
    other part than the one it names to the verifier, and none it cannot open
    (:mod:`signing.ofd.dlreader`)."""
    listed = _text(_child(pkg.xml(doc.root), "Annotations"))
    try:
        path = pkg.resolve(listed, _dir(doc.root)) if listed else None
    except OfdFormatError:
        return  # a location that leaves the package: what is shown cannot be told
    if path is None or not pkg.has(path):
        return
    for page in _children(pkg.xml(path), "Page"):
        for loc in _children(page, "FileLoc"):
            try:
                ours = pkg.resolve(loc.text, _dir(path))
            except OfdFormatError:
                continue
            theirs = dl_annotation(loc.text, doc.root_loc, listed)
            # required: an issuer's annotation (a 注销 mark) DLOFDReader cannot open is not
            # shown, and an unsigned DocRoot respelled made it so (red team 9, r9-04)
            what = f"the annotation file {_text(loc)!r} of {path}"
            pkg.same_part(ours, theirs, what, DL, required=True)


def _collect_shown_parts(pkg: Package, doc: OfdDocument) -> None:
    """Walk Document.xml and what it names (bounded: each part is visited once)."""
    queue: list[tuple[str, str]] = []  # (path, kind)

    def missing(where: str, kind: str) -> None:
        doc.missing.append(where)
        if kind != "res":
            doc.missing_content.append(where)

    def add(loc: str | None, folder: str, kind: str = "") -> None:
        if not loc:
            return
        try:
            path = pkg.resolve(loc, folder)
        except OfdFormatError:
            missing(loc, kind)
            return
        if path in doc.shown_parts:
            return
        if not pkg.has(path):
            missing(path, kind)
            twin = pkg.twin(path)
            if twin is None:
                return
            doc.twins[path] = twin
            path = twin
            if path in doc.shown_parts:
                return
        doc.shown_parts.add(path)
        if kind:
            queue.append((path, kind))

    add(doc.root, "", "document")
    walked: list[tuple[str, Element]] = []
    while queue:
        path, kind = queue.pop()
        el = pkg.xml(path)
        _WALKERS[kind](el, _dir(path), add)
        if kind in ("document", "annots", "attachs"):
            doc.problems += foreign_namespaces(path, el)
        if kind in ("document", "page"):
            doc.problems += repeated_sections(path, el)
        if kind == "document" and local_name(el) != "Document":  # a seal's document count (a11)
            doc.problems.append(f"{path}: its root element is <{local_name(el)}>, not <Document>")
        if kind in _DECLARING:
            walked.append((path, el))
    doc.problems += _duplicate_ids(walked)


_DECLARING = {"document", "res", "attachs"}
"""The parts that declare what others name by ID: Document.xml (its pages and template
pages), the resource files (fonts, colour spaces, draw parameters, multimedia, composite
units) and the Attachments list."""
_LOOKUP = {"Page": "page", "TemplatePage": "template", "Attachment": "attachment"}
"""What each lookup searches (a page's PageRef, a TemplateID, an AttachID; every other
declaration is a resource, one namespace for a ResourceID across all resource files)."""
_RES_GROUPS = {"Fonts", "ColorSpaces", "DrawParams", "MultiMedias", "CompositeGraphicUnits"}


def _declared(el: Element) -> Iterator[tuple[str, str]]:
    """(element name, ID) of each declaration in one of those parts, the ID as the lookups
    compare it (:func:`signing.ofd.package.ref_id`: "05", "+5" and "５" are 5)."""
    name = local_name(el)
    if name == "Document":
        common, pages = _child(el, "CommonData"), _child(el, "Pages")
        found = list(_children(common, "TemplatePage")) if common is not None else []
        found += list(_children(pages, "Page")) if pages is not None else []
    elif name == "Res":
        found = [d for group in el if local_name(group) in _RES_GROUPS for d in group]
    else:
        found = list(_children(el, "Attachment"))
    for decl in found:
        yield local_name(decl), ref_id(decl.get("ID"))


_SECTIONS = {
    "Document": (
        "CommonData",
        "Pages",
        "Outlines",
        "Permissions",
        "Actions",
        "VPreferences",
        "Bookmarks",
        "Attachments",
        "Annotations",
        "CustomTags",
        "Extensions",
    ),
    "CommonData": ("MaxUnitID", "PageArea", "DefaultCS"),
    "Page": ("Area", "Content", "Actions"),
    "PageArea": ("PhysicalBox", "ApplicationBox", "ContentBox", "BleedBox"),
}
"""The sections of Document.xml, of its CommonData, of a page and of a page area that
GB/T 33190 (CT_Document, CT_CommonData, CT_Page, CT_PageArea) allows at most once."""


def foreign_namespaces(path: str, el: Element) -> list[str]:
    """Document.xml and the Annotations and Attachments lists: the root element and its
    children in one OFD namespace (GB/T 33190's, or none), as every real file has them. A
    reader that reads OFD elements by namespace (ofdrw's strict mode) finds nothing in
    another: a Document.xml root in ``urn:x-evil`` made the copy write its 加注, lists and
    sections there (red team 10, r10-07, r10-07c)."""
    spaces = {_namespace(node.tag) for node in (el, *el)}
    if len(spaces) == 1 and spaces <= OFD_NAMESPACES:
        return []
    return [
        f"{path}: its elements are in the namespaces {', '.join(sorted(repr(s) for s in spaces))}"
        ", not in one OFD namespace: readers that read OFD elements by namespace skip them"
    ]


def _namespace(tag: object) -> str:
    text = tag if isinstance(tag, str) else ""
    return text[1:].split("}", 1)[0] if text.startswith("{") else ""


def repeated_sections(path: str, el: Element) -> list[str]:
    """Document.xml has each of its sections at most once, CommonData its page area and
    default colour space, a page (or template) its Area and Content, a page area each of
    its boxes (GB/T 33190 7.5, 7.7): readers differ on which of two they read (the first,
    the last, all of them), so a second is refused (red team 4, f5: a template ID split
    across two CommonData; red team 10, r10-05: the copy's 加注 entered in a second
    Annotations list, which ofdrw never reads; r10-02's class: two PhysicalBoxes or page
    Areas size the page two ways)."""
    where: list[tuple[Element, str, str]] = []
    if local_name(el) == "Page":
        where.append((el, "Page", ""))
        where += [(area, "PageArea", " in Area") for area in _children(el, "Area")]
    else:
        where.append((el, "Document", ""))
        for common in _children(el, "CommonData"):
            where.append((common, "CommonData", " in CommonData"))
            where += [(area, "PageArea", " in PageArea") for area in _children(common, "PageArea")]
    return [
        f"{path} has {count} {name} elements{inside}: readers differ on which one they read"
        for section, kind, inside in where
        for name in _SECTIONS[kind]
        if (count := sum(1 for _ in _children(section, name))) > 1
    ]


def _duplicate_ids(walked: list[tuple[str, Element]]) -> list[str]:
    """One rule for every ID a document declares: readers disagree on which of two
    declarations of one ID wins (the first, the last), so an ID declared twice among what
    one lookup searches (:data:`_LOOKUP`) is refused."""
    seen: dict[tuple[str, str], tuple[str, str]] = {}
    problems: list[str] = []
    for path, el in sorted(walked, key=lambda item: item[0]):
        for name, decl_id in _declared(el):
            key = (_LOOKUP.get(name, "resource"), decl_id)
            if key in seen:
                first = seen[key]
                problems.append(
                    f"ID {decl_id!r} is declared twice ({first[1]} in {first[0]}, {name} in "
                    f"{path}): readers differ on which one they use"
                )
            else:
                seen[key] = (path, name)
    return problems


def _walk_document(el: Element, folder: str, add: _Add) -> None:
    common = _child(el, "CommonData")
    if common is not None:
        for name in ("PublicRes", "DocumentRes"):
            for res in _children(common, name):
                add(_text(res), folder, "res")
        for tpl in _children(common, "TemplatePage"):
            add(tpl.get("BaseLoc"), folder, "page")
    pages = _child(el, "Pages")
    for page in _children(pages, "Page") if pages is not None else ():
        add(page.get("BaseLoc"), folder, "page")
    for name, kind in (
        ("Annotations", "annots"),
        ("Attachments", "attachs"),
        ("CustomTags", "tags"),
    ):
        add(_text(_child(el, name)), folder, kind)
    for name in ("Outlines", "Extensions", "Permissions", "Actions", "VPreferences"):
        add(_text(_child(el, name)), folder)


def _walk_page(el: Element, folder: str, add: _Add) -> None:
    for res in _children(el, "PageRes"):
        add(_text(res), folder, "res")


def res_file_locations(el: Element) -> Iterator[str]:
    """Every file location a resource file (GB/T 33190 Res.xsd) names, to be resolved under
    its ``BaseLoc``: a font's ``FontFile``, a multimedia's ``MediaFile`` and a colour
    space's ``Profile`` (its ICC profile). The other resources (``DrawParam``,
    ``CompositeGraphicUnit`` with its ``Thumbnail`` and ``Substitution``, patterns and
    shadings) name no file, only resource IDs and inline content."""
    for node in el.iter():
        name = local_name(node)
        if name in ("MediaFile", "FontFile"):
            loc = _text(node)
        elif name == "ColorSpace":
            loc = java_trim(node.get("Profile") or "") or None
        else:
            continue
        if loc:
            yield loc


def _walk_res(el: Element, folder: str, add: _Add) -> None:
    res_base = el.get("BaseLoc") or ""
    media_folder = _join(folder, res_base)
    for loc in res_file_locations(el):
        add(loc, media_folder)


def _walk_list(file_tag: str, kind: str = "") -> _Walker:
    def walk(el: Element, folder: str, add: _Add) -> None:
        for node in el.iter():
            if local_name(node) == file_tag:
                add(_text(node), folder, kind)
            elif local_name(node) == "SchemaLoc":
                add(_text(node), folder)

    return walk


def _join(folder: str, loc: str) -> str:
    loc = java_trim(loc)
    if loc.startswith("/"):
        return loc[1:].rstrip("/")
    return "/".join(p for p in (folder, loc.rstrip("/")) if p)


_WALKERS: dict[str, _Walker] = {
    "document": _walk_document,
    "page": _walk_page,
    "res": _walk_res,
    "annots": _walk_list("FileLoc"),
    "attachs": _walk_list("FileLoc"),
    "tags": _walk_list("FileLoc"),
}
