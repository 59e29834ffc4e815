"""Which seal is later: never Signatures.xml's order (red team 3, e1, e2, e3, d2).

No seal covers Signatures.xml (every sealer leaves it out so that later seals can be
appended), so whoever adds a seal also decides where its entry stands. The rule: a seal T
counts as earlier than S only when S itself covers T's Signature.xml and signed value (as
continue signing does); every other seal is later than S, wherever its entry stands. So an
insider's stamp over the issuer's text is checked as a later stamp even with its entry
moved first, and a seal the vault's copy seal does not cover is one added after the copy.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from schemas.report import Indication
from signing.ofd.sealer import OfdSealer
from signing.ofd.writer import write_package
from tests.attacks.ofd_copy_forge import other_department, own_sealer, seal, vault_copy
from tests.attacks.ofd_forge import genuine, intake_refusal, passes, verify
from tests.helpers.ofd import ofd_parts

SIGS = "Doc_0/Signs/Signatures.xml"
DOC = "Doc_0/Document.xml"
LINES = (20.0, 52.0, 170.0, 26.0)
"""Over the genuine license's holder and validity lines (page 1)."""
BLANK = (20.0, 100.0, 170.0, 56.0)
"""Blank space of page 1 (clear of the text, the issuer's stamp and the copy's 加注)."""


def _move_last_first(data: bytes) -> bytes:
    """``data`` with the last entry of Signatures.xml moved before the first."""
    parts = ofd_parts(data)
    sigs = parts[SIGS]
    entries = re.findall(rb"<ofd:Signature [^>]*/>", sigs)
    first, last = entries[0], entries[-1]
    parts[SIGS] = sigs.replace(last, b"").replace(first, last + first)
    return write_package(parts)


class _ViewSealer(OfdSealer):
    """A real seal whose References digest ``view`` (path -> bytes), not the package: a
    seal that leaves the other seals' files out, or records a part as it was before."""

    def __init__(self, base: OfdSealer, view: dict[str, bytes]) -> None:
        super().__init__(base.signer, base.seal)
        self.view = view

    def _signature_xml(self, parts: Mapping[str, bytes], *args: Any, **kwargs: Any) -> bytes:
        return super()._signature_xml(self.view, *args, **kwargs)


def _issuer_flagged_by_stamp(data: bytes) -> None:
    report = verify(data)
    assert report.indication is not Indication.TOTAL_PASSED
    issuer = next(s for s in report.signatures if s.field_name == "1")
    assert issuer.indication is Indication.TOTAL_FAILED
    assert issuer.modified_after_signing
    assert "covers what this signature signed" in " ".join(issuer.reasons)


def test_insider_stamp_over_the_text_with_its_entry_moved_first_is_flagged() -> None:
    """e1: the same forgery appended is flagged; moving its entry first changes nothing."""
    appended = seal(ofd_parts(genuine()), other_department(), box=LINES)
    _issuer_flagged_by_stamp(appended)
    moved = _move_last_first(appended)
    _issuer_flagged_by_stamp(moved)
    assert intake_refusal(moved) == "modified_after_signing"


def test_a_genuine_license_with_its_entries_reordered_still_passes() -> None:
    """A later seal on blank space, its entry moved first: order alone flags nothing."""
    appended = seal(ofd_parts(genuine()), other_department(), box=BLANK)
    assert passes(appended)
    assert passes(_move_last_first(appended))


def test_self_made_seal_moved_first_names_the_stamp_on_the_issuers_row() -> None:
    """e3: an untrusted seal's stamp over the text, its entry first: the issuer's row is
    failed for that stamp (it said TOTAL_PASSED, with no note)."""
    moved = _move_last_first(seal(ofd_parts(genuine()), own_sealer(), box=LINES))
    report = verify(moved)
    issuer = next(s for s in report.signatures if s.field_name == "1")
    assert issuer.indication is Indication.TOTAL_FAILED
    assert "Sign_1/Signature.xml" in " ".join(issuer.reasons)


def test_self_made_seal_on_blank_space_moved_first_is_noted_on_the_issuers_row() -> None:
    """e3 on blank space: the issuer's row says another signer draws on its page."""
    moved = _move_last_first(seal(ofd_parts(genuine()), own_sealer(), box=BLANK))
    report = verify(moved)
    assert report.indication is not Indication.TOTAL_PASSED
    issuer = next(s for s in report.signatures if s.field_name == "1")
    assert "a later seal by another signer" in " ".join(issuer.reasons)


def _insider_on_copy(box: tuple[float, float, float, float], *, keep_added: bool) -> bytes:
    """A genuine vault copy, then an insider's seal over the original's parts (Document.xml
    at its pre-加注 digest, no seal's files; ``keep_added``: the 加注 parts too), its entry
    moved first."""
    original, copy = ofd_parts(genuine()), ofd_parts(vault_copy())
    view = {p: d for p, d in copy.items() if "/Signs/" not in p and (keep_added or p in original)}
    view[DOC] = original[DOC]
    return _move_last_first(seal(copy, _ViewSealer(other_department(), view), box=box))


def test_insider_stamp_over_a_copys_text_with_its_entry_moved_first_is_flagged() -> None:
    """e2: on a genuine vault copy, the insider's entry before the issuer's and the
    vault's, its stamp over the issuer's lines."""
    _issuer_flagged_by_stamp(_insider_on_copy(LINES, keep_added=True))


def test_seal_the_vault_does_not_cover_breaks_the_copy_whatever_its_place() -> None:
    """d2: an insider's stamp of forged lines on blank space of a vault copy, its entry
    before the vault's: the vault's seal does not cover it, so it was added after the
    certified copy, and the 加注 is no longer accepted for the issuer."""
    assert passes(vault_copy())
    data = _insider_on_copy(BLANK, keep_added=False)
    report = verify(data)
    assert report.indication is Indication.TOTAL_FAILED
    issuer = next(s for s in report.signatures if s.field_name == "1")
    assert issuer.indication is Indication.TOTAL_FAILED
    assert "does not cover every other seal" in " ".join(issuer.reasons)


def test_a_genuine_copy_with_its_entries_reversed_still_passes() -> None:
    """The vault's seal covers the issuer's files: it is later wherever its entry is."""
    assert passes(_move_last_first(vault_copy()))
