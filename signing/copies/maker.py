"""Making a certified copy: the original, untouched, plus ONE sealed incremental update.

That update holds, all covered by the vault's seal:

- the vault's PAdES signature at B-LT: signature timestamp, and the DSS (the seal's and
  the TSA's certificates and revocation data) written in the same revision as the
  signature (``Sealer.seal(..., dss_in_signed_revision=True)``);
- the seal's visible widget, whose appearance is the 加注 (the four fields in Chinese, a
  footer and a QR code of the verification URL; :mod:`signing.copies.appearance`);
- the four 加注 fields (and the copy id and URL) in the document information dictionary
  under ``/EvaultCopy*`` keys (:data:`INFO_KEYS`);
- optionally the transparency-log proof, as an associated file (``/AF``, PDF 2.0) of the
  appearance XObject: nothing else in the document changes.

Each of these is a change pyHanko's difference analysis and the DSS rules allow after an
earlier signature (new signature field and widget, /Info, /DSS), so the issuer's seal
still reads as intact and not modified.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign.fields import enumerate_sig_fields

from signing.copies.annotation import CopyAnnotation
from signing.copies.appearance import DEFAULT_SIZE, CopyStampStyle, layout
from signing.copies.corner import CORNERS, CornerChooser
from signing.copies.font import default_font
from signing.copies.info import update_info
from signing.copies.originals import DEFAULT_ORIGINALS, ParsedOriginals
from signing.copies.receipt import ReceiptNote, ReceiptSealer
from signing.errors import SealingError
from signing.seal import PadesLevel, SealAppearance, Sealer

__all__ = ["COPY_FIELD_STEM", "INFO_KEYS", "CopyMaker", "CopyPlacement", "read_copy_info"]

COPY_FIELD_STEM = "EvaultCopySeal"
"""Name of the vault's signature field (a copy of a certified copy is refused: taken)."""

INFO_KEYS: Mapping[str, str] = {
    "制作时间": "/EvaultCopyMadeAt",
    "制作者": "/EvaultCopyMaker",
    "制作事由": "/EvaultCopyReason",
    "有效期截止时间": "/EvaultCopyValidUntil",
    "copy_id": "/EvaultCopyId",
    "verify_url": "/EvaultCopyVerifyURL",
}
"""Document information keys the copy's metadata is written under (values: text strings)."""


@dataclass(frozen=True)
class CopyPlacement:
    """Where the 加注 box goes first: a corner of a page, with a margin.

    The maker tries that corner, then the other corners of the page, then those of each
    following page, and takes the first that is blank in the original
    (:mod:`signing.copies.corner`); none blank: the copy is refused."""

    page: int = 0
    """Page index tried first; negative counts from the end (-1: last page)."""
    corner: str = "bottom-right"
    """Corner tried first: ``bottom-right``, ``bottom-left``, ``top-right`` or ``top-left``."""
    margin: float = 28.0
    """Distance from the page edges, in points."""
    size: tuple[float, float] = DEFAULT_SIZE
    """Width and height of the box, in points."""

    def __post_init__(self) -> None:
        if self.corner not in CORNERS:
            raise SealingError(f"unknown corner {self.corner!r}")


def _page_box(writer: IncrementalPdfFileWriter, index: int) -> tuple[float, float, float, float]:
    pages = writer.root["/Pages"]
    count = int(pages["/Count"])
    if not -count <= index < count:
        raise SealingError(f"page {index} does not exist: the document has {count} page(s)")
    page, _ = writer.find_page_for_modification(index % count)
    page = page.get_object() if hasattr(page, "get_object") else page
    node: Any = page
    box = None
    while node is not None and box is None:
        for key in ("/CropBox", "/MediaBox"):
            if key in node:
                box = node[key]
                break
        node = node.get("/Parent")
        node = node.get_object() if node is not None else None
    if box is None:
        raise SealingError(f"page {index} has no MediaBox")
    x1, y1, x2, y2 = (float(v) for v in box)
    return min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)


