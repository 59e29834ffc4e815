"""Red team 5 (OFD), classes 2-4: where a reader finds a file, what counts as covering a
file, and work repeated per signature.

* Class 2 (a02b, a03): the verifier and ofdrw found files differently. ofdrw trims each
  segment of a location (``/Doc_0/Signs/ Sign_1/…`` is ``Sign_1`` to it), and a reader on
  a case-insensitive file system opens ``tpls/tpl_0/content.xml`` for a template the
  issuer's file names but lacks (``Tpls/Tpl_0/Content.xml``, as ofdrw's own v4signed.ofd
  does). A padded segment is refused, in a location and in a ZIP entry name; the entry a
  missing location becomes once unpacked is what the pages draw, so each signature over
  them must cover it itself.
* Class 3 (a02, a03-A, a06-A): the References of a signature that does not verify (a
  bare SM2 value, a broken seal) made the files they name count as covered, so forged
  files beside a genuine seal were no "stray parts". Only an intact signature's matching
  References cover a file.
* Class 4 (a04, a08): 200 junk signatures made the verifier hash a 256 MiB part 200 times
  (SM3 with Z was not shared) and walk 49,000 pages 200 times. Digests are shared by
  (method, Z, part) and charged to one budget per file; the pages are walked once.
"""

from __future__ import annotations

import base64
import re

import pytest

import signing.ofd.verifier as verifier
from schemas.report import Indication, VerificationReport
from signing.ofd.package import OfdFormatError, Package
from signing.ofd.sealer import OfdSealer
from signing.ofd.sm2 import sm3
from signing.ofd.verifier import verify_ofd
from signing.ofd.writer import sample_ofd, write_package
from tests.attacks.ofd_copy_forge import other_department, own_sealer
from tests.attacks.ofd_forge import (
    GENUINE_LINES,
    MARKET_NAME,
    attacker_pki,
    case_insensitive_extraction,
    forged_document,
    genuine,
    intake_refusal,
    market_signer,
    verify,
)
from tests.helpers.ofd import ofd_parts, sm2_bundle, sm2_pki

NS = "http://www.ofdspec.org/2016"
SIGS = "Doc_0/Signs/Signatures.xml"
DOC = "Doc_0/Document.xml"
CONTENT = "Doc_0/Pages/Page_0/Content.xml"
MIB = 1024 * 1024
BARE_SM2 = bytes.fromhex("3006020101020101")
"""DER SEQUENCE {INTEGER 1, INTEGER 1}: read as a bare SM2 value (INDETERMINATE)."""
VALIDITY = (20.0, 66.0, 60.0, 10.0)
"""Over the genuine license's validity line (有效期至, Boundary "20 66 170 10")."""


def _issuer(report: VerificationReport) -> Indication:
    return report.signatures[0].indication


def _signature_xml(refs: list[str], value: str, method: str = "1.2.156.10197.1.401") -> bytes:
    """A Signature.xml naming ``refs`` (made-up digests) and the signed value ``value``."""
    body = "".join(
        f'<ofd:Reference FileRef="/{p}"><ofd:CheckValue>'
        f"{base64.b64encode(sm3(p.encode())).decode()}</ofd:CheckValue></ofd:Reference>"
        for p in refs
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<ofd:Signature xmlns:ofd="{NS}">'
        "<ofd:SignedInfo><ofd:SignatureMethod>1.2.156.10197.1.501</ofd:SignatureMethod>"
        "<ofd:SignatureDateTime>20260101000000Z</ofd:SignatureDateTime>"
        f'<ofd:References CheckMethod="{method}">{body}</ofd:References></ofd:SignedInfo>'
        f"<ofd:SignedValue>{value}</ofd:SignedValue></ofd:Signature>"
    ).encode()


def _list(parts: dict[str, bytes], entries: list[tuple[str, str]]) -> None:
    """Append ``(ID, BaseLoc)`` Sign entries to Signatures.xml (no seal covers it)."""
    added = "".join(f'<ofd:Signature ID="{i}" Type="Sign" BaseLoc="{loc}"/>' for i, loc in entries)
    sigs = parts[SIGS].replace(b"</ofd:Signatures>", added.encode() + b"</ofd:Signatures>")
    parts[SIGS] = re.sub(
        rb"<ofd:MaxSignId>\d+", f"<ofd:MaxSignId>{len(entries) + 1}".encode(), sigs
    )


