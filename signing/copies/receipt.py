"""收件核验: the vault's seal on a material a receiving window deposited (电子材料).

A window hands in a scan (JPEG, PNG) or a PDF of a document it checked against the original
(与原件核对一致). The vault seals what it received so that any later user can tell, offline,
who checked it, when and in which case:

- :func:`material_kind`: what the bytes are, judged by their content (never by a name or a
  declared type), and whether an image decodes within sane bounds;
- :func:`image_pdf`: an image wrapped in a one-page A4 PDF, the image above and the
  收件核验 note (:class:`ReceiptNote`) printed below it, in Chinese, over a blank bottom
  band where a certified copy of the material puts its 加注 box;
- :class:`ReceiptSealer`: the vault's PAdES seal (B-LT, validation data in the signed
  revision) on ONE incremental update of the PDF that also writes the note into the
  document information dictionary (``/EvaultReceipt*``, :data:`RECEIPT_INFO_KEYS`) and the
  signature's ``/Reason``. A deposited PDF keeps its bytes (and any seal it already had).

``evault verify`` checks the result like any sealed PDF: the vault's seal covers the whole
file, note included.
"""

from __future__ import annotations

import datetime as _dt
import io
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name, pdf_string
from pyhanko.pdf_utils.images import pil_image
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.writer import PdfFileWriter

from signing.copies.annotation import BEIJING
from signing.copies.appearance import DEFAULT_SIZE, font_objects
from signing.copies.font import default_font
from signing.copies.info import update_info
from signing.errors import SealingError
from signing.seal import PadesLevel, Sealer

__all__ = [
    "MATERIAL_KINDS",
    "MAX_IMAGE_PIXELS",
    "RECEIPT_FIELD",
    "RECEIPT_INFO_KEYS",
    "ReceiptNote",
    "ReceiptSealer",
    "image_pdf",
    "material_kind",
    "read_receipt_info",
]

MATERIAL_KINDS = ("image/jpeg", "image/png", "application/pdf")
"""The media types a material may have, as :func:`material_kind` names them."""

MAX_IMAGE_PIXELS = 60_000_000
"""Largest image (width x height) accepted: an A3 page at 600 dpi is about 70 MP of which a
scan of a card or a booklet uses far less; larger is a decompression bomb, not a scan."""

RECEIPT_FIELD = "EvaultReceiptSeal"
"""Name of the vault's signature field on a sealed deposit."""

RECEIPT_INFO_KEYS: Mapping[str, str] = {
    "material": "/EvaultReceiptMaterial",
    "material_id": "/EvaultReceiptMaterialId",
    "department": "/EvaultReceiptDepartment",
    "clerk": "/EvaultReceiptClerk",
    "purpose": "/EvaultReceiptPurpose",
    "case_no": "/EvaultReceiptCase",
    "checked_at": "/EvaultReceiptCheckedAt",
    "check": "/EvaultReceiptCheck",
}
"""Document information keys the note is written under (values: text strings)."""

_CHECK = "与原件核对一致"
_MAX_TEXT = 120
_A4 = (595.0, 842.0)
_MARGIN = 36.0
_NOTE_SIZE = 10.5
_NOTE_LEADING = 16.0
#: The bottom band left blank for a later certified copy's 加注 box (its default size and
#: bottom-right corner margin, :class:`signing.copies.maker.CopyPlacement`): the copy's
#: widget then covers nothing the deposit's seal signed.
_COPY_BAND = 28.0 + DEFAULT_SIZE[1] + 12.0


def _text(name: str, value: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise SealingError(f"receipt note: {name} must be a non-empty text")
    if len(value) > _MAX_TEXT:
        raise SealingError(f"receipt note: {name} is {len(value)} characters (max {_MAX_TEXT})")
    if any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in value):
        raise SealingError(f"receipt note: {name} contains control characters")


