"""Red team redteam-ofd, findings F5, F7, D1, D2 and the timeout label.

F5: an issuer's seal that leaves OFD.xml unsigned (KingGrid's layout) still reported
intact when DocRoot was pointed at another document that only a later trusted seal covers.
F7: a Signatures.xml in UTF-16 without a byte order mark hid a commented-out entry from the
hidden-markup rule. D1/D2: many stamps over many seals, and XML parts of millions of tiny
elements, kept the verifier busy for minutes. Each forgery is made with the test SM2 PKI.
"""

from __future__ import annotations

import datetime as dt
import random
import time

import pytest

from schemas.report import FileFormat, Indication, SubIndication
from signing.ofd.package import OfdFormatError, Package
from signing.ofd.writer import write_package
from signing.verify import _timed_out
from tests.attacks.ofd_copy_forge import other_department
from tests.attacks.ofd_forge import forged_document, genuine, intake_refusal, passes, verify
from tests.helpers.ofd import ofd_parts

SIGS = "Doc_0/Signs/Signatures.xml"
#: Generous wall-clock bound for the hostile files (each took minutes before; ~1.5 s now
#: on a loaded two-core machine).
BOUND = 15.0


def _redirected() -> bytes:
    """A01: the issuer's license (OFD.xml unsigned), DocRoot pointed at a forged Doc_1 that
    a later, trusted seal of another department covers."""
    lic = ofd_parts(genuine(cover_ofd_xml=False))
    parts = {**lic, **forged_document("Doc_1")}
    parts["OFD.xml"] = lic["OFD.xml"].replace(b"Doc_0/Document.xml", b"Doc_1/Document.xml")
    assert parts["OFD.xml"] != lic["OFD.xml"]
    at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    return other_department().seal_ofd(write_package(parts), at=at)


def test_f5_docroot_redirected_to_a_document_a_later_seal_covers_is_flagged() -> None:
    data = _redirected()
    report = verify(data)
    assert report.indication is Indication.TOTAL_FAILED
    issuer = report.signatures[0]
    assert issuer.modified_after_signing
    assert "the document shown (Doc_1/Document.xml) is not the one this signature signed" in (
        " ".join(issuer.reasons)
    )
    assert intake_refusal(data) == "modified_after_signing"


def test_f5_a_later_seal_on_the_same_document_still_passes() -> None:
    """The control: the issuer's layout without OFD.xml, a later seal of another department
    on a blank spot, DocRoot untouched."""
    at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    data = other_department().seal_ofd(genuine(cover_ofd_xml=False), at=at)
    assert passes(data)


def _utf16_signatures(bom: bool) -> bytes:
    parts = ofd_parts(genuine())
    hidden = (
        '<!--<ofd:Signature ID="9" Type="Seal" BaseLoc="/Doc_0/Signs/Sign_9/Signature.xml"/>-->'
    )
    text = parts[SIGS].decode().replace('encoding="UTF-8"', 'encoding="UTF-16"')
    text = text.replace("</ofd:Signatures>", hidden + "</ofd:Signatures>")
    raw = (b"\xff\xfe" if bom else b"") + text.encode("utf-16-le")
    return write_package({**parts, SIGS: raw})


@pytest.mark.parametrize("bom", [pytest.param(False, id="no-bom"), pytest.param(True, id="bom")])
def test_f7_utf16_signatures_xml_is_refused(bom: bool) -> None:
    """Expat reads BOM-less UTF-16 by its first bytes; a byte search does not: XML parts
    must be UTF-8, so every byte-level check sees what the parser sees."""
    data = _utf16_signatures(bom)
    report = verify(data)
    assert report.indication is Indication.TOTAL_FAILED
    assert "is not UTF-8" in " ".join(report.reasons)
    assert intake_refusal(data) is not None


@pytest.mark.parametrize(
    "xml",
    [
        pytest.param(b'<?xml version="1.0" encoding="GBK"?><a/>', id="declared-gbk"),
        pytest.param("<a/>".encode("utf-16-be"), id="utf16-be-no-bom"),
        pytest.param(b"<a>\xff</a>", id="invalid-utf8"),
    ],
)
def test_xml_parts_other_than_utf8_are_refused(xml: bytes) -> None:
    with Package(write_package({"OFD.xml": xml})) as pkg, pytest.raises(OfdFormatError):
        pkg.xml("OFD.xml")


