"""The OFD container is exactly one well-formed ZIP whose entries stay distinct files when
unpacked anywhere: every other container is TOTAL_FAILED/FORMAT_FAILURE, never a crash.

The ZIPs are built byte by byte from a genuine sealed license (the ``sealed`` fixture), so
each test changes one thing a streaming reader, an unpacker or ``zipfile`` reads."""

from __future__ import annotations

import io
import struct
import warnings
import zipfile
import zlib
from typing import Any

import pytest

from schemas.report import Indication, SubIndication
from signing.ofd import verify_ofd
from signing.ofd.package import OfdFormatError, Package, unpacked_key
from signing.ofd.writer import write_package
from signing.ofd.zipcheck import ZipLayoutError, check_layout
from tests.helpers.ofd import ofd_parts

PAGE = "Doc_0/Pages/Page_0/Content.xml"


def _failed_because(data: bytes, words: str) -> None:
    report = verify_ofd(data, trust=None)
    assert (report.indication, report.sub_indication) == (
        Indication.TOTAL_FAILED,
        SubIndication.FORMAT_FAILURE,
    ), report.reasons
    assert words in report.reasons[0], report.reasons


def _with_entry(sealed: bytes, name: str, data: bytes = b"<x/>") -> bytes:
    return write_package({**ofd_parts(sealed), name: data})


def test_the_sealed_license_is_well_formed(sealed: bytes) -> None:
    check_layout(sealed, 5000)
    assert verify_ofd(sealed, trust=None).sub_indication is not SubIndication.FORMAT_FAILURE


# -- 1. names that become one file when unpacked -------------------------------------------


@pytest.mark.parametrize(
    "alias",
    [
        PAGE.upper(),  # case
        PAGE.replace("Pages", "PAGES"),  # case of a folder
        PAGE + ".",  # Windows drops trailing dots ...
        PAGE + " . ",  # ... and spaces
        PAGE.replace("Pages/", "Pages./"),  # ... in folders too
        PAGE.replace("Content", "\uff23ontent"),  # fullwidth C: NFKC
        PAGE.replace("Page_0", "Page\uff3f0"),  # fullwidth low line: NFKC
        PAGE.replace("Content", "Conten\u1d57"),  # modifier letter small t: NFKC
    ],
)
def test_aliases_of_a_signed_part_are_refused(sealed: bytes, alias: str) -> None:
    _failed_because(_with_entry(sealed, alias), "become the same file when unpacked")


def test_unicode_forms_of_one_name_are_one_file() -> None:
    composed, decomposed = "Doc_0/Res/\u00e9.png", "Doc_0/Res/e\u0301.png"
    assert unpacked_key(composed) == unpacked_key(decomposed)
    assert unpacked_key("Doc_0/Res/ﬁle.png") == unpacked_key("doc_0/res/FILE.png")  # ligature
    assert unpacked_key("Doc_0/Straße.xml") == unpacked_key("doc_0/STRASSE.xml")  # casefold


def test_nfd_alias_is_refused(sealed: bytes) -> None:
    parts = {**ofd_parts(sealed), "Doc_0/Res/\u00e9.png": b"a", "Doc_0/Res/e\u0301.png": b"b"}
    _failed_because(write_package(parts), "become the same file")


@pytest.mark.parametrize(
    "name",
    [
        "Doc_0/Res/a<b.png",
        "Doc_0/Res/a|b.png",
        "Doc_0/Res/a?.png",
        "Doc_0/Res/a*.png",
        'Doc_0/Res/a".png',
        "Doc_0/Res/a:stream",  # an NTFS alternate data stream
        "Doc_0/Res/a\x01.png",
    ],
)
def test_names_windows_forbids_are_refused(sealed: bytes, name: str) -> None:
    _failed_because(_with_entry(sealed, name), "not a portable file name")


@pytest.mark.parametrize(
    "name", ["Doc_0/CON", "Doc_0/nul.xml", "Doc_0/Com1.png", "LPT9/x.xml", "Doc_0/Pages/PAGE_0~1"]
)
def test_device_and_short_names_are_refused(sealed: bytes, name: str) -> None:
    _failed_because(_with_entry(sealed, name), "device or a short file name")


