"""Red team round 10, r10-09: an issuer's OFD of two documents, each sealed.

The copy maker put the 加注, its lists and the vault's seal in the first document only: a
reader that shows the second (a document switcher, a last-wins binder) showed a clean,
issuer-sealed license inside the certified copy, which passed. A certified copy is of a
one-document file: the copy maker refuses others, and the verifier fails a vault copy seal
in a file of several documents.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest

from schemas.report import Indication
from signing.errors import SealingError
from signing.ofd import copy as copy_module
from signing.ofd.model import read_documents
from signing.ofd.package import Package
from signing.ofd.writer import NS, sample_ofd, write_package
from tests.attacks.ofd_copy_forge import annotation, vault_maker
from tests.attacks.ofd_forge import GENUINE_LINES, passes, verify
from tests.helpers.ofd import ofd_parts, ofd_sealer
from tests.helpers.pki import MARKET_DEPT

EMPTY = (
    f'<?xml version="1.0" encoding="UTF-8"?>\n<ofd:Signatures xmlns:ofd="{NS}">'
    "<ofd:MaxSignId>0</ofd:MaxSignId></ofd:Signatures>"
).encode()


def _two_documents() -> bytes:
    """The attacker's r10_09: Doc_0 and Doc_1 the same license, each with its own
    Signatures.xml and an issuer seal over OFD.xml and its own document (Doc_0's also over
    Doc_1/Document.xml)."""
    parts = ofd_parts(sample_ofd("食品经营许可证", GENUINE_LINES))
    for name in [n for n in parts if n.startswith("Doc_0/")]:
        parts["Doc_1/" + name[6:]] = parts[name]
    ofd = parts["OFD.xml"].decode()
    body = re.search(r"<ofd:DocBody>.*</ofd:DocBody>", ofd, re.S)
    assert body is not None
    bodies = [
        body.group(0)
        .replace("Doc_0/Document.xml", f"Doc_{i}/Document.xml")
        .replace(
            "</ofd:DocBody>",
            f"<ofd:Signatures>/Doc_{i}/Signs/Signatures.xml</ofd:Signatures></ofd:DocBody>",
        )
        for i in (0, 1)
    ]
    parts["OFD.xml"] = ofd.replace(body.group(0), "".join(bodies)).encode()
    parts["Doc_0/Signs/Signatures.xml"] = parts["Doc_1/Signs/Signatures.xml"] = EMPTY
    at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    for i in (0, 1):
        with Package(write_package(parts)) as pkg:
            doc = read_documents(pkg)[i]
        covered = {
            k: v
            for k, v in parts.items()
            if k in ("OFD.xml", "Doc_1/Document.xml") or k.startswith(f"Doc_{i}/")
        }
        parts.update(ofd_sealer(MARKET_DEPT).seal_parts(covered, doc, "1", (140, 225, 42, 42), at))
    return write_package(parts)


def test_an_original_of_two_documents_is_not_copied() -> None:
    lic = _two_documents()
    assert passes(lic)
    with pytest.raises(SealingError, match="holds 2 documents"):
        vault_maker().make(lic, annotation())


def test_a_copy_of_two_documents_fails_the_vaults_seal(monkeypatch: pytest.MonkeyPatch) -> None:
    """The copy as the maker made it before: the 加注 and the vault's seal on Doc_0."""
    monkeypatch.setattr(copy_module, "_one_document", lambda _docs: None)
    # ofdrw's document is the last DocBody's folder's Document.xml (red team 12, r12-04)
    monkeypatch.setattr(copy_module, "_check_default_documents", lambda _pkg, _doc: None)
    copy = vault_maker().make(_two_documents(), annotation())
    monkeypatch.undo()
    report = verify(copy)
    assert report.indication is Indication.TOTAL_FAILED
    vault = next(s for s in report.signatures if s.vault_copy_seal)
    assert vault.indication is Indication.TOTAL_FAILED
    assert any("file of 2 documents" in r for r in vault.reasons), vault.reasons
