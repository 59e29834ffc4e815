"""Safe reading of an OFD container (GB/T 33190 section 7.2): a ZIP of XML parts.

Every limit is checked on the ZIP's central directory before a byte is inflated: the
number of entries, each part's declared size, their sum and each part's compression
ratio; a part is then inflated with a hard cap, so a lying size header cannot exhaust
memory. The container's bytes must be exactly one well-formed ZIP (:mod:`.zipcheck`).
Entry names must stay inside the package (no absolute paths, ``..``, drive letters or
backslashes, no segment with leading or trailing spaces, which readers trim) and stay
distinct files when unpacked anywhere (:func:`unpacked_key`); a location resolves to one
part for every reader (:meth:`Package.resolve`, :meth:`Package.twin`); names
written in GBK by Chinese tools (the ZIP "UTF-8" flag unset, not UTF-8) are refused, as
ofdrw reads them as UTF-8 (another, mangled name); extra fields that rename an entry for
other readers and folder entries holding data are refused (:mod:`.zipcheck`). XML
is parsed by :mod:`.xmlread`: ``defusedxml`` with no DTD at all (no entity expansion, no
external entities), within bounds on the text parsed, and refusing markup that readers
read differently; such a refusal of a well-formed part is kept in :attr:`Package.unread`.

Everything wrong with the container raises :class:`OfdFormatError`, which the verifier
turns into a FORMAT_FAILURE verdict.
"""

from __future__ import annotations

import io
import posixpath
import re
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from itertools import islice
from typing import Any, TypeVar, cast
from xml.etree.ElementTree import Element

from signing.errors import SigningError
from signing.ofd.xmlread import XmlBudget, XmlMalformed, XmlRefused, parse_xml, require_utf8
from signing.ofd.zipcheck import ZipLayoutError, check_layout, check_streams, decode_name

__all__ = [
    "MAX_UNREAD_LISTED",
    "DrawingBudget",
    "Limits",
    "OfdFormatError",
    "Package",
    "child_elements",
    "entry_path",
    "java_trim",
    "joined_folder",
    "local_name",
    "parent_folder",
    "ref_id",
    "unpacked_key",
]


_T = TypeVar("_T")


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
    max_total_xml_bytes: int = 32 * 1024 * 1024
    """XML bytes of all parts parsed together (the largest real file seen has ~1.1 MB)."""
    max_xml_text: int = 32 * 1024 * 1024
    """Memory the parsed strings (names, attribute values, text) of all parts may take
    together, at 1, 2 or 4 bytes a character as Python holds them (the largest real file
    seen takes ~3.3 MB)."""
    max_part_elements: int = 50_000
    """Elements of one XML part (the corpus's largest part has ~1,100)."""
    max_elements: int = 200_000
    """Elements of all XML parts together (the corpus's largest file has ~4,000)."""
    max_part_markup: int = 1_000
    """Comments and processing instructions of one XML part (the corpus's parts hold at
    most one; red team 10, r10-04: 40,000 in a Document.xml made each check that
    asks whether a match lies in one quadratic)."""
    max_drawing_tokens: int = 2_000_000
    """Path data commands and numbers and glyph deltas that placing the page objects may
    read, for every page, part and signature of the file together, repeats included
    (:class:`DrawingBudget`; red team 8, r8-03). The largest real file seen reads ~30,000:
    the vault's certified copy, whose 加注 is drawn as glyph outlines (28,646 path tokens);
    the corpus's largest, converter-testPathClip.ofd, holds 21,310 path tokens and 236
    deltas, converter-999.ofd 5,253 deltas."""


DEFAULT_LIMITS = Limits()

MAX_UNREAD_LISTED = 50
"""Distinct reasons :attr:`Package.unread` lists; each fails every signature, and a file
may hold 100,000 of them (red team 10, r10-06): the rest are counted, not listed."""


class DrawingBudget:
    """Path data tokens (commands and numbers) and glyph deltas the verifier may still read
    to place the page objects of one file, shared by every page, part and check: each is
    read with some Python work, so a small file of long paths (28 pages of a million bare
    ``C`` commands, 68 KB zipped) is refused, not worked through (red team 8, r8-03: 39 s
    of CPU)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.left = limit

    def spend(self, count: int) -> None:
        """Charge ``count`` tokens; raise :class:`OfdFormatError` once the file's budget is
        spent (and on every call after)."""
        self.left -= count
        if self.left < 0:
            raise OfdFormatError(
                f"the page objects hold more than {self.limit} path data tokens and glyph "
                "deltas to place in the file"
            )


def local_name(element: Element) -> str:
    """An element's name without its namespace (OFD files use several namespace URIs)."""
    tag = element.tag if isinstance(element.tag, str) else ""
    return tag.rsplit("}", 1)[-1]