def _helper(parts: dict[str, bytes], folder: str, refs: list[str], value: bytes) -> None:
    """A listed 'Sign' entry in ``folder`` whose References name ``refs`` and whose signed
    value ``value`` does not verify (a bare SM2 value, or another signature's)."""
    parts[f"{folder}/Signature.xml"] = _signature_xml(refs, f"/{folder}/SignedValue.dat")
    parts[f"{folder}/SignedValue.dat"] = value
    _list(parts, [("2", f"/{folder}/Signature.xml")])


def _forged_seal_files() -> dict[str, bytes]:
    """F: the attacker's own seal over the genuine license, its stamp over the validity
    line (Doc_0/Signs/Sign_1/…), to be shown by a reader that lists it."""
    with_f = own_sealer().seal_ofd(genuine(), boundary=VALIDITY)
    return {p: d for p, d in ofd_parts(with_f).items() if p.startswith("Doc_0/Signs/Sign_1/")}


# -- class 2: a location must name one file for every reader ---------------------------------


def test_a02b_a_signature_listed_under_a_padded_folder_is_refused() -> None:
    """a02b: the entry's BaseLoc names " Sign_1" (the verifier: a bare helper there; ofdrw,
    which trims each segment: the forged seal F in "Sign_1", drawn over the validity line)."""
    parts = ofd_parts(genuine())
    forged = _forged_seal_files()
    parts.update(forged)
    parts["Doc_0/Signs/ Sign_1/Signature.xml"] = _signature_xml(
        sorted(forged), "/Doc_0/Signs/ Sign_1/SignedValue.dat"
    )
    parts["Doc_0/Signs/ Sign_1/SignedValue.dat"] = BARE_SM2
    _list(parts, [("2", "/Doc_0/Signs/ Sign_1/Signature.xml")])
    report = verify(write_package(parts))
    assert report.indication is Indication.TOTAL_FAILED
    assert not any(s.indication is Indication.TOTAL_PASSED for s in report.signatures)
    assert "leading or trailing space" in " ".join(report.reasons)


@pytest.mark.parametrize(
    "name",
    ["Doc_0/Signs/ Sign_1/Signature.xml", "Doc_0/Res /a.png", "Doc_0/a.png ", "Doc_0/\u3000a.png"],
)
def test_a_zip_entry_with_a_padded_segment_is_refused(name: str) -> None:
    parts = ofd_parts(genuine())
    parts[name] = b"x"
    with pytest.raises(OfdFormatError, match="leading or trailing space"):
        Package(write_package(parts))


@pytest.mark.parametrize(
    "loc",
    [
        "/Doc_0/Signs/ Sign_1/Signature.xml",
        "Pages /Page_0/Content.xml",
        "Pages/Page_0/\tContent.xml",
    ],
)
def test_a_location_with_a_padded_segment_is_refused(loc: str) -> None:
    with Package(genuine()) as pkg:
        assert pkg.resolve(" Pages/Page_0/Content.xml ", "Doc_0") == CONTENT  # the ends: trimmed
        # A tab is also a run of white space, which the XML rule (red team 5, a05)
        # refuses first: either rule refuses it.
        with pytest.raises(OfdFormatError, match=r"leading or trailing space|readers differ"):
            pkg.resolve(loc, "Doc_0")


def test_a_resource_location_no_reader_resolves_alike_fails_the_issuer() -> None:
    """The issuer's page names its PageRes "/Doc_0/ PageRes.xml": ofdrw trims the segment
    and draws Doc_0/PageRes.xml, which the attacker added under another department's seal
    (forged fonts); the verifier skipped the location, so the issuer needed not cover it.
    What the pages draw with cannot be told: the issuer's seal fails."""
    body = ofd_parts(sample_ofd("食品经营许可证", GENUINE_LINES))
    body[CONTENT] = body[CONTENT].replace(
        b"<ofd:Content>", b"<ofd:PageRes>/Doc_0/ PageRes.xml</ofd:PageRes><ofd:Content>", 1
    )
    parts = ofd_parts(_sealed(body))
    parts["Doc_0/PageRes.xml"] = parts["Doc_0/PublicRes.xml"]
    data = other_department().seal_ofd(write_package(parts), boundary=(60, 230, 40, 40))
    report = verify(data)
    assert _issuer(report) is Indication.TOTAL_FAILED
    assert "draw with cannot be told" in report.signatures[0].reasons[0]


def _sealed(body: dict[str, bytes]) -> bytes:
    sealer = OfdSealer(market_signer(), sm2_pki().seal_for(MARKET_NAME))
    return sealer.seal_ofd(write_package(body), boundary=(140, 225, 42, 42))


