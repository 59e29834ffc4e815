"""Whether a later seal's stamp lies over what an earlier signature signed.

A seal's stamp (its ``StampAnnot``: the seal's image drawn in ``Boundary`` on the page
``PageRef``) is not part of the page content an earlier signature digested, so a later seal
could put an opaque image (white, with other words on it) over the issuer's text and leave
every digest intact. The PDF side allows a later signature's widget only where the signed
page is blank (docs/verification.md, "Pages"); this is the OFD equivalent, geometric since
no OFD renderer runs here: a later stamp must stay clear of every object the earlier
signature's parts draw on that page. Those are the objects of the page's content part and
of its templates (text, paths, images, composite objects, in any layer or page block; each
its ``Boundary`` widened by where its ``CTM`` and line width make it draw), the appearance
boxes of the annotations it signed, and its own stamps. A stamp's ``Clip`` is not trusted
to shrink its box; a box that is not four finite numbers covers the whole page, and an
object that cannot be placed counts as covering the whole page.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element

from signing.ofd.additions import list_parts
from signing.ofd.drawn import EVERYWHERE, object_box, placed_objects, shifted
from signing.ofd.drawparams import StrokeRules, stroke_rules
from signing.ofd.fonts import FontReaches, font_reaches
from signing.ofd.overlay import Box, annotation_files, inside, page_box, page_files
from signing.ofd.package import DrawingBudget, OfdFormatError, Package, local_name, ref_id

__all__ = ["EVERYWHERE", "Stamp", "StampCheck", "StampWork", "overlaps", "stamp_boxes"]

_MAX_OBJECTS = 50000
_MAX_COMPARISONS = 2_000_000
"""Stamp-against-object comparisons for one signature (a hostile file's thousands of
stamps over thousands of objects is refused, not worked through)."""
_MAX_TOTAL_COMPARISONS = 10_000_000
"""Stamp-against-object comparisons for all the signatures of one file together."""


@dataclass
class StampWork:
    """Comparisons left for the whole file (shared by its signatures' checks)."""

    left: int = _MAX_TOTAL_COMPARISONS

    def spend(self, count: int) -> None:
        self.left -= count
        if self.left < 0:
            raise OfdFormatError("too many stamps over too many page objects in the file")


@dataclass(frozen=True)
class Stamp:
    """One ``StampAnnot`` of a seal: the page it names and its box."""

    page_id: str
    box: Box
    seal: str
    """The Signature.xml it comes from."""


def _page_box(text: str | None) -> Box:
    """An OFD ``Boundary`` made positive; :data:`EVERYWHERE` when not four finite numbers."""
    box = page_box(text)
    return EVERYWHERE if box is None else box


def stamp_boxes(pkg: Package, signature_xml: str) -> list[Stamp]:
    """Every ``StampAnnot`` of one Signature.xml (its box :data:`EVERYWHERE` when it
    cannot be read)."""
    return [
        Stamp(ref_id(el.get("PageRef")), _page_box(el.get("Boundary")), signature_xml)
        for el in pkg.xml(signature_xml).iter()
        if local_name(el) == "StampAnnot"
    ]


def overlaps(a: Box, b: Box) -> bool:
    """Whether two boxes share more than a sliver (0.01 mm) both ways."""
    return (
        min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]) > 0.01
        and min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]) > 0.01
    )


