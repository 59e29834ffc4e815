"""Whether annotations added after a seal hide what it sealed.

A later seal may add a certified copy's 加注 as page annotations (see
:mod:`signing.ofd.verifier`, ``_annotated``). No OFD renderer runs here, so what is checked
is geometric: every added annotation's appearance box must stay clear of every text object
of its page (and of the page's templates) and of the earlier seal's own stamp. Text is what
an overlay would forge or hide; images and paths are not checked (licenses commonly have a
full-page background image, which any 加注 lies on).
"""

from __future__ import annotations

from collections.abc import Iterator
from xml.etree.ElementTree import Element

from signing.ofd.package import OfdFormatError, Package, local_name

__all__ = [
    "Box",
    "annotation_files",
    "clear_of_text_and_stamps",
    "overlay_problem",
    "stamps_of",
]

Box = tuple[float, float, float, float]
"""x, y, width, height in mm (y down), as an OFD ``Boundary``."""

_MAX_BOXES = 20000


def _box(text: str | None) -> Box | None:
    try:
        values = [float(v) for v in (text or "").split()]
    except ValueError:
        return None
    return (values[0], values[1], values[2], values[3]) if len(values) == 4 else None


def _overlap(a: Box, b: Box) -> bool:
    return (
        min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]) > 0.01
        and min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]) > 0.01
    )


def _dir(path: str) -> str:
    return path.rsplit("/", 1)[0] if "/" in path else ""


def _children(el: Element, name: str) -> Iterator[Element]:
    return (c for c in el if local_name(c) == name)


def _page_files(pkg: Package, doc_root: str) -> dict[str, list[str]]:
    """Each page's ID -> its content part and those of the templates it uses."""
    root = pkg.xml(doc_root)
    folder = _dir(doc_root)
    templates: dict[str, str] = {}
    for common in _children(root, "CommonData"):
        for tpl in _children(common, "TemplatePage"):
            if tpl.get("ID") and tpl.get("BaseLoc"):
                templates[str(tpl.get("ID"))] = pkg.resolve(tpl.get("BaseLoc"), folder)
    pages: dict[str, list[str]] = {}
    for group in _children(root, "Pages"):
        for page in _children(group, "Page"):
            path = pkg.resolve(page.get("BaseLoc"), folder)
            files = [path]
            if pkg.has(path):
                for tpl in _children(pkg.xml(path), "Template"):
                    files += [templates[t] for t in [tpl.get("TemplateID")] if t in templates]
            pages[str(page.get("ID"))] = files
    return pages


def _text_boxes(pkg: Package, paths: list[str]) -> list[Box]:
    boxes = []
    for path in paths:
        if not pkg.has(path):
            continue
        for el in pkg.xml(path).iter():
            if local_name(el) == "TextObject" and (box := _box(el.get("Boundary"))) is not None:
                boxes.append(box)
                if len(boxes) > _MAX_BOXES:
                    raise OfdFormatError(f"more than {_MAX_BOXES} text objects to check")
    return boxes


def annotation_files(pkg: Package, annotations: str) -> list[tuple[str, str]]:
    """(page ID, annotation part) of every page entry of an Annotations list."""
    folder = _dir(annotations)
    return [
        (str(page.get("PageID")), pkg.resolve(loc.text, folder))
        for page in _children(pkg.xml(annotations), "Page")
        for loc in _children(page, "FileLoc")
    ]


def _boxes(pkg: Package, path: str) -> Iterator[Box | None]:
    for annot in pkg.xml(path).iter():
        if local_name(annot) == "Annot":
            shown = next(_children(annot, "Appearance"), None)
            yield _box(shown.get("Boundary")) if shown is not None else None


def overlay_problem(
    pkg: Package, doc_root: str, added: list[tuple[str, str]], stamps: list[tuple[str, Box]]
) -> str | None:
    """Why the annotations ``added`` ((page ID, annotation part)) may not be accepted
    after a seal whose stamps are ``stamps`` ((page ID, box)): one covers text or a stamp;
    None when all lie clear. Raises :class:`OfdFormatError` on an unreadable part."""
    pages = _page_files(pkg, doc_root)
    text: dict[str, list[Box]] = {}
    for page_id, path in added:
        if page_id not in pages:
            return f"an added annotation is on page {page_id!r}, which the document does not have"
        for box in _boxes(pkg, path):
            if box is None:
                return f"an added annotation on page {page_id} has no appearance box"
            if page_id not in text:
                text[page_id] = _text_boxes(pkg, pages[page_id])
            problem = _covers(box, page_id, text[page_id], stamps)
            if problem is not None:
                return problem
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
    files = _page_files(pkg, doc_root).get(page_id, [])
    return _covers(box, page_id, _text_boxes(pkg, files), stamps) is None


def stamps_of(pkg: Package, signature_xml: str) -> list[tuple[str, Box]]:
    """The stamps of one Signature.xml: (page ID, boundary) of each StampAnnot."""
    out = []
    for el in pkg.xml(signature_xml).iter():
        if local_name(el) == "StampAnnot" and (box := _box(el.get("Boundary"))) is not None:
            out.append((str(el.get("PageRef")), box))
    return out
