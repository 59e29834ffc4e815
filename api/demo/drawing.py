"""The demo's sample licenses, drawn like the real ones: text in the bundled CJK font.

Each sample is a one-page PDF laid out after the paper or card it stands for (营业执照,
食品经营许可证, 居住证 front and back, 不动产权证书), with its surface fields in Chinese and the
issuing department's red seal drawn on it (the PAdES seal is added afterwards by the demo,
with that department's key). Text is shown through the shipped Noto Sans SC subset
(``signing.copies.font``) as a Type0 font with a ToUnicode map, so text extraction
(``pdftotext``) gives the Chinese back. No emblem or photo is drawn: a grey box stands for
the photo of a 居住证. Every layout leaves the page's bottom-right corner blank: that is
where a certified copy puts its 加注 (``signing.copies.maker.CopyPlacement``), and the
verifier refuses a copy whose 加注 covers signed content.

:func:`render_license` draws one :class:`SampleLicense`; nothing here touches the vault.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.writer import PdfFileWriter

from signing.copies.appearance import font_objects
from signing.copies.font import CjkFont, default_font

__all__ = ["SampleLicense", "cn_date", "render_license"]

A4 = (595.0, 842.0)
A4_LANDSCAPE = (842.0, 595.0)
Rgb = tuple[float, float, float]
INK: Rgb = (0.10, 0.10, 0.12)
LABEL: Rgb = (0.25, 0.25, 0.28)
SEAL_RED: Rgb = (0.85, 0.10, 0.10)


def cn_date(day: dt.date) -> str:
    """2024年05月16日, as printed on licenses."""
    return f"{day.year}年{day.month:02d}月{day.day:02d}日"


@dataclass(frozen=True)
class SampleLicense:
    """What one sample license shows: the metadata the vault keeps, and the printed fields."""

    kind: str
    """Which layout: 营业执照, 食品经营许可证, 居住证 or 不动产权证书."""
    number: str
    holder_name: str
    holder_id: str
    issuer_name: str
    issue_date: dt.date
    valid_until: dt.date | None
    fields: dict[str, str] = field(default_factory=dict)
    """The license's surface fields in print order (also kept as the metadata's extra)."""
    seal_label: str = ""
    """A line under the star of the drawn seal (专用章), or none."""


def _n(value: float) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


def _rgb(color: Rgb) -> str:
    return " ".join(_n(c) for c in color)


@dataclass
class _Run:
    text: str
    matrix: tuple[float, float, float, float, float, float]
    size: float
    color: Rgb
    spacing: float


class _Canvas:
    """One page's content: vector operators, and text runs numbered once all are known."""

    def __init__(self, size: tuple[float, float], font: CjkFont | None = None) -> None:
        self.width, self.height = size
        self.font = font or default_font()
        self._ops: list[str | _Run] = []

    def raw(self, op: str) -> None:
        self._ops.append(op)

    def measure(self, text: str, size: float, spacing: float = 0.0) -> float:
        return self.font.width(text, size) + spacing * max(len(text) - 1, 0)

    def text(
        self,
        text: str,
        x: float,
        y: float,
        size: float,
        *,
        color: Rgb = INK,
        spacing: float = 0.0,
        align: str = "left",
    ) -> None:
        """``text`` with its baseline at ``y``; ``x`` is its left, centre or right end."""
        self.font.glyph_ids(text, field="a sample license")
        width = self.measure(text, size, spacing)
        x -= {"left": 0.0, "center": width / 2, "right": width}[align]
        self._ops.append(_Run(text, (1, 0, 0, 1, x, y), size, color, spacing))

    def spread(
        self, text: str, x: float, y: float, size: float, width: float, *, color: Rgb = INK
    ) -> None:
        """A label spread over ``width`` (名　　称), as forms print them."""
        gap = (width - self.font.width(text, size)) / max(len(text) - 1, 1)
        self.text(text, x, y, size, spacing=max(gap, 0.0), color=color)

    def glyph(
        self, char: str, matrix: tuple[float, float, float, float, float, float], size: float
    ) -> None:
        self.font.glyph_ids(char, field="a sample license")
        self._ops.append(_Run(char, matrix, size, SEAL_RED, 0.0))

    def wrap(self, text: str, size: float, width: float) -> list[str]:
        """Lines of at most ``width``, broken between characters (Chinese text)."""
        lines, line = [], ""
        for char in text:
            if line and self.font.width(line + char, size) > width and char not in "，。、；）":
                lines.append(line)
                line = ""
            line += char
        return [*lines, line] if line else lines

    def paragraph(self, text: str, x: float, y: float, size: float, width: float) -> float:
        """Wrapped text from baseline ``y`` down; the baseline after its last line."""
        for line in self.wrap(text, size, width):
            self.text(line, x, y, size)
            y -= size * 1.5
        return y

    def frame(self, inset: float, color: Rgb, width: float) -> None:
        w, h = self.width - 2 * inset, self.height - 2 * inset
        self.raw(f"q {_rgb(color)} RG {_n(width)} w {_n(inset)} {_n(inset)} {_n(w)} {_n(h)} re S Q")

    def finish(self) -> tuple[bytes, tuple[int, ...], dict[int, str]]:
        """Content, the font's glyph ids in CID order (CID 0 = .notdef), CID -> character."""
        chars = sorted({c for op in self._ops if isinstance(op, _Run) for c in op.text})
        cid_of = {c: i for i, c in enumerate(chars, start=1)}
        out = []
        for op in self._ops:
            if isinstance(op, str):
                out.append(op)
                continue
            hexed = "".join(f"{cid_of[c]:04X}" for c in op.text)
            matrix = " ".join(_n(v) for v in op.matrix)
            out.append(
                f"BT {_rgb(op.color)} rg /F1 {_n(op.size)} Tf {_n(op.spacing)} Tc "
                f"{matrix} Tm <{hexed}> Tj ET"
            )
        glyphs = (0, *(self.font.cmap[ord(c)] for c in chars))
        return "\n".join(out).encode("ascii"), glyphs, dict(enumerate(chars, start=1))


