"""The verdict on one PDF signature: the ETSI EN 319 102-1 style indication, worst first.

The facts about a signature are gathered once (:class:`Facts`); :data:`RULES` are then
asked in order, and the first that returns a :class:`Verdict` decides. A rule that does
not apply returns None. After the rules, a signature that passed but relies on weak
cryptography is downgraded (:func:`weak_crypto`). Each rule reads only the facts, so it
can be tested alone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from schemas.report import (
    Coverage,
    Indication,
    ModificationLevel,
    RevocationStatus,
    SignatureKind,
    SignatureReport,
    SubIndication,
)
from signing._verify.cms_check import CmsCheck
from signing._verify.context import DocumentData
from signing._verify.discovery import SUPPORTED_SUBFILTERS, FoundSignature, SignatureStatus
from signing._verify.identity import signer_fields
from signing._verify.levels import established_time, pades_level
from signing._verify.modifications import ChangeVerdict
from signing._verify.pdfsig import claimed_signing_time
from signing._verify.summary import dedupe

if TYPE_CHECKING:  # pragma: no cover
    from signing.trust import TrustBundle

__all__ = [
    "RULES",
    "Facts",
    "Rule",
    "Verdict",
    "decide",
    "report_reasons",
    "revocation_of",
    "signature_report",
    "weak_crypto",
]


@dataclass(frozen=True)
class Facts:
    """What the verdict on one signature is decided from."""

    kind: SignatureKind
    subfilter: str | None
    format_error: str | None
    """Why /ByteRange and /Contents are not a plain signature, if they are not."""
    cms: CmsCheck | None
    """Our own check of the CMS; None when the structure did not allow it."""
    changes: ChangeVerdict
    """What the revisions after the signature did."""
    status: SignatureStatus | None
    """Chain and signature timestamp; None when the chain was not validated."""
    coverage: Coverage
    reasons: tuple[str, ...]
    """What the earlier steps noted about the signature."""
    checked_at: dt.datetime
    """The validation time."""
    has_trust: bool
    """Whether a trust bundle was given."""

    @classmethod
    def of_signature(
        cls, sig: FoundSignature, *, checked_at: dt.datetime, has_trust: bool
    ) -> Facts:
        return cls(
            kind=sig.kind,
            subfilter=sig.subfilter,
            format_error=sig.format_error,
            cms=sig.cms,
            changes=sig.changes or ChangeVerdict.refused("not analysed"),
            status=sig.status,
            coverage=sig.coverage,
            reasons=tuple(sig.reasons),
            checked_at=checked_at,
            has_trust=has_trust,
        )

    @property
    def intact(self) -> bool:
        return bool(self.cms and self.cms.intact)

    @property
    def signer_cert(self) -> Any:
        return self.cms.signer_cert if self.cms else None

    @property
    def chain_trusted(self) -> bool:
        return bool(self.status is not None and self.status.chain.trusted)

    @property
    def proven_time(self) -> dt.datetime | None:
        """The time a trusted signature timestamp proves the signature existed at."""
        st = self.status
        return st.ts_time if (st is not None and st.ts_trusted) else None


@dataclass(frozen=True)
class Verdict:
    """A rule's decision: the indication and the reasons it adds to the signature's own."""

    indication: Indication
    sub_indication: SubIndication | None = None
    before: tuple[str, ...] = ()
    """Reasons that lead, ahead of the signature's own: the cause of the failure."""
    after: tuple[str, ...] = ()
    """Reasons that follow the signature's own."""


Rule = Callable[[Facts], Verdict | None]

PASSED = Verdict(Indication.TOTAL_PASSED)


def revocation_of(status: SignatureStatus | None) -> tuple[RevocationStatus, dt.datetime | None]:
    """(status, revocation date) of the signer's certificate."""
    if status is None:
        return RevocationStatus.NOT_CHECKED, None
    if status.chain.revoked:
        return RevocationStatus.REVOKED, status.chain.revocation_date
    if not status.chain.trusted:
        return RevocationStatus.NOT_CHECKED, None
    if status.chain.revinfo_found:
        return RevocationStatus.GOOD, None
    return RevocationStatus.UNKNOWN, None