@pytest.mark.parametrize("name", ["Doc_0/...", "Doc_0/ /x.xml"])
def test_segments_that_vanish_are_refused(sealed: bytes, name: str) -> None:
    _failed_because(_with_entry(sealed, name), "not a portable file name")


def test_a_file_that_is_also_a_folder_is_refused(sealed: bytes) -> None:
    _failed_because(_with_entry(sealed, "doc_0/pages/page_0"), "also a folder")
    _failed_because(_with_entry(sealed, PAGE.upper() + "/x.xml"), "also a folder")


# -- 2. bytes no central directory record accounts for --------------------------------------


def _end(data: bytes | bytearray) -> int:
    return len(data) - 22


def test_prepended_bytes_are_refused(sealed: bytes) -> None:
    _failed_because(b"MZ" + sealed, "does not start with a ZIP local header")


def test_prepended_local_entries_are_refused(sealed: bytes) -> None:
    """zipfile accepts them (it shifts every offset), a streaming reader reads them first."""
    ghost = sealed[: sealed.index(b"PK\x03\x04", 4)]  # the first local entry again
    _failed_because(ghost + sealed, "prepended or inserted")


def test_appended_bytes_are_refused(sealed: bytes) -> None:
    _failed_because(sealed + b"\0" * 10, "end record is not at the end")


def test_a_comment_is_refused(sealed: bytes) -> None:
    data = bytearray(sealed)
    data[-2:] = struct.pack("<H", 4)
    _failed_because(bytes(data) + b"PK\x03\x04", "has a comment")


def test_bytes_between_the_entries_and_the_directory_are_refused(sealed: bytes) -> None:
    end = _end(sealed)
    _cd_size, cd_offset = struct.unpack_from("<II", sealed, end + 12)
    hidden = b"PK\x03\x04 a hidden entry"
    data = bytearray(sealed[:cd_offset] + hidden + sealed[cd_offset:])
    struct.pack_into("<I", data, end + len(hidden) + 16, cd_offset + len(hidden))
    _failed_because(bytes(data), "between the last entry and the central directory")


def test_bytes_between_two_entries_are_refused(sealed: bytes) -> None:
    """Hidden bytes after the first entry; the offsets after them moved to stay valid."""
    second = sealed.index(b"PK\x03\x04", 4)
    hidden = b"PK\x03\x04 a hidden entry"
    data = bytearray(sealed[:second] + hidden + sealed[second:])
    end = _end(data)
    cd_offset = struct.unpack_from("<I", data, end + 16)[0] + len(hidden)
    struct.pack_into("<I", data, end + 16, cd_offset)
    at = cd_offset
    while data[at : at + 4] == b"PK\x01\x02":
        offset = struct.unpack_from("<I", data, at + 42)[0]
        if offset >= second:
            struct.pack_into("<I", data, at + 42, offset + len(hidden))
        at += 46 + sum(struct.unpack_from("<HHH", data, at + 28))
    _failed_because(bytes(data), "belong to no entry of the central directory")


def test_a_local_name_other_than_the_directory_name_is_refused(sealed: bytes) -> None:
    at = sealed.index(b"Doc_0/", 30)  # the first local header's name
    data = sealed[:at] + b"Doc_9/" + sealed[at + 6 :]
    _failed_because(data, "the central directory and a streaming reader see different parts")


def test_local_sizes_other_than_the_directory_sizes_are_refused(sealed: bytes) -> None:
    data = bytearray(sealed)
    struct.pack_into("<I", data, 14, 0)  # the first local header's CRC-32
    _failed_because(bytes(data), "other sizes or CRC")


def test_a_data_descriptor_must_repeat_the_directory(sealed: bytes) -> None:
    parts = ofd_parts(sealed)
    stream = _Unseekable()  # unseekable: zipfile writes data descriptors
    with zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, value in parts.items():
            zf.writestr(name, value)
    good = stream.getvalue()
    assert struct.unpack_from("<H", good, 6)[0] & 0x8
    check_layout(good, 5000)
    bad = bytearray(good)
    at = bad.index(b"PK\x07\x08")
    bad[at + 4] ^= 0xFF  # the descriptor's CRC-32
    _failed_because(bytes(bad), "data descriptor")


class _Unseekable(io.BytesIO):
    def seekable(self) -> bool:
        return False

    def seek(self, *args: object) -> int:
        raise OSError("unseekable")

    def tell(self) -> int:
        return len(self.getvalue())


