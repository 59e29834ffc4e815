"""Where ofdrw's other reader, ``DLOFDReader``, looks for a document's parts.

``org.ofdrw.reader.DLOFDReader`` (ofdrw 7459e35) hands a viewer the pages, the stamps and
the annotations of the first document, but finds three kinds of part by rules of its own
rather than by resolving each location from the part that names it (as ``OFDReader`` and
:meth:`signing.ofd.package.Package.resolve` do):

- a ``Signatures.xml`` entry's ``BaseLoc`` (``getStampAnnot``): from the folder of the
  ``DocRoot``, with ``Signs/`` put in front when the text does not hold ``Signs`` anywhere;
- a ``Signature.xml``'s ``SignedValue``, whose seal picture it shows as the stamp: from the
  package root, relative or not (``OFDDir.getFile(String)`` is ``Paths.get(root, loc)``);
- an Annotations list's ``FileLoc`` (``getAnnotaions``): the ``DocRoot``'s folder name and
  a ``/`` after it removed wherever they occur, then the first ``/`` removed, the list's
  folder name put in front unless the text now holds it anywhere, and the result resolved
  from the ``DocRoot``'s folder.

Where such a rule reads another part of the package than the verifier does, the two
readers show different files (red team 8, r8-02: a stamp ``DLOFDReader`` showed over the
issuer's text from a Signature.xml no seal signed; r8-04: a certified copy's 加注 it did
not show). Each function here gives the package path ``DLOFDReader`` opens, or None when
its location leaves the package (it then shows nothing).
"""

from __future__ import annotations

from signing.ofd.package import java_trim

__all__ = ["DL", "dl_annotation", "dl_signature", "dl_signed_value"]

DL = "DLOFDReader"


def _parent(loc: str) -> str:
    """``ST_Loc.parent``: the text before the last ``/`` (empty without one)."""
    return loc[: loc.rfind("/")] if "/" in loc else ""


def _open(loc: str, folder: str) -> str | None:
    """The part ``ResourceLocator.get`` opens for ``loc`` with ``folder`` (a location text,
    as ``cd`` was given it) as its working folder: absolute from the root, else relative."""
    joined = loc if loc.startswith("/") else f"{folder}/{loc}"
    parts: list[str] = []
    for part in joined.split("/"):
        if not part.strip() or part == ".":
            continue
        if part == "..":
            if not parts:
                return None
            parts.pop()
            continue
        parts.append(part)
    return "/".join(parts) or None


def dl_signature(base_loc: str | None, doc_root: str | None) -> str | None:
    """The Signature.xml ``DLOFDReader`` opens for a Signatures.xml entry's ``BaseLoc``."""
    loc, root = java_trim(base_loc or ""), java_trim(doc_root or "")
    if not loc:
        return None
    if "Signs" not in loc:
        loc = "Signs/" + loc
    return _open(loc, _parent(root))


def dl_signed_value(signed_value: str | None) -> str | None:
    """The file ``DLOFDReader`` reads a stamp's seal picture from, for a ``SignedValue``."""
    loc = java_trim(signed_value or "")
    return _open("/" + loc, "") if loc else None


def dl_annotation(
    file_loc: str | None, doc_root: str | None, annotations: str | None
) -> str | None:
    """The annotation part ``DLOFDReader`` opens for an Annotations list's ``FileLoc``;
    ``annotations`` is the ``<Annotations>`` text of Document.xml (the list's location)."""
    loc, root = java_trim(file_loc or ""), java_trim(doc_root or "")
    if not loc:
        return None
    folder = _parent(root)
    if folder in loc:
        loc = java_trim(loc.replace(folder + "/", "").replace("/", "", 1))
        if not loc:
            return None
    listed = _parent(java_trim(annotations or ""))
    if listed not in loc:
        loc = f"{listed}/{loc}"
    return _open(loc, folder)
