"""What a certified copy may add to parts an earlier seal covers, and how the earlier bytes
are rebuilt to check that nothing else changed (see :mod:`signing.ofd.copy`).

Three parts, each only by appended elements that name parts the earlier seal did not
cover (new parts):

- ``Document.xml``: an ``<Annotations>`` or ``<Attachments>`` element (when it had none);
- the document's Annotations list: ``<Page PageID><FileLoc>`` entries;
- the document's Attachments list: ``<Attachment><FileLoc>`` entries.

:func:`strip_additions` removes such elements until what is left has the digest the
earlier seal recorded.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from signing.ofd.package import OfdFormatError, Package, local_name

__all__ = ["Additions", "list_parts", "strip_additions"]

_MAX_CHOICE = 4
_MAX_ADDED = 64
_PATTERNS = {
    "document": re.compile(
        rb"<(?P<p>[\w.-]+:)?(?P<name>Annotations|Attachments)>(?P<loc>[^<]*)</(?P=p)?(?P=name)>"
    ),
    "Annotations": re.compile(
        rb"<(?P<p>[\w.-]+:)?Page\s+PageID=\"(?P<page>[^\"<>]*)\"\s*>\s*<(?P=p)?FileLoc>"
        rb"(?P<loc>[^<]*)</(?P=p)?FileLoc>\s*</(?P=p)?Page>"
    ),
    "Attachments": re.compile(
        rb"<(?P<p>[\w.-]+:)?Attachment\b[^<>]*>\s*<(?P=p)?FileLoc>(?P<loc>[^<]*)"
        rb"</(?P=p)?FileLoc>\s*</(?P=p)?Attachment>"
    ),
}


@dataclass
class Additions:
    """The appended elements found in one part, and the part without them."""

    earlier: bytes
    names: list[str] = field(default_factory=list)
    """What was added, in words (``Annotations``, ``an annotation of page 1``, ...)."""
    annotation_lists: list[str] = field(default_factory=list)
    """Annotations lists the part now names (Document.xml's added ``<Annotations>``)."""
    annotations: list[tuple[str, str]] = field(default_factory=list)
    """(page ID, annotation part) entries added to an Annotations list."""


def list_parts(pkg: Package, doc_root: str) -> dict[str, str]:
    """The document's Annotations and Attachments lists: package path -> kind."""
    folder = doc_root.rsplit("/", 1)[0] if "/" in doc_root else ""
    out = {}
    for el in pkg.xml(doc_root):
        if local_name(el) in ("Annotations", "Attachments") and el.text:
            out[pkg.resolve(el.text, folder)] = local_name(el)
    return out


def strip_additions(
    pkg: Package,
    path: str,
    kind: str,
    current: bytes,
    covered: set[str | None],
    accept: Callable[[bytes], bool],
) -> Additions | None:
    """``current`` (the bytes of ``path``, a ``kind`` part: ``document``, ``Annotations``
        or ``Attachments``) without appended elements that name parts outside ``covered``,
        such that ``accept`` (the earlier seal's digest) takes what is left; None when no such
        choice exists. An earlier seal need not cover every part its document names (a later
        seal may have added them before the copy), so the elements removed are a choice: every
        combination when there are at most four, else the last ``k`` (a copy appends last); more
    than 64 such elements are not considered."""
    folder = path.rsplit("/", 1)[0] if "/" in path else ""
    found: list[tuple[re.Match[bytes], str]] = []
    for match in _PATTERNS[kind].finditer(current):
        try:
            target = pkg.resolve(match.group("loc").decode("utf-8"), folder)
        except (OfdFormatError, UnicodeDecodeError):
            return None
        if target not in covered:
            found.append((match, target))
    if len(found) > _MAX_ADDED:  # each choice costs a digest of the part: stay bounded
        return None
    if len(found) <= _MAX_CHOICE:
        choices = [
            list(c) for k in range(1, len(found) + 1) for c in itertools.combinations(found, k)
        ]
    else:
        choices = [found[-k:] for k in range(1, len(found) + 1)]
    for chosen in choices:
        earlier = _without(current, [m.span() for m, _ in chosen])
        if accept(earlier):
            return _describe(kind, chosen, earlier)
    return None


def _without(data: bytes, cuts: list[tuple[int, int]]) -> bytes:
    pieces, at = [], 0
    for start, end in cuts:
        pieces.append(data[at:start])
        at = end
    pieces.append(data[at:])
    return b"".join(pieces)


def _describe(kind: str, chosen: list[tuple[re.Match[bytes], str]], earlier: bytes) -> Additions:
    out = Additions(earlier=earlier)
    for match, target in chosen:
        if kind == "document":
            name = match.group("name").decode()
            out.names.append(name)
            if name == "Annotations":
                out.annotation_lists.append(target)
        elif kind == "Annotations":
            page = match.group("page").decode("utf-8", "replace")
            out.names.append(f"an annotation of page {page}")
            out.annotations.append((page, target))
        else:
            out.names.append(f"the attachment {target.rsplit('/', 1)[-1]}")
    return out
