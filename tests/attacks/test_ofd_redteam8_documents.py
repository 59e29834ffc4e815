"""Red team round 8, r8-06: OFD.xml may hold any number of documents (DocBody), each with
its own Signatures.xml, and those lists may name the same Signature.xml files: every entry
was verified in full before one listed twice was told apart (300 documents listing one set
of 200 real seals took 61 s of CPU and 934 MB). The signature entries of all the lists
together are at most 200; the file is refused unread beyond."""

from __future__ import annotations

import re

from schemas.report import Indication
from signing.ofd.writer import write_package
from tests.attacks.ofd_forge import genuine, verify
from tests.helpers.ofd import ofd_parts

SIGS = "Doc_0/Signs/Signatures.xml"
TOO_MANY = "the documents list more than 200 signatures in all"


def _listed_by(documents: int, entries: int) -> bytes:
    """The genuine license whose Signatures.xml lists ``entries`` signatures (the issuer's
    and byte copies of its Signature.xml), listed again by each of ``documents`` DocBodies."""
    parts = ofd_parts(genuine())
    for n in range(2, entries + 1):  # byte copies: DLOFDReader must find each entry's part
        parts[f"Doc_0/Signs/Sign_{n}/Signature.xml"] = parts["Doc_0/Signs/Sign_0/Signature.xml"]
    more = "".join(
        f'<ofd:Signature ID="{n}" Type="Seal" BaseLoc="/Doc_0/Signs/Sign_{n}/Signature.xml"/>'
        for n in range(2, entries + 1)
    )
    parts[SIGS] = parts[SIGS].replace(b"</ofd:Signatures>", more.encode() + b"</ofd:Signatures>")
    body = re.search(rb"<ofd:DocBody>.*</ofd:DocBody>", parts["OFD.xml"], re.S)
    assert body is not None
    parts["OFD.xml"] = parts["OFD.xml"].replace(body.group(0), body.group(0) * documents)
    return write_package(parts)


def _reasons(data: bytes) -> str:
    report = verify(data)
    assert report.indication is Indication.TOTAL_FAILED
    return " ".join(report.reasons)


def test_one_list_of_200_named_by_two_documents_is_refused_unread() -> None:
    assert TOO_MANY not in _reasons(_listed_by(1, 200))  # the control: 200 in all
    assert TOO_MANY in _reasons(_listed_by(2, 101))


def test_many_documents_naming_one_seal_are_refused_unread() -> None:
    assert TOO_MANY in _reasons(_listed_by(201, 1))
