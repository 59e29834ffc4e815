"""The colour spaces a certified copy's 加注 is drawn in.

GB/T 33190 (CT_Color): a colour that names no ``ColorSpace`` is in the document's default
colour space, ``CommonData/DefaultCS`` (RGB when there is none). The vault's 加注 writes
its colours as RGB values that name no space (``0 0 0``, ``178 13 13``): under an issuer's
CMYK ``DefaultCS`` a conformant viewer reads ``0 0 0`` as no ink, and the 加注's values and
QR code vanish (red team 10, r10-01; ofdrw ignores DefaultCS and shows them). A copy's new
parts cannot add a colour space of their own (that would change the issuer's resources), so:

- the copy maker refuses an original whose default colour space is not plain RGB
  (:func:`default_space_problem`);
- the verifier accepts an added annotation only when every colour it draws with is in a
  plain RGB space, named or by default (:func:`added_colours_problem`).

Plain RGB: ``Type="RGB"``, 8 bits a component, no ICC ``Profile`` (readers differ on
applying one, and one can map any value to any colour). A space the document does not
declare is unknown: refused.
"""

from __future__ import annotations

from xml.etree.ElementTree import Element

from signing.ofd.package import OfdFormatError, Package, java_trim, local_name, ref_id
from signing.ofd.resources import declared

__all__ = ["added_colours_problem", "default_space_problem"]

_COLOURS = ("FillColor", "StrokeColor")


def _spaces(pkg: Package, doc_root: str) -> dict[str, Element]:
    """The document's colour spaces (its PublicRes and DocumentRes), by ID."""
    return declared(pkg, doc_root, "ColorSpace")


def _plain_rgb(space: Element | None, what: str) -> str | None:
    if space is None:
        return f"{what} is a colour space the document does not declare"
    kind = java_trim(space.get("Type") or "")
    if kind != "RGB":
        return f"{what} is a {kind or 'typeless'} colour space, not RGB"
    if java_trim(space.get("BitsPerComponent") or "8") != "8":
        return f"{what} is an RGB space of {space.get('BitsPerComponent')} bits a component"
    if space.get("Profile") is not None:
        return f"{what} is an RGB space with an ICC profile (readers differ on applying it)"
    return None


def _default_cs(pkg: Package, doc_root: str) -> str | None:
    for common in pkg.xml(doc_root):
        if local_name(common) == "CommonData":
            for el in common:
                if local_name(el) == "DefaultCS":
                    return el.text or ""
    return None


def default_space_problem(pkg: Package, doc_root: str) -> str | None:
    """Why a colour that names no space is not plain RGB in the document ``doc_root``:
    its ``DefaultCS`` names another space, or one it does not declare; None when plain
    RGB (or none: RGB by default)."""
    named = _default_cs(pkg, doc_root)
    if named is None:
        return None
    try:
        space = _spaces(pkg, doc_root).get(ref_id(named))
    except OfdFormatError as exc:
        return f"the document's default colour space (DefaultCS) cannot be read: {exc}"
    return _plain_rgb(space, f"the document's default colour space (DefaultCS {named.strip()!r})")


def added_colours_problem(pkg: Package, doc_root: str, part: str) -> str | None:
    """Why a colour the added annotation part ``part`` draws with is not plain RGB (named
    or by the document's default), or may come from a DrawParam (an object naming one);
    None when every one is plain RGB."""
    spaces: dict[str, Element] | None = None
    for el in pkg.xml(part).iter():
        if el.get("DrawParam") is not None:  # its colours would be the issuer's resource's
            return (
                f"an added annotation ({part}) draws with a DrawParam: its colours would be "
                "the document's, not its own"
            )
        if local_name(el) not in _COLOURS:
            continue
        named = el.get("ColorSpace")
        if named is None:
            problem = default_space_problem(pkg, doc_root)
        else:
            spaces = _spaces(pkg, doc_root) if spaces is None else spaces
            problem = _plain_rgb(spaces.get(ref_id(named)), f"colour space {named.strip()!r}")
        if problem is not None:
            return f"an added annotation ({part}) draws in a colour not plain RGB: {problem}"
    return None
