"""The byte layout of an OFD's ZIP container, checked before anything is read from it.

A ZIP can be read two ways: from the central directory at its end (``zipfile``, this
verifier) or by streaming its local entries from byte 0 (many viewers and unpackers). A
file where the two disagree shows one document to the verifier and another to a viewer,
so the container must be exactly well-formed (APPNOTE 6.3.x, section 4.3.6):

* the first local header at byte 0, no prepended data;
* the local entries contiguous, in the order of their offsets, each one matching its
  central directory record (name, flags but for the UTF-8 flag on an ASCII name, method,
  CRC-32, sizes) and followed, when flag bit 3 is set, by exactly one data descriptor with
  the same values (a stored entry with one must not hold a ZIP signature a streaming
  reader would take for its end);
* each deflate stream ending exactly at its compressed size and inflating to the declared
  size and CRC-32 (:func:`check_streams`, run once the sizes passed the limits);
* the central directory right after the last entry, its records contiguous, and one
  end-of-central-directory record right after it, with no comment, ending the file;
* each entry has one name for every reader: extra fields only of the kinds in
  :data:`EXTRA_FIELDS` (no Info-ZIP Unicode Path 0x7075, which Info-ZIP unzip and Apache
  commons-compress take as the entry's name while ``zipfile`` ignores it), each field
  within the extra area, in the central and the local header alike; a name flagged UTF-8
  is valid UTF-8; an unflagged non-ASCII name is UTF-8 and not also GBK (a name valid in
  both is a different file for a GBK and a UTF-8 reader; a GBK name, as Chinese tools
  write them, is another name to ofdrw, which decodes every unflagged name as UTF-8, and
  to every UTF-8 reader: red team 6, a14);
* a name of at most :data:`MAX_NAME_BYTES` bytes and :data:`MAX_NAME_DEPTH` folders (red
  team 6, a01: a 64 KB name of 32,000 folders made 1 GiB of folder keys; a real OFD's
  names are a few folders deep);
* a directory entry (name ending ``/``) holds no data (a reader taking it for a file
  would unpack it), and each entry's file type (UNIX mode, DOS folder attribute) agrees
  with its name: no symbolic links, no folder without the trailing slash;
* no ZIP64 archive (a ZIP64 extra field giving a small entry's sizes in its local header
  is read, as Java writes one), no multi-disk archive, no encryption, compression stored
  or deflated, and a "version needed to extract" of at most 4.5.

Every departure raises :class:`OfdFormatError`. The check reads each header once, so its
work is linear in the number of entries.
"""

from __future__ import annotations

import stat
import struct
import zlib
from dataclasses import dataclass

from signing.errors import SigningError

__all__ = ["EXTRA_FIELDS", "Stream", "ZipLayoutError", "check_layout", "check_streams"]

_LOCAL = b"PK\x03\x04"
_CENTRAL = b"PK\x01\x02"
_END = b"PK\x05\x06"
_ZIP64_END = b"PK\x06\x06"
_ZIP64_LOCATOR = b"PK\x06\x07"
_DESCRIPTOR = b"PK\x07\x08"
_LOCAL_FMT = struct.Struct("<4sHHHHHIIIHH")  # 30 bytes
_CENTRAL_FMT = struct.Struct("<4sHHHHHHIIIHHHHHII")  # 46 bytes
_END_FMT = struct.Struct("<4sHHHHIIH")  # 22 bytes
_MAX_VERSION = 45
MAX_NAME_BYTES = 1024
"""Bytes an entry name may have."""
MAX_NAME_DEPTH = 32
"""Folders an entry name may go down."""
_METHODS = {0: "stored", 8: "deflated"}
_KNOWN_FLAGS = 0x0002 | 0x0004 | 0x0008 | 0x0800  # deflate options, descriptor, UTF-8
_CHUNK = 1024 * 1024
#: Extra fields that do not rename an entry: ZIP64 sizes, NTFS times, UNIX (PKWARE) ids and
#: times, extended timestamp, Info-ZIP new UNIX ids. Every other kind is refused.
EXTRA_FIELDS = frozenset({0x0001, 0x000A, 0x000D, 0x5455, 0x7875})
#: What a streaming reader searches for to find the end of a stored entry of unknown size.
_SIGNATURES = (_DESCRIPTOR, _LOCAL, _CENTRAL, _END)


class ZipLayoutError(SigningError):
    """The container's bytes are not exactly one well-formed ZIP."""


@dataclass(frozen=True)
class _Record:
    """One central directory record: what its local entry must repeat."""

    name: bytes
    flags: int
    method: int
    crc: int
    csize: int
    usize: int
    offset: int


