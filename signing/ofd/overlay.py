"""Whether annotations added after a seal hide what it sealed.

A later seal may add a certified copy's 加注 as page annotations (see
:mod:`signing.ofd.verifier`, ``_annotated``). No OFD renderer runs here, so what is checked
is geometric: every added annotation's appearance box (finite, of positive size) must lie
on the page (its effective area: the page's own ``Area``, else its templates', else the
document's ``PageArea``, as ofdrw reads it) and stay clear of everything the page and its
templates draw (text where its glyphs go, not only its ``Boundary``; paths, which may be
text drawn as outlines; images; composite objects, which cover the whole page: see
:func:`signing.ofd.drawn.object_box`), of every seal's stamp and of every annotation that
was there before (the issuer's signed ones; an earlier 加注 counts as a stamp), and every
object of the appearance must draw inside that box (:mod:`signing.ofd.drawn`). One object
is counted otherwise: a page background, an image of which every reader shows the whole
page (its square through its CTM cut to its Boundary, without Clips: :func:`_background`),
which licenses commonly have; a 加注 may lie on it where what the picture shows is blank
paper (:mod:`.backdrop`: decoded there; on a full-page scan the words are in the picture).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import NamedTuple
from xml.etree.ElementTree import Element

from signing.ofd.backdrop import Backdrop, not_blank_under
from signing.ofd.drawn import (
    finite_box,
    ink_boxes,
    outside_appearance,
    placed_objects,
    shifted,
    surely_shown,
)
from signing.ofd.drawparams import stroke_rules
from signing.ofd.fonts import font_reaches
from signing.ofd.numbers import decimals
from signing.ofd.package import DrawingBudget, OfdFormatError, Package, local_name, ref_id

__all__ = [
    "Box",
    "annotation_boxes",
    "annotation_files",
    "clear_of_content_and_stamps",
    "inside",
    "overlay_problem",
    "page_area",
    "page_box",
    "page_files",
    "stamps_of",
]

Box = tuple[float, float, float, float]
"""x, y, width, height in mm (y down), as an OFD ``Boundary``."""

_MAX_BOXES = 50000
A4: Box = (0.0, 0.0, 210.0, 297.0)
"""A page whose area nothing gives (ofdrw's default)."""
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


def _templates(pkg: Package, root: Element, folder: str) -> dict[str, str]:
    """The document's template pages: ID -> content part."""
    templates: dict[str, str] = {}
    for common in _children(root, "CommonData"):
        for tpl in _children(common, "TemplatePage"):
            if tpl.get("ID") and tpl.get("BaseLoc"):
                templates[ref_id(tpl.get("ID"))] = _located(pkg, tpl.get("BaseLoc"), folder)
    return templates


def _page_files(pkg: Package, doc_root: str) -> dict[str, list[str]]:
    root = pkg.xml(doc_root)
    folder = _dir(doc_root)
    templates = _templates(pkg, root, folder)
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
            # a template named twice draws the same ink: placed once (red team 9, r9-05:
            # one template named 200 times was placed 200 times for each copy)
            pages[page_id] = list(dict.fromkeys(files))
    return pages


def _located(pkg: Package, loc: str | None, folder: str) -> str:
    path = pkg.resolve(loc, folder)
    return pkg.locate(path) or path


def inside(a: Box, b: Box, slack: float = 0.01) -> bool:
    """Whether box ``a`` lies within box ``b`` (``slack`` mm each side)."""
    return (
        a[0] >= b[0] - slack
        and a[1] >= b[1] - slack
        and a[0] + a[2] <= b[0] + b[2] + slack
        and a[1] + a[3] <= b[1] + b[3] + slack
    )


class _Content(NamedTuple):
    boxes: list[Box]
    """Where the page's objects draw, its backgrounds aside."""
    backdrops: list[Backdrop]


def _content_boxes(pkg: Package, doc_root: str, paths: list[str], area: Box | None) -> _Content:
    """Where every object of the parts ``paths`` (a page and its templates) draws
    (:func:`.drawn.ink_boxes`, strokes as wide as the DrawParams of the document and of
    every one of those parts may make them: :mod:`.drawparams`; glyphs as far as the
    fonts they use reach: :mod:`.fonts`), and the page backgrounds (:func:`_background`)
    apart."""
    boxes: list[Box] = []
    backdrops: list[Backdrop] = []
    rules = stroke_rules(pkg, doc_root, paths)
    fonts = font_reaches(pkg, doc_root, paths)
    for path in paths:
        if not pkg.has(path):
            continue
        for el, offset, layers in placed_objects(pkg.xml(path)):
            if area is not None and (shown := _background(el, offset, area, pkg.drawing)):
                backdrops.append(Backdrop(shown, path, el, _origin(el, offset)))
                continue
            inks = ink_boxes(el, pkg.drawing, rules, layers, fonts)
            boxes += [shifted(box, offset) for box in inks]
            if len(boxes) > _MAX_BOXES:
                raise OfdFormatError(f"more than {_MAX_BOXES} page objects to check")
    return _Content(boxes, backdrops)


def _origin(el: Element, offset: tuple[float, float] | None) -> tuple[float, float]:
    box = finite_box(el.get("Boundary"))
    assert box is not None and offset is not None  # a background has both
    return (box[0] + offset[0], box[1] + offset[1])


def _background(
    el: Element, offset: tuple[float, float] | None, area: Box, work: DrawingBudget
) -> Box | None:
    """What every reader shows of ``el`` (page mm) when it is a page background: an image
    of which every reader shows the whole page ``area`` (:func:`.drawn.surely_shown`,
    placed where its containers move it); else None. Not an image whose square through
    its CTM spans the page but which its Boundary or Clips cut to a corner, nor one that
    cannot be placed (red team 8, r8-01). What it shows under an added annotation must be
    blank paper (:mod:`.backdrop`)."""
    shown = surely_shown(el, work) if local_name(el) == "ImageObject" else None
    if shown is None or offset is None:
        return None
    placed = shifted(shown, offset)
    return placed if inside(area, placed, 0.5) else None


def page_area(pkg: Package, doc_root: str, page_id: str) -> Box | None:
    """The page's area (x y w h in mm) where every reader shows and prints it: its
    ``PhysicalBox`` as ofdrw reads it (the page's own ``Area``, else that of its templates,
    a foreground one first, else the document's ``CommonData/PageArea``, else A4), cut to
    each ``ApplicationBox`` and ``BleedBox`` written for the page (:func:`_clips`); None
    when one that applies cannot be read (not four finite numbers of positive size) or
    they share no area."""
    physical, clips = pkg.once(("page_areas", doc_root), lambda: _page_areas(pkg, doc_root)).get(
        page_id, (_default_area(pkg, doc_root), _document_clips(pkg, doc_root))
    )
    if physical is None:
        return None
    dl_area = pkg.once(("dl_area", doc_root), functools.partial(_dl_area, pkg, doc_root))
    return _common([physical, (0.0, 0.0, physical[2], physical[3]), dl_area, *clips])


_CLIPS = ("ApplicationBox", "BleedBox")
"""The boxes of a page area (GB/T 33190 table 7, CT_PageArea) that cut what is shown: the
ApplicationBox (显示区域, "页面内容实际显示或打印输出的区域", inside the PhysicalBox) and
the BleedBox (出血区域, outside the PhysicalBox: one written inside it cuts the page for a
printer that honours it). Not the ContentBox (版心, where the body text goes): readers show
the page around it (red team 10, r10-02)."""


def _clips(el: Element | None) -> list[Box | None]:
    """The ApplicationBox and BleedBox of an ``Area``/``PageArea`` element, each as
    written (None when unreadable)."""
    if el is None:
        return []
    return [finite_box(box.text) for name in _CLIPS for box in _children(el, name)]


def _document_clips(pkg: Package, doc_root: str) -> list[Box | None]:
    """The ApplicationBox and BleedBox of the document's ``CommonData/PageArea``."""
    return [
        box
        for common in _children(pkg.xml(doc_root), "CommonData")
        for area in _children(common, "PageArea")
        for box in _clips(area)
    ]


def _dl_area(pkg: Package, doc_root: str) -> Box | None:
    """The page ofdrw's ``DLOFDReader`` gives a viewer for every page of the document
    (``getPageBox``): from (0, 0), the size of the document's ``CommonData/PageArea``
    (its ``PhysicalBox``, else ``ApplicationBox``, else ``ContentBox``), else 210 x 140 mm,
    whatever a page's own Area says (red team 8: an A4 page without a PageArea is 140 mm
    tall to it)."""
    for common in _children(pkg.xml(doc_root), "CommonData"):
        area = next(_children(common, "PageArea"), None)
        for name in ("PhysicalBox", "ApplicationBox", "ContentBox"):
            given = next(_children(area, name), None) if area is not None else None
            if given is not None:
                box = finite_box(given.text)
                return (0.0, 0.0, box[2], box[3]) if box is not None else None
        break
    return (0.0, 0.0, 210.0, 140.0)


def _common(boxes: list[Box | None]) -> Box | None:
    """The area every box of ``boxes`` holds (None when one is None or they share none):
    where readers that differ on which box applies all show the page. ofdrw draws a page
    of the box's width and height from (0, 0), whatever the origin written (red team 7,
    b06: PhysicalBox "-120 0 210 297" put the 加注 left of ofdrw's page)."""
    if not boxes or any(b is None for b in boxes):
        return None
    known = [b for b in boxes if b is not None]
    left, top = max(b[0] for b in known), max(b[1] for b in known)
    right = min(b[0] + b[2] for b in known)
    bottom = min(b[1] + b[3] for b in known)
    if right - left <= 0 or bottom - top <= 0:
        return None
    return (left, top, right - left, bottom - top)


def _area(el: Element | None) -> tuple[bool, Box | None]:
    """Whether there is an ``Area``/``PageArea`` element, and its PhysicalBox (None when
    unreadable)."""
    if el is None:
        return False, None
    physical = next(_children(el, "PhysicalBox"), None)
    return True, finite_box(physical.text if physical is not None else None)


def _default_area(pkg: Package, doc_root: str) -> Box | None:
    for common in _children(pkg.xml(doc_root), "CommonData"):
        given, box = _area(next(_children(common, "PageArea"), None))
        if given:
            return box
    return A4


def _page_areas(pkg: Package, doc_root: str) -> dict[str, tuple[Box | None, list[Box | None]]]:
    """Each page's PhysicalBox (:func:`page_area`) and the boxes that cut it: those of the
    page's own Area, of its templates' and of the document's PageArea, whichever gives the
    PhysicalBox (a reader may take the ApplicationBox of one level and the PhysicalBox of
    another: red team 10, r10-02)."""
    root = pkg.xml(doc_root)
    folder = _dir(doc_root)
    templates = _templates(pkg, root, folder)
    default = _default_area(pkg, doc_root)
    document_clips = _document_clips(pkg, doc_root)
    out: dict[str, tuple[Box | None, list[Box | None]]] = {}
    for group in _children(root, "Pages"):
        for page in _children(group, "Page"):
            path = _located(pkg, page.get("BaseLoc"), folder)
            if not pkg.has(path):
                continue
            content = pkg.xml(path)
            own = next(_children(content, "Area"), None)
            given, box = _area(own)
            tpl_areas = [
                next(_children(pkg.xml(part), "Area"), None)
                for tpl in _children(content, "Template")
                if (part := templates.get(ref_id(tpl.get("TemplateID")))) is not None
                and pkg.has(part)
            ]
            clips = _clips(own) + [c for a in tpl_areas for c in _clips(a)] + document_clips
            if not given:
                # Readers differ on which template's Area applies (ofdrw: the highest ZOrder
                # its TemplatePage declares; red team 7, b05): the page is where all agree.
                found = [_area(a) for a in tpl_areas]
                areas = [area for written, area in found if written]
                given, box = bool(areas), _common(areas)
            out[ref_id(page.get("ID"))] = (box if given else default, clips)
    return out


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


def annotation_boxes(
    pkg: Package, entries: list[tuple[str, str]], *, drawn_in: str | None = None
) -> list[tuple[str, Box]]:
    """(page ID, appearance box) of the annotations of ``entries`` that have one; with
    ``drawn_in`` (the root of the document they annotate), also where each object of the
    appearance draws (what an annotation added later must stay clear of: a reader does not
    clip them to the box), its stroke as wide as the document's DrawParams may make it."""
    out = []
    for page_id, path in dict.fromkeys(entries):
        if not pkg.has(path):
            continue
        # placed once per part, however many entries name it (red team 9, r9-07c/d: one
        # part of 30,000 TextCodes named by 200 entries took 12 s per check)
        key = ("annotation_boxes", path, str(drawn_in))
        boxes = pkg.once(key, functools.partial(_boxes_of, pkg, path, drawn_in))
        out += [(page_id, box) for box in boxes]
        if len(out) > _MAX_BOXES:
            raise OfdFormatError(f"more than {_MAX_BOXES} annotation objects")
    return out


def _boxes_of(pkg: Package, path: str, drawn_in: str | None) -> list[Box]:
    """The appearance boxes of one annotation part (and, ``drawn_in`` a document, where
    their objects draw): :func:`annotation_boxes` of one entry."""
    out: list[Box] = []
    rules = stroke_rules(pkg, drawn_in, ()) if drawn_in is not None else None
    fonts = font_reaches(pkg, drawn_in, ()) if drawn_in is not None else None
    for annot in pkg.xml(path).iter():
        if local_name(annot) == "Annot":
            shown = next(_children(annot, "Appearance"), None)
            box = _placed(shown.get("Boundary")) if shown is not None else None
            if box is not None:
                out.append(box)
            if rules is not None and shown is not None:
                out += [
                    shifted(ink, offset)
                    for el, offset, layers in placed_objects(shown)
                    for ink in ink_boxes(el, pkg.drawing, rules, layers, fonts)
                ]
                if len(out) > _MAX_BOXES:
                    raise OfdFormatError(f"more than {_MAX_BOXES} annotation objects")
    return out


def _added(pkg: Package, doc_root: str, path: str) -> Iterator[tuple[Box | None, str | None]]:
    """Each annotation of an added part: its appearance box (finite, positive) and why its
    objects may not be accepted (None: they draw inside it, strokes as wide as the
    document's DrawParams may make them)."""
    rules = stroke_rules(pkg, doc_root, ())
    fonts = font_reaches(pkg, doc_root, ())
    for annot in pkg.xml(path).iter():
        if local_name(annot) == "Annot":
            shown = next(_children(annot, "Appearance"), None)
            box = finite_box(shown.get("Boundary")) if shown is not None else None
            if shown is None or box is None:
                yield None, None
                continue
            yield box, outside_appearance(shown, (box[2], box[3]), pkg.drawing, rules, fonts)


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
    for page_id, path in dict.fromkeys(added):
        if page_id not in pages:
            return f"an added annotation is on page {page_id!r}, which the document does not have"
        area = page_area(pkg, doc_root, page_id)
        for box, drawn in _added(pkg, doc_root, path):
            if box is None:
                return (
                    f"an added annotation on page {page_id} has no appearance box of "
                    "finite, positive size"
                )
            if area is None or not inside(box, area):
                return (
                    f"an added annotation on page {page_id} lies outside the page (its area "
                    f"{'cannot be read' if area is None else _show(area)}): a reader does "
                    "not show it"
                )
            problem = _covers(pkg, doc_root, box, page_id, area, stamps)
            if problem is not None:
                return problem
            if any(p == page_id and _overlap(box, other) for p, other in existing or []):
                return f"an added annotation on page {page_id} covers an earlier annotation"
            if drawn is not None:
                return f"an added annotation on page {page_id}: {drawn}"
    return None


def _show(box: Box) -> str:
    return " ".join(f"{v:g}" for v in box)


def _covers(
    pkg: Package,
    doc_root: str,
    box: Box,
    page_id: str,
    area: Box,
    stamps: list[tuple[str, Box]],
) -> str | None:
    """Why ``box`` on page ``page_id`` (of ``area``) may not hold an added annotation: it
    covers what the page draws, a page background that is not blank paper there, or one
    of ``stamps``; None when it lies clear."""
    content = _page_content(pkg, doc_root, page_id, area)
    if any(_overlap(box, other) for other in content.boxes):
        return (
            f"an added annotation on page {page_id} covers the page's text or other content "
            "(what its text, paths, images or composite objects draw)"
        )
    for backdrop in content.backdrops:
        if not _overlap(box, backdrop.shown):
            continue
        why = not_blank_under(pkg, doc_root, backdrop, box)
        if why is not None:
            return (
                f"an added annotation on page {page_id} lies over what a page background "
                f"shows: {why}"
            )
    if any(p == page_id and _overlap(box, other) for p, other in stamps):
        return f"an added annotation on page {page_id} covers a seal's stamp"
    return None


def clear_of_content_and_stamps(
    pkg: Package, doc_root: str, page_id: str, box: Box, stamps: list[tuple[str, Box]]
) -> bool:
    """Whether ``box`` on page ``page_id`` lies on the page, clear of what it draws and of
    ``stamps`` (what :func:`overlay_problem` will require of an annotation there)."""
    area = page_area(pkg, doc_root, page_id)
    if area is None or not inside(box, area):
        return False
    return _covers(pkg, doc_root, box, page_id, area, stamps) is None


def _page_content(pkg: Package, doc_root: str, page_id: str, area: Box) -> _Content:
    """Where what the page ``page_id`` (of ``area``) draws lies, placed once per file
    (:func:`_content_boxes`: each seal's check and the copy maker ask for it again)."""
    files = page_files(pkg, doc_root).get(page_id, [])
    return pkg.once(
        ("content_boxes", doc_root, page_id), lambda: _content_boxes(pkg, doc_root, files, area)
    )


def stamps_of(pkg: Package, signature_xml: str) -> list[tuple[str, Box]]:
    """The stamps of one Signature.xml: (page ID, boundary) of each StampAnnot."""
    out = []
    for el in pkg.xml(signature_xml).iter():
        if local_name(el) == "StampAnnot" and (box := _placed(el.get("Boundary"))) is not None:
            out.append((ref_id(el.get("PageRef")), box))
    return out
