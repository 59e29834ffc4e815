"""What a certified copy may add to parts an earlier seal covers, and how the earlier bytes
are rebuilt to check that nothing else changed (see :mod:`signing.ofd.copy`).

Three parts, each only by appended elements that name parts the earlier seal did not
cover (new parts):

- ``Document.xml``: an ``<Annotations>`` or ``<Attachments>`` element (when it had none:
  a Document.xml with two of either is refused);
- the document's Annotations list: ``<Page PageID><FileLoc>`` entries, one run appended
  before its closing tag;
- the document's Attachments list: ``<Attachment><FileLoc>`` entries, likewise.

:func:`strip_additions` removes such elements (one choice, one digest) and tells whether
what is left has the digest the earlier seal recorded. The verifier accepts that only
under the vault's pinned copy seal (:mod:`signing.ofd.verifier`).
"""

from __future__ import annotations

import bisect
import re
import xml.parsers.expat
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from signing.ofd.package import OfdFormatError, Package, java_trim, local_name
from signing.ofd.structure import OFD_NAMESPACES

__all__ = [
    "Additions",
    "in_spans",
    "list_parts",
    "markup_spans",
    "root_children",
    "shadowed_attachments",
    "strip_additions",
    "unnamed_namespace",
]

_MAX_ADDED = 64
_CLOSE = re.compile(rb"</(?:[\w.-]+:)?(?:Annotations|Attachments)\s*>\s*$")
_PATTERNS = {
    "document": re.compile(
        rb"<(?P<p>[\w.-]+:)?(?P<name>Annotations|Attachments)>(?P<loc>[^<]*)</(?P=p)?(?P=name)>"
    ),
    "Annotations": re.compile(
        rb"<(?P<p>[\w.-]+:)?Page\s+PageID=\"(?P<page>[^\"<>]*)\"\s*>\s*<(?P=p)?FileLoc>"
        rb"(?P<loc>[^<]*)</(?P=p)?FileLoc>\s*</(?P=p)?Page>"
    ),
    "Attachments": re.compile(
        rb"<(?P<p>[\w.-]+:)?Attachment\b[^<>]*>\s*<(?P=p)?FileLoc>(?P<loc>[^<]*)"
        rb"</(?P=p)?FileLoc>\s*</(?P=p)?Attachment>"
    ),
}


@dataclass
class Additions:
    """The appended elements found in one part, and the part without them."""

    earlier: bytes
    names: list[str] = field(default_factory=list)
    """What was added, in words (``Annotations``, ``an annotation of page 1``, ...)."""
    annotation_lists: list[str] = field(default_factory=list)
    """Annotations lists the part now names (Document.xml's added ``<Annotations>``)."""
    annotations: list[tuple[str, str]] = field(default_factory=list)
    """(page ID, annotation part) entries added to an Annotations list."""
    attachment_lists: list[str] = field(default_factory=list)
    """Attachments lists the part now names (Document.xml's added ``<Attachments>``)."""
    attachments: list[str] = field(default_factory=list)
    """Attachment files added to an Attachments list."""


def list_parts(pkg: Package, doc_root: str) -> dict[str, str]:
    """The document's Annotations and Attachments lists: package path -> kind. Of two of a
    kind, the first (what readers read: ofdrw's ``Document.getAnnotations``; a Document.xml
    with two is refused, :func:`signing.ofd.model.repeated_sections`; red team 10, r10-05)."""
    folder = doc_root.rsplit("/", 1)[0] if "/" in doc_root else ""
    out: dict[str, str] = {}
    seen: set[str] = set()
    for el in pkg.xml(doc_root):
        kind = local_name(el)
        if kind in ("Annotations", "Attachments") and kind not in seen:
            seen.add(kind)  # an empty first one too: a reader reads no later one
            if el.text:
                out[pkg.resolve(el.text, folder)] = kind
    return out