@dataclass
class StampCheck:
    """What one signature signed on each page of its document, read once per page."""

    pkg: Package
    doc_root: str
    signed: set[str]
    """The package paths the signature's References cover."""
    own: list[Stamp]
    total: StampWork = field(default_factory=StampWork)
    _pages: dict[str, list[str]] | None = None
    _annots: dict[str, list[Box]] | None = None
    _drawn: dict[str, list[Box]] = field(default_factory=dict)
    _count: int = 0

    def problem(self, later: Iterable[Stamp], allowed: list[tuple[str, Box]]) -> str | None:
        """Why one of the ``later`` stamps covers what this signature signed; None when
        each lies clear of it, or inside one of ``allowed`` ((page ID, box): the accepted
        加注 of the vault, which already hides what is under it). Raises
        :class:`OfdFormatError` on an unreadable part or too many objects."""
        work = 0
        for stamp in later:
            if any(p == stamp.page_id and inside(stamp.box, box) for p, box in allowed):
                continue
            signed = self._signed_boxes(stamp.page_id)
            if self._pages is not None and stamp.page_id not in self._pages:
                return (
                    f"the stamp of the later seal {stamp.seal} names no page of the document "
                    f"(PageRef {stamp.page_id!r}): where a reader puts it cannot be checked"
                )
            work += len(signed) + len(allowed)
            self.total.spend(len(signed) + len(allowed) + 1)
            if work > _MAX_COMPARISONS:
                raise OfdFormatError("too many stamps over too many page objects to compare")
            if any(overlaps(stamp.box, box) for box in signed):
                return (
                    f"the stamp of the later seal {stamp.seal} on page {stamp.page_id} covers "
                    "what this signature signed there: a later seal may place its stamp only "
                    "where this one's page is blank"
                )
        return None

    def _signed_boxes(self, page_id: str) -> list[Box]:
        if page_id not in self._drawn:
            if self._pages is None:
                self._pages = page_files(self.pkg, self.doc_root)
            boxes = [s.box for s in self.own if s.page_id == page_id]
            for path in self._pages.get(page_id, []):
                if path in self.signed and self.pkg.has(path):
                    boxes += self._part_objects(path)
            boxes += self._annotations().get(page_id, [])
            self._drawn[page_id] = boxes
        return self._drawn[page_id]

    def _part_objects(self, path: str) -> list[Box]:
        rules = stroke_rules(self.pkg, self.doc_root, [path])
        fonts = font_reaches(self.pkg, self.doc_root, [path])
        boxes = self.pkg.once(
            ("object_boxes", path),
            lambda: _part_boxes(self.pkg.xml(path), self.pkg.drawing, rules, fonts),
        )
        return self._counted(boxes)

    def _counted(self, boxes: list[Box]) -> list[Box]:
        self._count += len(boxes)
        if self._count > _MAX_OBJECTS:
            raise OfdFormatError(f"more than {_MAX_OBJECTS} page objects to check")
        return boxes

    def _annotations(self) -> dict[str, list[Box]]:
        """Per page, the appearance boxes of the annotations this signature signed."""
        if self._annots is None:
            self._annots = {}
            for listed, kind in list_parts(self.pkg, self.doc_root).items():
                if kind != "Annotations" or not self.pkg.has(listed):
                    continue
                for page_id, part in annotation_files(self.pkg, listed):
                    if part in self.signed and self.pkg.has(part):
                        self._annots.setdefault(page_id, []).extend(self._appearances(part))
        return self._annots

    def _appearances(self, part: str) -> list[Box]:
        """The boxes of one annotation part's appearances and of their objects, placed once
        per file however many entries name the part (red team 9, r9-07c)."""
        return self._counted(
            self.pkg.once(
                ("appearances", part),
                lambda: _appearance_boxes(
                    self.pkg,
                    part,
                    stroke_rules(self.pkg, self.doc_root, ()),
                    font_reaches(self.pkg, self.doc_root, ()),
                ),
            )
        )


def _appearance_boxes(pkg: Package, part: str, rules: StrokeRules, fonts: FontReaches) -> list[Box]:
    """Each appearance box of an annotation part, and where its objects draw."""
    boxes = []
    for annot in pkg.xml(part).iter():
        if local_name(annot) == "Annot":
            shown = next((c for c in annot if local_name(c) == "Appearance"), None)
            if shown is not None:  # its box, and its objects where they draw
                boxes.append(_page_box(shown.get("Boundary")))
                boxes += _part_boxes(shown, pkg.drawing, rules, fonts)
    return boxes


def _part_boxes(
    root: Element, work: DrawingBudget, rules: StrokeRules, fonts: FontReaches
) -> list[Box]:
    """Where each object of a content part draws (strokes as wide as ``rules``, the
    DrawParams it may use, make them: red team 10, r10-11; glyphs as far as ``fonts``, the
    fonts it may use, reach: red team 12, r12-02): placed once per file, whatever
    the number of signatures that check stamps against it (red team 7, b03: a long DeltaX
    placed again for each of 12 seals took 20 s), the path data and deltas read charged to
    ``work`` (the file's budget; red team 8, r8-03)."""
    boxes: list[Box] = []
    for el, offset, layers in placed_objects(root):
        if len(boxes) >= _MAX_OBJECTS:
            raise OfdFormatError(f"more than {_MAX_OBJECTS} page objects to check")
        box = object_box(el, work, rules=rules, layers=layers, fonts=fonts)
        boxes.append(shifted(box, offset))
    return boxes