_NUMBER = re.compile(r"[+-]?[0-9]{1,18}")
_JAVA_TRIM = "".join(map(chr, range(0x21)))
"""What Java's ``String.trim`` drops from both ends: every character up to U+0020."""


def java_trim(value: str) -> str:
    """``value`` trimmed as Java's ``String.trim`` (ofdrw) trims it, not as ``str.strip``
    (which also drops U+3000, U+00A0, U+2028 ...: red team 6, a04)."""
    return value.strip(_JAVA_TRIM)


def child_elements(el: Element, name: str) -> list[Element]:
    """The children of ``el`` named ``name`` (in any namespace)."""
    return [c for c in el if local_name(c) == name]


def parent_folder(path: str) -> str:
    """The folder of a package path ("" at the root)."""
    return path.rsplit("/", 1)[0] if "/" in path else ""


def joined_folder(folder: str, loc: str) -> str:
    """A resource file's ``BaseLoc`` (a folder location, absolute from the package root
    when it starts with ``/``) joined to ``folder``, unnormalised."""
    if loc.startswith("/"):
        return loc[1:].rstrip("/")
    return "/".join(p for p in (folder, loc.rstrip("/")) if p)


def ref_id(value: str | None) -> str:
    """An ``ST_ID``/``ST_RefID`` as OFD readers resolve it: as a number (ofdrw:
    ``Long.parseLong(s.trim())``), so ``"01"``, ``" 1 "`` and ``"+1"`` are all 1. Every ID
    and ID reference the verifier matches goes through here; an ASCII value that is not a
    number is kept trimmed (it matches no number). A value with any other character
    raises :class:`OfdFormatError`: Java takes any Unicode digit (fullwidth ``１`` is 1 to
    ofdrw), other readers do not (red team 6, a02's class)."""
    text = java_trim(value or "")
    if _NUMBER.fullmatch(text):
        return str(int(text))
    if not text.isascii() or (text.lstrip("+-").isdigit() and len(text) > 18):
        raise OfdFormatError(f"readers differ on the ID {text[:40]!r}: not an ASCII number")
    return text


def _entry_name(info: zipfile.ZipInfo) -> str:
    """The entry's one name (:func:`.zipcheck.decode_name`): UTF-8 (a GBK name is
    refused)."""
    if info.flag_bits & 0x800:
        return info.filename
    try:
        return decode_name(info.filename.encode("cp437"), info.flag_bits)
    except ZipLayoutError as exc:
        raise OfdFormatError(str(exc)) from None


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


def _trimmed(name: str) -> None:
    """Raise for an entry name with a segment a reader reads trimmed (:func:`_padded`)."""
    if any(_padded(part) for part in name.rstrip("/").split("/")):
        raise OfdFormatError(f"entry name {name!r} has a segment with {_PADDED}")


_PADDED = "leading or trailing spaces: readers that trim each segment open another file"


def _padded(segment: str) -> bool:
    """Whether a path segment starts or ends with a space or control character (ofdrw's
    ``ResourceLocator`` trims each segment with Java's ``String.trim``, which drops every
    character up to U+0020) or other Unicode white space (red team 5, a02b: the folder
    ``" Sign_1"`` was one folder to this verifier and ``Sign_1`` to ofdrw)."""
    return bool(segment) and (segment != segment.strip() or segment[0] <= " " or segment[-1] <= " ")


_WINDOWS_FORBIDDEN = re.compile(r'[<>:"|?*\x00-\x1f]')
_DEVICE = re.compile(r"(?i)(con|prn|aux|nul|com[0-9]|lpt[0-9]|conin\$|conout\$)(\..*)?")
_SHORT_NAME = re.compile(r"~[0-9]")


def unpacked_key(path: str) -> str:
    """The file ``path`` becomes when unpacked anywhere: case folded, Unicode NFKC
    normalised (which also folds NFC forms and compatibility characters), trailing dots and
    spaces dropped from each segment (Windows drops them). Two parts with one key are one
    file on some file system; raise :class:`OfdFormatError` for a segment no file system
    keeps as written (characters Windows forbids, device names, 8.3 short-name forms)."""
    segments = []
    for segment in path.split("/"):
        folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", segment).casefold())
        stripped = folded.rstrip(". ")
        if not stripped or _WINDOWS_FORBIDDEN.search(folded):
            raise OfdFormatError(f"the entry name {path!r} is not a portable file name")
        if _DEVICE.fullmatch(stripped) or _SHORT_NAME.search(folded):
            raise OfdFormatError(f"the entry name {path!r} names a device or a short file name")
        segments.append(stripped)
    return "/".join(segments)


