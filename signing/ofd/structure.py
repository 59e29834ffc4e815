"""What a reader shows must be what the signatures cover: the structural rules of an OFD
package that no digest protects (see docs/verification.md, "OFD structure").

Producers leave parts out of their References: KingGrid's tax-bureau seals leave OFD.xml
out, most seals leave Signatures.xml out (so later seals can be appended). Readers differ
in what they pick from such parts: the first ``DocBody`` (viewers), the last ``DocRoot`` of
several (last-wins binders), only elements in the OFD namespace (ofdrw's strict mode), a
``Signature`` entry found by a deep search. So these rules hold, each problem failing every
signature of the file as "modified after signing":

* OFD.xml and each Signatures.xml use one namespace (an OFD one, or none) throughout, and
  only the elements GB/T 33190 defines there; Signatures.xml, and OFD.xml when no signature
  covers it, hold no comment, CDATA or processing instruction (what a text search reads).
  A ``DocBody`` holds one ``DocRoot`` and at most one ``DocInfo`` and ``Signatures``; no
  two name the same document or Signatures.xml;
  ``Versions`` (another version a reader may show) is refused.
* For each signature that does not itself cover OFD.xml (whatever later seals cover),
  OFD.xml may hold one ``DocBody`` only, its ``DocInfo`` only the standard's metadata and
  no ``Cover`` image, and no hidden markup; the metadata itself (title, author, custom
  data) is reported as unsigned for that signature (:func:`doc_info_names`).
* Every document of a signed package is signed: a ``DocBody`` with no signature beside a
  signed one is an unsigned document.
* Every part is either covered by a signature's References, shown by a document, or one
  of the signature structure's own parts (OFD.xml, Signatures.xml, each listed signature's
  Signature.xml, signed value and seal). A ``Signature.xml`` no Signatures.xml lists is a
  seal whose entry was dropped; any other stray part (e.g. one added to change the file's
  hash) is something the signer did not sign.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element

from signing.ofd.package import java_trim, local_name

__all__ = [
    "OFD_NAMESPACES",
    "PackageFindings",
    "doc_info_names",
    "document_shaped",
    "ofd_xml_findings",
    "signature_shaped",
    "signatures_xml_problems",
    "stray_parts",
    "unsigned_metadata_note",
]

OFD_NAMESPACES = frozenset({"http://www.ofdspec.org/2016", "http://www.ofdspec.org", ""})
_DOC_BODY = {"DocInfo", "DocRoot", "Signatures", "Versions"}
_DOC_INFO = {
    "DocID",
    "Title",
    "Author",
    "Subject",
    "Abstract",
    "CreationDate",
    "ModDate",
    "DocUsage",
    "Cover",
    "Keywords",
    "Creator",
    "CreatorVersion",
    "CustomDatas",
}
_DOC_INFO_LISTS = {"Keywords": "Keyword", "CustomDatas": "CustomData"}
_MAX_LISTED = 10
_HIDDEN = re.compile(r"<!--|<!\[CDATA\[|<\?(?!xml[\s?])")


@dataclass
class PackageFindings:
    """Problems (the file is not as signed) and notes (worth saying, not a failure)."""

    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _namespace(element: Element) -> str:
    tag = element.tag if isinstance(element.tag, str) else ""
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""


def _foreign(root: Element, path: str) -> list[str]:
    """One problem if ``root`` is outside the OFD namespaces or any element below it is in
    another namespace than the root's."""
    ns = _namespace(root)
    if ns not in OFD_NAMESPACES:
        return [f"{path}: its root element is in the foreign namespace {ns!r}"]
    for el in root.iter():
        if _namespace(el) != ns:
            return [
                f"{path}: the element <{local_name(el)}> is in the namespace "
                f"{_namespace(el)!r}, not the document's {ns!r}"
            ]
    return []


def _unknown(parent: Element, allowed: Iterable[str], path: str) -> list[str]:
    allowed = set(allowed)
    names = sorted({local_name(el) for el in parent if local_name(el) not in allowed})
    if not names:
        return []
    return [
        f"{path}: <{local_name(parent)}> holds elements the standard does not define there: "
        + ", ".join(f"<{n}>" for n in names[:_MAX_LISTED])
    ]


def _hidden_markup(raw: bytes, path: str) -> list[str]:
    """Comments, CDATA sections and processing instructions: the XML parser drops them,
    a reader that searches the text (a regex, a string search) does not. ``raw`` is UTF-8
    (:meth:`.Package.xml` refuses any other encoding), so its text is what a parser reads."""
    if _HIDDEN.search(raw.decode("utf-8-sig", "replace")) is None:
        return []
    return [f"{path}: it holds comments, CDATA or processing instructions"]


def signatures_xml_problems(root: Element, raw: bytes, path: str) -> list[str]:
    """A Signatures.xml must hold only ``MaxSignId`` and empty ``Signature`` entries, all
    in its own namespace, and no markup a parser drops: anything else may hide an entry
    from this verifier or show one to another reader."""
    problems = _foreign(root, path) + _unknown(root, ("MaxSignId", "Signature"), path)
    problems += _hidden_markup(raw, path)
    for el in root:
        if len(el) and local_name(el) in ("MaxSignId", "Signature"):
            problems.append(f"{path}: a <{local_name(el)}> holds child elements")
            break
    return problems