def test_utf8_with_a_bom_or_declaration_is_read() -> None:
    data = write_package({"a.xml": b'\xef\xbb\xbf<?xml version="1.0" encoding="utf-8"?><a/>'})
    with Package(data) as pkg:
        assert pkg.xml("a.xml").tag == "a"


def _many_stamps(seals: int, stamps: int) -> bytes:
    """A05 (no key): ``seals`` forged entries, each a copy of the issuer's Signature.xml
    with ``stamps`` more stamps at spots of their own, sharing its SignedValue."""
    parts = ofd_parts(genuine())
    sig = parts["Doc_0/Signs/Sign_0/Signature.xml"]
    after = sig.index(b"/>", sig.index(b"<ofd:StampAnnot ")) + 2  # the issuer's stamp
    entries = []
    for f in range(seals):
        more = "".join(
            f'<ofd:StampAnnot ID="{k + 2}" PageRef="1" Boundary="{300 + f * 10} {k * 2} 1 1"/>'
            for k in range(stamps)
        ).encode()
        parts[f"Doc_0/Signs/F{f}/Signature.xml"] = sig[:after] + more + sig[after:]
        entries.append(f'<ofd:Signature ID="f{f}" BaseLoc="/Doc_0/Signs/F{f}/Signature.xml"/>')
    parts[SIGS] = parts[SIGS].replace(
        b"</ofd:Signatures>", "".join(entries).encode() + b"</ofd:Signatures>"
    )
    return write_package(parts)


def test_d1_many_seals_with_many_stamps_are_answered_quickly() -> None:
    """199 forged seals of 200 stamps each: 158 s before (every later Signature.xml parsed
    again for every signature, 2 million comparisons each); now each part is parsed once
    and the comparisons of the whole file are bounded."""
    data = _many_stamps(199, 200)
    started = time.monotonic()
    report = verify(data)
    assert time.monotonic() - started < BOUND
    assert report.indication is Indication.TOTAL_FAILED


def _huge_elements(count: int, mib: int) -> bytes:
    """A08 (no key): forged entries whose Signature.xml are ``mib`` MiB of tiny elements
    (random, so they deflate under the 100-fold rule)."""
    parts = ofd_parts(genuine())
    sig = parts["Doc_0/Signs/Sign_0/Signature.xml"]
    rnd = random.Random(1)
    pad = b"".join(rnd.choices((b"<a/>", b"<b/>"), k=(mib * 1024 * 1024 - len(sig) - 64) // 4))
    forged = sig.replace(b"</ofd:Signature>", pad + b"</ofd:Signature>")
    entries = []
    for f in range(count):
        parts[f"Doc_0/Signs/F{f}/Signature.xml"] = forged
        entries.append(f'<ofd:Signature ID="f{f}" BaseLoc="/Doc_0/Signs/F{f}/Signature.xml"/>')
    parts[SIGS] = parts[SIGS].replace(
        b"</ofd:Signatures>", "".join(entries).encode() + b"</ofd:Signatures>"
    )
    return write_package(parts)


def test_d2_parts_of_millions_of_elements_are_refused_quickly() -> None:
    """Six parts of 2 MiB (half a million elements each): refused at 50,000 elements a
    part and 200,000 in all, counted while parsing."""
    data = _huge_elements(6, 2)
    started = time.monotonic()
    report = verify(data)
    assert time.monotonic() - started < BOUND
    assert report.indication is Indication.TOTAL_FAILED
    reasons = " ".join(r for s in report.signatures for r in s.reasons)
    assert "more than 50000 elements" in reasons
    assert "the parts together hold more than 200000 elements" in reasons


def test_a_timed_out_ofd_is_reported_as_ofd() -> None:
    report = _timed_out(genuine(), None, "x.ofd", 20.0)
    assert report.file_format is FileFormat.OFD
    assert report.sub_indication is SubIndication.GENERIC
