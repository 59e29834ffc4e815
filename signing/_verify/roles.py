"""What an object of the signed revision is, from the path by which its graph reaches it
(never from what the object says about itself): a page, an annotation, a form field, a
signature value, optional content, or content; and which keys lead where no reader looks."""

from __future__ import annotations

from typing import Any

from signing._verify.rawpdf import children, raw, ref_number

__all__ = [
    "CATALOG_BESIDE",
    "CATALOG_UNSEEN",
    "CONTENT_KEYS",
    "OPTIONAL_CONTENT_KEYS",
    "ROLE_TEXT",
    "TEXT_LAYER_KEYS",
    "UNSEEN_KEYS",
    "refine",
    "role_of",
    "unseen_keys",
    "unseen_refs",
]

#: Catalog entries a reader does not see.
CATALOG_UNSEEN = frozenset({"/DSS", "/Metadata", "/StructTreeRoot", "/Extensions", "/Version"})
"""The structure tree is compared by what it gives assistive technology instead
(:func:`signing._verify.readable.accessible_text`); /Lang and /MarkInfo are
:data:`CATALOG_BESIDE` (red team pdf11, p11-11)."""
#: Keys whose subtrees are never walked: what they hold is not rendered.
UNSEEN_KEYS = frozenset({"/Metadata", "/PieceInfo", "/StructParents", "/LastModified", "/Tabs"})

#: Keys whose values decide which content shows, on screen or in print (layers).
OPTIONAL_CONTENT_KEYS = frozenset({"/OC", "/OCProperties", "/Properties"})
#: Catalog entries a viewer shows beside the page, or that decide what it opens with:
#: bookmarks, page labels, named destinations, associated files, the panes and the
#: window title (red team pdf11, p11-15: an outline item and page label reading 本证已注销).
CATALOG_BESIDE = frozenset(
    {
        "/Outlines",  # the bookmark pane
        "/PageLabels",  # the page-number box
        "/PageMode",  # the pane the file opens with (bookmarks, thumbnails, attachments)
        "/PageLayout",
        "/ViewerPreferences",  # /DisplayDocTitle: the window title; toolbars, print dialog
        "/Dests",  # named destinations: where links and bookmarks go
        "/AF",  # associated files: the attachment pane
        "/OutputIntents",  # colours of print and soft proofing
        "/Lang",  # the language a screen reader speaks the text in
        "/MarkInfo",  # whether readers take the structure tree as the reading order
        "/Legal",
        "/Requirements",
        "/SpiderInfo",
    }
)
#: A page's (or page-tree node's) keys whose values are what it draws: its content and
#: the fonts, images and forms that content uses.
CONTENT_KEYS = frozenset({"/Contents", "/Resources"})
#: Keys whose values are the text a reader copies, searches, reads aloud or indexes, and
#: not the pixels: a change to them no page comparison sees (red team pdf11, p11-11).
TEXT_LAYER_KEYS = frozenset({"/ToUnicode", "/ActualText"})


def unseen_refs(obj: Any, skip: frozenset[str]) -> list[int]:
    """The objects ``obj`` references under the keys ``skip`` (what a reader never sees)."""
    if not isinstance(obj, dict):
        return []
    out: list[int] = []
    for key in skip & set(obj):
        out.extend(n for _, r in children({key: raw(obj, key)}) if (n := ref_number(r)) is not None)
    return out


def unseen_keys(role: str, obj: Any) -> frozenset[str]:
    """The keys of ``obj`` whose values a reader never renders, where they have that
    meaning: XMP metadata and application data of a page or a stream (an image's or a
    form's), the page's structure and tab-order entries."""
    from pyhanko.pdf_utils import generic

    if role == "page" or isinstance(obj, generic.StreamObject):
        return UNSEEN_KEYS
    return frozenset()


ROLE_TEXT = {
    "catalog": "the catalog",
    "pages": "a page tree node",
    "page": "a page",
    "annots": "an annotation array",
    "annot": "an annotation",
    "fields": "the form's field array",
    "field": "a form field",
    "acroform": "the form",
    "sigvalue": "a signature dictionary",
    "appearance": "a field's appearance",
    "oc": "optional content",
    "dr": "the form's resources",
    "text": "a text layer (/ToUnicode)",
    "beside": "what a viewer shows beside the page (bookmarks, page labels)",
    "content": "page content or resources",
}


def role_of(parent: str, key: str | None) -> str | None:
    """The role of an object reached from a ``parent`` object under ``key`` (None: the
    subtree is not walked, a reader does not see it)."""
    if parent == "oc" or key in OPTIONAL_CONTENT_KEYS:
        return "oc"
    if parent == "text" or key in TEXT_LAYER_KEYS:
        return "text"
    if parent == "beside":
        return "beside"
    if parent == "content" or (parent in ("page", "pages") and key in CONTENT_KEYS):
        return "content"
    if parent == "catalog":
        if key in CATALOG_UNSEEN:
            return None
        if key in CATALOG_BESIDE:
            return "beside"
        return {"/Pages": "pages", "/AcroForm": "acroform"}.get(key or "", "other")
    if parent in ("pages", "page") and key in ("/Parent", "/Kids"):
        # up the tree too: a viewer takes inherited resources and boxes through /Parent
        return "pages"
    if parent == "pages":
        return "other"
    if parent == "page":
        if key == "/Annots":
            return "annot"
        return "other"
    if parent in ("annot", "field"):
        if key in ("/P", "/Parent"):
            return "field" if key == "/Parent" else None
        if key == "/V":
            return "sigvalue" if parent == "field" else "other"
        if key == "/Kids":
            return "field"
        if key == "/AP":
            return "appearance" if parent == "field" else "annot"
        return "other"
    if parent == "acroform":
        return {"/Fields": "field", "/DR": "dr"}.get(key or "", "other")
    if parent == "dr":
        return "dr"
    if parent == "annots":
        return "annot"
    if parent == "fields":
        return "field"
    return "other"


def refine(role: str, old: Any) -> str:
    """A path role made precise by the signed object's own shape: an indirect array
    under /Annots or /Fields, a page (or node) of the page tree, a widget that is a field."""
    if isinstance(old, list):
        return {"annot": "annots", "field": "fields"}.get(role, role)
    if not isinstance(old, dict):
        return role
    if role == "pages" and (str(old.get("/Type", "")) == "/Page" or "/Kids" not in old):
        return "page"
    if role == "annot" and ("/FT" in old or "/Parent" in old):
        return "field"
    return role