def ofd_xml_findings(
    root: Element, raw: bytes, *, covered: bool, referenced: bool
) -> PackageFindings:
    """The problems of OFD.xml; ``covered``: an intact signature's digest covers it;
    ``referenced``: some signature names it (its metadata is then not reported unsigned:
    a broken digest fails that signature)."""
    found = PackageFindings(problems=_foreign(root, "OFD.xml"))
    found.problems += _unknown(root, ("DocBody",), "OFD.xml")
    bodies = [el for el in root if local_name(el) == "DocBody"]
    if len(bodies) > 1 and not covered:
        found.problems.append(
            f"OFD.xml lists {len(bodies)} documents (DocBody) but a signature leaves OFD.xml out"
        )
    for name in ("DocRoot", "Signatures"):
        values = [_text(el) for body in bodies for el in body if local_name(el) == name]
        if len(set(values)) != len(values):
            found.problems.append(f"OFD.xml: two documents name the same {name}")
    for body in bodies:
        found.problems += _doc_body(body, covered)
    if not covered:
        found.problems += _hidden_markup(raw, "OFD.xml")
    if not referenced:
        found.notes += unsigned_metadata_note(doc_info_names(root))
    return found


def _text(el: Element) -> str:
    return java_trim(el.text or "")


def _doc_body(body: Element, covered: bool) -> list[str]:
    problems = _unknown(body, _DOC_BODY, "OFD.xml")
    for name in ("DocRoot", "Signatures", "DocInfo"):
        count = sum(1 for el in body if local_name(el) == name)
        if count > 1 or (name == "DocRoot" and count == 0):
            problems.append(f"OFD.xml: a DocBody holds {count} <{name}> elements")
    if any(local_name(el) == "Versions" for el in body):
        problems.append(
            "OFD.xml: a DocBody lists document versions (Versions), which are not verified"
        )
    if covered:
        return problems
    for info in (el for el in body if local_name(el) == "DocInfo"):
        problems += _unknown(info, _DOC_INFO, "OFD.xml")
        for el in info:
            item = _DOC_INFO_LISTS.get(local_name(el))
            problems += _unknown(el, (item,) if item else (), "OFD.xml")
        if any(local_name(el) == "Cover" for el in info):
            problems.append(
                "OFD.xml: DocInfo names a cover image (Cover), but a signature leaves OFD.xml out"
            )
    return problems


_PROLOG = rb"\A(?:\xef\xbb\xbf)?(?:\s|<\?(?:[^?]|\?(?!>))*\?>|<!--(?:[^-]|-(?!->))*-->)*+"
"""The prolog (declaration, comments, processing instructions), matched without
backtracking (possessive: a hostile prolog costs linear time)."""
_DOCUMENT_ROOT = re.compile(_PROLOG + rb"<(?:[^\s<>/:!?]++:)?Document[\s/>]")
_SIGNATURE_ROOT = re.compile(_PROLOG + rb"<(?:[^\s<>/:!?]++:)?Signature[\s/>]")


def document_shaped(head: bytes) -> bool:
    """Whether a part whose first bytes are ``head`` has a ``<Document>`` root element (in
    any namespace prefix): one a DocRoot may name (the verifier refuses a DocRoot with
    another root element). What a reader parses as a Document.xml the verifier parses too
    (UTF-8, no DTD), so its root element opens its text."""
    return _DOCUMENT_ROOT.match(head) is not None


def signature_shaped(head: bytes) -> bool:
    """Whether a part whose first bytes are ``head`` has a ``<Signature>`` root element (in
    any namespace prefix): a signature's Signature.xml, whatever the part's name."""
    return _SIGNATURE_ROOT.match(head) is not None


def doc_info_names(root: Element) -> list[str]:
    """The DocInfo elements of OFD.xml a reader shows (all but the ``DocID``), sorted."""
    bodies = [el for el in root if local_name(el) == "DocBody"]
    return sorted(
        {
            local_name(el)
            for body in bodies
            for info in body
            if local_name(info) == "DocInfo"
            for el in info
            if local_name(el) not in ("DocID",)
        }
    )


def unsigned_metadata_note(names: list[str]) -> list[str]:
    """The note that the DocInfo elements ``names`` are unsigned (none when empty)."""
    if not names:
        return []
    return [
        "OFD.xml is covered by no signature: its document information (DocInfo: "
        + ", ".join(names)
        + ") is unsigned and may have been changed; only the signed pages are evidence"
    ]


def stray_parts(
    paths: Iterable[str], accounted: set[str], unlisted: Iterable[str] = ()
) -> list[str]:
    """Problems for parts neither covered, shown nor part of the signature structure, and
    for signatures no Signatures.xml entry names: stray parts named Signature.xml and the
    ``unlisted`` parts shaped like one (:func:`signature_shaped`), covered by a later seal
    or not (red team 10, r10-03: the issuer's entry removed from a certified copy, whose
    vault seal covers the issuer's signature files)."""
    paths = list(paths)
    stray = [p for p in paths if p not in accounted]
    named = {p for p in stray if p.rsplit("/", 1)[-1].lower() == "signature.xml"}
    named |= set(unlisted)
    orphans = [p for p in paths if p in named]
    others = [p for p in stray if p not in named]
    problems = []
    if orphans:
        problems.append(
            "signatures no Signatures.xml lists (an entry was removed?): "
            + ", ".join(orphans[:_MAX_LISTED])
        )
    if others:
        problems.append(
            "parts no signature covers and no document uses: " + ", ".join(others[:_MAX_LISTED])
        )
    return problems
