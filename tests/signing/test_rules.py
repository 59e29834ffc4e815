"""The per-signature verdict rules (signing._verify.rules), each alone and in their order.

Facts are built directly: a passing baseline (:func:`facts`) with one thing changed per
test. The signer certificate, where a rule reads it, is a real one made here with the
validity period the test needs.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from schemas.report import (
    Coverage,
    Indication,
    ModificationLevel,
    RevocationStatus,
    SignatureKind,
    SubIndication,
)
from signing._verify import rules
from signing._verify.chain import ChainResult
from signing._verify.cms_check import CmsCheck
from signing._verify.discovery import SignatureStatus
from signing._verify.modifications import ChangeVerdict
from signing._verify.rules import RULES, Facts, Verdict, decide, revocation_of

NOW = dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


def certificate(not_before: dt.datetime, not_after: dt.datetime) -> Any:
    """A self-signed certificate valid from ``not_before`` to ``not_after`` (asn1crypto)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "rules test signer")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .sign(key, hashes.SHA256())
    )
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def good_cms(**changes: Any) -> CmsCheck:
    cms = CmsCheck(intact=True, digest_ok=True, signature_ok=True)
    cms.signer_cert = certificate(NOW - 365 * DAY, NOW + 365 * DAY)
    return dataclasses.replace(cms, **changes)


def chain(**changes: Any) -> SignatureStatus:
    return SignatureStatus(ChainResult(**{"trusted": True, "revinfo_found": True, **changes}))


def facts(**changes: Any) -> Facts:
    """A signature that passes every rule, with ``changes`` applied."""
    base = Facts(
        kind=SignatureKind.SIGNATURE,
        subfilter="/ETSI.CAdES.detached",
        format_error=None,
        cms=good_cms(),
        changes=ChangeVerdict(),
        status=chain(),
        coverage=Coverage.ENTIRE_FILE,
        reasons=(),
        checked_at=NOW,
        has_trust=True,
    )
    return dataclasses.replace(base, **changes)


def test_the_baseline_passes_every_rule() -> None:
    f = facts()
    assert [rule.__name__ for rule in RULES if rule(f) is not None] == []
    assert decide(f) == Verdict(Indication.TOTAL_PASSED)


# -- each rule alone ----------------------------------------------------------------------


def test_format_failure_leads_with_the_structural_reason() -> None:
    v = rules.format_failure(facts(format_error="/ByteRange must be four integers", cms=None))
    assert v == Verdict(
        Indication.TOTAL_FAILED,
        SubIndication.FORMAT_FAILURE,
        before=("/ByteRange must be four integers",),
    )


def test_malformed_cms_is_a_format_failure() -> None:
    cms = good_cms(intact=None, malformed="bad DER", reasons=["the CMS is not DER"])
    v = rules.malformed_cms(facts(cms=cms))
    assert v is not None
    assert (v.indication, v.sub_indication) == (
        Indication.TOTAL_FAILED,
        SubIndication.FORMAT_FAILURE,
    )
    assert v.before == ("the CMS is not DER",)


def test_unsupported_cms_is_undecided() -> None:
    cms = good_cms(intact=None, unsupported="GOST", reasons=["digest GOST is not supported"])
    v = rules.unsupported_cms(facts(cms=cms))
    assert v == Verdict(
        Indication.INDETERMINATE,
        SubIndication.CRYPTO_CONSTRAINTS_FAILURE,
        before=("digest GOST is not supported",),
    )


@pytest.mark.parametrize(
    ("cms", "sub"),
    [
        (good_cms(intact=False, digest_ok=False), SubIndication.HASH_FAILURE),
        (good_cms(intact=False, non_der_attrs=True), SubIndication.HASH_FAILURE),
        (good_cms(intact=False, signature_ok=False), SubIndication.SIG_CRYPTO_FAILURE),
        (None, SubIndication.HASH_FAILURE),
    ],
)
def test_not_intact_tells_a_wrong_digest_from_a_wrong_signature(
    cms: CmsCheck | None, sub: SubIndication
) -> None:
    v = rules.not_intact(facts(cms=cms))
    assert v == Verdict(Indication.TOTAL_FAILED, sub, before=("the signature does not verify",))