def _star(cx: float, cy: float, radius: float) -> str:
    points = []
    for k in range(10):
        r = radius if k % 2 == 0 else radius * 0.382
        angle = math.radians(90 + 36 * k)
        points.append((cx + r * math.cos(angle), cy + r * math.sin(angle)))
    path = " ".join(f"{_n(x)} {_n(y)} {'m' if i == 0 else 'l'}" for i, (x, y) in enumerate(points))
    return f"q {_rgb(SEAL_RED)} rg {path} h f Q"


def draw_seal(canvas: _Canvas, cx: float, cy: float, name: str, label: str = "") -> None:
    """An official round seal: red ring, the department's name along the top, a star."""
    radius = 46.0
    canvas.raw(
        f"q {_rgb(SEAL_RED)} RG 2.6 w {_n(cx + radius)} {_n(cy)} m "
        + " ".join(
            f"{_n(cx + radius * math.cos(a))} {_n(cy + radius * math.sin(a))} l"
            for a in (math.radians(d) for d in range(3, 361, 3))
        )
        + " h S Q"
    )
    size = 11.5 if len(name) <= 10 else 10.0
    baseline = radius - 5.5 - size * 0.86
    step = math.degrees((size * 1.08) / (baseline + size * 0.45))
    span = min(step * (len(name) - 1), 250.0)
    step = span / max(len(name) - 1, 1)
    for i, char in enumerate(name):
        theta = math.radians(90 + span / 2 - i * step)
        up = (math.cos(theta), math.sin(theta))
        along = (math.sin(theta), -math.cos(theta))
        half = canvas.font.width(char, size) / 2
        x = cx + baseline * up[0] - half * along[0]
        y = cy + baseline * up[1] - half * along[1]
        canvas.glyph(char, (along[0], along[1], up[0], up[1], x, y), size)
    canvas.raw(_star(cx, cy + 4, 15))
    if label:
        canvas.text(label, cx, cy - 22, 8, color=SEAL_RED, align="center")


def _issued_by(page: _Canvas, cx: float, cy: float, caption: str, lic: SampleLicense) -> None:
    """The caption (发证机关) left of the seal, the date under it, the seal stamped over."""
    page.text(caption, cx - 56, cy + 8, 12, color=LABEL, align="right")
    page.text(cn_date(lic.issue_date), cx, cy - 40, 12, align="center")
    draw_seal(page, cx, cy, lic.issuer_name, lic.seal_label)


# -- layouts ---------------------------------------------------------------------------------


