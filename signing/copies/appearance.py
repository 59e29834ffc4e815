"""The visible 加注 of a certified copy: a form XObject written with pyHanko's low-level objects.

:func:`layout` turns a :class:`CopyAnnotation` into PDF content operators (the four 加注
fields in Chinese, wrapped and shrunk to fit, a title, a footer, and the QR code as vector
rectangles) plus the glyphs it used. :func:`write_appearance` adds the XObject and its font
(Type0 / CIDFontType2, Identity-H, per-copy glyph subset, ToUnicode) to a writer.

:class:`CopyStampStyle` plugs this into pyHanko's signing flow as a stamp style, so
:class:`signing.seal.Sealer` can draw it as the seal's widget appearance.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.stamp import BaseStampStyle

from signing.copies.annotation import CopyAnnotation
from signing.copies.font import CjkFont, default_font
from signing.errors import LogVerificationError, SealingError
from signing.qr import QrMatrix, qr_content, qr_matrix
from signing.transparency.copy_proof import (
    COPY_LOG_PROOF_FILENAME,
    COPY_LOG_PROOF_MEDIA_TYPE,
    TLOG_PROOF_FILENAME,
    TLOG_PROOF_MEDIA_TYPE,
    CopyLogProof,
)

__all__ = [
    "DEFAULT_SIZE",
    "FOOTER",
    "TITLE",
    "AppearanceLayout",
    "CopyStampStyle",
    "TextRun",
    "layout",
    "write_appearance",
]

DEFAULT_SIZE = (320.0, 112.0)
"""Width and height of the 加注 box in points (A4 is 595 x 842)."""

TITLE = "电子证照加注件"
FOOTER = "本件仅供上述事由使用，他用无效。扫描二维码核验真伪与状态。"
_PAD = 6.0
_SIZES = (7.5, 7.0, 6.5, 6.0, 5.5, 5.0)
_RED = "0.70 0.05 0.05"
_GREY = "0.35 g"
_NO_LINE_START = set("，。、；：？！）》」』〕】,.;:?!)%")
_UNBROKEN = ("（办件编号：「", "（为「")
"""The 加注's own words inside a field's value that a line never breaks: a line starting
``件编号：`` would read as a field of its own (red team 12, r12-10's class), and the ``「``
a caller's field is shown in stays with the words that name it (red team 14, r14-03)."""


@dataclass(frozen=True)
class TextRun:
    """One line of the 加注 as laid out (points; ``y`` is the baseline, from the bottom)."""

    text: str
    x: float
    y: float
    size: float
    role: str
    """``title``, ``label``, ``value`` or ``footer`` (each has its colour)."""


@dataclass
class _Text:
    """Content operators; text runs are kept aside until the glyph numbering is known."""

    font: CjkFont
    ops: list[str | tuple[str, float, float, float]] = field(default_factory=list)
    runs: list[TextRun] = field(default_factory=list)

    def show(
        self, text: str, x: float, y: float, size: float, *, what: str, role: str = "value"
    ) -> None:
        self.font.glyph_ids(text, field=what)  # refuses characters outside the font
        self.ops.append((text, x, y, size))
        self.runs.append(TextRun(text, x, y, size, role))

    def finish(self) -> tuple[bytes, tuple[int, ...], dict[int, str]]:
        """Content, the font's glyph ids in CID order (CID 0 = .notdef), CID -> character."""
        chars = sorted({ch for op in self.ops if isinstance(op, tuple) for ch in op[0]})
        cmap = self.font.cmap
        hex_of = {ch: f"{i:04X}" for i, ch in enumerate(chars, start=1)}
        out = []
        for op in self.ops:
            if isinstance(op, str):
                out.append(op)
                continue
            text, x, y, size = op
            hexed = "".join(map(hex_of.__getitem__, text))
            out.append(f"BT /F1 {_n(size)} Tf {_n(x)} {_n(y)} Td <{hexed}> Tj ET")
        glyphs = (0, *(cmap[ord(ch)] for ch in chars))
        return "\n".join(out).encode("ascii"), glyphs, dict(enumerate(chars, start=1))


def _n(value: float) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


def _tokens(text: str) -> Iterable[str]:
    """CJK characters one by one; runs of ASCII letters, digits and ``-_./:#`` together
    (a case number or a URL breaks only when longer than a line), and each of
    :data:`_UNBROKEN` whole."""
    word = ""
    at = 0
    while at < len(text):
        phrase = next((p for p in _UNBROKEN if text.startswith(p, at)), None)
        if phrase is not None:
            if word:
                yield word
                word = ""
            yield phrase
            at += len(phrase)
            continue
        ch = text[at]
        at += 1
        if ch.isascii() and (ch.isalnum() or ch in "-_./:#"):
            word += ch
            continue
        if word:
            yield word
            word = ""
        yield ch
    if word:
        yield word


def _wrap(font: CjkFont, text: str, size: float, first: float, rest: float) -> list[str]:
    """Greedy line breaking: ``first`` is the first line's width, ``rest`` the others'."""
    lines: list[str] = []
    line, used, width = "", 0.0, first
    for token in _tokens(text):
        token_w = font.width(token, size)
        if line and used + token_w > width:
            if token in _NO_LINE_START and used + token_w <= width + size:
                line += token  # let closing punctuation hang rather than start a line
                used += token_w
                continue
            lines.append(line)
            line, used, width = "", 0.0, rest
        if token_w <= width or line:
            line += token
            used += token_w
            continue
        # a word longer than a line: break it by characters (on the first line or after a
        # break alike: a second long word overran the box, red team 9, r9-10)
        for ch in token:
            ch_w = font.width(ch, size)
            if line and used + ch_w > width:
                lines.append(line)
                line, used, width = "", 0.0, rest
            line += ch
            used += ch_w
    if line:
        lines.append(line)
    if len(lines) >= 2 and len(lines[-1]) <= 2 and len(lines[-2]) > 4:
        last = lines[-2][-1]
        if not (last.isascii() and last.isalnum()) and last not in _NO_LINE_START:
            # no lone character on the last line: take one more along
            lines[-2], lines[-1] = lines[-2][:-1], last + lines[-1]
    return lines


@dataclass(frozen=True)
class AppearanceLayout:
    """Content of the 加注 box: operators, glyphs used, and the font size chosen."""

    content: bytes
    glyphs: tuple[int, ...]
    """The font's glyph ids, indexed by CID (CID 0 is .notdef)."""
    used: dict[int, str]
    """CID -> the character it shows (for ToUnicode)."""
    font_size: float
    width: float
    height: float
    runs: tuple[TextRun, ...] = ()
    """The text lines, positioned (for formats that draw them otherwise, e.g. OFD)."""
    rule: tuple[float, float, float] = (0.0, 0.0, 0.0)
    """The red rule under the title: x from, x to, y (points)."""
    qr_box: tuple[float, float, float] = (0.0, 0.0, 0.0)
    """The QR code's lower-left corner and side (points)."""
    qr: QrMatrix | None = None
    """The QR code's modules."""


def _fit(
    font: CjkFont,
    fields: Sequence[tuple[str, str]],
    *,
    text_width: float,
    top: float,
    bottom: float,
    footer_size: float,
) -> tuple[float, list[tuple[str, str, list[str]]], list[str]]:
    """The largest body size at which the fields, wrapped, fit between ``top`` and
    ``bottom`` with the footer in two lines: that size, each field's label (with its
    colon), value and lines, and the footer's lines; SealingError when none does."""
    for body_size in _SIZES:
        leading = body_size * 1.35
        placed: list[tuple[str, str, list[str]]] = []
        lines = 0
        for label, value in fields:
            head = f"{label}："
            head_w = font.width(head, body_size)
            wrapped = _wrap(font, value, body_size, text_width - head_w, text_width - head_w)
            placed.append((head, value, wrapped))
            lines += len(wrapped)
        footer = _wrap(font, FOOTER, footer_size, text_width, text_width)
        if top - lines * leading - (len(fields) - 1) * 1.5 >= bottom and len(footer) <= 2:
            return body_size, placed, footer
    raise SealingError(
        "the 加注 text does not fit its box even at the smallest font size: "
        "shorten the department name, purpose or case number"
    )


def layout(
    annotation: CopyAnnotation,
    *,
    size: tuple[float, float] = DEFAULT_SIZE,
    font: CjkFont | None = None,
) -> AppearanceLayout:
    """Lay out ``annotation`` in a box of ``size`` points; SealingError when it cannot fit."""
    font = font or default_font()
    width, height = size
    qr_side = height - 2 * _PAD
    text_left = _PAD + 2
    text_width = width - qr_side - 3 * _PAD - 2
    if text_width < 80:
        raise SealingError(f"the 加注 box {width}x{height} is too narrow for its text")
    title_size = 10.5
    footer_size = 5.5
    top = height - _PAD - title_size
    body_top = top - 5
    body_bottom = _PAD + 2 * footer_size * 1.25 + 2
    for text in (TITLE, FOOTER):
        font.glyph_ids(text, field="the 加注 template")
    fields = annotation.fields()
    for label, value in fields:
        font.glyph_ids(value, field=label)

    body_size, placed, footer = _fit(
        font,
        fields,
        text_width=text_width,
        top=body_top,
        bottom=body_bottom,
        footer_size=footer_size,
    )
    leading = body_size * 1.35

    painter = _Text(font)
    ops = painter.ops
    ops.append(f"q 1 g 0 0 {_n(width)} {_n(height)} re f Q")
    ops.append(f"q {_RED} RG 1 w 0.5 0.5 {_n(width - 1)} {_n(height - 1)} re S Q")
    # title, in red, "bold" by fill + thin stroke (text rendering mode 2)
    ops.append(f"q {_RED} rg {_RED} RG 0.25 w 2 Tr")
    painter.show(TITLE, text_left, top, title_size, what="the 加注 template", role="title")
    ops.append("Q")
    rule_y = top - 3
    ops.append(
        f"q {_RED} RG 0.5 w {_n(text_left)} {_n(rule_y)} m "
        f"{_n(text_left + text_width)} {_n(rule_y)} l S Q"
    )
    y = body_top - body_size
    for head, _value, wrapped in placed:
        head_w = font.width(head, body_size)
        ops.append(f"q {_GREY}")
        painter.show(head, text_left, y, body_size, what="the 加注 template", role="label")
        ops.append("Q q 0 g")
        for line in wrapped:
            painter.show(line, text_left + head_w, y, body_size, what=head.rstrip("："))
            y -= leading
        ops.append("Q")
        y -= 1.5
    ops.append(f"q {_GREY}")
    fy = _PAD + footer_size * 1.25 + 1
    for line in footer:
        painter.show(line, text_left, fy, footer_size, what="the 加注 template", role="footer")
        fy -= footer_size * 1.25
    ops.append("Q")
    qr = qr_matrix(annotation.verify_url)
    ops.append(qr_content(qr, x=width - _PAD - qr_side, y=_PAD, side=qr_side).decode("ascii"))
    content, glyphs, used = painter.finish()
    return AppearanceLayout(
        content=content,
        glyphs=glyphs,
        used=used,
        font_size=body_size,
        width=width,
        height=height,
        runs=tuple(painter.runs),
        rule=(text_left, text_left + text_width, rule_y),
        qr_box=(width - _PAD - qr_side, _PAD, qr_side),
        qr=qr,
    )


# -- PDF objects -----------------------------------------------------------------------------


def _utf16_hex(ch: str) -> str:
    """The UTF-16BE code units of ``ch`` in upper-case hexadecimal."""
    code = ord(ch)
    if code < 0x10000:
        return f"{code:04X}"
    return ch.encode("utf-16-be").hex().upper()  # a surrogate pair


def _tounicode(used: dict[int, str]) -> bytes:
    entries = sorted(used.items())
    blocks = []
    for i in range(0, len(entries), 100):
        chunk = entries[i : i + 100]
        body = "\n".join(f"<{gid:04X}> <{_utf16_hex(ch)}>" for gid, ch in chunk)
        blocks.append(f"{len(chunk)} beginbfchar\n{body}\nendbfchar")
    return (
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
        "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
        + "\n".join(blocks)
        + "\nendcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n"
    ).encode("ascii")


def _flate(
    data: bytes, extra: dict[str, Any] | None = None, *, level: int = 6
) -> generic.StreamObject:
    entries: dict[Any, Any] = {pdf_name("/Filter"): pdf_name("/FlateDecode")}
    for key, value in (extra or {}).items():
        entries[pdf_name(key)] = value
    return generic.StreamObject(
        generic.DictionaryObject(entries), encoded_data=zlib.compress(data, level)
    )


def _num(value: int) -> generic.NumberObject:
    return generic.NumberObject(value)


def font_objects(
    writer: Any, font: CjkFont, glyphs: tuple[int, ...], used: dict[int, str]
) -> generic.IndirectObject:
    """Add a Type0 font to ``writer``: CID i is the font's glyph ``glyphs[i]``, showing
    ``used[i]``."""
    tag = "".join(chr(65 + b % 26) for b in hashlib.sha256(repr(glyphs).encode()).digest()[:6])
    base_font = pdf_name(f"/{tag}+{font.postscript_name}")
    program = font.program(glyphs)
    # TrueType outlines hardly compress: level 1 takes half the time of level 6 for 3%
    # more bytes (12.1 KB instead of 11.7 KB for a copy's 90 glyphs)
    font_file = writer.add_object(_flate(program, {"/Length1": _num(len(program))}, level=1))
    m = font.metrics
    descriptor = writer.add_object(
        generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/FontDescriptor"),
                pdf_name("/FontName"): base_font,
                pdf_name("/Flags"): _num(4),
                pdf_name("/FontBBox"): generic.ArrayObject([_num(v) for v in m.bbox]),
                pdf_name("/ItalicAngle"): _num(0),
                pdf_name("/Ascent"): _num(m.ascent),
                pdf_name("/Descent"): _num(m.descent),
                pdf_name("/CapHeight"): _num(m.cap_height),
                pdf_name("/StemV"): _num(80),
                pdf_name("/FontFile2"): font_file,
            }
        )
    )
    widths = generic.ArrayObject()
    for cid, gid in enumerate(glyphs):
        advance = font.advances[gid]
        if advance != 1000:
            widths.append(_num(cid))
            widths.append(generic.ArrayObject([_num(advance)]))
    cid_font = writer.add_object(
        generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/Font"),
                pdf_name("/Subtype"): pdf_name("/CIDFontType2"),
                pdf_name("/BaseFont"): base_font,
                pdf_name("/CIDSystemInfo"): generic.DictionaryObject(
                    {
                        pdf_name("/Registry"): generic.pdf_string("Adobe"),
                        pdf_name("/Ordering"): generic.pdf_string("Identity"),
                        pdf_name("/Supplement"): _num(0),
                    }
                ),
                pdf_name("/FontDescriptor"): descriptor,
                pdf_name("/DW"): _num(1000),
                pdf_name("/W"): widths,
                pdf_name("/CIDToGIDMap"): pdf_name("/Identity"),
            }
        )
    )
    to_unicode = writer.add_object(_flate(_tounicode(used)))
    return writer.add_object(
        generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/Font"),
                pdf_name("/Subtype"): pdf_name("/Type0"),
                pdf_name("/BaseFont"): base_font,
                pdf_name("/Encoding"): pdf_name("/Identity-H"),
                pdf_name("/DescendantFonts"): generic.ArrayObject([cid_font]),
                pdf_name("/ToUnicode"): to_unicode,
            }
        )
    )


