"""Writing OFD packages: a ZIP of parts in a fixed order, and a small sample license
(one A4 page with Chinese text and an image) for the demo, the tests and the benchmarks."""

from __future__ import annotations

import copy
import io
import struct
import zipfile
from collections.abc import Mapping, Sequence
from xml.sax.saxutils import escape

__all__ = ["NS", "replace_parts", "sample_ofd", "write_package"]

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


def replace_parts(original: bytes, parts: Mapping[str, bytes]) -> bytes:
    """``original`` (a ZIP) with ``parts`` (path -> bytes) added or replacing the parts of
    the same path. Every other entry is carried over as it is stored (its local header
    and compressed bytes copied, nothing inflated or deflated again), so a part that is
    not replaced keeps its bytes exactly. Entries whose non-ASCII names are not flagged
    UTF-8 are written again under their UTF-8 name, flagged: their bytes do not change.
    Only the parts :class:`~signing.ofd.package.Package` accepted are carried over (it
    refuses a container with anything it did not check); folder entries are dropped.
    """
    from signing.ofd.package import Package

    out = io.BytesIO()
    # every rule of the container checked before a byte is copied; only checked parts copied
    with Package(original) as checked, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for path in checked.paths:
            if path in parts:
                continue
            info = checked.info(path)
            if not info.flag_bits & 0x800 and not info.filename.isascii():
                _write(target, path, checked.read(path))
                continue
            start = info.header_offset
            end = start + _local_entry_size(original, info)
            copied = copy.copy(info)
            copied.header_offset = out.tell()
            out.write(original[start:end])
            target.filelist.append(copied)
            target.NameToInfo[copied.filename] = copied
            target.start_dir = out.tell()
        for path, data in parts.items():
            _write(target, path, data)
    return out.getvalue()


def _write(target: zipfile.ZipFile, path: str, data: bytes) -> None:
    """One new part, deflated at level 1: a copy's drawn 加注 is ~100 KB of path text,
    which level 6 takes four times longer to deflate for a 15% smaller entry."""
    info = zipfile.ZipInfo(path, date_time=_FIXED_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.flag_bits |= 0x800
    target.writestr(info, data, compresslevel=1)


def _local_entry_size(data: bytes, info: zipfile.ZipInfo) -> int:
    """Bytes of one entry as stored: local header, name, extra, data, data descriptor."""
    from signing.ofd.package import OfdFormatError

    start = info.header_offset
    header = data[start : start + 30]
    if len(header) != 30 or header[:4] != b"PK\x03\x04":
        raise OfdFormatError(f"the entry {info.filename} has no local header")
    name_len, extra_len = struct.unpack("<HH", header[26:30])
    end = start + 30 + name_len + extra_len + info.compress_size
    if info.flag_bits & 0x8:  # a data descriptor follows: optional signature, CRC, sizes
        size = 24 if info.compress_size > 0xFFFFFFFF or info.file_size > 0xFFFFFFFF else 16
        size -= 0 if data[end : end + 4] == b"PK\x07\x08" else 4
        end += size
    if end > len(data):
        raise OfdFormatError(f"the entry {info.filename} runs past the end of the file")
    return end - start
