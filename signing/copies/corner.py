"""Where a certified copy's 加注 box goes: the first corner that is blank, on evidence.

The copy's seal widget is drawn after the original's signatures, and the verifier allows a
later widget only where every earlier signature's signed revision shows nothing
(docs/verification.md, "Pages"): a widget over signed content could hide it. So the maker
does not put the box at a fixed corner: it renders the original and takes the first
candidate whose rectangle is blank, with the verifier's own test
(:func:`signing._verify.modifications.blank_under_remembered`, pdfium and poppler, the same
remembered verdicts), so the maker and the verifier cannot disagree.

Candidates, in order: the placement's corner, then the others (bottom-right, bottom-left,
top-right, top-left), on the placement's page, then on each following page. A corner is
blank when it is blank in every signed revision of the original (the file up to each
signature's ``/ByteRange`` end): those are the revisions the verifier checks the copy's
widget against (an unsigned original: the file itself). A page too small for the box is
skipped. When no candidate is
blank, the copy is refused (:class:`signing.errors.NoBlankSpace`): appending a page for
the box is no way out, since a page added after a seal is a modification of what it
signed.

The choice depends only on the original's bytes and the placement, so it is remembered
per original (a bounded memory, like the parsed originals of
:mod:`signing.copies.originals`): the second copy of a license costs no rendering.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from signing._verify.lru import Lru
from signing.errors import NoBlankSpace, SealingError

__all__ = ["CORNERS", "DEFAULT_CHOICES", "CornerChooser", "Spot"]

CORNERS = ("bottom-right", "bottom-left", "top-right", "top-left")
"""The corners a 加注 box may take, in the order they are tried."""

DEFAULT_CHOICES = 256
"""Originals whose chosen corner is remembered by default."""

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class Spot:
    """Where the box goes: a 0-based page index and the box's rectangle in points."""

    page: int
    box: Box


def corner_box(page_box: Box, corner: str, size: tuple[float, float], margin: float) -> Box | None:
    """The box in ``corner`` of a page (``page_box``: x1, y1, x2, y2 normalised), ``margin``
    from its edges; None when the page is too small for it."""
    x1, y1, x2, y2 = page_box
    w, h = size
    if w + 2 * margin > x2 - x1 or h + 2 * margin > y2 - y1:
        return None
    left = x2 - margin - w if corner.endswith("right") else x1 + margin
    bottom = y1 + margin if corner.startswith("bottom") else y2 - margin - h
    left, bottom = round(left), round(bottom)
    return (left, bottom, left + w, bottom + h)


class CornerChooser:
    """Chooses and remembers the copy box's spot per original (thread-safe)."""

    def __init__(self, size: int = DEFAULT_CHOICES) -> None:
        self._known: Lru[tuple[bytes, int, str, float, tuple[float, float]], Spot] = Lru(
            max(size, 1)
        )
        self.renders = 0
        """Originals whose corners were rendered (not remembered): for tests and benches."""

    def forget(self) -> None:
        """Forget every remembered choice (the next copy of each original renders again)."""
        self._known.clear()

    def choose(
        self,
        original: bytes,
        writer: IncrementalPdfFileWriter,
        *,
        page: int,
        corner: str,
        margin: float,
        size: tuple[float, float],
        page_box: Callable[[IncrementalPdfFileWriter, int], Box],
        digest: bytes | None = None,
    ) -> Spot:
        """The first blank candidate spot of ``original`` (opened in ``writer``), from
        ``page`` (negative: from the end) and ``corner`` on; ``page_box(writer, index)``
        gives a page's normalised box; ``digest``: the SHA-256 of ``original`` if known.
        Raises :class:`NoBlankSpace` when there is none."""
        count = int(writer.root["/Pages"]["/Count"])
        if not -count <= page < count:
            raise SealingError(f"page {page} does not exist: the document has {count} page(s)")
        first = page % count
        key = (digest or hashlib.sha256(original).digest(), first, corner, margin, size)
        known = self._known.get(key)
        if known is not None:
            return known
        self.renders += 1
        revisions = _signed_revisions(original, writer)
        order = (corner, *(c for c in CORNERS if c != corner))
        fits = False
        for index in range(first, count):
            boxes = [corner_box(page_box(writer, index), c, size, margin) for c in order]
            candidates = [b for b in boxes if b is not None]
            fits = fits or bool(candidates)
            spot = _first_blank(revisions, index, candidates)
            if spot is not None:
                self._known.put(key, spot)
                return spot
        raise NoBlankSpace(_refusal(first, count, size, fits))


def _first_blank(revisions: Sequence[bytes], index: int, boxes: Sequence[Box]) -> Spot | None:
    """The first of ``boxes`` on page ``index`` blank in every revision."""
    from signing._verify import visual
    from signing._verify.modifications import blank_under_remembered

    if not boxes:
        return None
    blank = [True] * len(boxes)
    for revision in revisions:
        regions = [(index, visual.Rect(*b)) for b, ok in zip(boxes, blank, strict=True) if ok]
        if not regions:
            break
        seen = iter(blank_under_remembered(revision, regions))
        blank = [ok and next(seen) for ok in blank]
    for box, ok in zip(boxes, blank, strict=True):
        if ok:
            return Spot(index, box)
    return None


def _signed_revisions(original: bytes, writer: IncrementalPdfFileWriter) -> list[bytes]:
    """Each of the original's signatures' signed revisions (distinct, latest first): what
    the verifier checks the copy's widget against; an unsigned original: itself."""
    ends = sorted(set(_signature_ends(writer, len(original))), reverse=True)
    return [original[:end] for end in ends] or [original]


def _signature_ends(writer: IncrementalPdfFileWriter, limit: int) -> Iterator[int]:
    try:
        signatures = writer.prev.embedded_signatures
    except Exception as exc:  # pyHanko's reader: an unreadable form is unusable input
        raise SealingError(f"cannot read the original's signatures: {exc}") from None
    for signature in signatures:
        try:
            byte_range = [int(v) for v in signature.sig_object["/ByteRange"]]
        except (KeyError, TypeError, ValueError):
            continue  # not a signature the verifier could check a widget against either
        if len(byte_range) == 4 and 0 < byte_range[2] + byte_range[3] <= limit:
            yield byte_range[2] + byte_range[3]


def _refusal(first: int, count: int, size: tuple[float, float], fits: bool) -> str:
    pages = f"page {first + 1}" if first == count - 1 else f"pages {first + 1}-{count}"
    w, h = size
    if not fits:
        return (
            f"the original has no blank space for the annotation: {pages} too small for the "
            f"{w:.0f}x{h:.0f} pt 加注 box"
        )
    return (
        f"the original has no blank space for the annotation: no corner of {pages} is blank "
        f"under the {w:.0f}x{h:.0f} pt 加注 box, and a box over the original's content "
        "would make the copy fail verification"
    )
