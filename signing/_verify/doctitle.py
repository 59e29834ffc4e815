"""The document metadata a viewer shows, before and after signing (red team pdf12, p12-06;
pdf14, p14-01, p14-04, p14-05).

The trailer's ``/Info`` and the catalog's XMP ``/Metadata`` are not page content, and the
object comparison does not walk them; but viewers show them: pdf.js (Firefox) sets the
window and tab title from XMP ``dc:title``, else ``/Info /Title``, and shows ``/Info``'s
Subject, Keywords, Author and Creator in Document Properties; Acrobat shows the same keys
and their XMP counterparts (``dc:description``, ``pdf:Keywords``, ``dc:creator``,
``xmp:CreatorTool``).

The rule compares what the signed revision and the final file *say*, read by whole
readers, never by a pattern over untrusted XML:

* ``/Info``: the keys in :data:`_INFO_KEYS`, as pyHanko decodes text strings;
* XMP: the stream decoded with pyHanko's own filters (every filter and predictor it
  knows) under :data:`_MAX_XMP` bytes per stage, then parsed by pyHanko's XMP reader
  (lxml, entities not resolved; CDATA is text, as for pdf.js); every property but the
  ones tools rewrite on each save (:data:`_TOOL_MANAGED`) is compared; and, since pdf.js
  finds elements by their written prefix where pyHanko goes by namespace, every text of
  the packet whatever element holds it (defusedxml) must have been shown before.

A value of the final file the signed revision did not have is a change, unless every text
in it was already shown by the signed revision (pyHanko copies ``/Info /Title`` into
``dc:title`` when it adds validation data). An XMP packet that cannot be decoded or parsed
is a change when its bytes differ from the signed revision's. Values that went away are
not reported: a viewer then shows less, not something new. Linear in the packet's size.
"""

from __future__ import annotations

import hashlib
from io import BytesIO
from typing import Any

from signing._verify.objects import RevisionObjects

__all__ = ["title_change"]

#: Bytes of an XMP packet decoded at most (each filter stage); past it the packet counts
#: as unreadable (then any byte change is a change).
_MAX_XMP = 1 << 20
#: The /Info keys a viewer shows (pdf.js and Acrobat document properties). /Producer,
#: /CreationDate and /ModDate are rewritten by every tool that saves, validation data too.
_INFO_KEYS = ("/Title", "/Subject", "/Keywords", "/Author", "/Creator")
#: XMP properties a tool rewrites on each save (pyHanko: ModifyDate, MetadataDate,
#: Producer), as (namespace, local name).
_TOOL_MANAGED = frozenset(
    {
        ("http://ns.adobe.com/xap/1.0/", "ModifyDate"),
        ("http://ns.adobe.com/xap/1.0/", "MetadataDate"),
        ("http://ns.adobe.com/pdf/1.3/", "Producer"),
        ("http://ns.adobe.com/xap/1.0/mm/", "InstanceID"),
    }
)
_UNREADABLE = "(XMP metadata that cannot be read)"
#: The key of every text of a packet (see :func:`_texts`).
_TEXTS = "XMP text"
#: The XMP toolkit attribute (``x:xmptk``) a writer stamps on the packet.
_TOOLKIT = frozenset({("adobe:ns:meta/", "xmptk")})
#: Attributes of these namespaces are structure (``xml:lang``, ``rdf:about``,
#: ``rdf:parseType``), not values a viewer shows.
_STRUCTURAL = frozenset(
    {"http://www.w3.org/XML/1998/namespace", "http://www.w3.org/1999/02/22-rdf-syntax-ns#"}
)


def _split(tag: str) -> tuple[str, str]:
    """``{namespace}local`` as ElementTree writes a name → (namespace, local)."""
    if tag.startswith("{") and "}" in tag:
        namespace, _, local = tag[1:].partition("}")
        return namespace, local
    return "", tag


#: /Info keys and the XMP properties that say the same (pyHanko and Acrobat copy one into
#: the other): a text one of them showed in the signed revision may move to the other.
_FIELDS = {
    "/Info /Title": "title",
    "XMP dc:title": "title",
    "/Info /Subject": "subject",
    "XMP dc:description": "subject",
    "/Info /Keywords": "keywords",
    "XMP pdf:Keywords": "keywords",
    "XMP pdf:keywords": "keywords",
    "XMP dc:subject": "keywords",
    "/Info /Author": "author",
    "XMP dc:creator": "author",
    "/Info /Creator": "creator",
    "XMP xmp:CreatorTool": "creator",
}
#: Texts shown per revision are compared after this many characters at most.
_MAX_TEXT = 4096


