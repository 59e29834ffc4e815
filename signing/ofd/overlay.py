"""Whether annotations added after a seal hide what it sealed.

A later seal may add a certified copy's 加注 as page annotations (see
:mod:`signing.ofd.verifier`, ``_annotated``). No OFD renderer runs here, so what is checked
is geometric: every added annotation's appearance box (finite, of positive size) must stay
clear of every text object of its page (and of the page's templates), of every seal's stamp
and of every annotation that was there before (the issuer's signed ones; an earlier 加注
counts as a stamp), and every object of the appearance must draw inside that box
(:mod:`signing.ofd.drawn`). Text is what an overlay would forge or hide; the page's images
and paths are not checked (licenses commonly have a full-page background image, which any
加注 lies on).
"""

from __future__ import annotations

from collections.abc import Iterator
from xml.etree.ElementTree import Element

from signing.ofd.drawn import finite_box, outside_appearance
from signing.ofd.numbers import decimals
from signing.ofd.package import OfdFormatError, Package, local_name, ref_id

__all__ = [
    "Box",
    "annotation_boxes",
    "annotation_files",
    "clear_of_text_and_stamps",
    "overlay_problem",
    "page_box",
    "page_files",
    "stamps_of",
]

Box = tuple[float, float, float, float]
"""x, y, width, height in mm (y down), as an OFD ``Boundary``."""

_MAX_BOXES = 20000
_MAX_ENTRIES = 1000
"""Page entries an Annotations list may have for its annotations to be checked."""


def page_box(text: str | None) -> Box | None:
    """A box of the page (text, a stamp, an existing annotation), its size made positive
    (a renderer normalises it); None when not four finite numbers."""
    values = decimals(text, 4)
    if values is None:
        return None
    x, y, w, h = values
    return (min(x, x + w), min(y, y + h), abs(w), abs(h))


_ANYWHERE: Box = (-1e9, -1e9, 2e9, 2e9)
"""Where a box written but unreadable (:func:`page_box`) may lie: anywhere on the page."""


def _placed(text: str | None) -> Box | None:
    """A text, stamp or annotation box that an added annotation must stay clear of: None
    when not written, :data:`_ANYWHERE` when written but unreadable (a reader may read it,
    e.g. ofdrw's fallback reads ``2０0`` as 20: red team 6, a02)."""
    if text is None:
        return None
    box = page_box(text)
    return _ANYWHERE if box is None else box


def _overlap(a: Box, b: Box) -> bool:
    return (
        min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]) > 0.01
        and min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]) > 0.01
    )


def _dir(path: str) -> str:
    return path.rsplit("/", 1)[0] if "/" in path else ""


def _children(el: Element, name: str) -> Iterator[Element]:
    return (c for c in el if local_name(c) == name)


def page_files(pkg: Package, doc_root: str) -> dict[str, list[str]]:
    """Each page's ID -> its content part and those of the templates it uses; a missing
    one as the part that becomes it once unpacked, if any (:meth:`.Package.locate`: what a
    reader on a case-insensitive file system draws). Computed once per document (shared:
    callers must not change it)."""
    return pkg.once(("page_files", doc_root), lambda: _page_files(pkg, doc_root))


def _page_files(pkg: Package, doc_root: str) -> dict[str, list[str]]:
    root = pkg.xml(doc_root)
    folder = _dir(doc_root)
    templates: dict[str, str] = {}
    for common in _children(root, "CommonData"):
        for tpl in _children(common, "TemplatePage"):
            if tpl.get("ID") and tpl.get("BaseLoc"):
                templates[ref_id(tpl.get("ID"))] = _located(pkg, tpl.get("BaseLoc"), folder)
    pages: dict[str, list[str]] = {}
    for group in _children(root, "Pages"):
        for page in _children(group, "Page"):
            path = _located(pkg, page.get("BaseLoc"), folder)
            files = [path]
            if pkg.has(path):
                for tpl in _children(pkg.xml(path), "Template"):
                    used = ref_id(tpl.get("TemplateID"))
                    files += [templates[used]] if used in templates else []
            page_id = ref_id(page.get("ID"))
            if page_id in pages:
                raise OfdFormatError(f"{doc_root} has two pages with the ID {page_id}")
            pages[page_id] = files
    return pages


def _located(pkg: Package, loc: str | None, folder: str) -> str:
    path = pkg.resolve(loc, folder)
    return pkg.locate(path) or path


def _text_boxes(pkg: Package, paths: list[str]) -> list[Box]:
    boxes = []
    for path in paths:
        if not pkg.has(path):
            continue
        for el in pkg.xml(path).iter():
            if local_name(el) == "TextObject" and (box := _placed(el.get("Boundary"))) is not None:
                boxes.append(box)
                if len(boxes) > _MAX_BOXES:
                    raise OfdFormatError(f"more than {_MAX_BOXES} text objects to check")
    return boxes