class _UnpackedNames:
    """The files and folders an unpacker would create, by :func:`unpacked_key`: refuses two
    entries that become one file, and a file that is also a folder."""

    def __init__(self) -> None:
        self.files: dict[str, str] = {}
        self.folders: set[str] = set()

    def add_folder(self, name: str) -> None:
        path = _clean_path(name.rstrip("/"))
        if path != ".":
            self._add_folders(unpacked_key(path), path)

    def add_file(self, path: str) -> None:
        key = unpacked_key(path)
        other = self.files.get(key)
        if other is not None:
            raise OfdFormatError(f"the parts {other} and {path} become the same file when unpacked")
        if key in self.folders:
            raise OfdFormatError(f"the part {path} is also a folder when unpacked")
        self.files[key] = path
        self._add_folders(key.rsplit("/", 1)[0] if "/" in key else "", path)

    def _add_folders(self, key: str, path: str) -> None:
        while key and key not in self.folders:
            if key in self.files:
                raise OfdFormatError(f"the part {self.files[key]} is also a folder of {path}")
            self.folders.add(key)
            key = key.rsplit("/", 1)[0] if "/" in key else ""


_WHITE_RUN = re.compile(r"[\t\n\r\f]|  ")
_ODD = (
    "it has a control character, a line or paragraph separator, or white space other than "
    "the ASCII space (ofdrw trims only characters up to U+0020, Python all Unicode white "
    "space; XML 1.1 readers make U+2028 and U+0085 a line end: red team 6, a04/a06)"
)
_ODD_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Zs"})


def _odd_location(path: str) -> bool:
    """Whether a location holds a character readers trim, split or normalise differently
    (any control or format character, any separator but the ASCII space)."""
    if path.isascii():
        return any(c < " " or c == "\x7f" for c in path)
    return any(
        c != " " and (c.isspace() or unicodedata.category(c) in _ODD_CATEGORIES) for c in path
    )


_COLLAPSED = (
    "ofdrw reads a location element's text with dom4j's getTextTrim, which makes each run "
    "of white space one space (red team 5, a05 without a child element)"
)


class _Unread(OfdFormatError):
    """A well-formed part refused (:class:`.xmlread.XmlRefused`): what a reader takes from
    it cannot be told, so it fails every signature (:attr:`Package.unread`)."""


