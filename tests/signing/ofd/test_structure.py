"""What a reader shows must be what the signatures cover (signing/ofd/structure.py): the
parts of an OFD no digest protects (OFD.xml when the seal leaves it out, Signatures.xml)
and parts nothing signed or shown. Each forgery starts from a license the market regulator
really sealed; each must be flagged by the verifier and refused by intake."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from schemas.report import Indication
from signing.ofd.sealer import OfdSealer
from signing.ofd.writer import sample_ofd
from tests.attacks.ofd_forge import (
    FORGED_LINES,
    accepted_by_intake,
    forged_document,
    genuine,
    intake_refusal,
    verify,
)
from tests.helpers.ofd import ofd_parts, rebuild_ofd, sm2_pki
from tests.helpers.pki import DEPARTMENTS

POLICE = DEPARTMENTS[1][0]
SIGS = "Doc_0/Signs/Signatures.xml"
DOCROOT = b"<ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot>"


def _flagged(data: bytes, words: str) -> None:
    report = verify(data)
    assert report.indication is Indication.TOTAL_FAILED, report.reasons
    assert all(s.modified_after_signing for s in report.signatures)
    assert words in " ".join(report.reasons), report.reasons
    assert intake_refusal(data) == "modified_after_signing"


def _unprotected(edit: Callable[[bytes], bytes], *, forged: bool = True) -> bytes:
    """The license sealed without OFD.xml in its References, OFD.xml edited."""
    parts = ofd_parts(genuine(cover_ofd_xml=False))
    if forged:
        parts.update(forged_document())
    parts["OFD.xml"] = edit(parts["OFD.xml"])
    assert parts["OFD.xml"] != ofd_parts(genuine(cover_ofd_xml=False))["OFD.xml"]
    return rebuild_ofd(parts)


def _after_docroot(extra: bytes) -> Callable[[bytes], bytes]:
    return lambda xml: xml.replace(DOCROOT, DOCROOT + extra)


def _after_docbody(extra: bytes) -> Callable[[bytes], bytes]:
    return lambda xml: xml.replace(b"</ofd:DocBody>", b"</ofd:DocBody>" + extra, 1)


OFD_XML_FORGERIES: dict[str, tuple[Callable[[bytes], bytes], str]] = {
    "forged-docbody-last": (
        _after_docbody(b"<ofd:DocBody><ofd:DocRoot>Doc_1/Document.xml</ofd:DocRoot></ofd:DocBody>"),
        "Doc_1/Document.xml has no signature",
    ),
    "docroot-without-namespace": (
        _after_docroot(b'<DocRoot xmlns="">Doc_1/Document.xml</DocRoot>'),
        "namespace",
    ),
    "signatures-twice": (
        lambda xml: xml.replace(
            b"</ofd:DocBody>",
            b"<ofd:Signatures>Doc_1/Signs/Signatures.xml</ofd:Signatures></ofd:DocBody>",
        ),
        "2 <Signatures> elements",
    ),
    "versions": (
        _after_docroot(
            b'<ofd:Versions><ofd:Version ID="1" Index="1" Current="true" '
            b'BaseLoc="Doc_1/Document.xml"/></ofd:Versions>'
        ),
        "Versions",
    ),
    "unknown-docbody-element": (
        _after_docroot(b"<ofd:DocRoot2>Doc_1/Document.xml</ofd:DocRoot2>"),
        "<DocRoot2>",
    ),
    "unknown-root-element": (
        _after_docbody(b"<ofd:Doc><ofd:DocRoot>Doc_1/Document.xml</ofd:DocRoot></ofd:Doc>"),
        "<Doc>",
    ),
    "cover-image": (
        lambda xml: re.sub(
            rb"<ofd:DocInfo>", b"<ofd:DocInfo><ofd:Cover>Doc_1/Res/cover.png</ofd:Cover>", xml
        ),
        "Cover",
    ),
    "docinfo-unknown": (
        lambda xml: re.sub(
            rb"<ofd:DocInfo>", b"<ofd:DocInfo><ofd:LicenseNo>JY9</ofd:LicenseNo>", xml
        ),
        "<LicenseNo>",
    ),
    "docroot-in-the-other-ofd-namespace": (
        _after_docroot(
            b'<o:DocRoot xmlns:o="http://www.ofdspec.org">Doc_1/Document.xml</o:DocRoot>'
        ),
        "namespace",
    ),
    "root-in-a-look-alike-namespace": (
        lambda xml: xml.replace(b"http://www.ofdspec.org/2016", b"http://www.ofdspec.org/2016/"),
        "foreign namespace",
    ),
    "docroot-in-a-comment": (
        _after_docroot(b"<!-- <ofd:DocRoot>Doc_1/Document.xml</ofd:DocRoot> -->"),
        "comments, CDATA or processing instructions",
    ),
    "docroot-text-in-cdata": (
        lambda xml: xml.replace(
            DOCROOT, b"<ofd:DocRoot><![CDATA[Doc_0/Document.xml]]></ofd:DocRoot>"
        ),
        "comments, CDATA or processing instructions",
    ),
    "two-bodies-one-docroot": (
        _after_docbody(b"<ofd:DocBody>" + DOCROOT + b"</ofd:DocBody>"),
        "same DocRoot",
    ),
}


@pytest.mark.parametrize("name", sorted(OFD_XML_FORGERIES))
def test_unprotected_ofd_xml_redirect_is_flagged(name: str) -> None:
    edit, words = OFD_XML_FORGERIES[name]
    if name in ("cover-image", "docinfo-unknown"):
        # the file must hold a DocInfo to edit: the writer's sample has one
        assert b"<ofd:DocInfo>" in ofd_parts(genuine(cover_ofd_xml=False))["OFD.xml"]
    _flagged(_unprotected(edit), words)


def test_docroot_hidden_in_cdata_between_elements_is_mixed_content() -> None:
    """CDATA between DocBody's children is text beside child elements (mixed content):
    refused while parsing, before the comment/CDATA rule (signing/ofd/xmlread.py)."""
    data = _unprotected(
        _after_docroot(b"<![CDATA[<ofd:DocRoot>Doc_1/Document.xml</ofd:DocRoot>]]>")
    )
    report = verify(data)
    assert report.indication is Indication.TOTAL_FAILED
    assert "readers differ on the text of DocBody" in " ".join(report.reasons)
    assert intake_refusal(data) is not None


def test_unprotected_ofd_xml_metadata_is_reported_as_unsigned() -> None:
    report = verify(genuine(cover_ofd_xml=False))
    assert report.indication is Indication.TOTAL_PASSED, report.reasons
    assert any("DocInfo" in r and "unsigned" in r for r in report.reasons), report.reasons
    assert not any("DocInfo" in r for r in verify(genuine()).reasons)


def test_unsigned_document_in_a_signed_package_is_flagged() -> None:
    """The sealer covered OFD.xml and both documents' parts, but only Doc_0 is sealed."""
    parts = ofd_parts(sample_ofd("食品经营许可证", ["许可证编号：JY00000001"]))
    parts.update(forged_document())
    parts["OFD.xml"] = _after_docbody(
        b"<ofd:DocBody><ofd:DocRoot>Doc_1/Document.xml</ofd:DocRoot></ofd:DocBody>"
    )(parts["OFD.xml"])
    pki = sm2_pki()
    sealer = OfdSealer(pki.signers[DEPARTMENTS[0][0]], pki.seal_for(DEPARTMENTS[0][0]))
    _flagged(sealer.seal_ofd(rebuild_ofd(parts)), "Doc_1/Document.xml has no signature")