def test_not_intact_gives_the_checks_own_reasons() -> None:
    v = rules.not_intact(facts(cms=good_cms(intact=False, reasons=["digest mismatch"])))
    assert v is not None and v.before == ("digest mismatch",)


def test_forbidden_changes_fail_the_signature() -> None:
    v = rules.forbidden_changes(facts(changes=ChangeVerdict.refused("a page was replaced")))
    assert v == Verdict(
        Indication.TOTAL_FAILED, SubIndication.FORMAT_FAILURE, before=("a page was replaced",)
    )
    unexplained = dataclasses.replace(ChangeVerdict.refused("x"), reasons=[])
    v = rules.forbidden_changes(facts(changes=unexplained))
    assert v is not None and v.before == ("the file was changed after signing",)


def test_an_unsupported_sub_filter_is_undecided_and_names_weak_crypto() -> None:
    v = rules.unsupported_subfilter(
        facts(subfilter="/adbe.x509.rsa_sha1", cms=good_cms(weak="SHA-1"))
    )
    assert v is not None
    assert (v.indication, v.sub_indication) == (
        Indication.INDETERMINATE,
        SubIndication.CRYPTO_CONSTRAINTS_FAILURE,
    )
    assert v.before == (
        "sub-filter /adbe.x509.rsa_sha1 is not accepted (SHA-1): its integrity was checked "
        "but its chain was not validated",
    )
    assert rules.unsupported_subfilter(facts(subfilter="/ETSI.RFC3161")) is None


def test_not_validated_says_so_once() -> None:
    v = rules.not_validated(facts(status=None))
    assert v == Verdict(
        Indication.INDETERMINATE,
        SubIndication.GENERIC,
        after=("the chain could not be validated",),
    )
    said = facts(status=None, reasons=("chain validation failed to run (ValueError: x)",))
    assert rules.not_validated(said) == Verdict(Indication.INDETERMINATE, SubIndication.GENERIC)


def test_a_revoked_ca_is_undecided() -> None:
    status = chain(trusted=False, revoked=True, ca_revoked=True, message="CA revoked")
    v = rules.revoked(facts(status=status))
    assert v is not None
    assert (v.indication, v.sub_indication) == (
        Indication.INDETERMINATE,
        SubIndication.REVOKED_CA_NO_POE,
    )


def test_a_signature_timestamped_before_the_revocation_stands() -> None:
    status = chain(trusted=False, revoked=True, revocation_date=NOW - DAY)
    status.ts_time, status.ts_trusted = NOW - 2 * DAY, True
    v = rules.revoked(facts(status=status))
    assert v is not None
    assert (v.indication, v.sub_indication) == (Indication.TOTAL_PASSED, None)
    assert "the signature stands" in v.after[0]


def test_a_signature_timestamped_after_the_revocation_fails() -> None:
    status = chain(trusted=False, revoked=True, revocation_date=NOW - 2 * DAY)
    status.ts_time, status.ts_trusted = NOW - DAY, True
    v = rules.revoked(facts(status=status))
    assert v is not None
    assert (v.indication, v.sub_indication) == (Indication.TOTAL_FAILED, SubIndication.REVOKED)


def test_revoked_without_a_trusted_timestamp_is_undecided() -> None:
    status = chain(trusted=False, revoked=True, revocation_date=NOW - DAY)
    status.ts_time, status.ts_trusted = NOW - 2 * DAY, False  # an untrusted TSA proves nothing
    v = rules.revoked(facts(status=status))
    assert v is not None
    assert (v.indication, v.sub_indication) == (
        Indication.INDETERMINATE,
        SubIndication.REVOKED_NO_POE,
    )
    assert v.after[0].startswith(f"the signer's certificate is revoked (since {NOW - DAY:%Y}")