class Package:
    """The parts of one OFD, by package path (``Doc_0/Document.xml``), read on demand."""

    def __init__(self, data: bytes, limits: Limits = DEFAULT_LIMITS) -> None:
        self.limits = limits
        self.notes: list[str] = []
        try:
            streams = check_layout(data, limits.max_entries)
        except ZipLayoutError as exc:
            raise OfdFormatError(f"not a readable ZIP container: {exc}") from None
        try:
            self._zip = zipfile.ZipFile(io.BytesIO(data))
            infos = self._zip.infolist()
        except Exception as exc:  # BadZipFile, NotImplementedError, struct.error ...
            raise OfdFormatError(
                f"not a readable ZIP container ({type(exc).__name__}: {str(exc)[:160]})"
            ) from None
        if len(infos) > limits.max_entries:
            raise OfdFormatError(f"more than {limits.max_entries} entries in the container")
        self._infos: dict[str, zipfile.ZipInfo] = {}
        self._cache: dict[str, bytes] = {}
        self._trees: dict[str, Element] = {}
        self._refused: dict[str, str] = {}
        self._folder_set: frozenset[str] | None = None
        self._unread: dict[str, None] = {}
        """Each distinct reason of :attr:`unread`, in the order found (a dict: a file of
        96,000 odd font locations was de-duplicated by a list scan, O(N²), 33 s; red team
        10, r10-06)."""
        self._budget = XmlBudget(
            max_part_elements=limits.max_part_elements,
            max_elements=limits.max_elements,
            max_part_markup=limits.max_part_markup,
            max_text=limits.max_xml_text,
            max_total_bytes=limits.max_total_xml_bytes,
        )
        self._unpacked: dict[str, str] = {}
        """Each part by the file it becomes when unpacked (:func:`unpacked_key`)."""
        self._once: dict[tuple[str, ...], Any] = {}
        self.drawing = DrawingBudget(limits.max_drawing_tokens)
        """What placing the page objects may still read (:mod:`.drawn`)."""
        self._check_entries(infos)
        try:
            check_streams(data, streams)
        except ZipLayoutError as exc:
            raise OfdFormatError(f"not a readable ZIP container: {exc}") from None

    def _check_entries(self, infos: list[zipfile.ZipInfo]) -> None:
        total = 0
        files = _UnpackedNames()
        for info in infos:
            name = _entry_name(info)
            if name.endswith("/"):
                if info.file_size:
                    raise OfdFormatError(f"the folder entry {name!r} holds data")
                files.add_folder(name)
                _trimmed(name)
                continue
            path = _clean_path(name)
            if path in self._infos:
                raise OfdFormatError(f"the part {path} appears twice in the container")
            files.add_file(path)
            _trimmed(path)
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
        self._unpacked = files.files

    @property
    def unread(self) -> list[str]:
        """Why each well-formed XML part asked for was refused (a limit, the encoding, a
        DTD, markup readers read differently), and each location readers resolve
        differently: a reader may read it, the verifier cannot tell what it takes from
        it, so every signature fails (the verifier's package findings). The first
        :data:`MAX_UNREAD_LISTED` distinct reasons, then one saying how many more."""
        listed = list(islice(self._unread, MAX_UNREAD_LISTED))
        more = len(self._unread) - len(listed)
        if more:
            listed.append(f"and {more} more parts or locations refused alike")
        return listed

    @property
    def paths(self) -> list[str]:
        """Every part's path, in container order."""
        return list(self._infos)

    def info(self, path: str) -> zipfile.ZipInfo:
        """The checked ZIP entry of one part."""
        found = self._infos.get(path)
        if found is None:
            raise OfdFormatError(f"the part {path} is missing")
        return found

    def has(self, path: str) -> bool:
        return path in self._infos

    def once(self, key: tuple[str, ...], compute: Callable[[], _T]) -> _T:
        """``compute()``, computed once per package for ``key`` (what the pages of a
        document draw with, asked by each of up to 200 signatures; red team 5, a08): the
        value is shared (callers must not change it), an :class:`OfdFormatError` is raised
        again on each call."""
        if key not in self._once:
            try:
                self._once[key] = compute()
            except OfdFormatError as exc:
                self._once[key] = exc
        found = self._once[key]
        if isinstance(found, OfdFormatError):
            raise OfdFormatError(str(found))
        return cast(_T, found)

    def twin(self, path: str) -> str | None:
        """The part that becomes the file ``path`` when unpacked, when ``path`` itself is
        missing: what a reader on a case-insensitive file system (Windows, macOS) opens for
        it (``tpls/tpl_0/content.xml`` for ``Tpls/Tpl_0/Content.xml``; red team 5, a03)."""
        if path in self._infos:
            return None
        try:
            return self._unpacked.get(unpacked_key(path))
        except OfdFormatError:
            return None

    def locate(self, path: str) -> str | None:
        """The part a reader may open for ``path``: itself, else its :meth:`twin`, else
        None (missing)."""
        return path if path in self._infos else self.twin(path)

    def read(self, path: str) -> bytes:
        """The bytes of one part; raise :class:`OfdFormatError` when it is missing or broken."""
        hit = self._cache.get(path)
        if hit is not None:
            return hit
        info = self._infos.get(path)
        if info is None:
            twin = self.twin(path)
            if twin is not None:
                raise OfdFormatError(
                    f"the part {path} is missing, and {twin} becomes it once unpacked: "
                    "readers differ on the file they open"
                )
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
        """One part parsed as XML, safely (:mod:`.xmlread`): no DTD, no entities, UTF-8,
        bounded size, element count and parsed text (per part and for the whole package,
        counted while parsing), no markup readers read differently; each part is parsed
        once (the tree is shared: callers must not change it)."""
        tree = self._trees.get(path)
        if tree is not None:
            return tree
        if path in self._refused:
            raise OfdFormatError(self._refused[path])
        try:
            tree = self._parse(path)
        except OfdFormatError as exc:
            self._refused[path] = str(exc)
            if isinstance(exc, _Unread):
                self._unread[str(exc)] = None
            raise
        self._trees[path] = tree
        return tree

    def _parse(self, path: str) -> Element:
        data = self.read(path)
        if len(data) > self.limits.max_xml_bytes:
            raise _Unread(f"the XML part {path} is larger than the limit")
        try:
            require_utf8(data)
        except XmlRefused as exc:
            raise _Unread(f"the XML part {path} is {exc}") from None
        try:
            return parse_xml(data, self._budget)
        except XmlRefused as exc:
            raise _Unread(f"the XML part {path} is refused: {exc}") from None
        except XmlMalformed as exc:
            raise OfdFormatError(f"the XML part {path} is not well-formed: {exc}") from None

    def resolve(self, loc: str | None, base: str) -> str:
        """A package path from an ST_Loc: absolute from the package root when it starts
        with ``/``, else relative to the folder ``base``. Raise when it leaves the package
        or a segment has leading or trailing spaces (:func:`_padded`: readers differ)."""
        loc = java_trim(loc or "")
        if not loc or "\\" in loc or "\x00" in loc or "://" in loc:
            raise OfdFormatError(f"{loc!r} is not a package location")
        if _WHITE_RUN.search(loc):
            raise self._readers_differ(f"readers differ on the location {loc!r}: {_COLLAPSED}")
        if loc.rsplit("/", 1)[-1] in ("", ".", ".."):
            # ofdrw's ResourceLocator reads the text after the last "/" as the file's name
            # and what is before it as its folder: "…/Signature.xml/" is no file to it
            # (red team 9, r9-03: an issuer's stamp hidden from every ofdrw reader)
            raise self._readers_differ(
                f"readers differ on the location {loc!r}: it does not end in a file name"
            )
        joined = loc[1:] if loc.startswith("/") else posixpath.join(base, loc)
        if _odd_location(joined):
            raise self._readers_differ(f"readers differ on the location {loc!r}: {_ODD}")
        parts: list[str] = []
        for part in joined.split("/"):
            if _padded(part):
                raise OfdFormatError(f"the location {loc!r} has a segment with {_PADDED}")
            if part in ("", "."):
                continue
            if part == "..":
                if not parts:
                    raise OfdFormatError(f"the location {loc!r} escapes the package")
                if "/".join(parts) not in self._folders():
                    raise self._readers_differ(
                        f"readers differ on the location {loc!r}: it goes through the folder "
                        f"{'/'.join(parts)!r}, which holds no part, and back (ofdrw's exist() "
                        "walks it on the file system and finds nothing there)"
                    )
                parts.pop()
                continue
            parts.append(part)
        if not parts:
            raise OfdFormatError(f"{loc!r} is not a package location")
        return "/".join(parts)

    def _folders(self) -> frozenset[str]:
        """Every folder that holds a part (at any depth): what an unpacked package has.
        A folder entry alone is none (a holder may drop it; red team 10, r10-08b)."""
        if self._folder_set is None:
            self._folder_set = frozenset(
                path[:at] for path in self._infos for at, ch in enumerate(path) if ch == "/"
            )
        return self._folder_set

    def resolve_once(self, loc: str | None, base: str, what: str) -> str:
        """:meth:`resolve` for a location ofdrw resolves twice: it changes to the location's
        folder, then resolves the location again from there (``OFDReader.getStampAnnots``
        for a Signature.xml's ``SignedValue``, ``ResourceManage.loadResFile`` for a
        Document.xml's ``PublicRes`` and ``DocumentRes``), so ``sv/SignedValue.dat`` is
        read from ``sv/sv/SignedValue.dat`` (red team 6, a03 and a10). Such a location,
        relative with a folder, names two files: refused (kept in :attr:`unread`, it fails
        every signature). A bare file name or an absolute location is read once."""
        text = (loc or "").strip()
        if "/" in text and not text.startswith("/"):
            raise self._readers_differ(
                f"readers differ on {what} {text!r}: ofdrw resolves a relative "
                "location with a folder twice (from that folder again) and reads another file"
            )
        return self.resolve(loc, base)

    def same_part(
        self, path: str, other: str | None, what: str, reader: str, *, required: bool = False
    ) -> None:
        """Refuse ``what`` (kept in :attr:`unread`) when ``reader`` opens ``other`` for it,
        a part of the package (or its :meth:`twin`) that is not ``path``: the two readers
        show different files. A location ``reader`` cannot open shows nothing there: left
        as it is, unless ``required``."""
        mine = self.locate(path)
        found = self.locate(other) if other is not None else None
        if found is None and required and mine is not None:
            raise self._readers_differ(
                f"readers differ on {what}: ofdrw's {reader} opens {other or 'no part'}, "
                f"which the package lacks, not {path}"
            )
        if found is not None and found != (mine or path):
            raise self._readers_differ(
                f"readers differ on {what}: ofdrw's {reader} opens {found}, not {path}"
            )

    def _readers_differ(self, why: str) -> OfdFormatError:
        """The error for a reading readers differ on, kept in :attr:`unread`."""
        self._unread[why] = None
        return OfdFormatError(why)

    def close(self) -> None:
        self._zip.close()

    def __enter__(self) -> Package:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