# -- Signatures.xml -----------------------------------------------------------------------


def _with_police_seal() -> bytes:
    pki = sm2_pki()
    return OfdSealer(pki.signers[POLICE], pki.seal_for(POLICE)).seal_ofd(genuine())


def _signatures_edit(data: bytes, pattern: bytes, repl: bytes) -> bytes:
    parts = ofd_parts(data)
    edited = re.sub(pattern, repl, parts[SIGS])
    assert edited != parts[SIGS]
    return rebuild_ofd({**parts, SIGS: edited})


def test_two_trusted_seals_pass() -> None:
    report = verify(_with_police_seal())
    assert report.indication is Indication.TOTAL_PASSED, report.reasons


@pytest.mark.parametrize(
    ("pattern", "repl", "words"),
    [
        (rb"</ofd:Signatures>", b"<ofd:Note>x</ofd:Note></ofd:Signatures>", "<Note>"),
        (
            rb'<ofd:Signature (ID="2"[^>]*)/>',
            rb'<ofd:Signature \1><ofd:Signature ID="3" BaseLoc="x.xml"/></ofd:Signature>',
            "child elements",
        ),
        (
            rb"<ofd:MaxSignId>",
            b'<x:MaxSignId xmlns:x="urn:x">9</x:MaxSignId><ofd:MaxSignId>',
            "namespace",
        ),
        (
            rb"</ofd:Signatures>",
            b'<!-- <ofd:Signature ID="9" BaseLoc="/Doc_0/Signs/Sign_0/Signature.xml"/> -->'
            b"</ofd:Signatures>",
            "comments",
        ),
    ],
    ids=["unknown-element", "entry-with-children", "foreign-namespace", "entry-in-a-comment"],
)
def test_signatures_xml_oddities_are_flagged(pattern: bytes, repl: bytes, words: str) -> None:
    _flagged(_signatures_edit(_with_police_seal(), pattern, repl), words)


