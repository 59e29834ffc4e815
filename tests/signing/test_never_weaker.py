"""Our verdict is never weaker than pyHanko's own difference analysis.

For every forgery of tests/helpers/forgeries.py, pyHanko 0.38 validates the issuer's
signature with its default diff policy (the library our verifier sits on); wherever pyHanko
says the signature is not intact, does not cover its revision, or that later revisions made
changes its policy does not accept, our report must not call the issuer's seal intact and
unmodified either. The test also pins how many forgeries each side catches, so that the
comparison shows in the test output (docs/verification.md quotes it).
"""

from __future__ import annotations

import asyncio
import io
import logging
from typing import Any

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel as PyHankoLevel
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko.sign.validation.dss import DocumentSecurityStore

from schemas.report import Indication
from signing._pyhanko import to_asn1
from signing.verify import Verifier
from tests.helpers.forgeries import ATTACKS, Case
from tests.helpers.pki import demo_pki, demo_trust_bundle


def _pyhanko_flags(data: bytes) -> bool:
    """Whether plain pyHanko finds the first signature broken or modified (or cannot read
    the file at all, which a viewer would not show as valid either)."""
    logging.getLogger("pyhanko").setLevel(logging.CRITICAL)
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        sig = reader.embedded_signatures[0]
        vc = DocumentSecurityStore.read_dss(reader).as_validation_context(
            {"trust_roots": [to_asn1(demo_pki().root.certificate)], "allow_fetching": False}
        )
        status: Any = asyncio.run(async_validate_pdf_signature(sig, vc))
    except Exception:
        return True
    accepted = (PyHankoLevel.NONE, PyHankoLevel.LTA_UPDATES, PyHankoLevel.FORM_FILLING)
    return not (
        status.intact
        and status.valid
        and status.docmdp_ok is not False
        and status.coverage.name in ("ENTIRE_FILE", "ENTIRE_REVISION")
        and (status.modification_level is None or status.modification_level in accepted)
    )


def _ours_flags(verifier: Verifier, data: bytes) -> bool:
    """Whether our report refuses the file (not TOTAL_PASSED) or does not call the
    issuer's seal (the first) intact and unmodified."""
    report = verifier.verify(data)
    seals = report.signatures
    if report.indication is not Indication.TOTAL_PASSED or not seals:
        return True
    return not (seals[0].intact and not seals[0].modified_after_signing)


@pytest.fixture(scope="module")
def verifier() -> Verifier:
    return Verifier(demo_trust_bundle())


@pytest.mark.parametrize("case", ATTACKS, ids=lambda c: c.name)
def test_whatever_pyhanko_flags_we_flag(verifier: Verifier, case: Case) -> None:
    data = case.build()
    if _pyhanko_flags(data):
        assert _ours_flags(verifier, data), f"pyHanko flags {case.name}, we do not"


def test_we_flag_every_forgery_pyhanko_misses(verifier: Verifier) -> None:
    missed_by_pyhanko = [c.name for c in ATTACKS if not _pyhanko_flags(c.build())]
    assert missed_by_pyhanko, "pyHanko catches every forgery: this test would mean nothing"
    for case in ATTACKS:
        if case.name in missed_by_pyhanko:
            assert _ours_flags(verifier, case.build()), case.name
    print(f"\npyHanko's diff analysis misses {len(missed_by_pyhanko)} of {len(ATTACKS)} forgeries")