def _with_template(named: str, supplied: dict[str, bytes] | None = None) -> bytes:
    """The issuer's license whose page draws with the template page ``named``, sealed with
    the parts ``supplied`` (none: the template is missing, as in ofdrw's v4signed.ofd)."""
    body = ofd_parts(sample_ofd("食品经营许可证", GENUINE_LINES))
    tpl = f'<ofd:TemplatePage ID="5" BaseLoc="{named}"/></ofd:CommonData>'
    body[DOC] = body[DOC].replace(b"</ofd:CommonData>", tpl.encode())
    body[CONTENT] = body[CONTENT].replace(
        b"<ofd:Content>", b'<ofd:Template TemplateID="5"/><ofd:Content>', 1
    )
    body.update(supplied or {})
    return _sealed(body)


def _template(line: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<ofd:Page xmlns:ofd="{NS}"><ofd:Content>'
        '<ofd:Layer ID="90"><ofd:TextObject ID="91" Boundary="20 100 170 10" Font="2" Size="5">'
        f'<ofd:TextCode X="0" Y="5">{line}</ofd:TextCode></ofd:TextObject></ofd:Layer>'
        "</ofd:Content></ofd:Page>"
    ).encode()


FORGED_TEMPLATE = _template("注：本证有效期已延续至2099年12月31日")
TWIN = "Doc_0/Tpls/tpl_0/content.xml"


def test_a03_a_case_folded_twin_of_a_missing_template_is_not_the_issuers() -> None:
    """a03 (C+B): the issuer's file names Tpls/Tpl_0/Content.xml, which it lacks; the
    attacker adds tpls/tpl_0/content.xml, which another department's later seal covers. A
    reader on a case-insensitive file system draws it as the template: the issuer's seal
    does not cover it, so it fails."""
    parts = ofd_parts(_with_template("Tpls/Tpl_0/Content.xml"))
    parts[TWIN] = FORGED_TEMPLATE
    data = other_department().seal_ofd(write_package(parts), boundary=(60, 230, 40, 40))
    assert b"2099" in case_insensitive_extraction(data)["doc_0/tpls/tpl_0/content.xml"]
    report = verify(data)
    assert report.indication is Indication.TOTAL_FAILED
    assert _issuer(report) is Indication.TOTAL_FAILED
    issuer = " ".join(report.signatures[0].reasons)
    assert f"it does not cover {TWIN}" in issuer
    assert f"Doc_0/Tpls/Tpl_0/Content.xml, which is missing, is {TWIN}" in " ".join(report.reasons)


def test_a03a_the_twin_named_only_by_a_bare_signature_fails_the_issuer() -> None:
    """a03 (C+A): the twin accounted for by a bare-SM2 'Sign' entry instead."""
    parts = ofd_parts(_with_template("Tpls/Tpl_0/Content.xml"))
    parts[TWIN] = FORGED_TEMPLATE
    _helper(parts, "Doc_0/Signs/Sign_1", [TWIN], BARE_SM2)
    report = verify(write_package(parts))
    assert _issuer(report) is Indication.TOTAL_FAILED
    assert f"it does not cover {TWIN}" in " ".join(report.signatures[0].reasons)


def test_a_twin_the_issuer_signed_is_drawn_and_keeps_the_verdict() -> None:
    """ofdrw's v4signed.ofd names TPLS/Tpl_0/Content.xml and holds (and signs)
    Tpls/Tpl_0/Content.xml: readers differ on whether the template is drawn, but what either
    draws is signed. The seal passes, the report says so and intake refuses the file as
    incomplete (the named part is missing)."""
    signed = {"Doc_0/Tpls/Tpl_0/Content.xml": _template("食品经营许可证（副本）")}
    data = _with_template("TPLS/Tpl_0/Content.xml", signed)
    report = verify(data)
    assert _issuer(report) is Indication.TOTAL_PASSED, report.signatures[0].reasons
    assert report.missing_parts == ["Doc_0/TPLS/Tpl_0/Content.xml"]
    assert "which is missing, is Doc_0/Tpls/Tpl_0/Content.xml" in " ".join(report.reasons)
    assert intake_refusal(data) == "incomplete_document"


