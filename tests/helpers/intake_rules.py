"""Intake's rules on a verification report, without a database: what
:func:`vault.services.intake.check_report` says of a file the issuing department itself
pushes (its seal's credit code registered, revocation not required)."""

from __future__ import annotations

from schemas.report import VerificationReport
from vault.services import intake

__all__ = ["check_as_issuer"]


def check_as_issuer(report: VerificationReport, issuer_code: str) -> None:
    """Raise :class:`vault.errors.IntakeRefused` when intake refuses the report's file."""
    context = intake.RuleContext(
        department_id=1,
        department_name="issuer",
        department_code=issuer_code,
        license_type_id=1,
        license_type_code="test",
        fingerprints=frozenset(),
    )
    intake.check_report(report, sha256=report.sha256, context=context, require_revocation=False)