def title_change(reader: Any, objs: RevisionObjects, signed: int) -> str | None:
    """A sentence when the final file shows document metadata (title, subject, keywords,
    author, creator, any XMP property) the revision ``signed`` did not; None otherwise."""
    final = objs.revisions - 1
    try:
        before = _shown(reader, objs, signed)
    except Exception:  # a signed revision whose trailer cannot be read: judged elsewhere
        return None
    try:
        after = _shown(reader, objs, final)
    except Exception as exc:  # what the final file shows cannot be told: a change
        after = {"metadata": (f"{_UNREADABLE[:-1]}: {type(exc).__name__})",)}
    known: dict[str, set[str]] = {}
    for key, texts in before.items():
        known.setdefault(_FIELDS.get(key, key), set()).update(_pieces(texts))
    changed: list[str] = []
    everything = set().union(*known.values()) if known else set()
    for key, texts in after.items():
        if texts == before.get(key) or not texts:
            continue
        if key == _TEXTS:
            new = [t for t in texts if t not in everything]
            if new:
                changed.append(f"{key} {' / '.join(repr(t[:80]) for t in new[:2])}")
            continue
        group = known.get(_FIELDS.get(key, key), set())
        if key != "XMP packet" and all(text in group for text in texts):
            continue  # moved or copied from /Info to XMP, or the other way round
        changed.append(f"{key} {' / '.join(repr(t[:80]) for t in texts[:2])}")
    if not changed:
        return None
    return (
        "the document metadata viewers show (document title in the window or tab, "
        "document properties) was changed after signing: " + "; ".join(sorted(changed)[:4])
    )


def _pieces(texts: tuple[str, ...]) -> set[str]:
    """Each text and its comma or semicolon separated parts (keywords written as one
    string in /Info and as a list in XMP)."""
    found = set(texts)
    for text in texts:
        for part in text.replace(";", ",").split(","):
            if part.strip():
                found.add(" ".join(part.split()))
    return found


def _shown(reader: Any, objs: RevisionObjects, revision: int) -> dict[str, tuple[str, ...]]:
    """What one revision says: ``/Info /Key`` → its text, ``XMP ns:name`` → its texts."""
    trailer = reader.get_historical_resolver(revision).trailer_view
    found: dict[str, tuple[str, ...]] = {}
    info = _resolve(objs, revision, trailer.raw_get("/Info") if "/Info" in trailer else None)
    if isinstance(info, dict):
        for key in _INFO_KEYS:
            value = _resolve(objs, revision, info.get(key) if key in info else None)
            text = _text(value)
            if text:
                found[f"/Info {key}"] = (text,)
    root = _resolve(objs, revision, trailer.raw_get("/Root") if "/Root" in trailer else None)
    if isinstance(root, dict) and "/Metadata" in root:
        meta = getattr(root, "raw_get", root.get)("/Metadata")
        found.update(_xmp(_resolve(objs, revision, meta)))
    return found


def _resolve(objs: RevisionObjects, revision: int, value: Any) -> Any:
    idnum = getattr(value, "idnum", None)
    return objs.get(idnum, revision) if isinstance(idnum, int) else value


def _text(value: Any) -> str:
    """A text string as pyHanko reads it (TextStringObject: PDFDocEncoding or UTF-16);
    a string it could not decode as Latin-1, so that any byte change shows."""
    if isinstance(value, str):
        return " ".join(value.split())[:_MAX_TEXT]
    if isinstance(value, bytes):
        return " ".join(value.decode("latin-1").split())[:_MAX_TEXT]
    return ""