@dataclass(frozen=True)
class ReceiptNote:
    """The 收件核验 note of one deposit. Checked when built: an invalid one cannot exist."""

    material_id: str
    """The material's public id (random, chosen by the vault)."""
    material: str
    """The material's name in the catalogue (e.g. 居民身份证)."""
    department: str
    """The receiving department (窗口) that checked it against the original."""
    clerk: str
    """Who checked it (核验人)."""
    purpose: str
    """The case's matter (办件事项)."""
    case_no: str
    """The case (办件) number."""
    checked_at: _dt.datetime
    """When it was checked (timezone-aware)."""
    maker: str
    """The vault that seals it (e.g. "福建省电子证照库")."""

    def __post_init__(self) -> None:
        for name in ("material_id", "material", "department", "clerk", "purpose", "case_no"):
            _text(name, getattr(self, name))
        _text("maker", self.maker)
        moment = self.checked_at
        if not isinstance(moment, _dt.datetime) or moment.utcoffset() is None:
            raise SealingError("receipt note: checked_at must be a timezone-aware datetime")

    @property
    def checked_at_text(self) -> str:
        return f"{self.checked_at.astimezone(BEIJING):%Y-%m-%d %H:%M:%S}（北京时间）"

    def lines(self) -> tuple[str, ...]:
        """The note as printed under a wrapped image, one line each."""
        return (
            f"收件核验：{_CHECK}",
            f"材料：{self.material}（{self.material_id}）",
            f"收件部门：{self.department}",
            f"核验人：{self.clerk}　核验时间：{self.checked_at_text}",
            f"办件：{self.purpose}（办件编号：{self.case_no}）",
            f"封存：{self.maker}",
        )

    @property
    def reason(self) -> str:
        """The signature's ``/Reason``."""
        return (
            f"收件核验：{_CHECK}；{self.department}；核验人：{self.clerk}；办件编号：{self.case_no}"
        )

    def info(self) -> dict[str, str]:
        """The values written under :data:`RECEIPT_INFO_KEYS`."""
        return {
            "material": self.material,
            "material_id": self.material_id,
            "department": self.department,
            "clerk": self.clerk,
            "purpose": self.purpose,
            "case_no": self.case_no,
            "checked_at": self.checked_at.astimezone(_dt.UTC).isoformat(),
            "check": _CHECK,
        }


def material_kind(data: bytes) -> str:
    """``image/jpeg``, ``image/png`` or ``application/pdf``, judged by the content.

    An image must decode (its header and size; at most :data:`MAX_IMAGE_PIXELS`); a PDF
    must start with ``%PDF-`` (whether it can be sealed shows when it is). Anything else
    raises :class:`SealingError` saying what was found.
    """
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"\xff\xd8\xff"):
        kind, expected = "image/jpeg", "JPEG"
    elif data.startswith(b"\x89PNG\r\n\x1a\n"):
        kind, expected = "image/png", "PNG"
    else:
        raise SealingError("not a JPEG or PNG image nor a PDF (judged by its content)")
    _open_image(data, expected)
    return kind


def _open_image(data: bytes, expected: str) -> Any:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data), formats=[expected]) as probe:
            width, height = probe.size
            if width * height > MAX_IMAGE_PIXELS:
                raise SealingError(
                    f"the image is {width}x{height} pixels (at most {MAX_IMAGE_PIXELS:,} pixels)"
                )
            probe.verify()
        image = Image.open(io.BytesIO(data), formats=[expected])
        image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise SealingError(f"the {expected} image cannot be read: {exc}") from None
    except Image.DecompressionBombError:
        raise SealingError("the image has too many pixels to be a scan") from None
    return image


def _jpeg_xobject(writer: PdfFileWriter, data: bytes, image: Any) -> generic.IndirectObject:
    """A JPEG as it is (DCTDecode): the scan's bytes are not re-encoded."""
    spaces = {"L": "/DeviceGray", "RGB": "/DeviceRGB", "CMYK": "/DeviceCMYK"}
    if image.mode not in spaces:
        return pil_image(image.convert("RGB"), writer)
    entries: dict[str, generic.PdfObject] = {
        "/Type": pdf_name("/XObject"),
        "/Subtype": pdf_name("/Image"),
        "/Width": generic.NumberObject(image.width),
        "/Height": generic.NumberObject(image.height),
        "/ColorSpace": pdf_name(spaces[image.mode]),
        "/BitsPerComponent": generic.NumberObject(8),
        "/Filter": pdf_name("/DCTDecode"),
    }
    if image.mode == "CMYK" and "adobe" in image.info:  # Adobe CMYK JPEGs are inverted
        entries["/Decode"] = generic.ArrayObject([generic.NumberObject(v) for v in (1, 0) * 4])
    stream = generic.StreamObject(
        generic.DictionaryObject({pdf_name(k): v for k, v in entries.items()}),
        encoded_data=data,
    )
    return writer.add_object(stream)


def _image_xobject(writer: PdfFileWriter, data: bytes) -> tuple[generic.IndirectObject, Any]:
    kind = material_kind(data)
    if kind == "application/pdf":
        raise SealingError("image_pdf wraps an image, not a PDF")
    image = _open_image(data, "JPEG" if kind == "image/jpeg" else "PNG")
    if kind == "image/jpeg":
        return _jpeg_xobject(writer, data, image), image
    if image.mode not in ("RGB", "RGBA", "L", "LA"):
        image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    return pil_image(image, writer), image


