"""Red team 5, classes 1 and 5: XML the verifier and an OFD reader read differently, and
XML parts whose parsed text exhausts memory (signing/ofd/xmlread.py).

The verifier reads attributes with ElementTree's ``el.get("Boundary")`` (the attribute
without a namespace) and an element's text as ``el.text`` (the text before its first
child). ofdrw reads them with dom4j: ``attributeValue("Boundary")`` is the first attribute
of that *local* name whatever its namespace, and ``getTextTrim()`` joins every text piece
of the element. So ``ofd:Boundary`` beside ``Boundary``, or a location split by a child
element, was one stamp place or one file to the verifier and another to the reader. Each
forgery here is made with the test SM2 PKI (a trusted department's real later seal, or the
attacker's own); every part such reading touches is refused, and every signature of the
file fails with "readers differ".
"""

from __future__ import annotations

import base64
import hashlib
import os
import random
import re
import subprocess
import sys
import zipfile
from collections.abc import Mapping
from typing import Any

import pytest

from schemas.report import Indication
from signing.ofd import Limits
from signing.ofd.package import OfdFormatError, Package
from signing.ofd.sealer import OfdSealer
from signing.ofd.writer import write_package
from tests.attacks.ofd_copy_forge import NS, other_department, own_sealer, seal
from tests.attacks.ofd_forge import forged_document, genuine, intake_refusal, passes, verify
from tests.helpers.ofd import ofd_parts

SIGS = "Doc_0/Signs/Signatures.xml"
OVER_VALIDITY = "20 60 40 30"
"""A box over the genuine license's validity line (page 1: 20 66 170 10)."""
BLANK_SPOT = (150.0, 120.0, 40.0, 40.0)
"""A spot of page 1 where the genuine license shows nothing."""


class _Rewriting(OfdSealer):
    """A real sealer whose Signature.xml has ``old`` replaced by ``new`` before it is
    signed: the seal stays intact, only what readers take from it differs."""

    def __init__(self, base: OfdSealer, old: bytes, new: bytes) -> None:
        super().__init__(base.signer, base.seal)
        self.old, self.new = old, new

    def _signature_xml(self, parts: Mapping[str, bytes], *args: Any, **kwargs: Any) -> bytes:
        xml = super()._signature_xml(parts, *args, **kwargs)
        assert self.old in xml
        return xml.replace(self.old, self.new, 1)


def _every_signature_fails(data: bytes, words: str = "readers differ") -> None:
    report = verify(data)
    assert report.indication is Indication.TOTAL_FAILED
    assert report.signatures, report.reasons
    for sig in report.signatures:
        assert sig.indication is Indication.TOTAL_FAILED, sig.reasons
        assert words in " ".join(sig.reasons), sig.reasons
    assert intake_refusal(data) == "modified_after_signing"


def _unreadable(data: bytes, words: str = "readers differ") -> None:
    report = verify(data)
    assert report.indication is Indication.TOTAL_FAILED
    assert words in " ".join(report.reasons), report.reasons
    assert intake_refusal(data) is not None


# -- class 1: attributes two readers read differently -----------------------------------


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param(f'ofd:Boundary="{OVER_VALIDITY}"', id="a01-ofd-prefix-first"),
        pytest.param(f'xmlns:x="urn:x" x:Boundary="{OVER_VALIDITY}"', id="other-namespace"),
        pytest.param(f'xml:Boundary="{OVER_VALIDITY}"', id="xml-prefix"),
        pytest.param('ofd:PageRef="2"', id="namespaced-page-ref"),
    ],
)
def test_a01_stamp_with_a_namespaced_boundary_is_refused(extra: str) -> None:
    """a01: another department's intact later seal whose stamp has ``ofd:Boundary`` over
    the issuer's validity line before the plain ``Boundary`` on blank space: dom4j draws
    the stamp over the text, the verifier checked the blank spot."""
    old = b'<ofd:StampAnnot ID="1"'
    sealer = _Rewriting(other_department(), old, old + b" " + extra.encode())
    _every_signature_fails(seal(ofd_parts(genuine()), sealer, box=BLANK_SPOT))