def test_version_needed_beyond_the_reader_is_a_verdict(sealed: bytes) -> None:
    data = bytearray(sealed)
    at = data.rfind(b"PK\x01\x02")
    data[at + 6] = 63  # "version needed to extract" 6.3 (LZMA, AES ...)
    _failed_because(bytes(data), "needs ZIP version 6.3")


def test_zip64_sizes_of_a_small_entry_are_read() -> None:
    """Java writes a ZIP64 extra field in the local header of small entries (corpus file
    converter-999.ofd); the sizes in it must match the directory's like any others."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf, zf.open("OFD.xml", "w", force_zip64=True) as part:
        part.write(b"<a/>")
    data = out.getvalue()
    assert struct.unpack_from("<I", data, 18)[0] == 0xFFFFFFFF
    check_layout(data, 5000)
    at = data.index(b"\x01\x00\x10\x00", 30)  # the ZIP64 extra field: sizes follow
    with pytest.raises(ZipLayoutError, match="other sizes"):
        check_layout(data[: at + 4] + struct.pack("<Q", 5) + data[at + 12 :], 5000)


def test_a_zip64_archive_is_refused_clearly(sealed: bytes) -> None:
    data = bytearray(sealed)
    struct.pack_into("<I", data, _end(data) + 16, 0xFFFFFFFF)
    _failed_because(bytes(data), "ZIP64 containers are not supported")


@pytest.mark.parametrize("method", [12, 14, 99])
def test_other_compression_methods_are_refused(sealed: bytes, method: int) -> None:
    data = bytearray(sealed)
    at = data.rfind(b"PK\x01\x02")
    struct.pack_into("<H", data, at + 10, method)
    _failed_because(bytes(data), f"compression method {method}")


def test_an_entry_count_that_lies_is_refused(sealed: bytes) -> None:
    data = bytearray(sealed)
    here, total = struct.unpack_from("<HH", data, _end(data) + 8)
    struct.pack_into("<HH", data, _end(data) + 8, here - 1, total - 1)
    _failed_because(bytes(data), "more records than the ZIP end record counts")


def test_truncated_files_are_verdicts(sealed: bytes) -> None:
    for cut in (10, 30, len(sealed) // 2, len(sealed) - 30, len(sealed) - 1):
        report = verify_ofd(sealed[:cut], trust=None)
        assert report.sub_indication is SubIndication.FORMAT_FAILURE


# -- 3. crashes ------------------------------------------------------------------------------


def test_every_exception_of_the_verification_is_a_verdict(
    sealed: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The last resort: a bug anywhere becomes TOTAL_FAILED, its text not in the report."""
    import signing.ofd.verifier as verifier

    def boom(*args: object) -> None:
        raise KeyError("secret internals")

    monkeypatch.setattr(verifier, "read_documents", boom)
    report = verify_ofd(sealed, trust=None)
    assert report.indication is Indication.TOTAL_FAILED
    assert report.reasons == ["the OFD file cannot be verified (KeyError)"]


def test_zipfile_errors_become_format_errors(sealed: bytes) -> None:
    with warnings.catch_warnings(), pytest.raises(OfdFormatError):
        warnings.simplefilter("ignore")
        Package(b"PK\x03\x04" + b"\0" * 100)


# -- inside the entries: what each deflate stream holds --------------------------------------


def _zip_of(entries: list[tuple[str, int, bytes, int, int, int]]) -> bytes:
    """A ZIP from (name, method, compressed data, CRC-32, size, flags), headers consistent."""
    local, central = io.BytesIO(), io.BytesIO()
    for name, method, raw, crc, size, flags in entries:
        offset, encoded = local.tell(), name.encode()
        sizes = (crc, len(raw), size)
        local.write(
            struct.pack(
                "<4s5H3I2H", b"PK\x03\x04", 20, flags, method, 0, 0, *sizes, len(encoded), 0
            )
        )
        local.write(encoded + raw)
        if flags & 0x8:
            local.write(struct.pack("<4s3I", b"PK\x07\x08", *sizes))
        names = (len(encoded), 0, 0, 0, 0, 0, offset)
        central.write(
            struct.pack("<4s6H3I5H2I", b"PK\x01\x02", 20, 20, flags, method, 0, 0, *sizes, *names)
        )
        central.write(encoded)
    cd = central.getvalue()
    count = len(entries)
    end = struct.pack("<4s4H2IH", b"PK\x05\x06", 0, 0, count, count, len(cd), local.tell(), 0)
    return local.getvalue() + cd + end