def write_appearance(
    writer: Any,
    annotation: CopyAnnotation,
    *,
    size: tuple[float, float] = DEFAULT_SIZE,
    prepared: AppearanceLayout | None = None,
) -> generic.IndirectObject:
    """Add the 加注 form XObject (and its font) to ``writer``; its reference.

    ``prepared``: the result of :func:`layout` for ``annotation`` and ``size``, if already
    computed (it is not computed twice)."""
    font = default_font()
    laid = prepared
    if laid is None or (laid.width, laid.height) != size:
        laid = layout(annotation, size=size, font=font)
    font_ref = font_objects(writer, font, laid.glyphs, laid.used)
    resources = generic.DictionaryObject(
        {pdf_name("/Font"): generic.DictionaryObject({pdf_name("/F1"): font_ref})}
    )
    xobject = _flate(
        laid.content,
        {
            "/Type": pdf_name("/XObject"),
            "/Subtype": pdf_name("/Form"),
            "/BBox": generic.ArrayObject(
                [generic.FloatObject(v) for v in (0, 0, laid.width, laid.height)]
            ),
            "/Resources": resources,
        },
    )
    if annotation.log_proof is not None:
        xobject[pdf_name("/AF")] = generic.ArrayObject(
            _log_proof_files(writer, annotation.log_proof)
        )
    return writer.add_object(xobject)