def test_a_missing_template_is_named_on_the_signature_over_the_page() -> None:
    """A page drawing with a missing template: said on each signature over the page (a
    missing part draws nothing; one supplied later is drawn, and must be signed)."""
    report = verify(_with_template("Tpls/Tpl_0/Content.xml"))
    reasons = " ".join(report.signatures[0].reasons)
    assert "the document shows parts the package lacks: Doc_0/Tpls/Tpl_0/Content.xml" in reasons
    assert report.missing_parts == ["Doc_0/Tpls/Tpl_0/Content.xml"]


def _forged_seal_elsewhere(folder: str) -> dict[str, bytes]:
    """The genuine license with F's files moved to ``folder`` (unlisted) and covered by the
    attacker's own intact seal H (so they are no stray parts)."""
    parts = ofd_parts(genuine())
    for path, data in _forged_seal_files().items():
        parts[path.replace("Doc_0/Signs/Sign_1", folder)] = data
    return ofd_parts(own_sealer().seal_ofd(write_package(parts), boundary=(60, 230, 40, 40)))


def test_a_signature_entry_naming_a_case_folded_twin_is_refused() -> None:
    """The a03 twin for a signature: Signatures.xml lists /Doc_0/Signs/forged/signature.xml,
    missing; a reader on a case-insensitive file system opens Doc_0/Signs/Forged/Signature.xml
    (F, its stamp over the validity line), which the verifier never checked as a seal."""
    parts = _forged_seal_elsewhere("Doc_0/Signs/Forged")
    _list(parts, [("9", "/Doc_0/Signs/forged/signature.xml")])
    report = verify(write_package(parts))
    assert report.indication is Indication.TOTAL_FAILED
    assert not report.signatures
    assert "Doc_0/Signs/Forged/Signature.xml becomes it once unpacked" in report.reasons[0]


def test_the_stamp_of_a_signature_that_cannot_be_read_is_still_checked() -> None:
    """A listed seal whose Signature.xml names a signed value no reader resolves the same
    way (here a URL) is not verified, but a reader still draws its stamp: the stamp is
    checked against the issuer's text like any later seal's."""
    parts = _forged_seal_elsewhere("Doc_0/Signs/Forged")
    xml = parts["Doc_0/Signs/Forged/Signature.xml"]
    parts["Doc_0/Signs/Forged/Signature.xml"] = re.sub(
        rb"<ofd:SignedValue>[^<]*</ofd:SignedValue>",
        b"<ofd:SignedValue>http://example.com/v.dat</ofd:SignedValue>",
        xml,
    )
    del parts["Doc_0/Signs/Forged/SignedValue.dat"]
    _list(parts, [("9", "/Doc_0/Signs/Forged/Signature.xml")])
    report = verify(write_package(parts))
    assert _issuer(report) is Indication.TOTAL_FAILED
    assert "covers what this signature signed there" in " ".join(report.signatures[0].reasons)


# -- class 3: only an intact signature's References cover a file -----------------------------


def test_a02_files_only_a_bare_signature_names_are_stray() -> None:
    """a02 without its namespace trick: the forged seal F's files (Sign_1, unlisted) are
    named by a listed bare-SM2 helper's References. They are stray parts (an unlisted
    Signature.xml): every signature fails."""
    parts = ofd_parts(genuine())
    forged = _forged_seal_files()
    parts.update(forged)
    _helper(parts, "Doc_0/Signs/Sign_2", sorted(forged), BARE_SM2)
    report = verify(write_package(parts))
    assert _issuer(report) is Indication.TOTAL_FAILED
    assert "Doc_0/Signs/Sign_1/Signature.xml" in " ".join(report.signatures[0].reasons)


@pytest.mark.parametrize("broken", ["bare SM2 value", "another signature's value"])
def test_a06a_a_forged_document_named_by_a_broken_signature_is_stray(broken: str) -> None:
    """a06 (A): a forged Doc_1 beside the issuer's document, its parts named only by a
    signature that does not verify (a bare SM2 value; the issuer's signed value, whose hash
    is not this Signature.xml's): the parts are stray and every signature fails."""
    parts = ofd_parts(genuine())
    doc1 = forged_document("Doc_1")
    parts.update(doc1)
    value = BARE_SM2 if broken == "bare SM2 value" else parts["Doc_0/Signs/Sign_0/SignedValue.dat"]
    _helper(parts, "Doc_0/Signs/Sign_1", sorted(doc1), value)
    report = verify(write_package(parts))
    assert not report.signatures[1].intact
    assert _issuer(report) is Indication.TOTAL_FAILED
    assert "Doc_1/Document.xml" in " ".join(report.signatures[0].reasons)


# -- class 4: work shared by the signatures of a file ----------------------------------------