class CopyMaker:
    """Makes certified copies with one sealer; build once, call :meth:`make` per copy."""

    def __init__(
        self,
        sealer: Sealer,
        *,
        level: PadesLevel = PadesLevel.B_LT,
        placement: CopyPlacement | None = None,
        location: str | None = None,
        originals: int = DEFAULT_ORIGINALS,
    ) -> None:
        """``level``: B-LT (default) or B-LTA; lower levels are refused (a copy must carry
        its own validation data). ``originals``: parsed originals kept between copies
        (:mod:`signing.copies.originals`; 0: parse each time). Loads the copy font now,
        not on the first copy."""
        level = PadesLevel(level)
        if not level.long_term:
            raise SealingError(f"a certified copy is sealed at B-LT or B-LTA, not {level}")
        self._sealer = sealer
        self._level = level
        self._placement = placement or CopyPlacement()
        self._location = location
        self._originals = ParsedOriginals(originals)
        self._corners = CornerChooser()
        default_font()

    @property
    def corners(self) -> CornerChooser:
        """Where this maker put the box of each original it copied (remembered choices)."""
        return self._corners

    @property
    def originals(self) -> ParsedOriginals:
        """The parsed originals this maker keeps (their number and hits, for reports)."""
        return self._originals

    def unsupported_characters(self, annotation: CopyAnnotation) -> str:
        """Characters of the 加注 the copy font cannot show ("" when all can be)."""
        font = default_font()
        return font.missing("".join(value for _, value in annotation.fields()))

    def make(self, original: bytes, annotation: CopyAnnotation) -> bytes:
        """The certified copy of ``original``: its bytes unchanged, plus one sealed update.

        Raises :class:`SealingError` for an unusable PDF (unreadable, encrypted, locked by
        a certification signature, already a copy), a 加注 that cannot be shown (a
        character outside the font, text too long for the box), an original with no
        blank corner for the box (:class:`signing.errors.NoBlankSpace`), and
        :class:`signing.errors.TimestampError` when the TSA fails. Outside an event loop
        only: inside one, await :meth:`make_async`.
        """
        return self._sealer.seal(original, **self._seal_arguments(original, annotation))

    def seal_receipt(self, pdf: bytes, note: ReceiptNote) -> bytes:
        """The vault's 收件核验 seal on a deposited material (see :mod:`signing.copies.receipt`),
        with this maker's sealer and level."""
        return ReceiptSealer(self._sealer, level=self._level).seal(pdf, note)

    async def make_async(self, original: bytes, annotation: CopyAnnotation) -> bytes:
        """:meth:`make` for async code (CPU-bound: better run in a worker thread)."""
        return await self._sealer.seal_async(original, **self._seal_arguments(original, annotation))

    def _seal_arguments(self, original: bytes, annotation: CopyAnnotation) -> dict[str, Any]:
        if not isinstance(annotation, CopyAnnotation):
            raise SealingError("a certified copy needs a CopyAnnotation")
        # Lay out first: text that cannot be drawn fails before the PDF is parsed.
        prepared = layout(annotation, size=self._placement.size)
        placement = self._placement
        digest = hashlib.sha256(original).digest()  # the key of its parse and of its corner

        def appearance(writer: IncrementalPdfFileWriter) -> SealAppearance:
            style = CopyStampStyle(annotation=annotation, prepared=prepared)
            if _already_copied(writer):  # pyHanko refuses the taken field: nothing to look for
                box = _page_box(writer, placement.page)
                return SealAppearance(style=style, box=box, page=placement.page)  # type: ignore[arg-type]
            spot = self._corners.choose(
                original,
                writer,
                page=placement.page,
                corner=placement.corner,
                margin=placement.margin,
                size=placement.size,
                page_box=_page_box,
                digest=digest,
            )
            return SealAppearance(style=style, box=spot.box, page=spot.page)  # type: ignore[arg-type]

        def before_sign(writer: IncrementalPdfFileWriter) -> None:
            _write_info(writer, annotation)

        return {
            "level": self._level,
            "field_name": COPY_FIELD_STEM,
            "reason": f"电子证照加注件：{annotation.purpose}",
            "location": self._location,
            "appearance": appearance,
            "before_sign": before_sign,
            "dss_in_signed_revision": True,
            "open_writer": functools.partial(self._originals.borrow, digest=digest),
        }


def _already_copied(writer: IncrementalPdfFileWriter) -> bool:
    """Whether the document has the copy's signature field already (a copy of a copy)."""
    return any(name == COPY_FIELD_STEM for name, _, _ in enumerate_sig_fields(writer))


def _write_info(writer: IncrementalPdfFileWriter, annotation: CopyAnnotation) -> None:
    """Add the 加注 fields to the document information dictionary (same revision)."""
    values = dict(annotation.fields())
    values["copy_id"] = annotation.copy_id
    values["verify_url"] = annotation.verify_url
    update_info(writer, {INFO_KEYS[k]: v for k, v in values.items()})


def read_copy_info(info: Mapping[str, Any]) -> dict[str, str]:
    """The ``/EvaultCopy*`` entries of an information dictionary, by their 加注 labels."""
    out = {}
    for label, key in INFO_KEYS.items():
        if key in info:
            out[label] = str(info[key])
    return out