LOG_PROOF_FILENAME = COPY_LOG_PROOF_FILENAME
LOG_PROOF_MEDIA_TYPE = COPY_LOG_PROOF_MEDIA_TYPE


def _log_proof_files(writer: Any, proof_json: bytes) -> list[generic.IndirectObject]:
    """The proof as our JSON and, beside it, as a C2SP tlog-proof (the same proof)."""
    try:
        tlog_proof = CopyLogProof.from_json(proof_json).to_tlog_proof().encode("utf-8")
    except LogVerificationError as exc:  # LogFormatError is a subclass
        raise SealingError(f"copy annotation: the log proof is malformed: {exc}") from None
    return [
        _attachment(writer, proof_json, LOG_PROOF_FILENAME, LOG_PROOF_MEDIA_TYPE),
        _attachment(writer, tlog_proof, TLOG_PROOF_FILENAME, TLOG_PROOF_MEDIA_TYPE),
    ]


def _attachment(writer: Any, data: bytes, filename: str, media_type: str) -> generic.IndirectObject:
    """An embedded file (a form of the transparency-log proof) as a file specification."""
    stream = _flate(
        data,
        {
            "/Type": pdf_name("/EmbeddedFile"),
            "/Subtype": pdf_name("/" + media_type),
            "/Params": generic.DictionaryObject({pdf_name("/Size"): _num(len(data))}),
        },
    )
    return writer.add_object(
        generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/Filespec"),
                pdf_name("/F"): generic.pdf_string(filename),
                pdf_name("/UF"): generic.pdf_string(filename),
                pdf_name("/Desc"): generic.pdf_string("evault transparency-log proof"),
                pdf_name("/AFRelationship"): pdf_name("/Supplement"),
                pdf_name("/EF"): generic.DictionaryObject(
                    {pdf_name("/F"): writer.add_object(stream)}
                ),
            }
        )
    )