# -- the rules, worst first ---------------------------------------------------------


def format_failure(f: Facts) -> Verdict | None:
    """/ByteRange or /Contents is not a plain signature: nothing else was checked."""
    if not f.format_error:
        return None
    return Verdict(Indication.TOTAL_FAILED, SubIndication.FORMAT_FAILURE, before=(f.format_error,))


def malformed_cms(f: Facts) -> Verdict | None:
    if f.cms is None or not f.cms.malformed:
        return None
    return Verdict(
        Indication.TOTAL_FAILED, SubIndication.FORMAT_FAILURE, before=tuple(f.cms.reasons)
    )


def unsupported_cms(f: Facts) -> Verdict | None:
    """A CMS we cannot check (an algorithm we do not implement): undecided, not failed."""
    if f.cms is None or not f.cms.unsupported:
        return None
    return Verdict(
        Indication.INDETERMINATE,
        SubIndication.CRYPTO_CONSTRAINTS_FAILURE,
        before=tuple(f.cms.reasons),
    )


def not_intact(f: Facts) -> Verdict | None:
    """The digest or the signature value does not verify."""
    if f.intact:
        return None
    cms = f.cms
    if cms is None or not cms.digest_ok or cms.non_der_attrs:
        sub = SubIndication.HASH_FAILURE
    else:
        sub = SubIndication.SIG_CRYPTO_FAILURE
    why = (cms.reasons if cms else []) or ["the signature does not verify"]
    return Verdict(Indication.TOTAL_FAILED, sub, before=tuple(why))


def forbidden_changes(f: Facts) -> Verdict | None:
    """Later revisions change what the signature covers beyond what it permits."""
    if f.changes.permitted:
        return None
    why = f.changes.reasons or ["the file was changed after signing"]
    return Verdict(Indication.TOTAL_FAILED, SubIndication.FORMAT_FAILURE, before=tuple(why))


def unsupported_subfilter(f: Facts) -> Verdict | None:
    if f.subfilter in SUPPORTED_SUBFILTERS:
        return None
    weak = f" ({f.cms.weak})" if f.cms and f.cms.weak else ""
    return Verdict(
        Indication.INDETERMINATE,
        SubIndication.CRYPTO_CONSTRAINTS_FAILURE,
        before=(
            f"sub-filter {f.subfilter} is not accepted{weak}: its integrity was checked but "
            "its chain was not validated",
        ),
    )


def not_validated(f: Facts) -> Verdict | None:
    """Chain validation did not run (or failed to): undecided."""
    if f.status is not None:
        return None
    said = any("validation" in r for r in f.reasons)
    return Verdict(
        Indication.INDETERMINATE,
        SubIndication.GENERIC,
        after=() if said else ("the chain could not be validated",),
    )


def revoked(f: Facts) -> Verdict | None:
    """A revoked signer certificate fails the signature unless a trusted signature
    timestamp proves it was made before the revocation."""
    st = f.status
    if st is None or not st.chain.revoked:
        return None
    if st.chain.ca_revoked:
        return Verdict(
            Indication.INDETERMINATE,
            SubIndication.REVOKED_CA_NO_POE,
            after=(f"a CA certificate in the chain is revoked: {st.chain.message}",),
        )
    poe, revoked_at = f.proven_time, st.chain.revocation_date
    if poe is not None and revoked_at is not None and poe < revoked_at:
        return Verdict(
            Indication.TOTAL_PASSED,
            after=(
                f"the signer's certificate was revoked on {revoked_at.isoformat()}, after the "
                "signature timestamp: the signature stands",
            ),
        )
    if poe is not None and revoked_at is not None:
        return Verdict(
            Indication.TOTAL_FAILED,
            SubIndication.REVOKED,
            after=(f"the signer's certificate was revoked on {revoked_at.isoformat()}",),
        )
    since = f" (since {revoked_at.isoformat()})" if revoked_at else ""
    return Verdict(
        Indication.INDETERMINATE,
        SubIndication.REVOKED_NO_POE,
        after=(
            f"the signer's certificate is revoked{since} and nothing proves the signature "
            "existed before",
        ),
    )