def test_outside_validity_before_and_after_the_period() -> None:
    early = good_cms(signer_cert=certificate(NOW + DAY, NOW + 9 * DAY))
    untrusted = chain(trusted=False, problem=SubIndication.GENERIC)
    v = rules.outside_validity(facts(cms=early, status=untrusted))
    assert v is not None
    assert (v.indication, v.sub_indication) == (
        Indication.TOTAL_FAILED,
        SubIndication.NOT_YET_VALID,
    )
    assert v.before[0].startswith("the signer's certificate is not yet valid")
    late = good_cms(signer_cert=certificate(NOW - 9 * DAY, NOW - DAY))
    v = rules.outside_validity(facts(cms=late, status=untrusted))
    assert v is not None
    assert (v.indication, v.sub_indication) == (
        Indication.INDETERMINATE,
        SubIndication.OUT_OF_BOUNDS_NO_POE,
    )


def test_outside_validity_needs_an_untrusted_chain_that_was_found() -> None:
    late = good_cms(signer_cert=certificate(NOW - 9 * DAY, NOW - DAY))
    assert rules.outside_validity(facts(cms=late)) is None  # trusted: not this rule
    no_chain = chain(trusted=False, problem=SubIndication.NO_CERTIFICATE_CHAIN_FOUND)
    assert rules.outside_validity(facts(cms=late, status=no_chain)) is None
    in_period = chain(trusted=False, problem=SubIndication.GENERIC)
    assert rules.outside_validity(facts(status=in_period)) is None


def test_an_untrusted_chain_without_a_bundle_says_why() -> None:
    v = rules.untrusted_chain(facts(status=chain(trusted=False), has_trust=False))
    assert v == Verdict(
        Indication.INDETERMINATE,
        SubIndication.NO_CERTIFICATE_CHAIN_FOUND,
        after=(
            "no trust bundle given: the chain cannot reach a trusted root",
            "no chain to a trusted root",
        ),
    )


@pytest.mark.parametrize(
    ("problem", "indication"),
    [
        (SubIndication.NOT_YET_VALID, Indication.TOTAL_FAILED),
        (SubIndication.EXPIRED, Indication.INDETERMINATE),
        (SubIndication.CHAIN_CONSTRAINTS_FAILURE, Indication.INDETERMINATE),
    ],
)
def test_an_untrusted_chain_takes_the_chains_problem(
    problem: SubIndication, indication: Indication
) -> None:
    v = rules.untrusted_chain(facts(status=chain(trusted=False, problem=problem)))
    assert v is not None
    assert (v.indication, v.sub_indication) == (indication, problem)


def test_an_untrusted_chain_for_want_of_revocation_data_says_so() -> None:
    status = chain(trusted=False, problem=SubIndication.TRY_LATER, revinfo_problem="CRL stale")
    v = rules.untrusted_chain(facts(status=status))
    assert v is not None
    assert v.after[0].startswith("revocation status unknown:")
    assert v.after[0].endswith("(CRL stale)")


def test_unknown_revocation_is_try_later_for_signatures_only() -> None:
    status = chain(revinfo_found=False)
    v = rules.unknown_revocation(facts(status=status))
    assert v is not None
    assert (v.indication, v.sub_indication) == (Indication.INDETERMINATE, SubIndication.TRY_LATER)
    timestamp = facts(status=status, kind=SignatureKind.DOC_TIMESTAMP, subfilter="/ETSI.RFC3161")
    assert rules.unknown_revocation(timestamp) is None


def test_weak_crypto_downgrades_a_pass_only() -> None:
    f = facts(cms=good_cms(weak="SHA-1"))
    assert decide(f) == Verdict(
        Indication.INDETERMINATE,
        SubIndication.CRYPTO_CONSTRAINTS_FAILURE,
        after=("relies on SHA-1",),
    )
    failed = Verdict(Indication.TOTAL_FAILED, SubIndication.REVOKED)
    assert rules.weak_crypto(f, failed) is failed


