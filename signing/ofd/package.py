"""Safe reading of an OFD container (GB/T 33190 section 7.2): a ZIP of XML parts.

Every limit is checked on the ZIP's central directory before a byte is inflated: the
number of entries, each part's declared size, their sum and each part's compression
ratio; a part is then inflated with a hard cap, so a lying size header cannot exhaust
memory. Entry names must stay inside the package (no absolute paths, ``..``, drive letters
or backslashes) and be unique; names written in GBK by Chinese tools (the ZIP "UTF-8" flag
unset) are decoded as such. XML is parsed with ``defusedxml`` and no DTD at all, so
entity expansion and external entities are refused.

Everything wrong with the container raises :class:`OfdFormatError`, which the verifier
turns into a FORMAT_FAILURE verdict.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
from dataclasses import dataclass
from typing import Any
from xml.etree.ElementTree import Element

from signing.errors import SigningError

__all__ = ["Limits", "OfdFormatError", "Package", "entry_path", "local_name"]


class OfdFormatError(SigningError):
    """The OFD container or one of its parts cannot be read safely."""


@dataclass(frozen=True)
class Limits:
    """Bounds on what an OFD may hold; beyond them the file is refused unread."""

    max_entries: int = 5000
    max_part_bytes: int = 64 * 1024 * 1024
    max_total_bytes: int = 256 * 1024 * 1024
    max_ratio: int = 100
    """Largest uncompressed/compressed size of a part (above ``ratio_floor`` bytes)."""
    ratio_floor: int = 1024 * 1024
    max_xml_bytes: int = 16 * 1024 * 1024


DEFAULT_LIMITS = Limits()


def local_name(element: Element) -> str:
    """An element's name without its namespace (OFD files use several namespace URIs)."""
    tag = element.tag if isinstance(element.tag, str) else ""
    return tag.rsplit("}", 1)[-1]


def _entry_name(info: zipfile.ZipInfo) -> str:
    """The entry's real name: UTF-8 when flagged, else UTF-8 if it decodes, else GBK."""
    if info.flag_bits & 0x800:
        return info.filename
    raw = info.filename.encode("cp437")
    for encoding in ("utf-8", "gbk"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise OfdFormatError(f"entry name {raw!r} is neither UTF-8 nor GBK")


def entry_path(info: zipfile.ZipInfo) -> str:
    """The package path of a ZIP entry (its name decoded and checked, see :class:`Package`)."""
    return _clean_path(_entry_name(info)) if not info.filename.endswith("/") else info.filename


def _clean_path(name: str) -> str:
    """The entry name as a package path (no leading slash); raise if it leaves the package."""
    if not name or "\\" in name or "\x00" in name or ":" in name.split("/", 1)[0]:
        raise OfdFormatError(f"entry name {name!r} is not a plain package path")
    if name.startswith("/") or any(part == ".." for part in name.split("/")):
        raise OfdFormatError(f"entry name {name!r} escapes the package")
    return posixpath.normpath(name)


class Package:
    """The parts of one OFD, by package path (``Doc_0/Document.xml``), read on demand."""

    def __init__(self, data: bytes, limits: Limits = DEFAULT_LIMITS) -> None:
        self.limits = limits
        self.notes: list[str] = []
        try:
            self._zip = zipfile.ZipFile(io.BytesIO(data))
            infos = self._zip.infolist()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as exc:
            raise OfdFormatError(f"not a readable ZIP container: {exc}") from None
        if len(infos) > limits.max_entries:
            raise OfdFormatError(f"more than {limits.max_entries} entries in the container")
        self._infos: dict[str, zipfile.ZipInfo] = {}
        self._cache: dict[str, bytes] = {}
        self._check_entries(infos)

    def _check_entries(self, infos: list[zipfile.ZipInfo]) -> None:
        total = 0
        gbk = False
        for info in infos:
            name = _entry_name(info)
            gbk = gbk or (not info.flag_bits & 0x800 and name != info.filename)
            if name.endswith("/"):
                continue
            path = _clean_path(name)
            if path in self._infos:
                raise OfdFormatError(f"the part {path} appears twice in the container")
            if info.flag_bits & 0x1:
                raise OfdFormatError(f"the part {path} is encrypted")
            if info.file_size > self.limits.max_part_bytes:
                raise OfdFormatError(f"the part {path} is larger than the limit")
            ratio_base = max(info.compress_size, 1)
            if (
                info.file_size > self.limits.ratio_floor
                and info.file_size / ratio_base > self.limits.max_ratio
            ):
                raise OfdFormatError(
                    f"the part {path} inflates {info.file_size // ratio_base}-fold (a zip bomb?)"
                )
            total += info.file_size
            if total > self.limits.max_total_bytes:
                raise OfdFormatError("the parts together are larger than the limit")
            self._infos[path] = info
        if gbk:
            self.notes.append("entry names are GBK-encoded (the ZIP UTF-8 flag is not set)")

    @property
    def paths(self) -> list[str]:
        """Every part's path, in container order."""
        return list(self._infos)

    def has(self, path: str) -> bool:
        return path in self._infos

    def read(self, path: str) -> bytes:
        """The bytes of one part; raise :class:`OfdFormatError` when it is missing or broken."""
        hit = self._cache.get(path)
        if hit is not None:
            return hit
        info = self._infos.get(path)
        if info is None:
            raise OfdFormatError(f"the part {path} is missing")
        cap = info.file_size
        try:
            with self._zip.open(info) as stream:
                data = stream.read(cap + 1)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            raise OfdFormatError(f"the part {path} cannot be inflated: {exc}") from None
        except Exception as exc:  # zlib.error, NotImplementedError (unknown compression)
            raise OfdFormatError(f"the part {path} cannot be inflated: {exc}") from None
        if len(data) != cap:
            raise OfdFormatError(f"the part {path} does not have its declared size")
        self._cache[path] = data
        return data

    def xml(self, path: str) -> Element:
        """One part parsed as XML, safely: no DTD, no entities, bounded size."""
        from defusedxml import DefusedXmlException
        from defusedxml.ElementTree import fromstring

        data = self.read(path)
        if len(data) > self.limits.max_xml_bytes:
            raise OfdFormatError(f"the XML part {path} is larger than the limit")
        try:
            root: Element = fromstring(data, forbid_dtd=True)
        except DefusedXmlException as exc:
            raise OfdFormatError(f"the XML part {path} is refused: {exc}") from None
        except Exception as exc:  # ParseError, ValueError, RecursionError
            raise OfdFormatError(
                f"the XML part {path} is not well-formed: {type(exc).__name__}: {exc}"
            ) from None
        return root

    def resolve(self, loc: str | None, base: str) -> str:
        """A package path from an ST_Loc: absolute from the package root when it starts
        with ``/``, else relative to the folder ``base``. Raise when it leaves the package."""
        loc = (loc or "").strip()
        if not loc or "\\" in loc or "\x00" in loc or "://" in loc:
            raise OfdFormatError(f"{loc!r} is not a package location")
        joined = loc[1:] if loc.startswith("/") else posixpath.join(base, loc)
        parts: list[str] = []
        for part in joined.split("/"):
            if part in ("", "."):
                continue
            if part == "..":
                if not parts:
                    raise OfdFormatError(f"the location {loc!r} escapes the package")
                parts.pop()
                continue
            parts.append(part)
        if not parts:
            raise OfdFormatError(f"{loc!r} is not a package location")
        return "/".join(parts)

    def close(self) -> None:
        self._zip.close()

    def __enter__(self) -> Package:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
