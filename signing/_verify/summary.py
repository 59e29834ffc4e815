"""A file's verdict from its signatures' verdicts (PDF and OFD alike), and the report on a
PDF whose structure cannot be read at all."""

from __future__ import annotations

from typing import Any

from schemas.report import (
    Coverage,
    Indication,
    ModificationLevel,
    RevocationStatus,
    SignatureKind,
    SignatureReport,
    SubIndication,
    VerificationReport,
)
from signing._verify.cms_check import check_cms
from signing._verify.discovery import (
    FoundSignature,
    check_byte_range,
    raw_coverage,
    raw_signatures,
    signed_bytes,
)
from signing._verify.identity import signer_fields

__all__ = ["dedupe", "overall_report", "raw_report"]

_RANK = {Indication.TOTAL_PASSED: 0, Indication.INDETERMINATE: 1, Indication.TOTAL_FAILED: 2}


def dedupe(items: list[str]) -> list[str]:
    """``items`` without empty strings and repeats, in first-seen order."""
    return [x for i, x in enumerate(items) if x and x not in items[:i]]


def overall_report(
    base: dict[str, Any], reports: list[SignatureReport], notes: list[str]
) -> VerificationReport:
    """The file's report: its worst signature decides, with a broken document timestamp
    counting at worst INDETERMINATE when signatures are present.

    ``base`` holds the report's file fields (file, sha256, size, checked_at); ``notes``
    are the file's own reasons (skipped placeholders and the like).
    """
    if not reports:
        return VerificationReport(
            **base,
            indication=Indication.TOTAL_FAILED,
            sub_indication=SubIndication.FORMAT_FAILURE,
            reasons=["no signature found in the file", *notes],
            signatures=[],
        )
    has_signature = any(r.kind is SignatureKind.SIGNATURE for r in reports)

    def rank(r: SignatureReport) -> int:
        # A broken document timestamp costs the archival level, not the signatures under
        # it: with signatures present it makes the file INDETERMINATE at worst.
        if has_signature and r.kind is SignatureKind.DOC_TIMESTAMP:
            return min(_RANK[r.indication], 1)
        return _RANK[r.indication]

    worst = max(reports, key=rank)
    warnings = _warnings(reports)
    reasons = list(notes)
    if rank(worst) < _RANK[worst.indication]:
        who = worst.field_name or "a document timestamp"
        return VerificationReport(
            **base,
            indication=Indication.INDETERMINATE,
            sub_indication=SubIndication.GENERIC,
            reasons=[f"{who}: {worst.reasons[0] if worst.reasons else 'does not verify'}", *notes],
            warnings=warnings,
            signatures=reports,
        )
    if worst.indication is not Indication.TOTAL_PASSED:
        who = worst.field_name or "a signature"
        reasons.insert(0, f"{who}: {worst.reasons[0] if worst.reasons else worst.indication.value}")
    if all(r.kind is SignatureKind.DOC_TIMESTAMP for r in reports):
        reasons.append("the file carries document timestamps only, no signature")
    return VerificationReport(
        **base,
        indication=worst.indication,
        sub_indication=worst.sub_indication,
        reasons=reasons,
        warnings=warnings,
        signatures=reports,
    )


def _warnings(reports: list[SignatureReport]) -> list[str]:
    """Each signature's warnings, once per text, naming the signatures they are about."""
    seen: dict[str, list[str]] = {}
    for r in reports:
        for text in r.warnings:
            seen.setdefault(text, []).append(r.field_name or "a signature")
    return [f"{', '.join(names)}: {text}" for text, names in seen.items()]


def raw_report(data: bytes, base: dict[str, Any], why: str) -> VerificationReport:
    """The file cannot be parsed as a PDF: check what signatures the raw bytes hold, and
    fail the file with the reason."""
    return VerificationReport(
        **base,
        indication=Indication.TOTAL_FAILED,
        sub_indication=SubIndication.FORMAT_FAILURE,
        reasons=[why],
        signatures=[_raw_signature_report(data, sig, why) for sig in raw_signatures(data)],
    )


def _raw_signature_report(data: bytes, sig: FoundSignature, why: str) -> SignatureReport:
    """A signature found on the raw bytes: its integrity is checked, and it fails with the
    file (FORMAT_FAILURE), later revisions counting as changes."""
    problem = check_byte_range(data, sig.byte_range, None)
    cms = None
    if not problem:
        cms = check_cms(sig.contents, signed_bytes(data, sig.byte_range), subfilter=sig.subfilter)
    coverage = raw_coverage(data, sig.byte_range)
    modified = coverage is not Coverage.ENTIRE_FILE
    reasons = [problem] if problem else list(cms.reasons if cms else [])
    reasons.append(why)
    if modified:
        reasons.append("later revisions cannot be read, so they count as changes")
    return SignatureReport(
        field_name=sig.field_name,
        kind=sig.kind,
        **signer_fields(cms.signer_cert if cms else None),
        intact=bool(cms and cms.intact),
        covers_whole_file=coverage is Coverage.ENTIRE_FILE,
        coverage=coverage,
        modified_after_signing=modified,
        modification_level=ModificationLevel.OTHER if modified else ModificationLevel.NONE,
        chain_trusted=False,
        revocation=RevocationStatus.NOT_CHECKED,
        indication=Indication.TOTAL_FAILED,
        sub_indication=SubIndication.FORMAT_FAILURE,
        reasons=dedupe(reasons),
    )
