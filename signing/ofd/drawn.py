"""Where the objects of an annotation's appearance draw, in the appearance's own space.

An added annotation (a certified copy's 加注, see :mod:`signing.ofd.overlay`) is checked
against the page by its ``Appearance Boundary``; a reader that does not clip to that box
still draws each object where the object says. So every object of an added appearance must
draw inside ``0 0 w h`` (the appearance's size): its ``Boundary`` offset plus its ``CTM``
applied to what it draws (a path's points, a text or image's box), widened by half its
``LineWidth`` when it is stroked. What cannot be placed so (an unreadable number, a
composite object drawn from a resource) is refused rather than guessed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from xml.etree.ElementTree import Element

from signing.ofd.numbers import NUMBER, decimals, strict_float
from signing.ofd.package import local_name

__all__ = ["Box", "drawn_extent", "finite_box", "outside_appearance"]

Box = tuple[float, float, float, float]
"""x, y, width, height in mm (y down), as an OFD ``Boundary``."""

_SLACK = 0.05
"""mm an object may reach past the appearance's edge (rounding of the numbers written)."""
_MAX_OBJECTS = 20000
_TOKEN = re.compile(r"[A-Za-z]|" + NUMBER, re.ASCII)
_ARGS = {"S": 2, "M": 2, "L": 2, "Q": 4, "B": 6, "A": 7, "C": 0}
_CONTAINERS = {"PageBlock"}
_IDENTITY = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0]


def finite_box(text: str | None) -> Box | None:
    """A ``Boundary`` whose four values are finite and whose size is positive, else None."""
    values = _numbers(text, 4)
    if values is None or values[2] <= 0 or values[3] <= 0:
        return None
    return (values[0], values[1], values[2], values[3])


def _numbers(text: str | None, count: int) -> list[float] | None:
    """``count`` numbers as every reader reads them (:func:`.numbers.decimals`), or None."""
    return decimals(text, count)


def outside_appearance(appearance: Element, size: tuple[float, float]) -> str | None:
    """Why an object of ``appearance`` (of ``size``: w, h) draws outside it; None when
    every one draws inside."""
    for count, el in enumerate(_objects(appearance)):
        if count >= _MAX_OBJECTS:
            return f"its appearance has more than {_MAX_OBJECTS} objects"
        problem = _object_problem(el, size)
        if problem is not None:
            return f"its {local_name(el)} {problem}"
    return None


def _objects(el: Element) -> Iterator[Element]:
    for child in el:
        if local_name(child) in _CONTAINERS:
            yield from _objects(child)
        else:
            yield child


def _object_problem(el: Element, size: tuple[float, float]) -> str | None:
    name = local_name(el)
    if name not in ("PathObject", "TextObject", "ImageObject"):
        return "cannot be placed (only paths, text and images are accepted in an added 加注)"
    box = finite_box(el.get("Boundary"))
    if box is None:
        return "has no finite, positive Boundary"
    extent = drawn_extent(el)
    if isinstance(extent, str):
        return extent
    if extent is None:
        return None
    inside = (
        box[0] >= -_SLACK
        and box[1] >= -_SLACK
        and box[0] + box[2] <= size[0] + _SLACK
        and box[1] + box[3] <= size[1] + _SLACK
    )
    left, top, right, bottom = extent
    drawn = (
        left >= -_SLACK
        and top >= -_SLACK
        and right <= size[0] + _SLACK
        and bottom <= size[1] + _SLACK
    )
    if not (inside and drawn):
        return "draws outside the appearance's box"
    return None


def drawn_extent(el: Element) -> tuple[float, float, float, float] | str | None:
    """Where a path, text or image object draws in its container's space: left, top,
    right, bottom (its ``Boundary`` offset, its ``CTM`` and, when stroked, half its
    ``LineWidth`` applied; not clipped to its ``Boundary``); None when it draws nothing (an
    empty path); a string saying why it cannot be placed."""
    name = local_name(el)
    box = finite_box(el.get("Boundary"))
    if box is None:
        return "has no finite, positive Boundary"
    ctm = _numbers(el.get("CTM"), 6) if el.get("CTM") is not None else _IDENTITY
    if ctm is None:
        return "has an unreadable CTM"
    width = _numbers(el.get("LineWidth"), 1) if el.get("LineWidth") is not None else [0.353]
    if width is None or width[0] < 0:
        return "has an unreadable LineWidth"
    if name == "PathObject":
        points = _path_points(el)
        if points is None:
            return "has path data that cannot be read"
    elif name == "ImageObject":
        points = [(0.0, 0.0), (1.0, 1.0)]
    else:
        points = [(0.0, 0.0), (box[2], box[3])]
    if not points:
        return None
    stroked = name == "PathObject" and el.get("Stroke", "true").strip().lower() != "false"
    reach = width[0] / 2 if stroked else 0.0
    corners = [_apply(ctm, x, y) for x in _span(points, 0) for y in _span(points, 1)]
    xs, ys = [c[0] for c in corners], [c[1] for c in corners]
    return (
        box[0] + min(xs) - reach,
        box[1] + min(ys) - reach,
        box[0] + max(xs) + reach,
        box[1] + max(ys) + reach,
    )


def _span(points: list[tuple[float, float]], axis: int) -> tuple[float, float]:
    values = [p[axis] for p in points]
    return (min(values), max(values))


def _apply(ctm: list[float], x: float, y: float) -> tuple[float, float]:
    a, b, c, d, e, f = ctm
    return (a * x + c * y + e, b * x + d * y + f)


def _path_points(el: Element) -> list[tuple[float, float]] | None:
    """The points a path's AbbreviatedData reaches (control points included: a curve lies
    in their hull; an arc is widened by twice its larger radius); None when unreadable."""
    data = next((c for c in el if local_name(c) == "AbbreviatedData"), None)
    if data is None:
        return None
    tokens = _TOKEN.findall(data.text or "")
    if "".join(tokens).replace(" ", "") != re.sub(r"\s+", "", data.text or "", flags=re.ASCII):
        return None  # something besides commands and numbers
    points: list[tuple[float, float]] = []
    at = 0
    while at < len(tokens):
        command = tokens[at]
        if command not in _ARGS:
            return None
        args = tokens[at + 1 : at + 1 + _ARGS[command]]
        if len(args) != _ARGS[command] or any(t.isalpha() for t in args):
            return None
        read = [strict_float(t) for t in args]
        if any(v is None for v in read):
            return None
        values = [v for v in read if v is not None]
        if command == "A":
            r = 2 * max(abs(values[0]), abs(values[1]))
            x, y = values[5], values[6]
            points += [(x - r, y - r), (x + r, y + r)]
        else:
            points += list(zip(values[0::2], values[1::2], strict=True))
        at += 1 + _ARGS[command]
    return points