def _business_licence(lic: SampleLicense) -> _Canvas:
    """营业执照 (the 2019 sample): landscape, code top left, title, two columns, seal."""
    page = _Canvas(A4_LANDSCAPE)
    brown: Rgb = (0.55, 0.14, 0.10)
    page.frame(12, brown, 3.0)
    page.frame(19, brown, 0.8)
    page.text("统一社会信用代码", 60, 532, 11, color=LABEL)
    page.text(lic.holder_id, 60, 514, 13)
    page.text("营业执照", page.width / 2, 462, 38, spacing=22, align="center", color=brown)
    left = [("名称", lic.holder_name), *((k, lic.fields[k]) for k in ("类型", "法定代表人"))]
    right = [(k, lic.fields[k]) for k in ("注册资本", "成立日期", "营业期限")]
    y = 400.0
    for (label_l, value_l), (label_r, value_r) in zip(left, right, strict=True):
        page.spread(label_l, 70, y, 12, 64, color=LABEL)
        page.text(value_l, 150, y, 12.5)
        page.spread(label_r, 470, y, 12, 64, color=LABEL)
        page.text(value_r, 550, y, 12.5)
        y -= 28
    page.spread("经营范围", 70, y, 12, 64, color=LABEL)
    page.paragraph(lic.fields["经营范围"], 150, y, 11.5, 290)
    page.spread("住所", 470, y, 12, 64, color=LABEL)
    page.paragraph(lic.fields["住所"], 550, y, 12, 240)
    _issued_by(page, 690, 215, "登记机关", lic)
    page.text("国家企业信用信息公示系统网址：www.gsxt.gov.cn", 60, 70, 8.5, color=LABEL)
    page.text(
        "市场主体应当于每年1月1日至6月30日通过国家企业信用信息公示系统报送公示年度报告",
        60,
        56,
        8.5,
        color=LABEL,
    )
    page.text("国家市场监督管理总局监制", page.width / 2, 36, 8.5, color=LABEL, align="center")
    return page


def _table(page: _Canvas, rows: list[tuple[str, str]], top: float, label_w: float) -> float:
    """A ruled two-column table from ``top`` down; the y of its bottom rule."""
    left, right = 50.0, page.width - 50.0
    size = 11.5
    y = top
    page.raw(f"q {_rgb(INK)} RG 0.8 w {_n(left)} {_n(y)} m {_n(right)} {_n(y)} l S Q")
    for label, value in rows:
        lines = page.wrap(value, size, right - left - label_w - 16) or [""]
        height = max(26.0, 12 + len(lines) * size * 1.5)
        base = y - 17
        page.text(label, left + label_w / 2, base, size, color=LABEL, align="center")
        for line in lines:
            page.text(line, left + label_w + 10, base, size)
            base -= size * 1.5
        y -= height
        page.raw(f"q {_rgb(INK)} RG 0.6 w {_n(left)} {_n(y)} m {_n(right)} {_n(y)} l S Q")
    page.raw(
        f"q {_rgb(INK)} RG 0.8 w {_n(left)} {_n(top)} m {_n(left)} {_n(y)} l "
        f"{_n(left + label_w)} {_n(top)} m {_n(left + label_w)} {_n(y)} l "
        f"{_n(right)} {_n(top)} m {_n(right)} {_n(y)} l S Q"
    )
    return y


def _food_permit(lic: SampleLicense) -> _Canvas:
    """食品经营许可证: portrait, title, the permit's fields in a table, supervision, seal."""
    page = _Canvas(A4)
    green: Rgb = (0.08, 0.36, 0.24)
    page.frame(12, green, 3.0)
    page.frame(19, green, 0.8)
    page.text("食品经营许可证", page.width / 2, 742, 30, spacing=8, color=green, align="center")
    page.text(f"许可证编号：{lic.number}", page.width - 50, 706, 11.5, align="right")
    rows = [
        ("经营者名称", lic.holder_name),
        ("社会信用代码", lic.holder_id),
        *((k, lic.fields[k]) for k in ("法定代表人（负责人）", "住所", "经营场所")),
        *((k, lic.fields[k]) for k in ("主体业态", "经营项目")),
        ("有效期至", cn_date(lic.valid_until) if lic.valid_until else "长期"),
    ]
    y = _table(page, rows, 690, 150)
    y -= 30
    for key in ("日常监督管理机构", "日常监督管理人员", "投诉举报电话", "签发人"):
        page.text(f"{key}：{lic.fields[key]}", 60, y, 11)
        y -= 22
    _issued_by(page, 440, 225, "发证机关", lic)
    page.text("国家市场监督管理总局监制", 50, 44, 8.5, color=LABEL)
    return page


