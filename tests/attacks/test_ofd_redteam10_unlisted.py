"""Red team round 10, r10-03: the issuer's entry removed from a certified copy's
Signatures.xml (the one part no seal covers).

Readers draw the stamps of the listed signatures only: the copy showed the 加注 and the
vault's stamp but not the issuer's seal, and the report (TOTAL_PASSED) named only the vault.
A Signature.xml no list names was noted only when no seal covered it; the vault's seal
covers the issuer's signature files, so nothing was said. Now every part shaped like a
Signature.xml (its root element ``<Signature>``, whatever its name) that no Signatures.xml
entry names fails the file, covered or not; and a seal of the vault's pinned copy seal
that covers no other listed seal is no certified copy (a copy certifies a sealed original).
"""

from __future__ import annotations

import re

import pytest

from schemas.report import Indication
from signing.errors import SealingError
from signing.ofd.writer import sample_ofd, write_package
from tests.attacks.ofd_copy_forge import annotation, vault_copy, vault_maker, vault_sealer
from tests.attacks.ofd_forge import GENUINE_LINES, genuine, intake_refusal, passes, verify
from tests.helpers.ofd import ofd_parts

SIGS = "Doc_0/Signs/Signatures.xml"
UNLISTED = "signatures no Signatures.xml lists (an entry was removed?)"
NOT_A_COPY = "covers no earlier seal"


def _unlisted(parts: dict[str, bytes], sig_id: str) -> bytes:
    """``parts`` without the Signatures.xml entry of ``sig_id``."""
    listed = parts[SIGS].decode()
    removed, count = re.subn(rf'<ofd:Signature ID="{sig_id}"[^>]*/>', "", listed)
    assert count == 1
    parts[SIGS] = removed.encode()
    return write_package(parts)


def test_the_issuers_entry_removed_from_a_copy_fails_it() -> None:
    """The attacker's r10_03."""
    copy = vault_copy()
    assert passes(copy)
    forged = _unlisted(ofd_parts(copy), "1")
    report = verify(forged)
    assert report.indication is Indication.TOTAL_FAILED
    assert len(report.signatures) == 1
    reasons = " ".join(report.signatures[0].reasons)
    assert f"{UNLISTED}: Doc_0/Signs/Sign_0/Signature.xml" in reasons, reasons
    assert NOT_A_COPY in reasons, reasons
    assert intake_refusal(forged) is not None


def test_an_unlisted_signature_of_another_name_is_found_by_its_root_element() -> None:
    """The issuer's Signature.xml under another name (a BaseLoc may name any file), the
    copy made, then its entry removed: the part is a signature by what it holds."""
    parts = ofd_parts(genuine())
    old, new = "Doc_0/Signs/Sign_0/Signature.xml", "Doc_0/Signs/Sign_0/record.xml"
    parts[new] = parts.pop(old)
    parts[SIGS] = parts[SIGS].replace(old.encode(), new.encode())
    renamed = write_package(parts)
    assert passes(renamed)
    copy = vault_maker().make(renamed, annotation())
    assert passes(copy)
    report = verify(_unlisted(ofd_parts(copy), "1"))
    assert report.indication is Indication.TOTAL_FAILED
    assert f"{UNLISTED}: {new}" in " ".join(report.signatures[0].reasons)


def test_the_vaults_seal_alone_is_no_certified_copy() -> None:
    """The vault's copy seal (misused) over an unsealed license: intact, but it certifies
    no sealed original."""
    data = vault_sealer().seal_ofd(sample_ofd("食品经营许可证", GENUINE_LINES))
    report = verify(data)
    assert report.indication is Indication.TOTAL_FAILED
    vault = report.signatures[0]
    assert vault.intact and vault.vault_copy_seal
    assert NOT_A_COPY in " ".join(vault.reasons), vault.reasons


def test_the_copy_maker_refuses_an_unsealed_original() -> None:
    with pytest.raises(SealingError, match="no seal"):
        vault_maker().make(sample_ofd("食品经营许可证", GENUINE_LINES), annotation())


def test_a_genuine_copy_still_passes_and_names_both_seals() -> None:
    report = verify(vault_copy())
    assert report.indication is Indication.TOTAL_PASSED
    assert [s.vault_copy_seal for s in report.signatures] == [False, True]
