"""How wide a page object's stroke may be drawn: its ``LineWidth`` and ``MiterLimit`` as
any reader may take them (GB/T 33190 8.2).

An object's own attribute wins, else its ``DrawParam`` (a resource, which may take what
it does not set from its ``Relative`` one), else the ``DrawParam`` of the ``Layer`` it is
drawn in, else the default (LineWidth 0.353 mm, MiterLimit 3.528). Readers do not all
follow that order (the red team found ofdrw's PDF converter taking the DrawParam's
LineWidth over the object's, its viewer ignoring it), so the stroke counted is the widest
any of them may draw: the largest value written on the object, along its DrawParam's
chain and its Layers' chains, and the default (unless the object writes its own and names
no DrawParam: a reader may take a DrawParam that writes no LineWidth for the default
one). A DrawParam that cannot be resolved (an ID no resource declares as one, a cycle or
an overlong ``Relative`` chain, a number that cannot be read) leaves the width unknown:
the object may then draw anywhere. Red team 10, r10-11: a stroke 130 mm wide given by a
DrawParam drew a black band under the 加注 where the placement saw a hairline.

The DrawParams are those of the document's ``PublicRes`` and ``DocumentRes`` and of the
``PageRes`` of the parts drawn (a page and its templates); one ID namespace, an ID
declared twice is refused elsewhere (:mod:`.model`).

Whether a stroke colour is given (the object's own ``StrokeColor``, one along its
DrawParam's or its Layers' chains) is told too: ofdrw's viewer strokes text that has one,
whatever its ``Stroke`` says (red team 12, r12-06). And an object that writes no
``LineWidth`` is stroked 0.4 mm wide by ofdrw (``AWTMaker.getLineWidth``), not 0.353.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple
from xml.etree.ElementTree import Element

from signing.ofd.numbers import decimals
from signing.ofd.package import OfdFormatError, Package, child_elements, ref_id
from signing.ofd.resources import resource_files

__all__ = [
    "DEFAULT_STROKE",
    "Stroke",
    "StrokeRules",
    "own_stroke",
    "stroke_rules",
]

_CHAIN = 64
"""DrawParams one ``Relative`` chain may pass through (a longer one is not resolved)."""


class Stroke(NamedTuple):
    """The widest stroke a reader may draw an object with (mm), the largest miter limit
    (the ratio of a miter join's length to half the width) and whether a stroke colour
    is given (on the object or a DrawParam it may take one from)."""

    width: float
    miter: float
    coloured: bool = False


DEFAULT_STROKE = Stroke(0.353, 3.528)
"""GB/T 33190's defaults."""
_OFDRW_WIDTH = 0.4
"""The LineWidth ofdrw's viewer strokes an object that writes none with (mm)."""


def own_stroke(el: Element) -> Stroke | None:
    """The stroke of ``el`` from its own attributes (its ``StrokeColor`` child for
    ``coloured``), else the defaults (the wider of GB/T 33190's and ofdrw's width); None
    when one of them cannot be read."""
    written = _written(el)
    if written is None:
        return None
    width, miter = written
    return Stroke(
        max(DEFAULT_STROKE.width, _OFDRW_WIDTH) if width is None else width,
        DEFAULT_STROKE.miter if miter is None else miter,
        _coloured(el),
    )


def _coloured(el: Element) -> bool:
    """Whether ``el`` (an object or a DrawParam) has a ``StrokeColor`` child, readable or
    not (a reader may stroke with it)."""
    return bool(child_elements(el, "StrokeColor"))


def _written(el: Element) -> tuple[float | None, float | None] | None:
    """The ``LineWidth`` and ``MiterLimit`` ``el`` (an object or a DrawParam) writes (None
    each when not written); None when one is not one finite number at least 0."""
    values: list[float | None] = []
    for name in ("LineWidth", "MiterLimit"):
        text = el.get(name)
        found = decimals(text, 1) if text is not None else None
        if text is not None and (found is None or found[0] < 0):
            return None
        values.append(found[0] if found is not None else None)
    return values[0], values[1]


def _widest(el: Element, stroke: Stroke) -> Stroke | None:
    """``stroke`` widened by what the DrawParam ``el`` writes; None when unreadable."""
    written = _written(el)
    if written is None:
        return None
    width, miter = written
    return Stroke(
        stroke.width if width is None else max(stroke.width, width),
        stroke.miter if miter is None else max(stroke.miter, miter),
        stroke.coloured or _coloured(el),
    )


def _wider(one: Stroke, other: Stroke) -> Stroke:
    """The wider width, the larger miter limit, coloured when either is."""
    return Stroke(
        max(one.width, other.width), max(one.miter, other.miter), one.coloured or other.coloured
    )


class StrokeRules:
    """The DrawParams one part draws with, by ID, and the strokes they resolve to."""

    def __init__(self, params: dict[str, Element]) -> None:
        self._params = params
        self._chains: dict[str, Stroke | None] = {}

    def stroke(self, el: Element, layers: Iterable[str]) -> Stroke | None:
        """The stroke of ``el``, drawn in Layers whose ``DrawParam`` references are
        ``layers``: the widest of its own attributes, its DrawParam's chain, the Layers'
        chains and the defaults, coloured when one of them gives a stroke colour; None
        when one of them cannot be resolved."""
        found = own_stroke(el)
        for ref in (el.get("DrawParam"), *layers):
            if found is None:
                return None
            if ref is not None:
                chain = self._chain(_ref(ref))
                found = None if chain is None else _wider(found, chain)
        return found

    def _chain(self, ref: str) -> Stroke | None:
        if ref not in self._chains:
            self._chains[ref] = self._resolve(ref)
        return self._chains[ref]

    def _resolve(self, ref: str) -> Stroke | None:
        stroke: Stroke | None = DEFAULT_STROKE
        seen: set[str] = set()
        while True:
            param = self._params.get(ref) if ref else None
            if param is None or ref in seen or len(seen) >= _CHAIN:
                return None  # unknown, a cycle, too long
            seen.add(ref)
            stroke = _widest(param, stroke) if stroke is not None else None
            relative = param.get("Relative")
            if stroke is None or relative is None:
                return stroke
            ref = _ref(relative)


def _ref(value: str) -> str:
    """An ID reference as readers resolve it (:func:`.package.ref_id`); "" (no DrawParam
    has it) when readers differ on it."""
    try:
        return ref_id(value)
    except OfdFormatError:
        return ""


def stroke_rules(pkg: Package, doc_root: str, parts: Iterable[str]) -> StrokeRules:
    """The DrawParams what ``parts`` draw may use (the document's PublicRes and
    DocumentRes, each part's PageRes), read once per document and parts."""
    drawn = tuple(parts)
    key = ("stroke_rules", doc_root, *drawn)
    return pkg.once(key, lambda: StrokeRules(_draw_params(pkg, doc_root, drawn)))


def _draw_params(pkg: Package, doc_root: str, parts: tuple[str, ...]) -> dict[str, Element]:
    found: dict[str, Element] = {}
    for path in resource_files(pkg, doc_root, parts):
        if not pkg.has(path):
            continue
        for group in child_elements(pkg.xml(path), "DrawParams"):
            for param in child_elements(group, "DrawParam"):
                found.setdefault(_ref(param.get("ID") or ""), param)
    return found
