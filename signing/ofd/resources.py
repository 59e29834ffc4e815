"""The resources a document declares (GB/T 33190 Res.xsd), by kind and ID: its colour
spaces and drawing parameters, from the resource files of its ``CommonData``
(``PublicRes``, ``DocumentRes``) and of a page (``PageRes``), IDs as readers resolve them
(:func:`signing.ofd.package.ref_id`; an ID declared twice is refused elsewhere,
:mod:`signing.ofd.model`)."""

from __future__ import annotations

from xml.etree.ElementTree import Element

from signing.ofd.package import Package, local_name, ref_id

__all__ = ["declared"]


def _dir(path: str) -> str:
    return path.rsplit("/", 1)[0] if "/" in path else ""


def _res_files(pkg: Package, doc_root: str, page: str | None) -> list[str]:
    found = [
        pkg.resolve(res.text, _dir(doc_root))
        for common in pkg.xml(doc_root)
        if local_name(common) == "CommonData"
        for res in common
        if local_name(res) in ("PublicRes", "DocumentRes") and res.text
    ]
    if page is not None and pkg.has(page):
        found += [
            pkg.resolve(res.text, _dir(page))
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