def test_revocation_of_each_chain() -> None:
    assert revocation_of(None) == (RevocationStatus.NOT_CHECKED, None)
    assert revocation_of(chain()) == (RevocationStatus.GOOD, None)
    assert revocation_of(chain(revinfo_found=False)) == (RevocationStatus.UNKNOWN, None)
    assert revocation_of(chain(trusted=False)) == (RevocationStatus.NOT_CHECKED, None)
    revoked = chain(revoked=True, revocation_date=NOW)
    assert revocation_of(revoked) == (RevocationStatus.REVOKED, NOW)


# -- the order ----------------------------------------------------------------------------


def test_the_rules_are_asked_worst_first() -> None:
    assert [rule.__name__ for rule in RULES] == [
        "format_failure",
        "malformed_cms",
        "unsupported_cms",
        "not_intact",
        "forbidden_changes",
        "unsupported_subfilter",
        "not_validated",
        "revoked",
        "outside_validity",
        "untrusted_chain",
        "unknown_revocation",
    ]


def test_the_first_rule_that_applies_decides() -> None:
    everything_wrong = facts(
        format_error="/ByteRange points outside the file",
        cms=good_cms(intact=False),
        changes=ChangeVerdict.refused("a page was replaced"),
        subfilter="/adbe.x509.rsa_sha1",
        status=None,
    )
    assert decide(everything_wrong).before == ("/ByteRange points outside the file",)
    # each rule, once the rules before it are satisfied, decides
    assert decide(dataclasses.replace(everything_wrong, format_error=None)).sub_indication is (
        SubIndication.SIG_CRYPTO_FAILURE
    )
    changed = facts(changes=ChangeVerdict.refused("a page was replaced"), status=None)
    assert decide(changed).before == ("a page was replaced",)


def test_revocation_is_judged_before_the_chain_and_the_validity_period() -> None:
    late = good_cms(signer_cert=certificate(NOW - 9 * DAY, NOW - DAY))
    status = chain(trusted=False, revoked=True, problem=SubIndication.GENERIC)
    assert decide(facts(cms=late, status=status)).sub_indication is SubIndication.REVOKED_NO_POE
    unrevoked = chain(trusted=False, problem=SubIndication.GENERIC)
    assert decide(facts(cms=late, status=unrevoked)).sub_indication is (
        SubIndication.OUT_OF_BOUNDS_NO_POE
    )
    in_period = facts(status=unrevoked)
    assert decide(in_period).sub_indication is SubIndication.GENERIC


def test_a_pass_from_a_rule_stops_the_later_rules() -> None:
    """Revoked after a trusted timestamp: the signature stands, even though the chain is
    not trusted (a later rule would fail it)."""
    status = chain(trusted=False, revoked=True, revocation_date=NOW - DAY)
    status.ts_time, status.ts_trusted = NOW - 2 * DAY, True
    assert decide(facts(status=status)).indication is Indication.TOTAL_PASSED
    assert rules.untrusted_chain(facts(status=status)) is not None


def test_a_report_puts_the_cause_first_and_permitted_changes_last() -> None:
    changes = ChangeVerdict(
        level=ModificationLevel.FORM_FILLING, modified=True, reasons=["a field was filled"]
    )
    f = facts(
        coverage=Coverage.ENTIRE_REVISION,
        changes=changes,
        reasons=("noted earlier",),
        status=chain(trusted=False),
        has_trust=False,
    )
    assert rules.report_reasons(f, decide(f)) == [
        "noted earlier",
        "no trust bundle given: the chain cannot reach a trusted root",
        "no chain to a trusted root",
        "a field was filled",
    ]
    failed = facts(format_error="bad /ByteRange", reasons=("noted earlier",))
    assert rules.report_reasons(failed, decide(failed)) == ["bad /ByteRange", "noted earlier"]
