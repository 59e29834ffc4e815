"""The resources a document declares (GB/T 33190 Res.xsd), by kind and ID: its colour
spaces and drawing parameters, from the resource files of its ``CommonData``
(``PublicRes``, ``DocumentRes``) and of a page (``PageRes``), IDs as readers resolve them
(:func:`signing.ofd.package.ref_id`; an ID declared twice is refused elsewhere,
:mod:`signing.ofd.model`)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from xml.etree.ElementTree import Element

from signing.ofd.package import (
    OfdFormatError,
    Package,
    child_elements,
    local_name,
    parent_folder,
    ref_id,
)

__all__ = ["declared", "resource_files"]


def _res_files(pkg: Package, doc_root: str, page: str | None) -> list[str]:
    found = [
        pkg.resolve(res.text, parent_folder(doc_root))
        for common in pkg.xml(doc_root)
        if local_name(common) == "CommonData"
        for res in common
        if local_name(res) in ("PublicRes", "DocumentRes") and res.text
    ]
    if page is not None and pkg.has(page):
        found += [
            pkg.resolve(res.text, parent_folder(page))
            for res in pkg.xml(page)
            if local_name(res) == "PageRes" and res.text
        ]
    return [path for path in found if pkg.has(path)]


def declared(pkg: Package, doc_root: str, kind: str, page: str | None = None) -> dict[str, Element]:
    """The resources named ``kind`` (``ColorSpace``, ``DrawParam``) the document
    ``doc_root`` declares (and the page part ``page``), by ID; the first of an ID kept.
    Raises :class:`signing.ofd.package.OfdFormatError` for an unreadable resource file."""
    return pkg.once(
        ("declared", doc_root, kind, page or ""),
        lambda: _declared(pkg, doc_root, kind, page),
    )


def _declared(pkg: Package, doc_root: str, kind: str, page: str | None) -> dict[str, Element]:
    found: dict[str, Element] = {}
    for path in _res_files(pkg, doc_root, page):
        for el in pkg.xml(path).iter():
            if local_name(el) == kind:
                found.setdefault(ref_id(el.get("ID")), el)
    return found


def resource_files(pkg: Package, doc_root: str, parts: Iterable[str]) -> Iterator[str]:
    """The resource parts what ``parts`` draw may use: the document's ``PublicRes`` and
    ``DocumentRes``, then each part's ``PageRes`` (each as a reader opens it, "" when its
    location cannot be resolved; not all in the package)."""
    for common in child_elements(pkg.xml(doc_root), "CommonData"):
        for el in common:
            if local_name(el) in ("PublicRes", "DocumentRes"):
                yield _located(pkg, el.text, doc_root)
    for part in parts:
        if pkg.has(part):
            for el in child_elements(pkg.xml(part), "PageRes"):
                yield _located(pkg, el.text, part)


def _located(pkg: Package, loc: str | None, beside: str) -> str:
    try:
        path = pkg.resolve(loc, parent_folder(beside))
    except OfdFormatError:
        return ""
    return pkg.locate(path) or path
