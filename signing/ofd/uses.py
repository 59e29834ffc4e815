"""Every part the pages of a document draw with, which each signature must cover itself.

A later seal may cover parts added after an earlier one (a certified copy's 加注, under
the vault's rules), never what the earlier signature's pages are drawn from: its
Document.xml, the pages' content and templates, the resource files the document and the
pages name (``PublicRes``, ``DocumentRes``, ``PageRes``: fonts, colour spaces,
``DrawParams``, ``CompositeGraphicUnits``, ``MultiMedia``), the font, media and ICC
profile files those name, the annotations shown on the pages (the Annotations list and
its files), and what a reader shows or hands out beside the pages: the Attachments and
CustomTags lists and the files they name (red team 3, c3 and c4). A part left out of a
signature's References that a later seal "covers" could have been swapped by that later
signer (see docs/verification.md, "What a reader shows must be what the signatures cover").
"""

from __future__ import annotations

from xml.etree.ElementTree import Element

from signing.ofd.model import default_documents, res_file_locations
from signing.ofd.overlay import annotation_files, page_files
from signing.ofd.package import (
    OfdFormatError,
    Package,
    child_elements,
    java_trim,
    joined_folder,
    local_name,
    parent_folder,
)

__all__ = ["drawn_parts", "listed_files"]


def drawn_parts(pkg: Package, doc_root: str) -> frozenset[str]:
    """The parts in the package the document's pages draw with (a part that cannot be
    read counts as the document's; for a missing one, the part that becomes it once
    unpacked: :meth:`.Package.locate`). Raises :class:`OfdFormatError` when the pages,
    their templates or the annotations they show cannot be told (a page ID declared twice,
    a location leaving the package or with a padded segment, an unreadable Document.xml or
    Annotations list): the set is then unknown, never smaller (red team 4, f2-f4).
    Computed once per document for all its signatures (red team 5, a08)."""
    return pkg.once(("drawn_parts", doc_root), lambda: frozenset(_drawn(pkg, doc_root)))


def _drawn(pkg: Package, doc_root: str) -> set[str]:
    pages = page_files(pkg, doc_root)
    root = pkg.xml(doc_root)
    found = {doc_root} | {path for files in pages.values() for path in files if pkg.has(path)}
    res: list[str] = []
    folder = parent_folder(doc_root)
    for common in child_elements(root, "CommonData"):
        for el in common:
            if local_name(el) in ("PublicRes", "DocumentRes"):
                if (el.text or "").strip():  # ofdrw reads it twice (red team 6, a10)
                    pkg.resolve_once(el.text, folder, f"the {local_name(el)} of {doc_root}")
                res += _located(pkg, el.text, folder)
    for page in sorted(p for files in pages.values() for p in files if pkg.has(p)):
        try:
            page_el = pkg.xml(page)
        except OfdFormatError:
            continue
        at = parent_folder(page)
        res += [r for el in child_elements(page_el, "PageRes") for r in _located(pkg, el.text, at)]
    for path in res:
        found.add(path)
        found |= _media(pkg, path)
    found |= _annotations(pkg, root, folder, set(pages))
    found |= _lists(pkg, root, folder, ("Attachments", "CustomTags"))
    for default in default_documents(pkg, doc_root):
        _same_page_area(pkg, doc_root, default)
        found |= {default} | _lists(pkg, pkg.xml(default), parent_folder(default), ("Attachments",))
    return found


def _lists(pkg: Package, root: Element, folder: str, names: tuple[str, ...]) -> set[str]:
    """The lists ``root`` names (Attachments, CustomTags) and the files they name."""
    found: set[str] = set()
    for name in names:
        for el in child_elements(root, name):
            for listed in _located(pkg, el.text, folder):
                found |= {listed} | listed_files(pkg, listed)
    return found


def _same_page_area(pkg: Package, doc_root: str, default: str) -> None:
    """Raise :class:`OfdFormatError` unless ``default``, the Document.xml ofdrw reads beside
    the DocRoot (:func:`.model.default_documents`), gives the DocRoot's page area (ofdrw's
    size of a page that names none). That file and the attachments it lists (what ofdrw
    hands out) are then drawn: each signature covers them (red team 6, a09)."""
    if _page_area(pkg.xml(doc_root)) != _page_area(pkg.xml(default)):
        raise OfdFormatError(
            f"readers differ on the page area: ofdrw takes it from {default}, "
            f"in the DocRoot's folder, not from the DocRoot {doc_root}"
        )


def _page_area(root: Element) -> list[tuple[str, str, tuple[tuple[str, str], ...]]]:
    return [
        (local_name(node), " ".join((node.text or "").split()), tuple(sorted(node.attrib.items())))
        for common in child_elements(root, "CommonData")
        for area in child_elements(common, "PageArea")
        for node in area.iter()
    ]


def listed_files(pkg: Package, listed: str) -> set[str]:
    """The files an Attachments or CustomTags list names (``FileLoc``, ``SchemaLoc``) that
    are in the package (an unreadable list names none: it is itself covered or not)."""
    try:
        el = pkg.xml(listed)
    except OfdFormatError:
        return set()
    return {
        path
        for node in el.iter()
        if local_name(node) in ("FileLoc", "SchemaLoc")
        for path in _located(pkg, node.text, parent_folder(listed))
    }


def _media(pkg: Package, res: str) -> set[str]:
    """The font, media and ICC profile files a resource file names (under its
    ``BaseLoc``: :func:`signing.ofd.model.res_file_locations`)."""
    try:
        el = pkg.xml(res)
    except OfdFormatError:
        return set()
    base = java_trim(el.get("BaseLoc") or "")
    media_folder = parent_folder(res) if not base else joined_folder(parent_folder(res), base)
    out: set[str] = set()
    for loc in res_file_locations(el):
        out |= set(_located(pkg, loc, media_folder))
    return out


def _annotations(pkg: Package, root: Element, folder: str, pages: set[str]) -> set[str]:
    """The Annotations list and the annotation files of the document's pages (an
    unreadable list or an entry leaving the package raises :class:`OfdFormatError`)."""
    out: set[str] = set()
    for el in child_elements(root, "Annotations"):
        for listed in _located(pkg, el.text, folder):
            out.add(listed)
            out |= {
                found
                for page, part in annotation_files(pkg, listed)
                if page in pages and (found := pkg.locate(part)) is not None
            }
    return out


def _located(pkg: Package, loc: str | None, folder: str) -> list[str]:
    """The part ``loc`` names (:meth:`.Package.locate`), none when it is missing; raises
    :class:`OfdFormatError` when it cannot be resolved (readers may open another file)."""
    if not loc or not java_trim(loc):
        return []
    found = pkg.locate(pkg.resolve(loc, folder))
    return [found] if found is not None else []