def outside_validity(f: Facts) -> Verdict | None:
    """An untrusted chain whose signer certificate is not valid at the validation time:
    the validity period is the reason (when a chain was found at all)."""
    st = f.status
    if st is None or f.chain_trusted:
        return None
    if st.chain.problem is SubIndication.NO_CERTIFICATE_CHAIN_FOUND:
        return None
    try:
        validity = f.signer_cert["tbs_certificate"]["validity"]
        not_before = validity["not_before"].native
        not_after = validity["not_after"].native
    except Exception:
        return None
    moment = f.checked_at
    if moment < not_before:
        why = (
            f"the signer's certificate is not yet valid at the validation time "
            f"{moment.isoformat()} (valid from {not_before.isoformat()})"
        )
        return Verdict(Indication.TOTAL_FAILED, SubIndication.NOT_YET_VALID, before=(why,))
    if moment > not_after:
        why = (
            f"the signer's certificate expired on {not_after.isoformat()} and nothing "
            "proves the signature existed before"
        )
        return Verdict(Indication.INDETERMINATE, SubIndication.OUT_OF_BOUNDS_NO_POE, before=(why,))
    return None


_CHAIN_PROBLEMS = {
    SubIndication.NO_CERTIFICATE_CHAIN_FOUND: "no chain to a trusted root",
    SubIndication.NOT_YET_VALID: "the signer's certificate is not yet valid at the validation time",
    SubIndication.OUT_OF_BOUNDS_NO_POE: "the signer's certificate is expired at the "
    "validation time and nothing proves the signature existed before",
    SubIndication.EXPIRED: "the signer's certificate has expired",
}


def untrusted_chain(f: Facts) -> Verdict | None:
    """No path to a trusted root validates: the chain's own problem decides."""
    st = f.status
    if st is None or f.chain_trusted:
        return None
    problem = st.chain.problem or SubIndication.NO_CERTIFICATE_CHAIN_FOUND
    after = []
    if problem is SubIndication.TRY_LATER:
        after.append(_no_revocation_data(st.chain.revinfo_problem))
    if not f.has_trust and problem is SubIndication.NO_CERTIFICATE_CHAIN_FOUND:
        after.append("no trust bundle given: the chain cannot reach a trusted root")
    after.append(
        _CHAIN_PROBLEMS.get(problem, f"the certificate chain does not validate ({problem.value})")
    )
    if problem is SubIndication.NOT_YET_VALID:
        return Verdict(Indication.TOTAL_FAILED, problem, after=tuple(after))
    return Verdict(Indication.INDETERMINATE, problem, after=tuple(after))


def unknown_revocation(f: Facts) -> Verdict | None:
    """A trusted chain whose revocation status no valid, current data establishes."""
    if f.kind is not SignatureKind.SIGNATURE or f.status is None:
        return None
    if revocation_of(f.status)[0] is not RevocationStatus.UNKNOWN:
        return None
    return Verdict(
        Indication.INDETERMINATE,
        SubIndication.TRY_LATER,
        after=(_no_revocation_data(f.status.chain.revinfo_problem),),
    )


def _no_revocation_data(problem: str | None) -> str:
    detail = f" ({problem})" if problem else ""
    return (
        "revocation status unknown: the file and the trust bundle hold no valid, current CRL "
        "or OCSP response for the signer's certificate chain" + detail
    )


