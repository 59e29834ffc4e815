"""The document title a viewer shows, before and after signing (red team pdf12, p12-06).

The trailer's ``/Info`` and the catalog's XMP ``/Metadata`` are not page content, and the
object comparison does not walk them; but viewers show their title as the document's name:
pdf.js (Firefox) sets the window and tab title from XMP ``dc:title``, else ``/Info
/Title``, whatever ``/DisplayDocTitle`` says; Acrobat shows it in Document Properties and,
with ``/DisplayDocTitle`` (a ``/ViewerPreferences`` key, judged with the catalog), in its
title bar. A title text the final file shows that the signed revision did not is reported.

Tools that add validation data rewrite ``/Info`` (``/ModDate``, ``/Producer``) and XMP
(pyHanko copies ``/Info /Title`` into ``dc:title``): only a title text that is new counts,
not an entry that moved from one place to the other or went away.
"""

from __future__ import annotations

import html
import re
import zlib
from typing import Any

from signing._verify.objects import RevisionObjects

__all__ = ["title_change"]

#: Bytes of an XMP packet read at most (decoded); past it the packet counts as unreadable.
_MAX_XMP = 1 << 20
#: An XMP element whose local name is ``title`` (dc:title, and any other schema's).
_XMP_TITLE = re.compile(rb"<([\w.-]+:)?title\b[^>]*>(.*?)</\1?title\s*>", re.S | re.I)
_TAG = re.compile(rb"<[^>]*>")
_UNREADABLE = "(XMP metadata that cannot be read)"


def title_change(reader: Any, objs: RevisionObjects, signed: int) -> str | None:
    """A sentence when the final file shows a document title the revision ``signed`` did
    not; None otherwise (also when the title cannot be found in either)."""
    final = objs.revisions - 1
    try:
        before = _titles(reader, objs, signed)
        after = _titles(reader, objs, final)
    except Exception:  # a title nobody can read is shown by nobody
        return None
    new = sorted(after - before)
    if not new:
        return None
    shown = "; ".join(repr(t[:80]) for t in new[:2])
    return (
        f"the document title viewers show as its name (window or tab title, document "
        f"properties) was set after signing to {shown}"
    )


def _titles(reader: Any, objs: RevisionObjects, revision: int) -> set[str]:
    """The title texts of one revision: ``/Info /Title`` and the XMP title elements."""
    trailer = reader.get_historical_resolver(revision).trailer_view
    found: set[str] = set()
    info = _resolve(objs, revision, trailer.raw_get("/Info") if "/Info" in trailer else None)
    if isinstance(info, dict):
        title = _resolve(objs, revision, info.get("/Title") if "/Title" in info else None)
        text = _text(title)
        if text:
            found.add(text)
    root = _resolve(objs, revision, trailer.raw_get("/Root") if "/Root" in trailer else None)
    if isinstance(root, dict) and "/Metadata" in root:
        found |= _xmp_titles(_resolve(objs, revision, root.get("/Metadata")))
    return found


def _resolve(objs: RevisionObjects, revision: int, value: Any) -> Any:
    idnum = getattr(value, "idnum", None)
    return objs.get(idnum, revision) if isinstance(idnum, int) else value


def _text(value: Any) -> str:
    if isinstance(value, str):
        return " ".join(value.split())
    if isinstance(value, bytes):
        return " ".join(value.decode("latin-1").split())
    return ""


def _xmp_titles(stream: Any) -> set[str]:
    packet = _xmp_bytes(stream)
    if packet is None:
        return {_UNREADABLE}
    found = set()
    for match in _XMP_TITLE.finditer(packet):
        words = _TAG.sub(b" ", match.group(2)).decode("utf-8", "replace")
        text = " ".join(html.unescape(words).split())
        if text:
            found.add(text)
    return found


def _xmp_bytes(stream: Any) -> bytes | None:
    """The packet's bytes: unfiltered or Flate only, at most :data:`_MAX_XMP` of them."""
    raw = getattr(stream, "encoded_data", None)
    if not isinstance(raw, bytes | bytearray):
        return None
    filters = stream.get("/Filter") if hasattr(stream, "get") else None
    if filters is None or filters == []:
        return bytes(raw[:_MAX_XMP])
    if filters in ("/FlateDecode", ["/FlateDecode"]):
        try:
            return zlib.decompressobj().decompress(bytes(raw), _MAX_XMP)
        except zlib.error:
            return None
    return None
