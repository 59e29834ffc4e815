"""Hostile OFD containers are verdicts (TOTAL_FAILED/FORMAT_FAILURE with a reason), never
crashes: zip bombs, names escaping the package, duplicate or missing parts, XML entities."""

from __future__ import annotations

import io
import zipfile

import pytest

from schemas.report import Indication, SubIndication
from signing.ofd import Limits, verify_ofd
from signing.ofd.package import OfdFormatError, Package
from signing.ofd.writer import write_package


def _zip(entries: list[tuple[str, bytes]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries:
            zf.writestr(
                zipfile.ZipInfo(name, (2020, 1, 1, 0, 0, 0)),
                data,
                compress_type=zipfile.ZIP_DEFLATED,
            )
    return out.getvalue()


def _failed_because(data: bytes, words: str) -> None:
    report = verify_ofd(data, trust=None)
    assert (report.indication, report.sub_indication) == (
        Indication.TOTAL_FAILED,
        SubIndication.FORMAT_FAILURE,
    )
    assert words in report.reasons[0], report.reasons


def test_zip_bomb_is_refused_before_inflating() -> None:
    bomb = write_package({"OFD.xml": b"<a/>", "Doc_0/big.bin": b"\0" * (8 * 1024 * 1024)})
    _failed_because(bomb, "inflates")


def test_too_many_entries() -> None:
    data = write_package({f"f{i}": b"x" for i in range(30)})
    with pytest.raises(OfdFormatError, match="more than 20 entries"):
        Package(data, Limits(max_entries=20))


@pytest.mark.parametrize("name", ["../evil.xml", "/etc/passwd", "C:/x.xml", "a\\..\\b.xml"])
def test_names_escaping_the_package(name: str) -> None:
    _failed_because(_zip([("OFD.xml", b"<a/>"), (name, b"x")]), "entry name")


def test_duplicate_parts() -> None:
    with pytest.warns(UserWarning):  # zipfile warns about the duplicate name itself
        data = _zip([("OFD.xml", b"<a/>"), ("OFD.xml", b"<b/>")])
    _failed_because(data, "appears twice")


def test_gbk_entry_names_are_refused() -> None:
    """Chinese tools write GBK names without the UTF-8 flag (an ASCII placeholder of the
    same length patched into GBK bytes in both the local and the central header): ofdrw
    reads every unflagged name as UTF-8, another name (red team 6, a14)."""
    gbk = "印章".encode("gbk")
    data = _zip([("OFD.xml", b"<a/>"), ("Doc_0/XXXX.png", b"x")]).replace(b"XXXX", gbk)
    with pytest.raises(OfdFormatError, match="is GBK"):
        Package(data)


def test_xml_entities_are_refused() -> None:
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><ofd:OFD>&b;</ofd:OFD>'
    )
    _failed_because(write_package({"OFD.xml": laughs}), "refused")


def test_external_entities_are_refused() -> None:
    xxe = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><OFD>&e;</OFD>'
    )
    _failed_because(write_package({"OFD.xml": xxe}), "refused")


def test_missing_ofd_xml() -> None:
    _failed_because(write_package({"Doc_0/Document.xml": b"<a/>"}), "no OFD.xml")


def test_missing_signature_part_is_a_verdict(sealed: bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(sealed)) as zf:
        parts = {n: zf.read(n) for n in zf.namelist() if not n.endswith("SignedValue.dat")}
    report = verify_ofd(write_package(parts), trust=None)
    (sig,) = report.signatures
    assert sig.sub_indication is SubIndication.FORMAT_FAILURE
    assert "SignedValue.dat is missing" in sig.reasons[0]


def test_not_a_zip_at_all() -> None:
    _failed_because(b"PK\x03\x04" + b"\0" * 100, "not a readable ZIP")


def test_resolve_keeps_locations_inside() -> None:
    pkg = Package(write_package({"OFD.xml": b"<a/>", "Doc_0/Pages/Page_0/Content.xml": b"<a/>"}))
    assert pkg.resolve("../Res/a.png", "Doc_0/Pages") == "Doc_0/Res/a.png"
    assert pkg.resolve("/Doc_0/x.xml", "Doc_0/Signs") == "Doc_0/x.xml"
    with pytest.raises(OfdFormatError, match="escapes"):
        pkg.resolve("../../../x", "Doc_0")
    # back out of a folder that holds no part: a reader walking it finds nothing (r10-08)
    with pytest.raises(OfdFormatError, match="which holds no part"):
        pkg.resolve("../Res/a.png", "Doc_0/Signs")


def test_replace_parts_carries_entries_over_as_stored() -> None:
    """Deflated, stored and streamed (data descriptor) entries keep their bytes;
    replaced and new parts are written; the result reads as a package."""
    from signing.ofd.writer import replace_parts

    streamed = io.BytesIO()

    class _Unseekable(io.RawIOBase):
        def writable(self) -> bool:
            return True

        def write(self, b: bytes) -> int:  # type: ignore[override]
            return streamed.write(bytes(b))

    with zipfile.ZipFile(_Unseekable(), "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("OFD.xml", b"<ofd:OFD/>" * 50)
        zf.writestr(zipfile.ZipInfo("Doc_0/stored.bin"), b"\x00\x01" * 100)
        zf.writestr("Doc_0/XXXX.png", b"png bytes" * 30)
        zf.writestr("Doc_0/Signs/Signatures.xml", b"<old/>")
    original = streamed.getvalue()
    with zipfile.ZipFile(io.BytesIO(original)) as zf:
        assert all(i.flag_bits & 0x8 for i in zf.infolist())  # data descriptors follow

    out = replace_parts(original, {"Doc_0/Signs/Signatures.xml": b"<new/>", "Doc_0/a.xml": b"1"})
    with Package(out) as pkg:
        assert pkg.paths == [
            "OFD.xml",
            "Doc_0/stored.bin",
            "Doc_0/XXXX.png",
            "Doc_0/Signs/Signatures.xml",
            "Doc_0/a.xml",
        ]
        assert pkg.read("OFD.xml") == b"<ofd:OFD/>" * 50
        assert pkg.read("Doc_0/stored.bin") == b"\x00\x01" * 100
        assert pkg.read("Doc_0/XXXX.png") == b"png bytes" * 30
        assert pkg.read("Doc_0/Signs/Signatures.xml") == b"<new/>"
    with zipfile.ZipFile(io.BytesIO(out)) as zf:
        assert zf.testzip() is None
        first = zf.getinfo("OFD.xml")
        start = original.index(b"PK\x03\x04")
        assert (
            out[: 30 + len("OFD.xml") + first.compress_size]
            == original[start : start + 30 + len("OFD.xml") + first.compress_size]
        )


def test_replace_parts_refuses_a_broken_container() -> None:
    from signing.ofd.writer import replace_parts

    with pytest.raises(OfdFormatError, match="not a readable ZIP"):
        replace_parts(b"PK\x03\x04 truncated", {})