def annotation_files(pkg: Package, annotations: str) -> list[tuple[str, str]]:
    """(page ID, annotation part) of every page entry of an Annotations list (at most
    1000 entries, else :class:`OfdFormatError`)."""
    folder = _dir(annotations)
    pages = list(_children(pkg.xml(annotations), "Page"))
    if len(pages) > _MAX_ENTRIES:
        raise OfdFormatError(f"{annotations} lists more than {_MAX_ENTRIES} pages' annotations")
    return [
        (ref_id(page.get("PageID")), pkg.resolve(loc.text, folder))
        for page in pages
        for loc in _children(page, "FileLoc")
    ]


def annotation_boxes(pkg: Package, entries: list[tuple[str, str]]) -> list[tuple[str, Box]]:
    """(page ID, appearance box) of the annotations of ``entries`` that have one (what an
    annotation added later must stay clear of)."""
    out = []
    for page_id, path in dict.fromkeys(entries):
        if not pkg.has(path):
            continue
        for annot in pkg.xml(path).iter():
            if local_name(annot) == "Annot":
                shown = next(_children(annot, "Appearance"), None)
                box = _placed(shown.get("Boundary")) if shown is not None else None
                if box is not None:
                    out.append((page_id, box))
    return out


def _added(pkg: Package, path: str) -> Iterator[tuple[Box | None, str | None]]:
    """Each annotation of an added part: its appearance box (finite, positive) and why its
    objects may not be accepted (None: they draw inside it)."""
    for annot in pkg.xml(path).iter():
        if local_name(annot) == "Annot":
            shown = next(_children(annot, "Appearance"), None)
            box = finite_box(shown.get("Boundary")) if shown is not None else None
            if shown is None or box is None:
                yield None, None
                continue
            yield box, outside_appearance(shown, (box[2], box[3]))


def overlay_problem(
    pkg: Package,
    doc_root: str,
    added: list[tuple[str, str]],
    stamps: list[tuple[str, Box]],
    existing: list[tuple[str, Box]] | None = None,
) -> str | None:
    """Why the annotations ``added`` ((page ID, annotation part)) may not be accepted
    after a seal: one covers text, one of ``stamps`` ((page ID, box): the seals' stamps)
    or of ``existing`` (the annotations there before), or draws outside its box; None when
    all lie clear. Each part is read once. Raises :class:`OfdFormatError` on an unreadable
    part."""
    if len(added) > _MAX_ENTRIES:
        raise OfdFormatError(f"more than {_MAX_ENTRIES} annotation entries were added")
    pages = page_files(pkg, doc_root)
    text: dict[str, list[Box]] = {}
    for page_id, path in dict.fromkeys(added):
        if page_id not in pages:
            return f"an added annotation is on page {page_id!r}, which the document does not have"
        for box, drawn in _added(pkg, path):
            if box is None:
                return (
                    f"an added annotation on page {page_id} has no appearance box of "
                    "finite, positive size"
                )
            if page_id not in text:
                text[page_id] = _text_boxes(pkg, pages[page_id])
            problem = _covers(box, page_id, text[page_id], stamps)
            if problem is not None:
                return problem
            if any(p == page_id and _overlap(box, other) for p, other in existing or []):
                return f"an added annotation on page {page_id} covers an earlier annotation"
            if drawn is not None:
                return f"an added annotation on page {page_id}: {drawn}"
    return None


def _covers(box: Box, page_id: str, text: list[Box], stamps: list[tuple[str, Box]]) -> str | None:
    if any(_overlap(box, other) for other in text):
        return f"an added annotation on page {page_id} covers the page's text"
    if any(p == page_id and _overlap(box, other) for p, other in stamps):
        return f"an added annotation on page {page_id} covers a seal's stamp"
    return None


def clear_of_text_and_stamps(
    pkg: Package, doc_root: str, page_id: str, box: Box, stamps: list[tuple[str, Box]]
) -> bool:
    """Whether ``box`` on page ``page_id`` stays clear of its text and of ``stamps`` (what
    :func:`overlay_problem` will require of an annotation there)."""
    files = page_files(pkg, doc_root).get(page_id, [])
    return _covers(box, page_id, _text_boxes(pkg, files), stamps) is None


def stamps_of(pkg: Package, signature_xml: str) -> list[tuple[str, Box]]:
    """The stamps of one Signature.xml: (page ID, boundary) of each StampAnnot."""
    out = []
    for el in pkg.xml(signature_xml).iter():
        if local_name(el) == "StampAnnot" and (box := _placed(el.get("Boundary"))) is not None:
            out.append((ref_id(el.get("PageRef")), box))
    return out