def test_the_same_later_stamp_without_the_shadow_passes() -> None:
    assert passes(seal(ofd_parts(genuine()), other_department(), box=BLANK_SPOT))


def _bare_sign_entry(refs: list[str], folder: str) -> dict[str, bytes]:
    """A 'Sign' whose signed value is a bare SM2 value (INDETERMINATE, nothing else
    checked) and whose References name ``refs``, so that they count as accounted."""
    body = "".join(
        f'<ofd:Reference FileRef="/{p}"><ofd:CheckValue>'
        f"{base64.b64encode(hashlib.sha256(p.encode()).digest()).decode()}"
        "</ofd:CheckValue></ofd:Reference>"
        for p in refs
    )
    xml = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<ofd:Signature xmlns:ofd="{NS}">'
        "<ofd:SignedInfo><ofd:SignatureMethod>1.2.156.10197.1.501</ofd:SignatureMethod>"
        "<ofd:SignatureDateTime>20260101000000Z</ofd:SignatureDateTime>"
        f'<ofd:References CheckMethod="1.2.156.10197.1.401">{body}</ofd:References>'
        f"</ofd:SignedInfo><ofd:SignedValue>/{folder}/SignedValue.dat</ofd:SignedValue>"
        "</ofd:Signature>"
    )
    return {
        f"{folder}/Signature.xml": xml.encode(),
        f"{folder}/SignedValue.dat": bytes.fromhex("3006020101020101"),
    }


def test_a02_signatures_entry_with_two_base_locations_is_refused() -> None:
    """a02 (no key): Signatures.xml, which no seal covers, gets an entry whose
    ``ofd:BaseLoc`` (dom4j's) names the attacker's own seal F stamped over the validity
    line and whose plain ``BaseLoc`` (the verifier's) a harmless bare 'Sign' H that
    accounts for F's files."""
    lic = genuine()
    with_f = own_sealer().seal_ofd(lic, boundary=(20, 60, 60, 20))
    parts = ofd_parts(lic)
    f_parts = {p: d for p, d in ofd_parts(with_f).items() if p.startswith("Doc_0/Signs/Sign_1/")}
    parts |= f_parts | _bare_sign_entry(sorted(f_parts), "Doc_0/Signs/Sign_2")
    entry = (
        b'<ofd:Signature ID="2" Type="Sign" ofd:BaseLoc="/Doc_0/Signs/Sign_1/Signature.xml"'
        b' BaseLoc="/Doc_0/Signs/Sign_2/Signature.xml"/>'
    )
    sigs = parts[SIGS].replace(b"</ofd:Signatures>", entry + b"</ofd:Signatures>")
    parts[SIGS] = re.sub(rb"<ofd:MaxSignId>\d+", b"<ofd:MaxSignId>2", sigs)
    _unreadable(write_package(parts))


# -- class 1: text split by child elements (mixed content) --------------------------------


def test_a05_signed_value_location_split_by_a_child_is_refused() -> None:
    """a05: another department's intact later seal names its signed value
    ``…/SignedValue.dat<ofd:x/>/../../sv.dat``: the verifier (``.text``) checked its own
    value, ofdrw (dom4j ``getTextTrim``) draws the picture of ``sv.dat``, a copy of the
    issuer's signed value, which the seal covers."""
    parts = ofd_parts(genuine())
    parts["Doc_0/Signs/sv.dat"] = parts["Doc_0/Signs/Sign_0/SignedValue.dat"]
    old = b"SignedValue.dat</ofd:SignedValue>"
    split = _Rewriting(
        other_department(), old, b"SignedValue.dat<ofd:x/>/../../sv.dat</ofd:SignedValue>"
    )
    _every_signature_fails(seal(parts, split, box=BLANK_SPOT))


class _ValueAt(OfdSealer):
    """A real sealer whose Signature.xml names its signed value at ``loc``."""

    def __init__(self, base: OfdSealer, loc: str) -> None:
        super().__init__(base.signer, base.seal)
        self.loc = loc

    def _signature_xml(self, parts: Mapping[str, bytes], *args: Any, **kwargs: Any) -> bytes:
        xml = super()._signature_xml(parts, *args, **kwargs)
        named = f"<ofd:SignedValue>{self.loc}</ofd:SignedValue>".encode()
        return re.sub(rb"<ofd:SignedValue>[^<]*</ofd:SignedValue>", named, xml)


