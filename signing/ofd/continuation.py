"""What a Signatures.xml looked like before later signatures were appended to it.

The continue-signing rule (see docs/verification.md, "OFD"): a signature that protects
Signatures.xml stays intact when later signatures only appended their entries (and raised
MaxSignId). The verifier rebuilds the earlier bytes as bounded guesses, each then checked
against the digest the earlier signature recorded.

Signatures.xml is hostile input, so the scan is linear by construction: tags are found
with possessive quantifiers that never backtrack (each byte is looked at a bounded number
of times), whitespace before a removed element is trimmed in one C-level strip, and no
pattern starts with a repeat that a search would retry at every byte of a long run.

Each earlier signature guesses, and a file may list 200: the entries are found once per
file (:class:`SignaturesText`), and a Signatures.xml whose tags a Python loop would walk
for long is not searched at all. A comment, CDATA section or processing instruction is
text to the XML parser (no element budget counts it) but tags to the scan (red team 12,
r12-03: 333,000 ``<a>`` in a CDATA section, walked once per seal, 23.6 s for 190 seals),
and fails the file anyway (:mod:`signing.ofd.structure`); more than :data:`MAX_TAGS`
``<`` are more than 200 entries take.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

__all__ = ["MAX_TAGS", "SignaturesText", "earlier_signatures_xml", "tags"]

#: One tag: ``<``, an optional ``/``, a qualified name, then anything but ``<`` and ``>``.
_TAG = re.compile(rb"<(/?)((?:[\w.-]++:)?+)([\w.-]++)([^<>]*+)>")
#: An attribute in a tag's remainder, read left to right.
_ATTR = re.compile(rb"\s++([\w.:-]++)\s*+=\s*+(?:\"([^\"]*+)\"|'([^']*+)')")
_SPACE = b" \t\r\n"
#: How far below the current MaxSignId an earlier value is guessed.
_MAX_ID_GUESSES = 64
#: The ``<`` a Signatures.xml whose earlier forms are searched may hold: 200 entries written
#: with start and end tags take 400, the root, MaxSignId and the declaration 5.
MAX_TAGS = 1024
#: The longest MaxSignId value (white space trimmed) set back by guesses.
_MAX_ID_LENGTH = 64
#: A comment, CDATA section, DOCTYPE or processing instruction other than the declaration.
_HIDDEN = re.compile(rb"<!|<\?(?!xml[\s?])")


def tags(text: bytes) -> Iterator[re.Match[bytes]]:
    """Every tag of ``text`` in order; linear in ``len(text)``."""
    return _TAG.finditer(text)


def _id_of(rest: bytes) -> bytes | None:
    """The ``ID`` attribute of a tag's remainder (after its name), or None."""
    pos = 0
    while True:
        match = _ATTR.match(rest, pos)
        if match is None:
            return None
        if match.group(1) == b"ID":
            return match.group(2) if match.group(2) is not None else match.group(3)
        pos = match.end()


@dataclass(frozen=True)
class SignaturesText:
    """A Signatures.xml and where its entries lie: found once per file (:meth:`of`) for
    all the earlier signatures whose guesses remove some of them."""

    text: bytes
    entries: dict[bytes, tuple[int, int]] = field(default_factory=dict)
    """Signature ID -> start and end offsets of the first ``Signature`` element with it."""
    refused: str | None = None
    """Why no earlier form is searched (then :attr:`entries` is empty), or None."""

    @classmethod
    def of(cls, text: bytes) -> SignaturesText:
        """``text`` with its entries found: one walk of at most :data:`MAX_TAGS` tags."""
        marks = text.count(b"<")
        if marks > MAX_TAGS:
            return cls(text, refused=f"it holds {marks} tags, more than {MAX_TAGS}")
        if _HIDDEN.search(text) is not None:
            return cls(text, refused="it holds comments, CDATA or processing instructions")
        return cls(text, _entry_spans(text))