def _note_content(note: ReceiptNote) -> tuple[str, tuple[int, ...], dict[int, str]]:
    """The note's text operators (font /F1, CIDs), the glyphs in CID order, CID -> char."""
    font = default_font()
    lines = note.lines()
    missing = font.missing("".join(lines))
    if missing:
        raise SealingError(f"receipt note: the note font cannot show {missing!r}")
    chars = sorted({c for line in lines for c in line})
    cid_of = {c: i for i, c in enumerate(chars, start=1)}
    ops = []
    y = _COPY_BAND + _NOTE_LEADING * (len(lines) - 1)
    for line in lines:
        hexed = "".join(f"{cid_of[c]:04X}" for c in line)
        ops.append(f"BT 0 g /F1 {_NOTE_SIZE} Tf 1 0 0 1 {_MARGIN} {y} Tm <{hexed}> Tj ET")
        y -= _NOTE_LEADING
    glyphs = (0, *(font.cmap[ord(c)] for c in chars))
    return "\n".join(ops), glyphs, dict(enumerate(chars, start=1))


def image_pdf(data: bytes, note: ReceiptNote) -> bytes:
    """A one-page A4 PDF: the image, fitted above the printed 收件核验 note (unsealed)."""
    text, glyphs, used = _note_content(note)
    writer = PdfFileWriter()
    xobject, image = _image_xobject(writer, data)
    width, height = _A4
    top = _COPY_BAND + _NOTE_LEADING * len(note.lines()) + 12
    box_w, box_h = width - 2 * _MARGIN, height - _MARGIN - top
    scale = min(box_w / image.width, box_h / image.height)
    w, h = image.width * scale, image.height * scale
    x, y = (width - w) / 2, top + (box_h - h)
    rule = f"0.5 w 0.6 G {_MARGIN} {top - 6} m {width - _MARGIN} {top - 6} l S"
    content = f"q {w:.3f} 0 0 {h:.3f} {x:.3f} {y:.3f} cm /Im1 Do Q\n{rule}\n{text}"
    font = font_objects(writer, default_font(), glyphs, used)
    resources = generic.DictionaryObject(
        {
            pdf_name("/Font"): generic.DictionaryObject({pdf_name("/F1"): font}),
            pdf_name("/XObject"): generic.DictionaryObject({pdf_name("/Im1"): xobject}),
        }
    )
    stream = generic.StreamObject(
        generic.DictionaryObject({pdf_name("/Filter"): pdf_name("/FlateDecode")}),
        encoded_data=zlib.compress(content.encode("ascii")),
    )
    page = generic.DictionaryObject(
        {
            pdf_name("/Type"): pdf_name("/Page"),
            pdf_name("/MediaBox"): generic.ArrayObject(
                [generic.FloatObject(v) for v in (0.0, 0.0, width, height)]
            ),
            pdf_name("/Resources"): resources,
            pdf_name("/Contents"): writer.add_object(stream),
        }
    )
    writer.insert_page(page)
    writer.root[pdf_name("/Lang")] = pdf_string("zh-CN")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


class ReceiptSealer:
    """Seals deposits with the vault's sealer; build once, call :meth:`seal` per deposit."""

    def __init__(self, sealer: Sealer, *, level: PadesLevel = PadesLevel.B_LT) -> None:
        level = PadesLevel(level)
        if not level.long_term:
            raise SealingError(f"a deposit is sealed at B-LT or B-LTA, not {level}")
        self._sealer = sealer
        self._level = level

    def seal(self, pdf: bytes, note: ReceiptNote) -> bytes:
        """``pdf`` plus one sealed incremental update carrying ``note``.

        Raises :class:`SealingError` for a PDF that cannot be sealed (unreadable, encrypted,
        locked by a certification signature, already sealed as a deposit) and
        :class:`signing.errors.TimestampError` when the TSA fails. Outside an event loop.
        """
        if not isinstance(note, ReceiptNote):
            raise SealingError("a deposit's seal needs a ReceiptNote")

        def before_sign(writer: IncrementalPdfFileWriter) -> None:
            update_info(writer, {RECEIPT_INFO_KEYS[k]: v for k, v in note.info().items()})

        return self._sealer.seal(
            pdf,
            level=self._level,
            field_name=RECEIPT_FIELD,
            reason=note.reason,
            before_sign=before_sign,
            dss_in_signed_revision=True,
        )


def read_receipt_info(info: Mapping[str, Any]) -> dict[str, str]:
    """The ``/EvaultReceipt*`` entries of an information dictionary, by their names."""
    return {name: str(info[key]) for name, key in RECEIPT_INFO_KEYS.items() if key in info}
