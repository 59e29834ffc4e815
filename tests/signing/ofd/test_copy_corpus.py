"""Certified copies of the real OFD files of the corpus (../shared/corpus/ofd): each copy
keeps every original seal's verdict and adds an intact vault seal over the whole package.

These files were made by other tools (ofdrw, KingGrid, Suwell ...): annotations and
attachments already present, continue-signed Signatures.xml with MaxSignId after the
entries, documents named Document_0.xml, seals that leave parts to later seals. A page with
no corner clear of text (an invoice) or of its annotations (one over the whole page), and a
Document.xml beside the DocRoot (ofdrw reads the attachments from it), are refused with
their reasons, nothing else is. The copies are verified with the vault's seal
pinned (``ofd_vault_seals``): only under it is the 加注 accepted.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from schemas.report import Indication
from signing.errors import SealingError
from signing.ofd import OfdVerifier
from signing.ofd.copy import OfdCopyMaker
from signing.ofd.pki import Sm2DemoPKI
from tests.signing.ofd.conftest import VAULT, VAULT_CODE
from tests.signing.ofd.test_copy import _annotation
from tests.signing.ofd.test_corpus import ENTRIES, corpus  # noqa: F401 - the fixture

pytestmark = pytest.mark.corpus

AT = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
#: The invoice (and its edited twin) has text in every corner of its page; two invoices
#: declare a 210x140 mm page in the page's own Area (the copy maker used to read the
#: document's 210x297 PageArea and put the 加注 at y 247, below the page: red team 6, a07)
#: and have text or table rules in every corner of it; ofdrw's h.ofd and V4RideRight.ofd
#: (and its bit-flipped twin) draw a column of filled red boxes (x 70..140 mm) down the
#: page, under every corner's 加注 (paths count as content: red team 6, a15).
_NO_CORNER = r"^no corner of page 1 is clear of its text"
#: Suwell's two files keep an older Doc_0/Document.xml beside their DocRoot
#: Doc_0/Document_0.xml, from which ofdrw reads the attachments: not copied (red team 12,
#: r12-04; each also has a page-sized annotation, which no 加注 may cover).
_DEFAULT_DOCUMENT = r"ofdrw reads the document from Doc_0/Document\.xml, beside its DocRoot"
REFUSED = {
    "files/converter-999.ofd": _NO_CORNER,
    "files/gen-999-amount-edited.ofd": _NO_CORNER,
    "files/converter-testImageOverridePage.ofd": _DEFAULT_DOCUMENT,
    "files/converter-testPathClip.ofd": _DEFAULT_DOCUMENT,
    "files/converter-SignScaleError.ofd": _NO_CORNER,
    "files/converter-fapiao-shili.ofd": _NO_CORNER,
    "files/converter-h.ofd": _NO_CORNER,
    "files/converter-V4RideRight.ofd": _NO_CORNER,
    "files/gen-V4RideRight-sigvalue-bitflip.ofd": _NO_CORNER,
}


@pytest.fixture(scope="module")
def pki() -> Sm2DemoPKI:
    return Sm2DemoPKI.build(
        departments=[(VAULT, VAULT_CODE)], now=dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    )


@pytest.fixture(scope="module")
def maker(pki: Sm2DemoPKI) -> OfdCopyMaker:
    return OfdCopyMaker(pki.signers[VAULT], pki.seal_for(VAULT))


@pytest.fixture(scope="module")
def verifier(pki: Sm2DemoPKI) -> OfdVerifier:
    """The vault's SM2 PKI with its copy seal pinned (the 加注 is accepted under it only);
    the corpus files' own chains stay unknown to it, before and after the copy."""
    return OfdVerifier(pki.trust_bundle(vault_seals=[pki.signers[VAULT].cert]))


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["file"] for e in ENTRIES])
def test_copy_keeps_each_seals_verdict(
    corpus: Path,  # noqa: F811 - the fixture
    maker: OfdCopyMaker,
    verifier: OfdVerifier,
    entry: dict[str, Any],
) -> None:
    original = (corpus / entry["file"]).read_bytes()
    if entry["file"] in REFUSED:
        with pytest.raises(SealingError, match=REFUSED[entry["file"]]):
            maker.make(original, _annotation())
        return
    copy = maker.make(original, _annotation())
    before = verifier.verify(original, at=AT).signatures
    after = verifier.verify(copy, at=AT).signatures
    assert len(after) == len(before) + 1
    for old, new in zip(before, after, strict=False):
        assert new.intact == old.intact
        if old.indication is not Indication.TOTAL_FAILED:
            assert new.indication is old.indication, new.reasons
            assert not new.modified_after_signing
    vault = after[-1]
    assert vault.intact and vault.covers_whole_file, vault.reasons
    assert vault.vault_copy_seal and vault.indication is Indication.TOTAL_PASSED, vault.reasons