def _xmp(stream: Any) -> dict[str, tuple[str, ...]]:
    """The XMP properties of a /Metadata stream, tool-managed ones left out; a packet that
    cannot be decoded or parsed is one entry, its bytes' digest (compared, not shown)."""
    raw = getattr(stream, "encoded_data", None)
    if not isinstance(raw, bytes | bytearray):
        return {}
    packet = _decoded(stream)
    properties = _properties(packet) if packet is not None else None
    texts = _texts(packet) if packet is not None else None
    if properties is not None and texts is not None:
        properties[_TEXTS] = texts
        return properties
    head = repr(sorted((str(k), repr(v)) for k, v in stream.items() if k != "/Length"))
    digest = hashlib.sha256(head.encode() + b"\0" + bytes(raw)).hexdigest()
    return {"XMP packet": (_UNREADABLE, digest)}


def _decoded(stream: Any) -> bytes | None:
    """The packet decoded by pyHanko's filters, at most :data:`_MAX_XMP` bytes a stage.

    Not with a predictor: pyHanko 0.3x un-predicts a PNG row of filter type 0 (None) into
    zeros and knows no type 3 or 4, where pdf.js decodes them all (p14-01, r03); a
    predicted packet (no XMP writer makes one) is compared by its encoded bytes."""
    try:
        data = bytes(stream.encoded_data)
        for decoder, params in stream._stream_decoders():
            predictor = params.get("/Predictor", 1) if isinstance(params, dict) else 1
            if predictor != 1:
                return None
            data = decoder.decode_bounded(data, params, _MAX_XMP)
    except Exception:  # a filter pyHanko cannot apply, or over the bound
        return None
    return bytes(data) if len(data) <= _MAX_XMP else None


def _texts(packet: bytes) -> tuple[str, ...] | None:
    """Every text of the packet (element text and attribute values), whatever element
    holds it, tool-managed properties left out; None when it cannot be parsed (defusedxml:
    no DTD, no entities).

    pdf.js finds ``rdf:RDF``, ``rdf:Description`` and ``dc:title`` by their written
    prefix, pyHanko's reader by namespace: an element one of them skips is read by the
    other, so a text new anywhere in the packet is a change."""
    from defusedxml.ElementTree import fromstring

    try:
        root = fromstring(packet, forbid_dtd=True)
    except Exception:  # unparseable, or a DTD: compared as bytes by the caller
        return None
    found: set[str] = set()
    stack = [root]
    while stack:
        element = stack.pop()
        if not isinstance(element.tag, str) or _split(element.tag) in _TOOL_MANAGED:
            continue  # a tool-managed property, with what it holds
        for key, value in element.attrib.items():
            namespace, local = _split(key)
            if namespace not in _STRUCTURAL and (namespace, local) not in _TOOLKIT | _TOOL_MANAGED:
                found.add(" ".join(value.split())[:_MAX_TEXT])
        if element.text and element.text.strip():
            found.add(" ".join(element.text.split())[:_MAX_TEXT])
        for child in element:
            if child.tail and child.tail.strip():
                found.add(" ".join(child.tail.split())[:_MAX_TEXT])
            stack.append(child)
    found.discard("")
    return tuple(sorted(found))


def _properties(packet: bytes) -> dict[str, tuple[str, ...]] | None:
    """The packet's properties by pyHanko's XMP reader; None when it cannot parse it."""
    from pyhanko.pdf_utils.metadata.model import NS
    from pyhanko.pdf_utils.metadata.xmp_xml import parse_xmp

    prefixes = {uri: prefix for prefix, uri in NS.items()}

    try:
        structs = parse_xmp(BytesIO(packet))
    except Exception:  # unparseable: compared as bytes by the caller
        return None
    found: dict[str, list[str]] = {}
    for struct in structs:
        for name, value in struct:
            if (name.ns, name.local_name) in _TOOL_MANAGED:
                continue
            prefix = prefixes.get(name.ns, name.ns)
            texts = found.setdefault(f"XMP {prefix}:{name.local_name}", [])
            _flatten(value, texts)
    return {key: tuple(texts) for key, texts in found.items()}


def _flatten(value: Any, out: list[str]) -> None:
    """Every text of an XMP value (structures, arrays, URIs), in document order."""
    stack = [value]
    while stack and len(out) < 256:
        item = stack.pop()
        inner = getattr(item, "value", item)
        if isinstance(inner, str):
            text = " ".join(inner.split())[:_MAX_TEXT]
            if text:
                out.append(text)
        elif hasattr(inner, "entries"):
            stack.extend(reversed(list(inner.entries)))
        elif hasattr(inner, "__iter__"):
            stack.extend(reversed([v for _, v in inner]))
