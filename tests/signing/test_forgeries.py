"""Forged licenses never verify; the changes a license legitimately goes through still do.

Every forgery in tests/helpers/forgeries.py starts from a license that verifies
TOTAL_PASSED (checked here too, so that no attack passes for the wrong reason) and makes a
viewer show something the issuer did not sign. For the issuer's seal the verifier must not
say "intact and not modified after signing", and the file must not be TOTAL_PASSED. A form
fill is the one exception the rules force on us: the seal is reported modified, and the
file may still pass if the report warns about the field. A later signature whose widget
shows text on blank space leaves the issuer's seal unmodified; the seal must then warn,
naming that signature's field, and the file must not pass.

The verdicts are asserted on the report's fields only (intact, modified_after_signing,
indication), never on its wording. poppler shows what a reader sees: its rendering of the
forged file differs from the sealed one, and pdfsig calls the issuer's signature valid.
One denial is timed: a page too slow to render gets its verdict within the verifier's
default bound, and the verdict is not a pass.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import pytest

import signing.verify
from schemas.report import Indication, SignatureReport, VerificationReport
from signing.verify import Verifier
from tests.conftest import require_tool
from tests.helpers.forgeries import ATTACKS, BENIGN, Case
from tests.helpers.licenses import ISSUER
from tests.helpers.pki import demo_trust_bundle

ISSUER_FIELD = "Seal1"
WARNING_PREFIX: str = getattr(signing.verify, "WARNING_PREFIX", "warning: ")
VALID = "Signature Validation: Signature is Valid."

BASES = {case.base: case.name for case in reversed(ATTACKS)}
"""Each distinct base once, named by the first attack on it."""


@pytest.fixture(scope="module")
def verifier() -> Verifier:
    """The demo PKI's roots only: revocation data comes from the files (B-LT)."""
    return Verifier(demo_trust_bundle())


def _issuer_seals(report: VerificationReport) -> list[SignatureReport]:
    """The reports about the issuer's signature (by signer, or by its field when the
    signer could not be read)."""
    return [
        s
        for s in report.signatures
        if s.signer_credit_code == ISSUER or s.field_name == ISSUER_FIELD
    ]


def _warnings(report: VerificationReport) -> list[str]:
    """Warnings on the file or on a seal, as a ``warnings`` list or as prefixed reasons."""
    found = list(getattr(report, "warnings", None) or [])
    found += [r for r in report.reasons if r.startswith(WARNING_PREFIX)]
    for seal in report.signatures:
        found += list(getattr(seal, "warnings", None) or [])
        found += [r for r in seal.reasons if r.startswith(WARNING_PREFIX)]
    return found


def _summary(report: VerificationReport) -> str:
    seals = [
        f"{s.field_name}: intact={s.intact} modified={s.modified_after_signing} "
        f"{s.modification_level} {s.indication.value}"
        for s in report.signatures
    ]
    return f"{report.indication.value} {report.reasons[:2]} {seals}"


@pytest.mark.parametrize("base", list(BASES), ids=list(BASES.values()))
def test_every_base_passes_before_it_is_forged(verifier: Verifier, base: object) -> None:
    assert callable(base)
    report = verifier.verify(base())
    if BASES[base] == "usf_unsigned_document":  # the one base that was never signed
        assert report.indication is Indication.TOTAL_FAILED and not report.signatures
        return
    assert report.indication is Indication.TOTAL_PASSED, _summary(report)
    (seal,) = _issuer_seals(report)
    assert seal.intact and not seal.modified_after_signing


@pytest.mark.parametrize("case", ATTACKS, ids=lambda c: c.name)
def test_forgery_is_not_accepted(verifier: Verifier, case: Case) -> None:
    report = verifier.verify(case.build())
    seals = _issuer_seals(report)
    if case.later_signature is not None:
        _assert_warns_about(report, seals, case.later_signature)
        return
    if case.form_fill:
        assert seals, _summary(report)
        assert all(s.modified_after_signing for s in seals), _summary(report)
        assert report.indication is not Indication.TOTAL_PASSED or _warnings(report)
        return
    assert not any(s.intact and not s.modified_after_signing for s in seals), _summary(report)
    assert report.indication is not Indication.TOTAL_PASSED, _summary(report)


def _assert_warns_about(
    report: VerificationReport, seals: list[SignatureReport], field: str
) -> None:
    """The file does not pass, and every report on the issuer's seal warns about the later
    signature's widget, by its field name."""
    assert report.indication is not Indication.TOTAL_PASSED, _summary(report)
    assert seals, _summary(report)
    for seal in seals:
        assert any(field in w for w in seal.warnings), f"{_summary(report)} {seal.warnings}"


@pytest.mark.parametrize("case", BENIGN, ids=lambda c: c.name)
def test_benign_change_passes(verifier: Verifier, case: Case) -> None:
    report = verifier.verify(case.build())
    assert report.indication is Indication.TOTAL_PASSED, _summary(report)
    seals = _issuer_seals(report)
    assert seals, _summary(report)
    assert all(s.intact and not s.modified_after_signing for s in seals), _summary(report)


def _render(data: bytes) -> bytes:
    """Every page of ``data`` as poppler draws it (20 dpi, grey levels), concatenated."""
    pdftoppm = require_tool("pdftoppm")
    with tempfile.TemporaryDirectory() as tmp:
        pdf = Path(tmp) / "in.pdf"
        pdf.write_bytes(data)
        prefix = Path(tmp) / "page"
        subprocess.run(
            [pdftoppm, "-r", "20", "-gray", str(pdf), str(prefix)],
            capture_output=True,
            timeout=60,
            check=False,
        )
        return b"".join(p.read_bytes() for p in sorted(Path(tmp).glob("page*")))


def _pdfsig(data: bytes) -> str:
    pdfsig = require_tool("pdfsig")
    with tempfile.NamedTemporaryFile(suffix=".pdf") as pdf:
        pdf.write(data)
        pdf.flush()
        out = subprocess.run(
            [pdfsig, pdf.name], capture_output=True, text=True, timeout=60, check=False
        )
    return out.stdout


@pytest.mark.pdfsig
@pytest.mark.parametrize("case", [c for c in ATTACKS if c.shown_by_poppler], ids=lambda c: c.name)
def test_poppler_shows_the_forgery(case: Case) -> None:
    """The attack is real: poppler draws the forged file differently from the sealed one."""
    before, after = _render(case.base()), _render(case.build())
    assert before and before != after


DANGER = (
    "dss_vri_claims_content",
    "objstm_redefines_page",
    "content_at_generation_1",
    "body_outside_xref_startxref_off",
    "duplicate_prev",
    "sig_widget_reuses_issuer_signature",
    "second_seal_over_text",
    "swa_forged_body_in_gap",
)


@pytest.mark.pdfsig
@pytest.mark.parametrize("case", [c for c in ATTACKS if c.name in DANGER], ids=lambda c: c.name)
def test_pdfsig_calls_the_forged_seal_valid(case: Case) -> None:
    """What makes these attacks dangerous: an independent verifier checks the issuer's
    signature value over its byte range, finds it valid, and says nothing more."""
    out = _pdfsig(case.build())
    first = out.split("Signature #2")[0]
    assert f"Signature Field Name: {ISSUER_FIELD}" in first and VALID in first, out