class _CopyStamp:
    """What pyHanko's signing flow asks a stamp for: ``apply_appearance(annot)``."""

    def __init__(
        self,
        writer: Any,
        annotation: CopyAnnotation,
        size: tuple[float, float],
        prepared: AppearanceLayout | None,
    ):
        self._writer = writer
        self._annotation = annotation
        self._size = size
        self._prepared = prepared

    def apply_appearance(self, annot_dict: generic.DictionaryObject) -> None:
        ref = write_appearance(
            self._writer, self._annotation, size=self._size, prepared=self._prepared
        )
        annot_dict[pdf_name("/AP")] = generic.DictionaryObject({pdf_name("/N"): ref})
        if pdf_name("/AS") in annot_dict:
            del annot_dict[pdf_name("/AS")]


@dataclass(frozen=True)
class CopyStampStyle(BaseStampStyle):
    """A pyHanko stamp style that draws the 加注 of ``annotation`` (box size from the field)."""

    annotation: CopyAnnotation | None = None
    """The 加注 to draw (required)."""
    prepared: AppearanceLayout | None = None
    """Its :func:`layout`, when already computed for the field's size."""
    border_width: int = 0

    def create_stamp(  # type: ignore[override]
        self, writer: Any, box: Any, text_params: dict[str, Any]
    ) -> _CopyStamp:
        if self.annotation is None:
            raise SealingError("CopyStampStyle needs an annotation")
        size = (float(box.width), float(box.height))
        return _CopyStamp(writer, self.annotation, size, self.prepared)