@dataclass(frozen=True)
class Stream:
    """Where one entry's compressed data lies, and what it must inflate to."""

    name: bytes
    start: int
    record: _Record


def check_layout(data: bytes, max_entries: int) -> list[Stream]:
    """Raise :class:`ZipLayoutError` unless ``data`` is one exactly well-formed ZIP; return
    its entries' data, for :func:`check_streams` once their sizes are known acceptable."""
    if not data.startswith(_LOCAL):
        raise ZipLayoutError("the file does not start with a ZIP local header")
    cd_offset, count = _end_record(data)
    if count > max_entries:
        raise ZipLayoutError(f"more than {max_entries} entries in the container")
    records = _central_records(data, cd_offset, count)
    pos = 0
    streams = []
    for record in sorted(records, key=lambda r: r.offset):
        if record.offset != pos:
            raise ZipLayoutError(
                f"bytes {pos}..{record.offset} before the entry {_show(record.name)} "
                "belong to no entry of the central directory"
            )
        start, pos = _local_entry(data, record)
        streams.append(Stream(record.name, start, record))
    if pos != cd_offset:
        raise ZipLayoutError(
            f"bytes {pos}..{cd_offset} between the last entry and the central directory "
            "belong to no entry"
        )
    return streams


def check_streams(data: bytes, streams: list[Stream]) -> None:
    """Each deflated entry's stream ends exactly at its compressed size (bytes after the
    end of a stream are where a streaming reader looks for the next header) and inflates to
    its declared size and CRC-32. Linear; memory bounded by the chunk size."""
    for stream in streams:
        if stream.record.method == 8:
            _inflate(data, stream)


def _inflate(data: bytes, stream: Stream) -> None:
    record, shown = stream.record, _show(stream.name)
    inflater = zlib.decompressobj(-15)
    pending = memoryview(data)[stream.start : stream.start + record.csize]
    size, crc = 0, 0
    try:
        while not inflater.eof:
            out = inflater.decompress(pending, _CHUNK)
            size, crc = size + len(out), zlib.crc32(out, crc)
            if size > record.usize:
                raise ZipLayoutError(f"the entry {shown} inflates beyond its declared size")
            if not out and not inflater.unconsumed_tail:
                break
            pending = memoryview(inflater.unconsumed_tail)
    except zlib.error as exc:
        raise ZipLayoutError(f"the entry {shown} is not a valid deflate stream: {exc}") from None
    if not inflater.eof or inflater.unused_data or inflater.unconsumed_tail:
        raise ZipLayoutError(
            f"the deflate stream of {shown} does not end at its compressed size "
            "(bytes inside the entry that belong to no part)"
        )
    if size != record.usize or crc != record.crc:
        raise ZipLayoutError(f"the entry {shown} does not inflate to its declared size and CRC")


def _end_record(data: bytes) -> tuple[int, int]:
    """The central directory's offset and record count, from the end record ending ``data``."""
    at = len(data) - _END_FMT.size
    if at < 0 or data[at : at + 4] != _END:
        found = data.rfind(_END)
        if found < 0 or found + _END_FMT.size > len(data):
            raise ZipLayoutError("the file has no ZIP end record")
        if found + _END_FMT.size + _END_FMT.unpack_from(data, found)[-1] == len(data):
            raise ZipLayoutError("the ZIP end record has a comment, which OFD files do not use")
        raise ZipLayoutError("the ZIP end record is not at the end of the file (appended data)")
    _, disk, cd_disk, here, total, cd_size, cd_offset, _ = _END_FMT.unpack_from(data, at)
    if 0xFFFF in (here, total) or 0xFFFFFFFF in (cd_size, cd_offset):
        raise ZipLayoutError("ZIP64 containers are not supported (an OFD license is small)")
    if at >= 20 and data[at - 20 : at - 16] == _ZIP64_LOCATOR:
        raise ZipLayoutError("ZIP64 containers are not supported (an OFD license is small)")
    if disk or cd_disk or here != total:
        raise ZipLayoutError("multi-disk ZIP archives are not supported")
    if cd_offset + cd_size != at:
        raise ZipLayoutError(
            "the central directory is not where the ZIP end record places it "
            "(bytes prepended or inserted that belong to no entry)"
        )
    return cd_offset, total