def _residence_permit(lic: SampleLicense) -> _Canvas:
    """居住证: the card's front and back, drawn at twice their size on one A4 page."""
    page = _Canvas(A4)
    blue: Rgb = (0.10, 0.30, 0.55)
    page.text("居住证（电子证照）", page.width / 2, 816, 15, color=LABEL, align="center")
    card_w, card_h, x0 = 486.0, 306.0, 54.5
    front, back = 800.0, 470.0  # the cards' tops; below the back stays blank for the 加注
    for top in (front, back):
        page.raw(
            f"q 0.94 0.97 1 rg {_rgb(blue)} RG 1.2 w "
            f"{_n(x0)} {_n(top - card_h)} {_n(card_w)} {_n(card_h)} re B Q"
        )
    title = lic.fields["证件抬头"]
    page.text(title, page.width / 2, front - 38, 20, spacing=4, color=blue, align="center")
    page.raw(f"q 0.85 0.87 0.9 rg {_n(x0 + 350)} {_n(front - 240)} 110 140 re f Q")
    page.text("照片", x0 + 405, front - 175, 14, color=LABEL, align="center")
    y = front - 84
    rows = [
        ("姓名", lic.holder_name),
        ("性别", f"{lic.fields['性别']}　　民族　{lic.fields['民族']}"),
        ("出生", lic.fields["出生"]),
    ]
    for label, value in rows:
        page.spread(label, x0 + 24, y, 11.5, 50, color=LABEL)
        page.text(value, x0 + 88, y, 13)
        y -= 30
    page.spread("居住地址", x0 + 24, y, 11.5, 50, color=LABEL)
    page.paragraph(lic.fields["居住地址"], x0 + 88, y, 12.5, 240)
    page.text("公民身份号码", x0 + 24, front - 282, 11.5, color=LABEL)
    page.text(lic.holder_id, x0 + 110, front - 282, 15, spacing=1.5)
    page.text("居  住  证", page.width / 2, back - 60, 26, spacing=6, color=blue, align="center")
    until = cn_date(lic.valid_until) if lic.valid_until else "长期"
    lines = (
        f"证件编号：{lic.number}",
        f"签发机关：{lic.issuer_name}",
        f"有效期限：{cn_date(lic.issue_date)}至{until}",
        f"签注记录：{lic.fields['签注记录']}",
    )
    for i, line in enumerate(lines):
        page.text(line, x0 + 40, back - 120 - 30 * i, 12)
    draw_seal(page, x0 + 380, back - 158, lic.issuer_name, lic.seal_label)
    return page


def _property_certificate(lic: SampleLicense) -> _Canvas:
    """不动产权证书 (the register page): number line, the ruled table of rights, seal."""
    page = _Canvas(A4)
    page.text("不动产权证书", page.width / 2, 770, 26, spacing=6, align="center")
    page.text(lic.number, 50, 730, 13)
    rows = [
        ("权利人", lic.holder_name),
        *(
            (k, lic.fields[k])
            for k in ("共有情况", "坐落", "不动产单元号", "权利类型", "权利性质", "用途", "面积")
        ),
        ("使用期限", lic.fields["使用期限"]),
        ("权利其他状况", lic.fields["权利其他状况"]),
    ]
    y = _table(page, rows, 714, 110)
    _issued_by(page, 440, min(y - 90, 240), "登记机构（章）", lic)
    page.text("中华人民共和国自然资源部监制", 50, 44, 8.5, color=LABEL)
    return page


_LAYOUTS: dict[str, Callable[[SampleLicense], _Canvas]] = {
    "营业执照": _business_licence,
    "食品经营许可证": _food_permit,
    "居住证": _residence_permit,
    "不动产权证书": _property_certificate,
}


def _stream(data: bytes, extra: dict[str, generic.PdfObject] | None = None) -> generic.StreamObject:
    entries: dict[generic.NameObject, generic.PdfObject] = {
        pdf_name("/Filter"): pdf_name("/FlateDecode")
    }
    entries.update({pdf_name(k): v for k, v in (extra or {}).items()})
    return generic.StreamObject(generic.DictionaryObject(entries), encoded_data=zlib.compress(data))


def render_license(lic: SampleLicense) -> bytes:
    """The unsealed one-page PDF of ``lic`` (KeyError: no layout or a missing field)."""
    page = _LAYOUTS[lic.kind](lic)
    content, glyphs, used = page.finish()
    writer = PdfFileWriter()
    font = font_objects(writer, page.font, glyphs, used)
    resources = generic.DictionaryObject(
        {pdf_name("/Font"): generic.DictionaryObject({pdf_name("/F1"): font})}
    )
    box = generic.ArrayObject([generic.FloatObject(v) for v in (0.0, 0.0, page.width, page.height)])
    writer.insert_page(
        generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/Page"),
                pdf_name("/MediaBox"): box,
                pdf_name("/Resources"): resources,
                pdf_name("/Contents"): writer.add_object(_stream(content)),
            }
        )
    )
    writer.root[pdf_name("/Lang")] = generic.pdf_string("zh-CN")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