def test_dropped_entry_of_a_later_seal_is_flagged() -> None:
    """The police seal's entry removed, its Sign_1 folder left: a viewer shows no second
    seal, the file still carries it."""
    data = _signatures_edit(_with_police_seal(), rb'<ofd:Signature ID="2"[^>]*/>', b"")
    assert len(verify(data).signatures) == 1
    _flagged(data, "signatures no Signatures.xml lists (an entry was removed?)")


# -- parts nothing signed or shown --------------------------------------------------------


@pytest.mark.parametrize(
    "extra",
    [
        "Doc_0/extra.txt",
        "Doc_0/Signs/Sign_0/note.xml",
        "Doc_0/Res/image_9.png",
        "Doc_1/Document.xml",
    ],
)
def test_part_nothing_covers_or_uses_is_flagged(extra: str) -> None:
    """E.g. a byte-different copy of a license pushed again as a new record."""
    parts = ofd_parts(genuine())
    data = rebuild_ofd({**parts, extra: b"<x>another hash</x>"})
    assert not accepted_by_intake(data)
    _flagged(data, f"parts no signature covers and no document uses: {extra}")


def test_sealed_copy_of_forged_page_elsewhere_is_flagged() -> None:
    parts = ofd_parts(genuine())
    parts["Doc_0/Pages/Page_0/Content2.xml"] = ofd_parts(sample_ofd("x", FORGED_LINES))[
        "Doc_0/Pages/Page_0/Content.xml"
    ]
    _flagged(rebuild_ofd(parts), "Content2.xml")


def test_every_structure_reason_reads_in_chinese() -> None:
    """The verify page shows these reasons in Chinese (api/pages/reasons.py)."""
    from api.pages.reasons import reason_zh

    parts = ofd_parts(genuine())
    files = [
        *(_unprotected(edit) for edit, _ in OFD_XML_FORGERIES.values()),
        _signatures_edit(_with_police_seal(), rb'<ofd:Signature ID="2"[^>]*/>', b""),
        _signatures_edit(_with_police_seal(), rb"</ofd:Signatures>", b"<ofd:N/></ofd:Signatures>"),
        _signatures_edit(
            _with_police_seal(), rb"<ofd:MaxSignId>", b'<x:M xmlns:x="u"/><ofd:MaxSignId>'
        ),
        rebuild_ofd({**parts, "Doc_0/extra.txt": b"x"}),
        genuine(cover_ofd_xml=False),
    ]
    for data in files:
        report = verify(data)
        reasons = [*report.reasons, *(r for s in report.signatures for r in s.reasons)]
        assert [r for r in reasons if reason_zh(r) is None] == []
