"""Annotations added or changed after signing: how they are written, and whether a
reader can see them (ISO 32000-1, 12.5)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from signing._verify.rawpdf import raw, same

__all__ = [
    "NOTE_KEYS",
    "PIXEL_JUDGED",
    "appearance_problem",
    "flags_of",
    "is_widget",
    "note_problem",
    "overlap",
    "rect_of",
    "shape_problem",
    "visible",
]

# annotation flags (ISO 32000-1, 12.5.3)
_HIDDEN, _PRINT, _NOVIEW, _TOGGLE_NOVIEW = 2, 4, 32, 256

#: Annotation types pdfium and poppler both draw from their appearance stream: added
#: after signing, their pixels decide. Others (pop-ups, notes, attachments, redactions,
#: media, links, unknown types) are shown differently by each viewer, or not at all.
PIXEL_JUDGED = frozenset(
    {
        "/Square",
        "/Circle",
        "/Line",
        "/Polygon",
        "/PolyLine",
        "/Highlight",
        "/Underline",
        "/StrikeOut",
        "/Squiggly",
        "/Stamp",
        "/Ink",
        "/FreeText",
        "/Caret",
    }
)


#: What a viewer shows of an annotation besides its appearance: the title, subject and
#: (rich) text of the pop-up note pdf.js and Acrobat open on hover or click, a tooltip, a
#: pop-up annotation. No page comparison sees any of it (red team pdf11, p11-01).
NOTE_KEYS = ("/Contents", "/RC", "/T", "/Subj", "/TU", "/Popup")


def note_problem(obj: Any, deref: Callable[[Any], Any]) -> str | None:
    """Why an annotation (not a form field's widget) added or changed after signing shows
    what no page comparison sees: a non-empty entry of :data:`NOTE_KEYS`. ``deref``
    resolves in the final revision."""
    shown = [k for k in NOTE_KEYS if k in obj and not _empty(deref(raw(obj, k)))]
    if not shown:
        return None
    return (
        f"it carries {', '.join(shown)}: text a viewer shows in a pop-up note on hover or "
        "click, which no page comparison sees"
    )


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str | bytes) and not value.strip())


def flags_of(obj: Any) -> int | None:
    """An annotation's /F as written: a direct non-negative integer (absent: 0); None for
    anything else (a reference, a real number), which viewers read differently."""
    from pyhanko.pdf_utils import generic

    if not isinstance(obj, dict) or "/F" not in obj:
        return 0
    value = raw(obj, "/F")
    if isinstance(value, generic.NumberObject) and not isinstance(value, bool) and value >= 0:
        return int(value)
    return None


def rect_of(value: Any) -> tuple[float, float, float, float] | None:
    """A rectangle written as exactly four direct numbers (None for anything else)."""
    from pyhanko.pdf_utils import generic

    if not isinstance(value, list) or len(value) != 4:
        return None
    if not all(isinstance(v, generic.NumberObject | generic.FloatObject) for v in value):
        return None
    x0, y0, x1, y1 = (float(v) for v in value)
    return (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))


def shape_problem(obj: Any, deref: Callable[[Any], Any]) -> str | None:
    """Why an annotation added or changed after signing cannot be judged by its pixels:
    flags, rectangle or appearance not written plainly (a reference, a real /F, five
    numbers, a state dictionary without /AS: each viewer reads them its own way), or flags
    that show it only when printed. ``deref`` resolves in the final revision."""
    flags = flags_of(obj)
    if flags is None:
        return "its flags (/F) are not a plain integer"
    if "/Rect" in obj and rect_of(raw(obj, "/Rect")) is None:
        return "its rectangle (/Rect) is not four plain numbers"
    if flags & (_HIDDEN | _NOVIEW) and flags & _PRINT:
        return "it shows only when printed"
    if flags & _TOGGLE_NOVIEW:
        # ISO 32000 12.5.3: NoView inverted on user interaction (a box shown on mouse-over
        # that neither renderer draws; red team 11, r11-06)
        return "it shows or hides itself on user interaction (ToggleNoView)"
    return appearance_problem(obj, deref)


def appearance_problem(obj: Any, deref: Callable[[Any], Any]) -> str | None:
    """Its normal appearance (/AP /N) must be a form with a plain /BBox (four numbers) and
    /Matrix (six), or a state dictionary whose /AS picks such a form (None: no /AP); its
    rollover and down appearances (/R, /D), if any, the very same (red team pdf11, p11-01:
    an empty /N, a forged /R and /D)."""
    from pyhanko.pdf_utils import generic

    ap = deref(raw(obj, "/AP")) if "/AP" in obj else None
    if ap is None:
        return None
    normal = deref(raw(ap, "/N")) if isinstance(ap, dict) and "/N" in ap else None
    if isinstance(normal, dict) and not isinstance(normal, generic.StreamObject):
        state = raw(obj, "/AS") if "/AS" in obj else None
        if not isinstance(state, generic.NameObject) or state not in normal:
            return "its appearance has states but /AS picks none of them"
        normal = deref(raw(normal, state))
    if not isinstance(normal, generic.StreamObject):
        return "it has no normal appearance stream (/AP /N)"
    if _numbers(raw(normal, "/BBox") if "/BBox" in normal else None) != 4:
        return "its appearance's /BBox is not four plain numbers"
    if "/Matrix" in normal and _numbers(raw(normal, "/Matrix")) != 6:
        return "its appearance's /Matrix is not six plain numbers"
    for key in ("/R", "/D"):
        if key in ap and not same(raw(ap, key), raw(ap, "/N")):
            return (
                f"its {'rollover' if key == '/R' else 'down'} appearance ({key}) is not its "
                "normal one: viewers show it on hover or click, no page comparison does"
            )
    return None


def _numbers(value: Any) -> int:
    """How many plain numbers a direct array holds (-1: not a direct array of numbers)."""
    from pyhanko.pdf_utils import generic

    if not isinstance(value, list):
        return -1
    if not all(isinstance(v, generic.NumberObject | generic.FloatObject) for v in value):
        return -1
    return len(value)


def is_widget(obj: Any) -> bool:
    """A field's widget (merged field and widget, or a widget kid)."""
    return str(obj.get("/Subtype", "")) == "/Widget" or ("/Rect" in obj and "/FT" in obj)


def overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def visible(obj: Any) -> bool:
    """Whether a widget can show anything: not hidden, a non-empty /Rect (a widget whose
    flags or rectangle cannot be read counts as visible)."""
    flags = flags_of(obj)
    if flags is not None and flags & (_HIDDEN | _NOVIEW):
        return False
    if "/Rect" not in obj:
        return False
    rect = rect_of(raw(obj, "/Rect"))
    return rect is None or (rect[2] - rect[0] > 0.5 and rect[3] - rect[1] > 0.5)