def strip_additions(
    pkg: Package,
    path: str,
    kind: str,
    current: bytes,
    covered: set[str | None],
    accept: Callable[[bytes], bool],
) -> Additions | None:
    """``current`` (the bytes of ``path``, a ``kind`` part: ``document``, ``Annotations``
    or ``Attachments``) without the elements a copy appends, such that ``accept`` (the
    earlier seal's digest) takes what is left; None when that is not so. One choice is
    tried (one digest): in a list, the run of entries naming parts outside ``covered`` that
    ends at the list's closing tag; in Document.xml, its ``<Annotations>`` and
    ``<Attachments>`` naming such parts, where it has at most one of each. A location or
    page ID with a reference (``&``) is refused: what is checked must be what an XML reader
    opens. More than 64 added elements are not considered."""
    folder = path.rsplit("/", 1)[0] if "/" in path else ""
    found: list[tuple[re.Match[bytes], str]] = []
    hidden = markup_spans(current)
    try:  # Document.xml's sections are its root's children (red team 10, r10-10)
        sections = {at for at, _ in root_children(current)[1]} if kind == "document" else None
    except OfdFormatError:
        return None
    for match in _PATTERNS[kind].finditer(current):
        if in_spans(match.start(), hidden):
            continue  # in a comment: no element to a reader (red team 9, r9-09)
        if sections is not None and match.start() not in sections:
            continue  # inside another element: no section to a reader
        page = match.group("page") if kind == "Annotations" else b""
        if b"&" in match.group("loc") + page:
            return None
        try:
            target = pkg.resolve(match.group("loc").decode("utf-8"), folder)
        except (OfdFormatError, UnicodeDecodeError):
            return None
        if target not in covered:
            found.append((match, target))
    if kind == "document":
        if not _one_of_each(pkg, path):
            return None
        chosen = found
    else:
        chosen = _trailing_run(current, found)
    if not chosen or len(chosen) > _MAX_ADDED:
        return None
    earlier = _without(current, [m.span() for m, _ in chosen])
    return _describe(kind, chosen, earlier) if accept(earlier) else None


def shadowed_attachments(pkg: Package, listed: str, added: set[str]) -> list[str]:
    """The names of the attachments of the Attachments list ``listed`` that name one of
    the files ``added`` while an earlier entry naming another file has the same name
    (white space trimmed): a reader that looks an attachment up by name takes the first
    (ofdrw's ``OFDReader.getAttachment``) and hands out that other file (red team 9,
    r9-06's class through a second reader: an issuer's own ``evault-copy.json`` listed
    before the copy's). Raises :class:`OfdFormatError` for a location that cannot be
    resolved."""
    folder = listed.rsplit("/", 1)[0] if "/" in listed else ""
    first: dict[str, str | None] = {}
    shadowed: list[str] = []
    for el in pkg.xml(listed):
        if local_name(el) != "Attachment":
            continue
        name = java_trim(el.get("Name") or "")
        loc = next((java_trim(c.text or "") for c in el if local_name(c) == "FileLoc"), "")
        target = pkg.resolve(loc, folder) if loc else None
        if name in first and target in added and first[name] != target:
            shadowed.append(name)
        first.setdefault(name, target)
    return shadowed


_HIDDEN = re.compile(rb"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<\?.*?\?>", re.S)


def markup_spans(data: bytes) -> list[tuple[int, int]]:
    """Where the comments, CDATA sections and processing instructions of an XML part lie:
    what looks like an element there is none to an XML reader. A copy's added element
    placed in an issuer's comment was shown by no reader and passed (red team 9, r9-09)."""
    return [m.span() for m in _HIDDEN.finditer(data)]


def in_spans(at: int, spans: Sequence[tuple[int, int]]) -> bool:
    """Whether offset ``at`` lies in one of ``spans`` (sorted, not overlapping: what
    :func:`markup_spans` gives). A bisection: it is asked once per match of a part, and a
    scan of every span made a part of many comments quadratic (red team 10, r10-04: 40,000
    comments, 97 s of the copy maker's CPU)."""
    index = bisect.bisect_right(spans, at, key=_start) - 1
    return index >= 0 and at < spans[index][1]


def _start(span: tuple[int, int]) -> int:
    return span[0]