def _central_records(data: bytes, pos: int, count: int) -> list[_Record]:
    records: list[_Record] = []
    for _ in range(count):
        if data[pos : pos + 4] != _CENTRAL:
            raise ZipLayoutError(f"no central directory record at byte {pos}")
        if pos + _CENTRAL_FMT.size > len(data):
            raise ZipLayoutError("a central directory record is cut short")
        fields = _CENTRAL_FMT.unpack_from(data, pos)
        need, flags, method, crc, csize, usize = fields[2:5] + fields[7:10]
        name_len, extra_len, comment_len, disk, _, external, offset = fields[10:]
        start = pos + _CENTRAL_FMT.size
        name = data[start : start + name_len]
        _check_record(name, need, flags, method, disk, (csize, usize, offset))
        _check_kind(name, external)
        _check_extra(data[start + name_len : start + name_len + extra_len], name)
        records.append(_Record(name, flags, method, crc, csize, usize, offset))
        pos = start + name_len + extra_len + comment_len
    if data[pos : pos + 4] != _END:
        raise ZipLayoutError(
            "the central directory holds more records than the ZIP end record counts"
        )
    return records


def _check_record(
    name: bytes, need: int, flags: int, method: int, disk: int, sizes: tuple[int, ...]
) -> None:
    shown = _show(name)
    if need & 0xFF > _MAX_VERSION:
        raise ZipLayoutError(
            f"the entry {shown} needs ZIP version {(need & 0xFF) / 10:.1f} to be extracted; "
            f"this reader supports up to {_MAX_VERSION / 10:.1f}"
        )
    if flags & 0x1:
        raise ZipLayoutError(f"the entry {shown} is encrypted")
    if flags & ~_KNOWN_FLAGS:
        raise ZipLayoutError(f"the entry {shown} uses ZIP features this reader refuses")
    if method not in _METHODS:
        raise ZipLayoutError(f"the entry {shown} uses compression method {method}")
    if disk or 0xFFFFFFFF in sizes:
        raise ZipLayoutError(f"the entry {shown} is a ZIP64 or multi-disk entry")
    if name.endswith(b"/") and (sizes[1] or sizes[0] > 2):
        raise ZipLayoutError(f"the folder entry {shown} holds data (a hidden file)")
    if len(name) > MAX_NAME_BYTES or name.count(b"/") > MAX_NAME_DEPTH:
        raise ZipLayoutError(
            f"the entry {shown} has a name longer than {MAX_NAME_BYTES} bytes or deeper "
            f"than {MAX_NAME_DEPTH} folders"
        )
    decode_name(name, flags)


def _check_kind(name: bytes, external: int) -> None:
    """The entry's file type agrees with its name: a UNIX mode (high 16 bits) of a regular
    file or none for a file, of a folder or none for a name ending ``/``; the DOS folder
    attribute (0x10) only on such a name. A symbolic link (unpacked as a link to another
    file) or a "folder" without the slash (read as one by some readers) is refused."""
    kind = stat.S_IFMT(external >> 16)
    folder = name.endswith(b"/")
    if kind not in (0, stat.S_IFDIR if folder else stat.S_IFREG) or (
        external & 0x10 and not folder
    ):
        raise ZipLayoutError(
            f"the entry {_show(name)} is marked as another kind of file than its name says "
            "(a link, a device, or a folder without a trailing slash)"
        )


def decode_name(name: bytes, flags: int) -> str:
    """The one name every reader gives an entry: UTF-8 when flagged (and valid), ASCII, or
    else UTF-8 that is not also GBK; raise :class:`ZipLayoutError` for any other name (a
    GBK name is refused: ofdrw decodes unflagged names as UTF-8, making the part another,
    mangled file that no location names, while a GBK reader finds it)."""
    if flags & 0x800 or name.isascii():
        try:
            return name.decode("utf-8")
        except UnicodeDecodeError:
            raise ZipLayoutError(f"the entry {_show(name)} is flagged UTF-8 but is not") from None
    readings = []
    for encoding in ("utf-8", "gbk"):
        try:
            readings.append(name.decode(encoding))
        except UnicodeDecodeError:
            continue
    if len(readings) != 1:
        raise ZipLayoutError(
            f"the entry name {name!r} (not flagged UTF-8) is "
            + ("both UTF-8 and GBK: readers differ" if readings else "neither UTF-8 nor GBK")
        )
    try:
        return name.decode("utf-8")
    except UnicodeDecodeError:
        raise ZipLayoutError(
            f"the entry name {name!r} is GBK (not flagged UTF-8, not UTF-8): ofdrw and other "
            "readers decoding names as UTF-8 read another name and lose the part"
        ) from None


