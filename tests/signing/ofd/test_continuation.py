"""The continue-signing rule on hostile Signatures.xml: the earlier forms are rebuilt in
one linear pass, and every signature's References are looked up by path through an index.

No timing here: the inputs that took seconds with backtracking patterns (40 KB of spaces:
6.4 s) are made 1 MiB and larger, so a quadratic scan would run for hours, and the linear
one is checked by what it does (each later entry found once, the index built once)."""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any

import pytest

from signing.ofd.continuation import earlier_signatures_xml, tags
from signing.ofd.model import Reference, read_documents
from signing.ofd.package import Package
from signing.ofd.pki import Sm2DemoPKI
from signing.ofd.sealer import OfdSealer
from signing.ofd.sm2 import sm3
from signing.ofd.verifier import _Budget, _Check
from signing.trust import TrustBundle
from tests.helpers.ofd import ofd_parts
from tests.signing.ofd.conftest import POLICE

MIB = 1024 * 1024
HEAD = b'<?xml version="1.0"?>\n<ofd:Signatures xmlns:ofd="http://www.ofdspec.org/2016">\n'
FIRST = b'  <ofd:Signature ID="1" Type="Seal" BaseLoc="/Doc_0/Signs/Sign_0/Signature.xml"/>\n'
SECOND = b'  <ofd:Signature ID="2" Type="Seal" BaseLoc="/Doc_0/Signs/Sign_1/Signature.xml"/>\n'


def _signatures(max_id: bytes, *entries: bytes) -> bytes:
    return (
        HEAD
        + b"  <ofd:MaxSignId>"
        + max_id
        + b"</ofd:MaxSignId>\n"
        + b"".join(entries)
        + (b"</ofd:Signatures>\n")
    )


def test_the_appended_entry_is_removed_and_max_sign_id_set_back() -> None:
    before, after = _signatures(b"1", FIRST), _signatures(b"2", FIRST, SECOND)
    assert before in list(earlier_signatures_xml(after, ["2"]))


def test_an_entry_with_content_and_a_max_sign_id_after_it() -> None:
    entry = b'  <ofd:Signature ID="2" BaseLoc="b"><ofd:X/></ofd:Signature>\n'
    before = HEAD + FIRST + b"</ofd:Signatures>\n"
    after = HEAD + FIRST + entry + b"  <ofd:MaxSignId>2</ofd:MaxSignId>\n</ofd:Signatures>\n"
    assert before in list(earlier_signatures_xml(after, ["2"]))


def test_entries_the_later_signatures_do_not_have_give_nothing() -> None:
    assert list(earlier_signatures_xml(_signatures(b"1", FIRST), ["2"])) == []


def test_nested_entries_give_nothing() -> None:
    nested = b'<ofd:Signature ID="2"><ofd:Signature ID="3"/></ofd:Signature>'
    assert list(earlier_signatures_xml(HEAD + nested + b"</ofd:Signatures>", ["2", "3"])) == []


def test_a_huge_max_sign_id_is_not_guessed_below() -> None:
    after = _signatures(b"9" * 5000, FIRST, SECOND)  # int() refuses 4300+ digits
    assert len(list(earlier_signatures_xml(after, ["2"]))) == 2


HOSTILE = {
    "spaces between entries": lambda: _signatures(b"2", FIRST, b" " * MIB, SECOND),
    "spaces in the start tag": lambda: _signatures(
        b"2", FIRST, b'<ofd:Signature ID="2"' + b" " * MIB + b"/>"
    ),
    "spaces after ID": lambda: _signatures(b"2", b"<ofd:Signature ID" + b" " * MIB + b"/>"),
    "unclosed entries": lambda: _signatures(b"2", b'<ofd:Signature ID="2">' * (MIB // 22)),
    "open brackets": lambda: _signatures(b"2", b"<ofd:Signature" * (MIB // 14)),
    "unclosed quotes": lambda: _signatures(b"2", b'<ofd:Signature ID="2 ID="2' * (MIB // 24)),
    "spaces before MaxSignId": lambda: HEAD + b"\n" * MIB + b"<ofd:MaxSignId>2</ofd:MaxSignId>",
    "long names": lambda: _signatures(b"2", b"<" + b"a" * MIB + b" ID='2'"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_signatures_xml_is_scanned_once(name: str) -> None:
    """Each case took seconds per 40 KB with the old patterns (quadratic); at 1 MiB it would
    take hours. Here the answer comes from one pass: the tags found are each seen once."""
    text = HOSTILE[name]()
    found = list(tags(text))
    assert all(a.end() <= b.start() for a, b in itertools.pairwise(found))
    assert len(list(earlier_signatures_xml(text, ["2"]))) <= 2 + 65


def _check_with_references(sealed: bytes, count: int) -> tuple[_Check, list[Any]]:
    pkg = Package(sealed)
    (doc,) = read_documents(pkg)
    check = _Check(pkg, doc, doc.entries[0])
    check.run_integrity()
    assert check.xml is not None
    iterations: list[Any] = []

    class Counted(list[Reference]):
        def __iter__(self) -> Any:
            iterations.append(1)
            return super().__iter__()

    refs = [Reference(f"/x/{i}", f"x/{i}", b"0") for i in range(count)]
    check.xml = dataclasses.replace(check.xml, references=Counted(check.xml.references + refs))
    return check, iterations


def test_references_are_looked_up_through_one_index(sealed: bytes) -> None:
    """9,900 References, each checked: the list is walked a bounded number of times (once
    for the index, once by the loop over them), not once per Reference."""
    check, iterations = _check_with_references(sealed, 9900)
    check.run_changes([])
    assert len(iterations) <= 3
    assert check.modified  # the 9,900 invented parts are missing


@pytest.mark.corpus
def test_the_guesses_stop_at_the_files_budget() -> None:
    """converter-h.ofd: its first seal protects Signatures.xml, which the second extended.
    Within the budget that reads as continue-signing; with the budget spent, as changed."""
    from tests.conftest import require
    from tests.signing.ofd.test_corpus import OFD_CORPUS

    path = OFD_CORPUS / "files" / "converter-h.ofd"
    require(path.is_file(), f"the OFD corpus at {OFD_CORPUS}")
    with Package(path.read_bytes()) as pkg:
        (doc,) = read_documents(pkg)
        for left, level in ((128 * MIB, "SIGNATURES"), (100, "OTHER")):
            checks = [_Check(pkg, doc, entry, _Budget(left)) for entry in doc.entries]
            for check in checks:
                check.run_integrity()
            checks[0].run_changes(checks[1:])
            assert checks[0].level == level
    assert "too many earlier forms" in " ".join(checks[0].verdict.reasons)


def test_each_part_is_hashed_once_for_all_signatures(
    sealed: bytes, sm2_pki: Sm2DemoPKI, sm2_bundle: TrustBundle, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two seals over the same parts: the page is hashed once (a file may carry 200
    signatures over 256 MiB of parts)."""
    import signing.ofd.verifier as verifier

    page = ofd_parts(sealed)["Doc_0/Pages/Page_0/Content.xml"]
    twice = OfdSealer(sm2_pki.signers[POLICE], sm2_pki.seal_for(POLICE)).seal_ofd(sealed)
    hashed: list[bytes] = []

    def counted(data: bytes) -> bytes:
        hashed.append(data)
        return sm3(data)

    monkeypatch.setattr(verifier, "sm3", counted)
    report = verifier.verify_ofd(twice, trust=sm2_bundle)
    assert len(report.signatures) == 2
    assert all(not s.modified_after_signing for s in report.signatures), report.reasons
    assert hashed.count(page) == 1