RULES: tuple[Rule, ...] = (
    format_failure,
    malformed_cms,
    unsupported_cms,
    not_intact,
    forbidden_changes,
    unsupported_subfilter,
    not_validated,
    revoked,
    outside_validity,
    untrusted_chain,
    unknown_revocation,
)
"""The rules in the order they are asked: the worst indications first."""


def weak_crypto(f: Facts, verdict: Verdict) -> Verdict:
    """A signature that would pass but relies on weak cryptography is INDETERMINATE."""
    if f.cms is None or not f.cms.weak or verdict.indication is not Indication.TOTAL_PASSED:
        return verdict
    return Verdict(
        Indication.INDETERMINATE,
        SubIndication.CRYPTO_CONSTRAINTS_FAILURE,
        before=verdict.before,
        after=(*verdict.after, f"relies on {f.cms.weak}"),
    )


def decide(f: Facts) -> Verdict:
    """The first rule's verdict (TOTAL_PASSED when none applies), then the weak-crypto
    downgrade."""
    for rule in RULES:
        verdict = rule(f)
        if verdict is not None:
            return weak_crypto(f, verdict)
    return weak_crypto(f, PASSED)


# -- the report -----------------------------------------------------------------------


def report_reasons(f: Facts, verdict: Verdict) -> list[str]:
    """The verdict's reasons around the signature's own, then what later revisions did
    when they were permitted."""
    out = [*verdict.before, *f.reasons, *verdict.after]
    changes = f.changes
    if f.intact and f.coverage is Coverage.ENTIRE_REVISION and changes.permitted:
        if changes.modified:
            out.extend(changes.reasons)
        elif changes.level is not ModificationLevel.NONE:
            out.append(f"later revisions add only permitted changes ({changes.level.value})")
    return dedupe(out)


def signature_report(
    sig: FoundSignature,
    sigs: list[FoundSignature],
    reader: Any,
    doc: DocumentData,
    trust: TrustBundle | None,
    checked_at: dt.datetime,
) -> SignatureReport:
    """The report of one signature (``sigs`` are the file's signatures, for its level)."""
    f = Facts.of_signature(sig, checked_at=checked_at, has_trust=trust is not None)
    verdict = decide(f)
    signing_time = None
    if sig.kind is SignatureKind.SIGNATURE:
        signing_time = claimed_signing_time(f.cms.signing_time if f.cms else None, sig.sig_obj)
    return SignatureReport(
        field_name=sig.field_name,
        kind=sig.kind,
        **signer_fields(f.signer_cert),
        signing_time=signing_time,
        timestamp_time=established_time(sig, f.has_trust),
        pades_level=pades_level(sig, sigs, reader, doc, f.intact, f.has_trust),
        intact=f.intact,
        covers_whole_file=sig.coverage is Coverage.ENTIRE_FILE,
        coverage=sig.coverage,
        modified_after_signing=f.changes.modified,
        modification_level=f.changes.level,
        changes=f.changes.categories,
        visual_check=f.changes.visual,
        chain_trusted=f.chain_trusted,
        revocation=revocation_of(sig.status)[0],
        indication=verdict.indication,
        sub_indication=verdict.sub_indication,
        reasons=report_reasons(f, verdict),
        warnings=list(f.changes.warnings),
        widget_shown=widget_shown(sig),
    )


def widget_shown(sig: FoundSignature) -> bool:
    """Whether the signature's field, or a widget among its kids, can show anything on a
    page (see :func:`signing._verify.annotations.visible`)."""
    from signing._verify.annotations import visible

    field = sig.field_obj.field if sig.field_obj is not None else None
    if not isinstance(field, dict):
        return False
    try:
        kids = field.get("/Kids") if "/Kids" in field else None
        widgets = [field, *(k.get_object() for k in (kids or [])[:64])]
        return any(isinstance(w, dict) and visible(w) for w in widgets)
    except Exception:  # a widget that cannot be read: as if shown
        return True