@pytest.mark.parametrize("gap", ["  ", "   "])
def test_a05_signed_value_location_with_a_white_space_run_is_refused(gap: str) -> None:
    """a05 without a child element: the later seal names ``/Doc_0/Signs/Signed  Value.dat``
    (its own value, which the verifier checked); dom4j's ``getTextTrim`` makes the run one
    space, and ofdrw draws ``Signed Value.dat``, a copy of the issuer's signed value."""
    parts = ofd_parts(genuine())
    parts["Doc_0/Signs/Signed Value.dat"] = parts["Doc_0/Signs/Sign_0/SignedValue.dat"]
    own = f"/Doc_0/Signs/Signed{gap}Value.dat"
    sealed = ofd_parts(seal(parts, _ValueAt(other_department(), own), box=BLANK_SPOT))
    sealed[own[1:]] = sealed.pop("Doc_0/Signs/Sign_1/SignedValue.dat")
    _every_signature_fails(write_package(sealed))


def test_a06_doc_root_split_by_a_child_is_refused() -> None:
    """a06 (no key): OFD.xml left unsigned by the issuer (KingGrid's layout) names
    ``Doc_0/Document.xml<ofd:DocRoot/>/../../Doc_1/Document.xml``: ofdrw opens a forged
    Doc_1 whose files a bare 'Sign' entry accounts for; the verifier read Doc_0, and the
    issuer's seal passed."""
    doc1 = forged_document("Doc_1")
    parts = ofd_parts(genuine(cover_ofd_xml=False)) | doc1
    parts |= _bare_sign_entry(sorted(doc1), "Doc_0/Signs/Sign_1")
    entry = b'<ofd:Signature ID="2" Type="Sign" BaseLoc="/Doc_0/Signs/Sign_1/Signature.xml"/>'
    sigs = parts[SIGS].replace(b"</ofd:Signatures>", entry + b"</ofd:Signatures>")
    parts[SIGS] = re.sub(rb"<ofd:MaxSignId>\d+", b"<ofd:MaxSignId>2", sigs)
    parts["OFD.xml"] = parts["OFD.xml"].replace(
        b"<ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot>",
        b"<ofd:DocRoot>Doc_0/Document.xml<ofd:DocRoot/>/../../Doc_1/Document.xml</ofd:DocRoot>",
    )
    _unreadable(write_package(parts))


def _package(xml: bytes, limits: Limits | None = None) -> Package:
    return Package(write_package({"OFD.xml": xml}), *([limits] if limits else []))


@pytest.mark.parametrize(
    "xml",
    [
        pytest.param(b"<a><b>x<c/>y</b></a>", id="text-on-both-sides"),
        pytest.param(b"<a><b>x<c/></b></a>", id="text-before-a-child"),
        pytest.param(b"<a><b><c/>y</b></a>", id="text-after-a-child"),
        pytest.param(b"<a><b><c/>\n<c/>\xe3\x80\x80</b></a>", id="ideographic-space"),
        pytest.param(b'<a xmlns:o="urn:o"><b o:Loc="x" Loc="y"/></a>', id="namespaced-attribute"),
    ],
)
def test_markup_readers_read_differently_is_refused(xml: bytes) -> None:
    pkg = _package(xml)
    with pytest.raises(OfdFormatError, match="readers differ on"):
        pkg.xml("OFD.xml")
    assert pkg.unread and "readers differ on" in pkg.unread[0]


@pytest.mark.parametrize(
    "xml",
    [
        b"<a>\n  <b>x</b>\r\n\t<c/>\n</a>",
        b'<a xml:space="preserve" xml:lang="zh"><b>x</b></a>',
        b'<a xmlns="urn:d" xmlns:o="urn:o"><o:b>x</o:b></a>',
    ],
)
def test_layout_whitespace_and_declarations_are_read(xml: bytes) -> None:
    pkg = _package(xml)
    pkg.xml("OFD.xml")
    assert pkg.unread == []