def _junk(values: list[bytes], count: int, part: int = 0, pages: int = 0) -> bytes:
    """The genuine license with ``count`` listed signatures whose signed values (cycling
    through ``values``) do not verify, each referencing a ``part``-byte part by SM3 with Z
    (none when 0), and ``pages`` more pages in Document.xml."""
    import random

    parts = ofd_parts(genuine())
    refs = []
    if part:
        noise = random.Random(0).randbytes(part // 90)  # no more than 100-fold: no zip bomb
        parts["Doc_0/Res/big.bin"] = noise + bytes(part - len(noise))
        refs = ["Doc_0/Res/big.bin"]
    listed = ""
    for i in range(count):
        folder = f"Doc_0/Signs/X_{i}"
        parts[f"{folder}/Signature.xml"] = _signature_xml(
            refs, f"/{folder}/SignedValue.dat", method="1.2.156.10197.1.401.2"
        )
        parts[f"{folder}/SignedValue.dat"] = values[i % len(values)]
        listed += f'<ofd:Signature ID="{i + 2}" BaseLoc="/{folder}/Signature.xml"/>'
    parts[SIGS] = parts[SIGS].replace(b"</ofd:Signatures>", listed.encode() + b"</ofd:Signatures>")
    more = "".join(f'<ofd:Page ID="{i + 100}" BaseLoc="P/{i}.xml"/>' for i in range(pages))
    parts[DOC] = parts[DOC].replace(b"</ofd:Pages>", more.encode() + b"</ofd:Pages>")
    return write_package(parts)


def _signed_values() -> list[bytes]:
    """Signed values of six different signer keys (three departments of the trusted PKI
    and three of the attacker's): each gives SM3 with Z another Z."""
    pkis = [sm2_pki(), attacker_pki()]
    sealers = [OfdSealer(p.signers[n], p.seal_for(n)) for p in pkis for n in p.signers]
    return [ofd_parts(s.seal_ofd(genuine()))["Doc_0/Signs/Sign_1/SignedValue.dat"] for s in sealers]


def _counting(monkeypatch: pytest.MonkeyPatch, at_least: int) -> list[int]:
    """The sizes of the verifier's SM3 inputs of ``at_least`` bytes or more."""
    hashed: list[int] = []

    def counted(data: bytes, *args: bytes) -> bytes:
        if len(data) >= at_least:
            hashed.append(len(data))
        return sm3(data, *args)

    monkeypatch.setattr(verifier, "sm3", counted)
    return hashed


def test_a04_one_signers_sm3_with_z_digest_is_computed_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """a04: twelve junk signatures of one signer key over a 2 MiB part by SM3 with Z: the
    part is hashed once (the digest is shared by method, Z value and part)."""
    value = _signed_values()[0]
    data = _junk([value], 12, part=2 * MIB)
    hashed = _counting(monkeypatch, MIB)
    report = verify_ofd(data, trust=sm2_bundle())
    assert len(report.signatures) == 13
    assert len(hashed) == 1


def test_a04_hashing_for_many_signer_keys_stops_at_the_files_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """a04 with six signer keys (six Z values): every digest is charged to the file's one
    budget (here 5 MiB: at most two of the 2 MiB part), the rest read as too much."""
    data = _junk(_signed_values(), 12, part=2 * MIB)
    monkeypatch.setattr(verifier, "_HASH_BUDGET", 5 * MIB, raising=False)
    hashed = _counting(monkeypatch, MIB)
    report = verify_ofd(data, trust=sm2_bundle())
    assert report.indication is Indication.TOTAL_FAILED
    assert sum(hashed) <= 5 * MIB
    assert "too much to hash" in " ".join(r for s in report.signatures for r in s.reasons)


def test_a08_the_pages_are_walked_once_per_document(monkeypatch: pytest.MonkeyPatch) -> None:
    """a08: 3,000 pages and 20 junk signatures: the locations of the pages are resolved a
    few times for the document, not once per signature (49,000 pages x 200 signatures
    took minutes)."""
    data = _junk(_signed_values()[:1], 20, pages=3000)
    calls = [0]
    resolve = Package.resolve

    def counted(self: Package, loc: str | None, base: str) -> str:
        calls[0] += 1
        return resolve(self, loc, base)

    monkeypatch.setattr(Package, "resolve", counted)
    report = verify_ofd(data, trust=sm2_bundle())
    assert len(report.signatures) == 21
    assert calls[0] < 4 * 3000
