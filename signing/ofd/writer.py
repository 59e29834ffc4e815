"""Writing OFD packages: a ZIP of parts in a fixed order, and a small sample license
(one A4 page with Chinese text and an image) for the demo, the tests and the benchmarks."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping, Sequence
from xml.sax.saxutils import escape

__all__ = ["NS", "sample_ofd", "write_package"]

NS = "http://www.ofdspec.org/2016"
_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
_FIXED_TIME = (2020, 1, 1, 0, 0, 0)


def write_package(parts: Mapping[str, bytes]) -> bytes:
    """The ZIP of ``parts`` (path -> bytes), deflated, names flagged UTF-8, fixed times."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for path, data in parts.items():
            info = zipfile.ZipInfo(path, date_time=_FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.flag_bits |= 0x800
            zf.writestr(info, data)
    return out.getvalue()


def sample_ofd(title: str, lines: Sequence[str], image: bytes | None = None) -> bytes:
    """A one-page OFD showing ``title`` and ``lines`` (and a PNG ``image`` if given)."""
    text = [
        f'<ofd:TextObject ID="{10 + i}" Boundary="20 {30 + 12 * i} 170 10" Font="2" Size="5">'
        f'<ofd:FillColor Value="0 0 0"/><ofd:TextCode X="0" Y="5">{escape(line)}</ofd:TextCode>'
        "</ofd:TextObject>"
        for i, line in enumerate([title, *lines])
    ]
    if image is not None:
        text.append(
            '<ofd:ImageObject ID="9" ResourceID="3" Boundary="150 200 40 40" CTM="40 0 0 40 0 0"/>'
        )
    media = (
        '<ofd:MultiMedias><ofd:MultiMedia ID="3" Type="Image" Format="PNG">'
        "<ofd:MediaFile>image_3.png</ofd:MediaFile></ofd:MultiMedia></ofd:MultiMedias>"
        if image is not None
        else ""
    )
    parts = {
        "OFD.xml": (
            f'{_HEAD}<ofd:OFD xmlns:ofd="{NS}" DocType="OFD" Version="1.0"><ofd:DocBody>'
            f"<ofd:DocInfo><ofd:DocID>evault-sample</ofd:DocID><ofd:Title>{escape(title)}"
            "</ofd:Title><ofd:Creator>evault</ofd:Creator></ofd:DocInfo>"
            "<ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>"
        ),
        "Doc_0/Document.xml": (
            f'{_HEAD}<ofd:Document xmlns:ofd="{NS}"><ofd:CommonData>'
            "<ofd:MaxUnitID>20</ofd:MaxUnitID><ofd:PageArea><ofd:PhysicalBox>0 0 210 297"
            "</ofd:PhysicalBox></ofd:PageArea><ofd:PublicRes>PublicRes.xml</ofd:PublicRes>"
            "<ofd:DocumentRes>DocumentRes.xml</ofd:DocumentRes></ofd:CommonData>"
            '<ofd:Pages><ofd:Page ID="1" BaseLoc="Pages/Page_0/Content.xml"/></ofd:Pages>'
            "</ofd:Document>"
        ),
        "Doc_0/PublicRes.xml": (
            f'{_HEAD}<ofd:Res xmlns:ofd="{NS}" BaseLoc="Res"><ofd:Fonts>'
            '<ofd:Font ID="2" FontName="宋体" FamilyName="宋体"/></ofd:Fonts></ofd:Res>'
        ),
        "Doc_0/DocumentRes.xml": (
            f'{_HEAD}<ofd:Res xmlns:ofd="{NS}" BaseLoc="Res">{media}</ofd:Res>'
        ),
        "Doc_0/Pages/Page_0/Content.xml": (
            f'{_HEAD}<ofd:Page xmlns:ofd="{NS}"><ofd:Content><ofd:Layer ID="8">'
            + "".join(text)
            + "</ofd:Layer></ofd:Content></ofd:Page>"
        ),
    }
    data = {k: v.encode("utf-8") for k, v in parts.items()}
    if image is not None:
        data["Doc_0/Res/image_3.png"] = image
    return write_package(data)