def root_children(data: bytes) -> tuple[str, list[tuple[int, str]]]:
    """The qualified name of the root element of the XML part ``data`` and the byte offset
    and qualified name of each of its children, as an XML parser reads them (not in a
    comment, not deeper: red team 10, r10-10, an ``<Extensions/>`` in CommonData drew the
    copy's sections into it, where no reader looks). Raises :class:`OfdFormatError` for a
    part that is not well-formed or has a DTD (parts the package read have none)."""
    parser = xml.parsers.expat.ParserCreate()
    names: list[str] = []
    children: list[tuple[int, str]] = []
    depth = 0

    def start(name: str, _attrs: object) -> None:
        nonlocal depth
        if depth == 0:
            names.append(name)
        elif depth == 1:
            children.append((parser.CurrentByteIndex, name))
        depth += 1

    def end(_name: str) -> None:
        nonlocal depth
        depth -= 1

    def doctype(*_args: object) -> None:
        raise OfdFormatError("a DTD")

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.StartDoctypeDeclHandler = doctype
    try:
        parser.Parse(data, True)
    except xml.parsers.expat.ExpatError as exc:
        raise OfdFormatError(f"not well-formed XML: {exc}") from None
    return names[0], children


_NAMED = OFD_NAMESPACES - {""}
"""The namespaces every reader reads OFD elements in: ofdrw's strict mode reads only those
starting with ``http://www.ofdspec.org``, an element in none is no OFD element to it."""


def unnamed_namespace(pkg: Package, path: str, *, whole: bool) -> str | None:
    """Why what a certified copy adds in the XML part ``path`` is not read by a reader that
    reads OFD elements by namespace: the root element and its children (``whole``: every
    element, for a part the copy adds) not all in one named OFD namespace. A part in one
    namespace throughout passes :func:`signing.ofd.model.foreign_namespaces` even in
    none, where ofdrw's strict mode reads nothing: an Annotations list in no namespace
    beside an OFD Document.xml took the 加注's entry, and the copy's own annotation part in
    ``urn:x-evil`` (or in none) was accepted (red team 10, r10-07's class)."""
    root = pkg.xml(path)
    spaces = {_namespace(node.tag) for node in (root.iter() if whole else (root, *root))}
    if len(spaces) == 1 and spaces <= _NAMED:
        return None
    return (
        f"{path}: what a certified copy adds there is in the namespaces "
        f"{', '.join(sorted(repr(s) for s in spaces))}, not in one named OFD namespace: "
        "readers that read OFD elements by namespace (ofdrw's strict mode) skip it"
    )


def _namespace(tag: object) -> str:
    text = tag if isinstance(tag, str) else ""
    return text[1:].split("}", 1)[0] if text.startswith("{") else ""


def _one_of_each(pkg: Package, path: str) -> bool:
    """Whether Document.xml has at most one ``<Annotations>`` and one ``<Attachments>``
    (the schema allows one; readers take the first, which an added one could shadow)."""
    names = [local_name(el) for el in pkg.xml(path)]
    return names.count("Annotations") <= 1 and names.count("Attachments") <= 1


def _trailing_run(
    current: bytes, found: list[tuple[re.Match[bytes], str]]
) -> list[tuple[re.Match[bytes], str]]:
    """The entries of ``found`` that follow each other (whitespace between) up to the
    list's closing tag: what a copy appends."""
    close = _CLOSE.search(current)
    if close is None:
        return []
    run: list[tuple[re.Match[bytes], str]] = []
    at = close.start()
    for match, target in reversed(found):
        if current[match.end() : at].strip():
            break
        run.append((match, target))
        at = match.start()
    return run[::-1]


def _without(data: bytes, cuts: list[tuple[int, int]]) -> bytes:
    pieces, at = [], 0
    for start, end in cuts:
        pieces.append(data[at:start])
        at = end
    pieces.append(data[at:])
    return b"".join(pieces)


def _describe(kind: str, chosen: list[tuple[re.Match[bytes], str]], earlier: bytes) -> Additions:
    out = Additions(earlier=earlier)
    for match, target in chosen:
        if kind == "document":
            name = match.group("name").decode()
            out.names.append(name)
            if name == "Annotations":
                out.annotation_lists.append(target)
            else:
                out.attachment_lists.append(target)
        elif kind == "Annotations":
            page = match.group("page").decode("utf-8", "replace")
            out.names.append(f"an annotation of page {page}")
            out.annotations.append((page, target))
        else:
            out.names.append(f"the attachment {target.rsplit('/', 1)[-1]}")
            out.attachments.append(target)
    return out