def _check_extra(extra: bytes, name: bytes) -> None:
    """Every extra field of an entry is of a kind in :data:`EXTRA_FIELDS` and within the
    extra area (no field another reader reads as a name, no bytes belonging to no field)."""
    pos = 0
    while pos < len(extra):
        if pos + 4 > len(extra):
            raise ZipLayoutError(f"the extra fields of {_show(name)} are cut short")
        tag, size = struct.unpack_from("<HH", extra, pos)
        if tag not in EXTRA_FIELDS:
            raise ZipLayoutError(
                f"the entry {_show(name)} has an extra field of kind 0x{tag:04x} "
                "(e.g. a Unicode Path field renaming it for other readers), which is refused"
            )
        pos += 4 + size
        if pos > len(extra):
            raise ZipLayoutError(f"an extra field of {_show(name)} runs past its end")


def _local_entry(data: bytes, record: _Record) -> tuple[int, int]:
    """Check the local entry of ``record``; return where its data starts and the offset
    just after it."""
    pos = record.offset
    if data[pos : pos + 4] != _LOCAL or pos + _LOCAL_FMT.size > len(data):
        raise ZipLayoutError(f"the entry {_show(record.name)} has no local header")
    fields = _LOCAL_FMT.unpack_from(data, pos)
    flags, method, crc, csize, usize, name_len, extra_len = fields[2:4] + fields[6:]
    start = pos + _LOCAL_FMT.size
    name = data[start : start + name_len]
    shown = _show(record.name)
    _check_extra(data[start + name_len : start + name_len + extra_len], record.name)
    if name != record.name:
        raise ZipLayoutError(
            f"the local header of {shown} names {_show(name)}: the central directory and a "
            "streaming reader see different parts"
        )
    if not _same_flags(flags, record) or method != record.method:
        raise ZipLayoutError(f"the local header of {shown} disagrees with its directory record")
    zip64 = 0xFFFFFFFF in (csize, usize)
    if zip64:  # sizes in a ZIP64 extra field, as Java writes them for small files too
        usize, csize = _zip64_sizes(data[start + name_len : start + name_len + extra_len], shown)
    described = flags & 0x8 and (crc, csize, usize) == (0, 0, 0)
    if not described and (crc, csize, usize) != (record.crc, record.csize, record.usize):
        raise ZipLayoutError(
            f"the local header of {shown} gives other sizes or CRC than its directory record"
        )
    begin = start + name_len + extra_len
    end = begin + record.csize
    if end > len(data):
        raise ZipLayoutError(f"the entry {shown} is cut short")
    if flags & 0x8:
        if method == 0 and any(sig in data[begin:end] for sig in _SIGNATURES):
            raise ZipLayoutError(
                f"the stored entry {shown} has a data descriptor and holds ZIP signatures: "
                "a streaming reader, which must search for its end, ends it elsewhere"
            )
        end = _descriptor_end(data, end, record, zip64)
    return begin, end


def _same_flags(flags: int, record: _Record) -> bool:
    """The same flags, but for the UTF-8 flag on an ASCII name (decoded alike either way)."""
    if flags == record.flags:
        return True
    return (flags ^ record.flags) == 0x800 and record.name.isascii()


def _zip64_sizes(extra: bytes, shown: str) -> tuple[int, int]:
    """The uncompressed and compressed sizes of a local header's ZIP64 extra field."""
    pos = 0
    while pos + 4 <= len(extra):
        tag, size = struct.unpack_from("<HH", extra, pos)
        if tag == 0x0001 and size >= 16 and pos + 4 + size <= len(extra):
            usize, csize = struct.unpack_from("<QQ", extra, pos + 4)
            return usize, csize
        pos += 4 + size
    raise ZipLayoutError(f"the local header of {shown} has no readable ZIP64 sizes")


def _descriptor_end(data: bytes, pos: int, record: _Record, zip64: bool) -> int:
    """The end of the data descriptor at ``pos``, which must repeat the record's values."""
    fmt = "<IQQ" if zip64 else "<III"
    values = struct.pack(fmt, record.crc, record.csize, record.usize)
    if data[pos : pos + 4 + len(values)] == _DESCRIPTOR + values:
        return pos + 4 + len(values)
    if data[pos : pos + len(values)] == values:
        return pos + len(values)
    raise ZipLayoutError(
        f"the data descriptor after {_show(record.name)} does not repeat its directory record"
    )


def _show(name: bytes) -> str:
    """An entry name for a message: decoded leniently, never more than 120 characters."""
    text = name.decode("utf-8", "replace")
    return repr(text if len(text) <= 120 else text[:117] + "...")