# -- class 5: memory -----------------------------------------------------------------------


def _wide_part(mib: int) -> bytes:
    """``mib`` MiB of one attribute: ASCII and one emoji, so Python holds it at 4 bytes a
    character; random hex at 1/30 keeps it under the 100-fold deflate rule."""
    size = mib * 1024 * 1024 - 200
    noise = os.urandom(size // 60).hex()
    body = (noise + "a" * size)[: size - 4] + "\U0001f600"
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<ofd:Res xmlns:ofd="{NS}" X="{body}"/>'
    ).encode()


def _wide_resources(count: int, mib: int) -> bytes:
    """a09 (no key): the genuine license with ``count`` resource parts (PublicRes) of one
    wide ``mib`` MiB attribute each."""
    parts = ofd_parts(genuine())
    refs = "".join(f"<ofd:PublicRes>R{i}.xml</ofd:PublicRes>" for i in range(count))
    parts["Doc_0/Document.xml"] = parts["Doc_0/Document.xml"].replace(
        b"</ofd:CommonData>", refs.encode() + b"</ofd:CommonData>"
    )
    one = _wide_part(mib)
    parts |= {f"Doc_0/R{i}.xml": one for i in range(count)}
    return write_package(parts)


def test_a09_parsed_text_is_capped_for_the_whole_file() -> None:
    """Parts well inside the 16 MiB per-part limit, but their parsed text (one emoji makes
    a string 4 bytes a character) together over the file's cap: refused, and every
    signature fails (the verifier cannot read what a reader reads)."""
    data = _wide_resources(4, 3)
    report = verify(data)
    assert report.indication is Indication.TOTAL_FAILED
    for sig in report.signatures:
        assert sig.indication is Indication.TOTAL_FAILED
        assert "MiB of text once parsed" in " ".join(sig.reasons), sig.reasons


def test_xml_bytes_parsed_are_capped_for_the_whole_file() -> None:
    xml = b"<a>" + b"<b/>" * 1000 + b"</a>"
    data = write_package({f"p{i}.xml": xml for i in range(5)})
    pkg = Package(data, Limits(max_total_xml_bytes=3 * len(xml)))
    for i in range(3):
        pkg.xml(f"p{i}.xml")
    with pytest.raises(OfdFormatError, match="together are larger than"):
        pkg.xml("p3.xml")


_CHILD = """
import sys
from signing.ofd import verify_ofd

def mib(key):  # this process's own figures (ru_maxrss may report the parent's peak)
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) // 1024

data = open(sys.argv[1], "rb").read()
before = mib("VmRSS:")
report = verify_ofd(data, trust=None)
print(report.indication.value, mib("VmHWM:") - before)
"""


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs Linux /proc")
def test_a09_peak_memory_stays_bounded(tmp_path: Any) -> None:
    """Eight 15 MiB wide parts (a 2.5 MB file): some 650 MiB of peak memory above the
    process's size before (every parsed tree kept); now the first part over the cap stops
    it, some 120 MiB (sixteen parts, red team 5's a09: 1,245 MiB before)."""
    path = tmp_path / "wide.ofd"
    path.write_bytes(_wide_resources(8, 15))
    assert zipfile.is_zipfile(path)
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        check=True,
    )
    verdict, grown_mib = out.stdout.split()
    assert verdict == "TOTAL_FAILED"
    assert int(grown_mib) < 250, out.stdout


def test_parts_ten_times_the_largest_real_file_are_read() -> None:
    """The largest real OFD seen (corpus and the files of docs/verification.md) parses
    ~1.1 MB of XML into ~3.3 MB of strings: ten times that, in Chinese text, is read."""
    rnd = random.Random(0)
    pages = (
        "".join(rnd.choices("经营项目热食类食品制售有效期至年月日", k=4800)) for _ in range(260)
    )
    xml = ("<a>" + "".join(f"<p>{p}</p>" for p in pages) + "</a>").encode()
    data = write_package({f"p{i}.xml": xml for i in range(3)})
    pkg = Package(data)
    for i in range(3):
        assert len(pkg.xml(f"p{i}.xml")) == 260
    assert pkg.unread == []