def _deflated(data: bytes) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    return packer.compress(data) + packer.flush()


def _entry(name: str, data: bytes, raw: bytes | None = None, flags: int = 0) -> tuple[Any, ...]:
    raw = _deflated(data) if raw is None else raw
    return (name, 8, raw, zlib.crc32(data), len(data), flags)


def test_a_consistent_zip_of_our_own_is_read() -> None:
    data = _zip_of([_entry("OFD.xml", b"<a/>"), _entry("Doc_0/x.xml", b"<b/>", flags=0x8)])
    with Package(data) as pkg:
        assert pkg.read("Doc_0/x.xml") == b"<b/>"


@pytest.mark.parametrize("flags", [0, 0x8])
def test_bytes_after_a_deflate_stream_are_refused(flags: int) -> None:
    """A ghost local entry inside the compressed size of a part nothing reads."""
    ghost = b"PK\x03\x04" + b"\0" * 26 + b"ghost"
    raw = _deflated(b"<b/>") + ghost
    data = _zip_of([_entry("OFD.xml", b"<a/>"), _entry("Doc_0/x.bin", b"<b/>", raw, flags)])
    _failed_because(data, "does not end at its compressed size")


def test_a_truncated_deflate_stream_is_refused() -> None:
    raw = _deflated(b"<b/>" * 1000)[:-3]
    data = _zip_of([_entry("OFD.xml", b"<a/>"), _entry("Doc_0/x.bin", b"<b/>" * 1000, raw)])
    _failed_because(data, "does not end at its compressed size")


def test_a_deflate_stream_of_other_content_is_refused() -> None:
    name, method, _, crc, size, flags = _entry("Doc_0/x.bin", b"<b/>")
    other = (name, method, _deflated(b"<c/>"), crc, size, flags)
    _failed_because(_zip_of([_entry("OFD.xml", b"<a/>"), other]), "declared size and CRC")


def test_a_deflate_stream_longer_than_declared_is_refused() -> None:
    name, method, _, crc, size, flags = _entry("Doc_0/x.bin", b"<b/>")
    longer = (name, method, _deflated(b"<b/>" * 100), crc, size, flags)
    _failed_because(_zip_of([_entry("OFD.xml", b"<a/>"), longer]), "beyond its declared size")


def test_garbage_for_a_deflate_stream_is_refused() -> None:
    data = _zip_of([_entry("OFD.xml", b"<a/>"), _entry("Doc_0/x.bin", b"<b/>", b"\xff" * 8)])
    _failed_because(data, "not a valid deflate stream")


def _stored(data: bytes) -> tuple[Any, ...]:
    return ("Doc_0/x.bin", 0, data, zlib.crc32(data), len(data), 0x8)


def test_a_stored_entry_with_a_data_descriptor_is_read() -> None:
    """As Python's zipfile writes one to an unseekable stream."""
    with Package(_zip_of([_entry("OFD.xml", b"<a/>"), _stored(b"<b/>")])) as pkg:
        assert pkg.read("Doc_0/x.bin") == b"<b/>"


@pytest.mark.parametrize("signature", [b"PK\x07\x08", b"PK\x03\x04", b"PK\x01\x02"])
def test_a_stored_entry_with_a_descriptor_and_a_zip_signature_is_refused(
    signature: bytes,
) -> None:
    """A streaming reader searches a stored entry of unknown size for its end: a fake
    descriptor and a ghost entry inside it would be read as such."""
    entries = [_entry("OFD.xml", b"<a/>"), _stored(b"<b/>" + signature + b"ghost")]
    _failed_because(_zip_of(entries), "holds ZIP signatures")


def test_a_folder_entry_over_a_part_is_refused(sealed: bytes) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, value in ofd_parts(sealed).items():
            zf.writestr(name, value)
        zf.writestr(zipfile.ZipInfo(PAGE.lower() + "/"), b"")
    _failed_because(out.getvalue(), "also a folder")