def _entry_spans(text: bytes) -> dict[bytes, tuple[int, int]]:
    """The first ``Signature`` element with each ID: its start and end offsets."""
    spans: dict[bytes, tuple[int, int]] = {}
    open_: list[tuple[bytes, bytes | None, int]] = []
    for tag in tags(text):
        closing, prefix, local, rest = tag.groups()
        if local != b"Signature":
            continue
        qname = prefix + local
        if closing:
            if open_ and open_[-1][0] == qname:
                _, sig_id, start = open_.pop()
                if sig_id is not None and sig_id not in spans:
                    spans[sig_id] = (start, tag.end())
            continue
        sig_id = _id_of(rest)
        if rest.rstrip(_SPACE).endswith(b"/"):
            if sig_id is not None and sig_id not in spans:
                spans[sig_id] = (tag.start(), tag.end())
        else:
            open_.append((qname, sig_id, tag.start()))
    return spans


def _cut(text: bytes, spans: list[tuple[int, int]]) -> bytes:
    """``text`` without ``spans`` (sorted, disjoint), each with the whitespace before it."""
    out: list[bytes] = []
    pos = 0
    for start, end in spans:
        out.append(text[pos:start].rstrip(_SPACE))  # one strip, not a Python loop a byte
        pos = end
    out.append(text[pos:])
    return b"".join(out)


def _max_sign_ids(text: bytes) -> list[tuple[int, int, int, int]]:
    """Each ``MaxSignId`` element: (start, value start, value end, end) offsets."""
    found: list[tuple[int, int, int, int]] = []
    opened: tuple[int, int] | None = None
    for tag in tags(text):
        closing, _, local, rest = tag.groups()
        if local != b"MaxSignId":
            opened = None
            continue
        if not closing and not rest.rstrip(_SPACE).endswith(b"/"):
            opened = (tag.start(), tag.end())
        elif closing and opened is not None:
            found.append((opened[0], opened[1], tag.start(), tag.end()))
            opened = None
    return found


def earlier_signatures_xml(
    current: bytes | SignaturesText, later_ids: list[str]
) -> Iterator[bytes]:
    """The bytes Signatures.xml may have had before the later signatures were appended:
    their entries removed, and then also any MaxSignId after the first removed entry, or
    the first MaxSignId's value set back (bounded guesses, each checked by its digest).
    Made one at a time (the caller stops at a match or at its budget); each costs a few
    linear passes over ``current`` at C speed and a walk of at most :data:`MAX_TAGS` tags.
    None for a text :meth:`SignaturesText.of` refuses."""
    found = current if isinstance(current, SignaturesText) else SignaturesText.of(current)
    wanted = {sig_id.encode() for sig_id in later_ids}
    if found.refused is not None or not wanted <= found.entries.keys():
        return
    ordered = sorted(found.entries[sig_id] for sig_id in wanted)
    if any(a[1] > b[0] for a, b in itertools.pairwise(ordered)):
        return  # one entry inside another: no appended form
    first_cut = ordered[0][0] if ordered else None
    text = _cut(found.text, ordered)
    yield text
    ids = _max_sign_ids(text)
    if first_cut is not None:
        yield _cut(text, [(start, end) for start, _, _, end in ids if start >= first_cut])
    if ids:
        _, v_start, v_end, _ = ids[0]
        for value in _older_ids(text[v_start:v_end]):
            yield text[:v_start] + value + text[v_end:]


def _older_ids(current: bytes) -> list[bytes]:
    """The MaxSignId values up to :data:`_MAX_ID_GUESSES` below ``current``, same width."""
    old = current.strip(_SPACE)
    if len(old) > _MAX_ID_LENGTH:
        return []  # no MaxSignId is that long; its bytes are not walked one by one
    digits = bytes(c for c in old if 0x30 <= c <= 0x39)
    prefix = old[: len(old) - len(digits)] if digits else old
    width = len(digits)
    if width > 18:
        return []  # no file signs 10**18 times; int() of thousands of digits is refused
    top = int(digits) if digits else 0
    return [
        prefix + str(n).zfill(width).encode() for n in range(max(top - _MAX_ID_GUESSES, 0), top + 1)
    ]
