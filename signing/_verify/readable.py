"""What a reader is shown or told of a document besides its pages' pixels (red team pdf11,
p11-11 and p11-15).

The page comparison (:mod:`signing._verify.visual`) sees pixels, and its text line the
text layer of each page's content. Around the pages a viewer shows more that the issuer
signed or did not: the bookmark pane, the page-number box, the pane or layout a file opens
with, the window title it asks for, named destinations, attached files; and assistive
technology reads the document's language and its structure tree (a figure's /Alt, an
element's /ActualText, the reading order of the marked content). None of it changes a
pixel, so each is judged by key (the catalog's in
:data:`signing._verify.roles.CATALOG_BESIDE`, a font's /ToUnicode and an /ActualText in
:data:`signing._verify.roles.TEXT_LAYER_KEYS`; any change after signing is never
permitted), and here:

* :data:`PAGE_CHROME`: a page's own entries a viewer shows or acts on besides its pixels
  (an embedded thumbnail, attached files, presentation effects, article beads);
* the structure tree: what it gives assistive technology (:func:`accessible_text`) must
  read the same in the signed revision and the final file. An element added for a later
  signature's widget (an /OBJR, as Acrobat writes when it signs a tagged file) changes
  nothing of it; a /ParentTree rewritten for that widget neither.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from signing._verify.rawpdf import get, raw, ref_number

__all__ = ["PAGE_CHROME", "accessible_text"]

PAGE_CHROME = frozenset({"/Thumb", "/AF", "/Trans", "/Dur", "/PZ", "/B"})
"""A page's entries a viewer shows or acts on besides its pixels: the thumbnail pane, the
attachment pane, presentation transitions and timing, zoom, article beads."""

_ELEMENT_TEXT = ("/S", "/Alt", "/ActualText", "/E", "/Lang", "/T")
#: Structure elements walked at most per revision (a hostile tree: past it, unequal).
_MAX_ELEMENTS = 100_000


def accessible_text(deref: Callable[[Any], Any], tree_ref: Any) -> list[tuple[str, ...]]:
    """What the structure tree under ``tree_ref`` gives assistive technology, in reading
    order: each element's type, /Alt, /ActualText, /E, /Lang and /T, and the marked content
    it claims (page object number and MCID); the tree's /RoleMap first when it maps
    anything. Object references (/OBJR: annotations, later signatures' widgets) are left
    out, and so are elements that hold neither text nor marked content (the /Form element
    a signing tool adds for its widget). ``deref`` resolves a reference in one revision."""
    root = deref(tree_ref)
    if not isinstance(root, dict):
        return []
    rolemap = deref(get(root, "/RoleMap"))
    entries: list[tuple[int, tuple[str, ...]]] = []
    if rolemap:
        entries.append((0, ("rolemap", _text(rolemap))))
    entries += _walk(deref, get(root, "/K"))
    return _pruned(entries)


def _walk(deref: Callable[[Any], Any], top: Any) -> list[tuple[int, tuple[str, ...]]]:
    """(depth, entry) for every element and marked-content reference, depth first."""
    out: list[tuple[int, tuple[str, ...]]] = []
    # (value, the page its marked content is on, depth): depth first, in order
    todo: list[tuple[Any, int | None, int]] = [(top, None, 1)]
    seen: set[int] = set()
    while todo:
        if len(out) > _MAX_ELEMENTS:
            out.append((0, ("too many structure elements",)))
            break
        value, page, depth = todo.pop()
        number = ref_number(value)
        if number is not None:
            if number in seen:
                continue
            seen.add(number)
        obj = deref(value)
        if isinstance(obj, list):
            todo.extend((item, page, depth) for item in reversed(obj))
        elif isinstance(obj, int) and not isinstance(obj, bool):
            out.append((depth, ("mcid", str(page), str(obj))))
        elif isinstance(obj, dict):
            kind = str(obj.get("/Type", ""))
            own_page = ref_number(get(obj, "/Pg"))
            page = own_page if own_page is not None else page
            if kind == "/OBJR":
                continue
            if kind == "/MCR":
                out.append((depth, ("mcid", str(page), _text(get(obj, "/MCID")))))
                continue
            texts = tuple(_text(deref(get(obj, k))) for k in _ELEMENT_TEXT)
            out.append((depth, ("element", *texts)))
            todo.append((get(obj, "/K"), page, depth + 1))
    return out


def _pruned(entries: list[tuple[int, tuple[str, ...]]]) -> list[tuple[str, ...]]:
    """The entries without elements that hold nothing: no text of their own (beyond their
    type) and no marked content below them."""
    keep = [False] * len(entries)
    pending: list[tuple[int, bool]] = []  # (depth, holds something), later entries
    for i in range(len(entries) - 1, -1, -1):
        depth, entry = entries[i]
        holds = entry[0] != "element" or any(entry[2:])
        while pending and pending[-1][0] > depth:
            holds = pending.pop()[1] or holds
        keep[i] = holds
        pending.append((depth, holds))
    return [entry for (_, entry), kept in zip(entries, keep, strict=True) if kept]


def _text(value: Any) -> str:
    """A direct value as text for comparison (references by number)."""
    if value is None:
        return ""
    number = ref_number(value)
    if number is not None:
        return f"{number} R"
    if isinstance(value, dict):
        return "<<" + " ".join(f"{k} {_text(raw(value, k))}" for k in sorted(value)) + ">>"
    if isinstance(value, list):
        return "[" + " ".join(_text(v) for v in value) + "]"
    return str(value)
