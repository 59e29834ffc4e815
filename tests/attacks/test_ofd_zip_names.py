"""One name per ZIP entry for every reader (red team redteam-ofd, findings F1-F4).

Python's ``zipfile`` (this verifier) names an entry by its header name; Info-ZIP unzip and
Apache commons-compress (the Java OFD readers) take an Info-ZIP Unicode Path extra field
(0x7075) instead, and a "folder" entry (name ending ``/``) is skipped by the verifier but
unpacked as a file under its Unicode name. Each forgery below put another page in front of
a reader while the issuer's seal verified; the container rules (signing/ofd/zipcheck.py)
now refuse each, at verification, at intake and in the vault's copy maker.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

import pytest

from schemas.report import Indication, SubIndication
from signing.errors import SealingError
from signing.ofd.package import OfdFormatError, Package
from signing.ofd.writer import replace_parts, sample_ofd, write_package
from tests.attacks.ofd_copy_forge import annotation, other_department, vault_copy, vault_maker
from tests.attacks.ofd_forge import FORGED_LINES, genuine, intake_refusal, passes, verify
from tests.helpers.ofd import ofd_parts

PAGE = "Doc_0/Pages/Page_0/Content.xml"
FOLDER = "Doc_0/Pages/Page_0/z/"
_TIME = (2020, 1, 1, 0, 0, 0)


def unicode_path(header_name: str, real: str) -> bytes:
    """An Info-ZIP Unicode Path extra field naming the entry ``real`` for other readers."""
    body = b"\x01" + struct.pack("<I", zlib.crc32(header_name.encode())) + real.encode()
    return struct.pack("<HH", 0x7075, len(body)) + body


def _zip(entries: list[tuple[str, bytes, bytes]]) -> bytes:
    """(header name, data, extra) entries, deflated, in this order."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data, extra in entries:
            info = zipfile.ZipInfo(name, date_time=_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.extra = extra
            zf.writestr(info, data)
    return out.getvalue()


def _forged_page() -> bytes:
    return ofd_parts(sample_ofd("食品经营许可证", FORGED_LINES))[PAGE]


def _hidden_folder(parts: dict[str, bytes], *, rename: bool = True) -> bytes:
    """A06: a folder entry holding the forged page, renamed to the page for other readers
    (with ``rename``), and the issuer's page renamed away for them."""
    entries = [
        (p, d, unicode_path(p, p.replace("Content", "Original")) if rename and p == PAGE else b"")
        for p, d in parts.items()
    ]
    entries.append((FOLDER, _forged_page(), unicode_path(FOLDER, PAGE) if rename else b""))
    return _zip(entries)


def _refused(data: bytes, why: str) -> None:
    report = verify(data)
    assert (report.indication, report.sub_indication) == (
        Indication.TOTAL_FAILED,
        SubIndication.FORMAT_FAILURE,
    )
    assert why in " ".join(report.reasons)
    assert intake_refusal(data) is not None


def test_f1_unicode_path_renaming_a_covered_part_is_refused() -> None:
    """A02: a part an insider's trusted seal covers, renamed to the issuer's page for
    unzip and commons-compress by a 0x7075 field; it unpacks over the genuine page."""
    carrier = "Doc_0/Signs/Sign_1/Note.dat"
    parts = {**ofd_parts(genuine()), carrier: _forged_page()}
    sealed = ofd_parts(other_department().seal_ofd(write_package(parts)))
    assert carrier in sealed
    data = _zip([(p, d, unicode_path(p, PAGE) if p == carrier else b"") for p, d in sealed.items()])
    _refused(data, "extra field of kind 0x7075")


def test_f2_folder_entry_with_a_unicode_path_is_refused() -> None:
    """A06 (no key): only the issuer's seal, a folder entry holding the forged page."""
    _refused(_hidden_folder(ofd_parts(genuine())), "extra field of kind 0x7075")


def test_f2_folder_entry_holding_data_is_refused_without_any_extra_field() -> None:
    _refused(_hidden_folder(ofd_parts(genuine()), rename=False), "folder entry")


def test_an_empty_folder_entry_is_still_accepted() -> None:
    parts = ofd_parts(genuine())
    data = _zip([*((p, d, b"") for p, d in parts.items()), ("Doc_0/Res/", b"", b"")])
    assert passes(data)


def test_f3_the_copy_maker_refuses_a_hidden_folder_entry() -> None:
    """A07: the vault's copy maker carried every raw entry over and sealed the package."""
    with pytest.raises(SealingError, match="0x7075"):
        vault_maker().make(_hidden_folder(ofd_parts(genuine())), annotation())
    with pytest.raises(OfdFormatError, match="folder entry"):
        replace_parts(_hidden_folder(ofd_parts(genuine()), rename=False), {})


def test_f3_the_copy_carries_only_checked_parts() -> None:
    """An empty folder entry of the original (accepted) is not carried into the copy; every
    entry of the copy is a part the verifier read."""
    parts = ofd_parts(genuine())
    original = _zip([*((p, d, b"") for p, d in parts.items()), ("Doc_0/Res/", b"", b"")])
    copy = vault_maker().make(original, annotation())
    assert passes(copy)
    names = zipfile.ZipFile(io.BytesIO(copy)).namelist()
    with Package(copy) as pkg:
        assert names == pkg.paths


def test_f4_a_vault_copy_with_a_hidden_folder_entry_is_refused() -> None:
    """A09: the hidden entry renamed over the copy's 加注 annotation for other readers."""
    parts = ofd_parts(vault_copy())
    target = "Doc_0/EvaultCopy/Annotation.xml"  # the copy's 加注
    assert target in parts
    entries = [(p, d, b"") for p, d in parts.items()]
    entries.append(("Doc_0/z/", parts[target], unicode_path("Doc_0/z/", target)))
    _refused(_zip(entries), "the folder entry")


def test_unicode_path_only_in_the_local_header_is_refused() -> None:
    """The central record carries an allowed field, the local header the same bytes as a
    Unicode Path: a streaming reader (ZipArchiveInputStream) reads the local one."""
    parts = ofd_parts(genuine())
    allowed = struct.pack("<HHB", 0x5455, 1, 0)  # extended timestamp, flags only
    data = _zip([(p, d, allowed if p == PAGE else b"") for p, d in parts.items()])
    at = data.index(PAGE.encode()) + len(PAGE)  # the local header comes first
    assert data[at : at + 2] == b"\x55\x54"
    data = data[:at] + b"\x75\x70" + data[at + 2 :]
    _refused(data, "extra field of kind 0x7075")


@pytest.mark.parametrize(
    "tag", [pytest.param(0x6375, id="unicode-comment"), pytest.param(0x9901, id="aes")]
)
def test_extra_fields_outside_the_allowlist_are_refused(tag: int) -> None:
    parts = ofd_parts(genuine())
    extra = struct.pack("<HH", tag, 4) + b"abcd"
    data = _zip([(p, d, extra if p == PAGE else b"") for p, d in parts.items()])
    _refused(data, f"extra field of kind 0x{tag:04x}")


def test_an_extra_field_running_past_its_area_is_refused() -> None:
    parts = ofd_parts(genuine())
    data = _zip(
        [
            (p, d, struct.pack("<HH", 0x5455, 9) + b"\x00" if p == PAGE else b"")
            for p, d in parts.items()
        ]
    )
    _refused(data, "runs past its end")


def _patched_name(placeholder: str, raw: bytes) -> bytes:
    """A genuine license plus one entry whose name bytes are ``raw`` (patched over a
    placeholder name of the same length, in both headers; its UTF-8 flag as zipfile set
    it for the placeholder: set when the placeholder is not ASCII)."""
    parts = {**ofd_parts(genuine()), placeholder: b"x"}
    data = _zip([(p, d, b"") for p, d in parts.items()])
    assert len(raw) == len(placeholder.encode())
    assert data.count(placeholder.encode()) == 2
    return data.replace(placeholder.encode(), raw)


def test_a_name_both_utf8_and_gbk_without_the_flag_is_refused() -> None:
    """Readers decoding unflagged names as GBK (Chinese Java tools) and as UTF-8 see two
    different files: such a name has no one reading."""
    raw = "Doc_0/印章.png".encode()
    assert raw.decode("gbk") != raw.decode("utf-8")
    data = _patched_name("Doc_0/XXXXXX.png", raw)
    _refused(data, "both UTF-8 and GBK")


def test_a_name_flagged_utf8_that_is_not_utf8_is_refused() -> None:
    data = _patched_name("Doc_0/印.png", b"Doc_0/\xff\xfe\xfd.png")
    _refused(data, "flagged UTF-8 but is not")


def test_a_gbk_name_is_refused() -> None:
    """ofdrw decodes every unflagged name as UTF-8: a GBK name is another, mangled name
    to it, the part lost (red team 6, a14)."""
    raw = b"Doc_0/" + "印章".encode("gbk") + b".png"
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    _refused(_patched_name("Doc_0/XXXX.png", raw), "is GBK")


def _with_kind(external: int, name: str = "Doc_0/Res/link.png", data: bytes = b"x") -> bytes:
    """A genuine license plus one entry with the external attributes ``external``."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for path, part in ofd_parts(genuine()).items():
            zf.writestr(zipfile.ZipInfo(path, date_time=_TIME), part)
        info = zipfile.ZipInfo(name, date_time=_TIME)
        info.create_system = 3
        info.external_attr = external
        zf.writestr(info, data)
    return out.getvalue()


@pytest.mark.parametrize(
    ("external", "name", "data"),
    [
        pytest.param(0o120777 << 16, "Doc_0/Res/link.png", PAGE.encode(), id="symlink"),
        pytest.param(0o040755 << 16, "Doc_0/Res/dir", b"", id="unix-folder-without-slash"),
        pytest.param(0x10, "Doc_0/Res/dir", b"", id="dos-folder-without-slash"),
        pytest.param(0o100644 << 16, "Doc_0/Res/", b"", id="file-mode-on-a-folder-name"),
    ],
)
def test_an_entry_marked_as_another_kind_of_file_is_refused(
    external: int, name: str, data: bytes
) -> None:
    """Info-ZIP unzip makes a symbolic-link entry a link to another file (its data is the
    target's path); a folder attribute on a name without ``/`` is a folder to some readers
    and a file to this one."""
    _refused(_with_kind(external, name, data), "another kind of file")


def test_regular_file_and_folder_modes_are_accepted() -> None:
    parts = _with_kind(0o100644 << 16)
    report = verify(parts)
    assert "another kind of file" not in " ".join(report.reasons)
    folder = _with_kind((0o040755 << 16) | 0x10, "Doc_0/Res/", b"")
    assert passes(folder)
