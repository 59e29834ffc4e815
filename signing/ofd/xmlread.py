"""Parsing one XML part of an OFD so that what the verifier reads is what every reader
reads, within bounds on memory and time.

``defusedxml`` with no DTD at all (no entity expansion, no external entities); the part
must be UTF-8 (:func:`require_utf8`). :class:`XmlBudget` bounds the elements of one part
and of all the parts of a file (counted while parsing), the XML bytes of all parts, and
the memory the parsed strings of all parts take (element and attribute names, attribute
values, text; counted once a part is parsed, as one part's are bounded by its size).
Python holds a string at 1, 2 or 4 bytes a character, so one emoji makes a whole
attribute four times its UTF-8 size (red team 5, a09).

Markup that two XML libraries read differently is refused (red team 5, a01/a02/a05/a06).
ofdrw, the reference OFD reader, reads with dom4j: ``attributeValue("Boundary")`` takes the
first attribute whose *local* name is ``Boundary``, whatever its namespace, where
ElementTree's ``get("Boundary")`` takes only the one without a namespace; and
``getTextTrim()`` joins every text piece of an element, where ElementTree's ``.text`` is
the text before its first child. OFD defines no namespaced attribute and no element with
both text and child elements (mixed content), and no real OFD seen uses either, so both
are refused outright: any attribute in a namespace but ``xml:space`` and ``xml:lang``
(namespace declarations are not attributes to either library), and any element with
child elements that holds text other than XML white space (space, tab, CR, LF) before,
between or after them.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from typing import Any
from xml.etree.ElementTree import Element, TreeBuilder

__all__ = ["XmlBudget", "XmlMalformed", "XmlRefused", "parse_xml", "require_utf8"]

_XML_NS = "{http://www.w3.org/XML/1998/namespace}"
_XML_ATTRIBUTES = frozenset({f"{_XML_NS}space", f"{_XML_NS}lang"})
_XML_SPACE = " \t\r\n"
_MIB = 1024 * 1024
_DECLARED = re.compile(rb"""<\?xml[^>]*?encoding\s*=\s*["']([^"']{0,40})["']""")
_DECLARATION = re.compile(rb"<\?xml\s")
_VERSION = re.compile(rb"""<\?xml\s+version\s*=\s*["']([^"']{0,40})["']""")


class XmlRefused(Exception):
    """A part the verifier will not read, though a reader may: over a limit, not UTF-8, a
    DTD, or markup readers read differently."""


class XmlMalformed(Exception):
    """A part that is not well-formed XML (no reader reads it)."""


@dataclass
class XmlBudget:
    """What the XML parts of one file may take, and what they took so far."""

    max_part_elements: int
    max_elements: int
    max_part_markup: int
    """Comments and processing instructions of one part (red team 10, r10-04)."""
    max_text: int
    """Bytes the parsed strings of all parts may take together."""
    max_total_bytes: int
    """XML bytes all parts parsed may hold together."""
    elements: int = 0
    text: int = 0
    bytes: int = 0

    def take_bytes(self, size: int) -> None:
        self.bytes += size
        if self.bytes > self.max_total_bytes:
            raise XmlRefused(
                f"the XML parts together are larger than {self.max_total_bytes // _MIB} MiB"
            )

    def take_text(self, size: int) -> None:
        self.text += size
        if self.text > self.max_text:
            raise XmlRefused(
                f"the XML parts together hold more than {self.max_text // _MIB} MiB "
                "of text once parsed"
            )


def _name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _check_attributes(tag: str, attrs: dict[str, str]) -> None:
    for key in attrs:
        if key.startswith("{") and key not in _XML_ATTRIBUTES:
            raise XmlRefused(
                f"readers differ on the attribute {key} of {_name(tag)}: some read a "
                f"namespaced attribute as {_name(key)}, others ignore it (OFD has none)"
            )


class _Builder(TreeBuilder):
    """A tree builder that counts elements against the budget, stopping the parse at its
    limits (memory and time stay bounded by the limits, not by the part's size)."""

    def __init__(self, budget: XmlBudget) -> None:
        super().__init__()
        self._budget, self._count, self._marks = budget, 0, 0

    def start(self, tag: Any, attrs: Any) -> Element:
        self._count += 1
        self._budget.elements += 1
        if self._count > self._budget.max_part_elements:
            raise XmlRefused(f"more than {self._budget.max_part_elements} elements")
        if self._budget.elements > self._budget.max_elements:
            raise XmlRefused(
                f"the parts together hold more than {self._budget.max_elements} elements"
            )
        return super().start(tag, attrs)

    def comment(self, text: Any) -> Any:
        self._markup()
        return super().comment(text)

    def pi(self, target: Any, text: Any = None) -> Any:
        self._markup()
        return super().pi(target, text)

    def _markup(self) -> None:
        """Count a comment or processing instruction: no element, but checks that read a
        part's bytes ask of each match whether it lies in one (red team 10, r10-04)."""
        self._marks += 1
        if self._marks > self._budget.max_part_markup:
            raise XmlRefused(
                f"more than {self._budget.max_part_markup} comments and processing instructions"
            )


def _mixed(tag: str) -> XmlRefused:
    return XmlRefused(
        f"readers differ on the text of {_name(tag)}: it has text beside child elements "
        "(some read the text before the first child, others join every piece; OFD has no "
        "mixed content)"
    )


def _check_tree(root: Element, budget: XmlBudget) -> None:
    """Count the strings of a parsed part against the budget (one part's strings are
    bounded by its size; the budget bounds all parts together) and refuse what readers
    read differently: namespaced attributes, mixed content."""
    size = 0
    getsize = sys.getsizeof
    for el in root.iter():
        size += getsize(el.tag)
        attrib, text = el.attrib, el.text
        if attrib:
            size += sum(map(getsize, attrib)) + sum(map(getsize, attrib.values()))
            if "{" in "".join(attrib):  # "{" is no name character: only a namespace has it
                _check_attributes(el.tag, attrib)
        if text is not None:
            size += getsize(text)
        if len(el):
            tails = [child.tail for child in el if child.tail is not None]
            size += sum(map(getsize, tails))
            if (text and text.strip(_XML_SPACE)) or "".join(tails).strip(_XML_SPACE):
                raise _mixed(el.tag)
    budget.take_text(size)


def require_utf8(data: bytes) -> None:
    """An XML part must be UTF-8 (every OFD writer's encoding, and every part of the
    corpus): valid UTF-8, no NUL byte (UTF-16 text without a byte order mark is valid
    UTF-8 with NULs, and an XML parser reads it as UTF-16), and a declaration, if any,
    naming UTF-8 and XML version 1.0. Then every byte-level check sees the characters
    the parser sees."""
    head = data.removeprefix(b"\xef\xbb\xbf")
    declared = _DECLARED.match(head)
    named = declared.group(1).lower() if declared else b"utf-8"
    if named not in (b"utf-8", b"utf8") or b"\x00" in data:
        raise XmlRefused("not UTF-8 (the only encoding accepted)")
    version = _VERSION.match(head)
    if _DECLARATION.match(head) and (version is None or version.group(1) != b"1.0"):
        raise XmlRefused(
            "not XML 1.0 (an XML 1.1 reader makes U+2028 and U+0085 line ends and takes "
            "other characters; the verifier's parser reads XML 1.0: red team 6, a06)"
        )
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        raise XmlRefused("not valid UTF-8") from None


def parse_xml(data: bytes, budget: XmlBudget) -> Element:
    """``data`` (checked by :func:`require_utf8`) parsed within ``budget``; raise
    :class:`XmlRefused` or :class:`XmlMalformed`."""
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import DefusedXMLParser

    budget.take_bytes(len(data))
    try:
        parser = DefusedXMLParser(target=_Builder(budget), forbid_dtd=True)
        parser.feed(data)
        root: Element = parser.close()
        _check_tree(root, budget)
    except XmlRefused:
        raise
    except DefusedXmlException as exc:
        raise XmlRefused(str(exc)) from None
    except Exception as exc:  # ParseError, ValueError, RecursionError
        raise XmlMalformed(f"{type(exc).__name__}: {exc}") from None
    return root
