"""A verification report in plain words: per seal who, when, intact, trusted, still valid."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cryptography.x509 import Name
from cryptography.x509.oid import NameOID

from schemas.report import (
    Coverage,
    Indication,
    RevocationStatus,
    SignatureKind,
    SignatureReport,
    SubIndication,
    VerificationReport,
)

__all__ = ["ReportView", "SealView", "report_view"]

_NO_LONGER_VALID = {
    SubIndication.REVOKED,
    SubIndication.EXPIRED,
    SubIndication.NOT_YET_VALID,
    SubIndication.REVOKED_NO_POE,
    SubIndication.REVOKED_CA_NO_POE,
    SubIndication.OUT_OF_BOUNDS_NO_POE,
    SubIndication.OUT_OF_BOUNDS_NOT_REVOKED,
}


@dataclass(frozen=True)
class SealView:
    """One seal, as the verify page shows it. ``None`` means "could not be told"."""

    timestamp: bool
    who: str
    organisation: str | None
    credit_code: str | None
    when: dt.datetime | None
    level: str | None
    intact: bool
    covers_whole_file: bool
    coverage: str
    covers_signed_revision: bool
    trusted: bool
    still_valid: bool | None
    indication: Indication
    sub_indication: SubIndication | None
    reasons: tuple[str, ...]
    ofd_type: str | None = None
    """OFD only: "Seal" (电子签章) or "Sign" (电子签名)."""
    signature_format: str | None = None
    """OFD only: SES_Signature V4 / V1, SignedData."""
    seal_name: str | None = None
    """OFD seals: the seal's name (印章名称)."""

    @property
    def tone(self) -> str:
        return {"TOTAL_PASSED": "ok", "TOTAL_FAILED": "bad"}.get(self.indication.value, "warn")


@dataclass(frozen=True)
class ReportView:
    tone: str
    verdict_key: str
    file: str | None
    file_format: str
    sha256: str
    size: int
    seals: tuple[SealView, ...]
    reasons: tuple[str, ...]


def _names(subject: str | None) -> tuple[str, str | None]:
    """(common name, organisation) of an RFC 4514 subject; the raw text if it does not parse."""
    if not subject:
        return "", None
    try:
        name = Name.from_rfc4514_string(subject)
    except ValueError:
        return subject, None

    def first(oid: object) -> str | None:
        attrs = name.get_attributes_for_oid(oid)  # type: ignore[arg-type]
        return str(attrs[0].value) if attrs else None

    common = first(NameOID.COMMON_NAME)
    org = first(NameOID.ORGANIZATION_NAME)
    return common or org or subject, org if org != common else None


def _still_valid(sig: SignatureReport) -> bool | None:
    if sig.revocation is RevocationStatus.REVOKED or sig.sub_indication in _NO_LONGER_VALID:
        return False
    if sig.revocation is RevocationStatus.GOOD:
        return True
    return None


def _seal(sig: SignatureReport) -> SealView:
    who, org = _names(sig.signer_subject)
    return SealView(
        timestamp=sig.kind is SignatureKind.DOC_TIMESTAMP,
        who=who,
        organisation=org,
        credit_code=sig.signer_credit_code,
        when=sig.timestamp_time or sig.signing_time,
        level=sig.pades_level,
        intact=sig.intact and not sig.modified_after_signing,
        covers_whole_file=sig.covers_whole_file,
        coverage=sig.coverage.value,
        covers_signed_revision=sig.coverage in (Coverage.ENTIRE_FILE, Coverage.ENTIRE_REVISION),
        trusted=sig.chain_trusted,
        still_valid=_still_valid(sig),
        indication=sig.indication,
        sub_indication=sig.sub_indication,
        reasons=(*sig.reasons, *sig.warnings),
        ofd_type=sig.ofd_type.value if sig.ofd_type else None,
        signature_format=sig.signature_format,
        seal_name=sig.seal_name,
    )


def report_view(report: VerificationReport) -> ReportView:
    verdict = {
        Indication.TOTAL_PASSED: ("ok", "verify.passed"),
        Indication.TOTAL_FAILED: ("bad", "verify.failed"),
        Indication.INDETERMINATE: ("warn", "verify.indeterminate"),
    }[report.indication]
    return ReportView(
        tone=verdict[0],
        verdict_key=verdict[1],
        file=report.file,
        file_format=report.file_format.value,
        sha256=report.sha256,
        size=report.size,
        seals=tuple(_seal(s) for s in report.signatures),
        reasons=(*report.reasons, *report.warnings),
    )
