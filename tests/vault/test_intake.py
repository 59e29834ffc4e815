"""Intake with real sealed PDFs and the real verifier, on SQLite and PostgreSQL.

Every refusal names its reason and message and writes nothing: no row, no blob.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from schemas.license import LicenseStatus
from schemas.report import Indication, RevocationStatus, SubIndication
from signing.pki import DemoPKI
from signing.seal import PadesLevel
from signing.trust import TrustBundle
from signing.verify import Verifier
from tests.helpers.pki import (
    DEPARTMENTS,
    MARKET_DEPT,
    PUBLIC_SECURITY_DEPT,
    demo_pki,
    pki_now,
    sample_pdf,
    sealer,
    sealer_for,
)
from tests.helpers.shadow import FIELD, form_pdf, replace_field
from tests.vault.licenses import (
    COMPANY_HOLDER,
    COMPANY_TYPE,
    HOLDER,
    OTHER_HOLDER,
    POLICE_TYPE,
    Catalog,
    license_pdf,
    make_catalog,
    metadata,
    verifier,
)
from vault.blobs import LocalBlobStore
from vault.crypto import HolderCrypto
from vault.errors import ConflictError, IntakeRefused
from vault.models import Holder, License, LicenseVersion
from vault.models.log import LogEntry
from vault.services import lifecycle
from vault.services.holders import describe_holder, find_holder, reveal_holder_id
from vault.services.intake import IntakeResult, PdfVerifier, PrecomputedVerifier, ingest
from vault.settings import load_settings


@pytest.fixture
def cat(session: Session) -> Catalog:
    return make_catalog(session)


def _counts(session: Session) -> tuple[int, int, int]:
    session.rollback()
    result = tuple(
        session.scalar(select(func.count()).select_from(model)) or 0
        for model in (License, LicenseVersion, Holder)
    )
    session.rollback()
    return result  # type: ignore[return-value]


def _push(
    session: Session,
    blobs: LocalBlobStore,
    crypto: HolderCrypto,
    pdf: bytes,
    department: int,
    n: int = 1,
    the_verifier: PdfVerifier | None = None,
    require_revocation: bool = True,
    **overrides: object,
) -> IntakeResult:
    return ingest(
        session=session,
        blobs=blobs,
        verifier=the_verifier or verifier(),
        crypto=crypto,
        metadata=metadata(n, **overrides),
        pdf=pdf,
        pushed_by_department_id=department,
        file_name=f"license-{n}.pdf",
        require_revocation=require_revocation,
    )


def test_ingest_stores_license_version_report_and_encrypted_holder(
    session: Session, blobs: LocalBlobStore, crypto: HolderCrypto, cat: Catalog
) -> None:
    pdf = license_pdf(1)
    result = ingest(
        session=session,
        blobs=blobs,
        verifier=verifier(),
        crypto=crypto,
        metadata=metadata(1),
        pdf=pdf,
        pushed_by_department_id=cat.market,
    )
    assert result.created
    assert result.report.indication is Indication.TOTAL_PASSED
    assert result.version.blob_sha256 == hashlib.sha256(pdf).hexdigest()
    assert blobs.get(result.version.blob_sha256) == pdf
    assert result.license.current_version == 1
    assert result.license.status == "有效"
    assert _counts(session) == (1, 1, 1)
    logged = session.scalars(select(LogEntry).order_by(LogEntry.idx)).all()
    assert [e.event_type for e in logged] == ["license.ingested"]
    assert HOLDER.encode() not in logged[0].payload

    holder = session.scalars(select(Holder)).one()
    assert HOLDER.encode() not in holder.id_ciphertext
    assert "张三".encode() not in holder.name_ciphertext
    assert holder.masked_id == HOLDER[:6] + "********" + HOLDER[-4:]
    assert reveal_holder_id(crypto=crypto, holder=holder) == HOLDER
    assert describe_holder(crypto=crypto, holder=holder).name == "张三"
    assert find_holder(session=session, crypto=crypto, holder_id=HOLDER) is not None

    stored = lifecycle.get_version(session=session, license_id=result.license.id)
    assert stored.report_json == result.report.model_dump_json()


def test_same_bytes_again_is_the_existing_record(
    session: Session, blobs: LocalBlobStore, crypto: HolderCrypto, cat: Catalog
) -> None:
    first = _push(session, blobs, crypto, license_pdf(1), cat.market)
    again = _push(session, blobs, crypto, license_pdf(1), cat.market)
    assert not again.created
    assert (again.license.id, again.version.id) == (first.license.id, first.version.id)
    assert again.report == first.report
    # The issuer's own bytes with other metadata: still its record, not verified again.
    third = _push(session, blobs, crypto, license_pdf(1), cat.market, number="OTHER")
    assert not third.created and third.version.id == first.version.id
    # The department rules come first: a department that may not push learns nothing.
    with pytest.raises(IntakeRefused) as refused:
        _push(session, blobs, crypto, license_pdf(1), 999_999, number="OTHER")
    assert refused.value.reason == "unknown_department"
    assert _counts(session) == (1, 1, 1)


def test_company_license(
    session: Session, blobs: LocalBlobStore, crypto: HolderCrypto, cat: Catalog
) -> None:
    result = _push(
        session,
        blobs,
        crypto,
        license_pdf(2),
        cat.market,
        n=2,
        type_code=COMPANY_TYPE,
        holder_id=COMPANY_HOLDER,
        holder_id_type="001",
        holder_name="福州某某科技有限公司",
    )
    assert result.created
    assert result.license.holder.masked_id == "913501********0Y43"


def test_signer_matched_by_credit_code_without_registered_fingerprint(
    session: Session, blobs: LocalBlobStore, crypto: HolderCrypto, cat: Catalog
) -> None:
    pdf = license_pdf(3, PUBLIC_SECURITY_DEPT)
    result = _push(
        session,
        blobs,
        crypto,
        pdf,
        cat.police,
        n=3,
        type_code=POLICE_TYPE,
        issuer_code=PUBLIC_SECURITY_DEPT,
        issuer_name="福州市公安局",
    )
    assert result.created


def test_b_lt_license_is_accepted(
    session: Session, blobs: LocalBlobStore, crypto: HolderCrypto, cat: Catalog
) -> None:
    result = _push(session, blobs, crypto, license_pdf(4, level=PadesLevel.B_LT), cat.market, 4)
    assert result.created
    assert result.report.signatures[0].pades_level == "B-LT"


# Refusals on the metadata and the catalog ------------------------------------------------
REFUSALS = [
    ("unknown_department", {"department": 999_999}, "department 999999 is not registered"),
    (
        "not_an_issuer",
        {"department": "housing"},
        "department 福州市住房和城乡建设局 is not registered as an issuer",
    ),
    (
        "issuer_mismatch",
        {"issuer_code": PUBLIC_SECURITY_DEPT},
        f"颁发机构代码 {PUBLIC_SECURITY_DEPT} is not the pushing department's 统一社会信用代码 "
        f"{MARKET_DEPT}",
    ),
    (
        "unknown_license_type",
        {"type_code": "999999999999999999999"},
        "license type 999999999999999999999 is not registered",
    ),
    (
        "holder_kind_mismatch",
        {"holder_id": COMPANY_HOLDER, "holder_id_type": "001"},
        "license type 11100000000013338W011 is held by holder kind 111, not 001",
    ),
    (
        "not_registered_issuer",
        {"type_code": POLICE_TYPE},
        "department 福州市市场监督管理局 is not a registered issuer of license type "
        "11100000000013338W031",
    ),
]


@pytest.mark.parametrize(("reason", "change", "message"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_refusals_on_metadata(
    session: Session,
    blobs: LocalBlobStore,
    crypto: HolderCrypto,
    cat: Catalog,
    reason: str,
    change: dict[str, object],
    message: str,
) -> None:
    overrides = dict(change)
    department = overrides.pop("department", "market")
    department_id = {"market": cat.market, "housing": cat.housing}.get(
        department,  # type: ignore[call-overload]
        department,
    )
    with pytest.raises(IntakeRefused) as info:
        _push(session, blobs, crypto, license_pdf(5), department_id, 5, **overrides)  # type: ignore[arg-type]
    assert info.value.reason == reason
    assert str(info.value) == message
    assert _counts(session) == (0, 0, 0)
    assert list(blobs.iter()) == []


# Refusals on the PDF ----------------------------------------------------------------------
def _assert_refused(
    exc: pytest.ExceptionInfo[IntakeRefused],
    session: Session,
    blobs: LocalBlobStore,
    reason: str,
    message: str,
) -> None:
    assert exc.value.reason == reason
    assert str(exc.value) == message
    assert exc.value.report is not None
    assert _counts(session) == (0, 0, 0)
    assert list(blobs.iter()) == []


def test_unsigned_pdf_is_refused(
    session: Session, blobs: LocalBlobStore, crypto: HolderCrypto, cat: Catalog
) -> None:
    with pytest.raises(IntakeRefused) as exc:
        _push(session, blobs, crypto, sample_pdf("not sealed"), cat.market)
    _assert_refused(exc, session, blobs, "unsigned", "the PDF carries no signature")


def test_seal_of_another_department_is_refused(
    session: Session, blobs: LocalBlobStore, crypto: HolderCrypto, cat: Catalog
) -> None:
    pdf = license_pdf(6, PUBLIC_SECURITY_DEPT)
    with pytest.raises(IntakeRefused) as exc:
        _push(session, blobs, crypto, pdf, cat.market, 6)
    subject = exc.value.report.signatures[0].signer_subject  # type: ignore[attr-defined]
    _assert_refused(
        exc,
        session,
        blobs,
        "signer_not_issuer",
        f"signature Seal1 was made by {subject}, not with a seal of 福州市市场监督管理局 "
        f"({MARKET_DEPT}), the registered issuer",
    )


def test_broken_signature_is_refused(
    session: Session, blobs: LocalBlobStore, crypto: HolderCrypto, cat: Catalog
) -> None:
    pdf = bytearray(license_pdf(7))
    at = pdf.index(b"license No. 7")
    pdf[at : at + 13] = b"license No. 8"  # same length: the signed bytes change
    with pytest.raises(IntakeRefused) as exc:
        _push(session, blobs, crypto, bytes(pdf), cat.market, 7)
    _assert_refused(
        exc,
        session,
        blobs,
        "signature_broken",
        "signature Seal1 is broken: its digest or signature value does not verify",
    )


def test_untrusted_chain_is_refused(
    session: Session, blobs: LocalBlobStore, crypto: HolderCrypto, cat: Catalog
) -> None:
    # Same department name and credit code, but a PKI the trust bundle does not know.
    rogue = DemoPKI.generate(seed=b"rogue", departments=DEPARTMENTS, now=pki_now())
    pdf = sealer_for(rogue, rogue.issuing_department_seal(MARKET_DEPT)).seal(
        sample_pdf("rogue"), level=PadesLevel.B_B
    )
    with pytest.raises(IntakeRefused) as exc:
        _push(session, blobs, crypto, pdf, cat.market, 8)
    subject = exc.value.report.signatures[0].signer_subject  # type: ignore[attr-defined]
    _assert_refused(
        exc,
        session,
        blobs,
        "untrusted_chain",
        f"the signer of Seal1 ({subject}) does not chain to a trusted root",
    )


def test_revoked_seal_is_refused(
    session: Session, blobs: LocalBlobStore, crypto: HolderCrypto, cat: Catalog
) -> None:
    pki = demo_pki()
    seal = pki.issuing_department_seal(MARKET_DEPT)
    revoked = pki.revoke(seal.serial, pki.now + dt.timedelta(minutes=1))
    pdf = sealer_for(revoked, seal, check_chain=False).seal(
        sample_pdf("revoked"), level=PadesLevel.B_B
    )
    bundle = TrustBundle.from_certificates(
        roots=[pki.root.certificate],
        intermediates=[pki.issuing_ca.certificate],
        crls=list(revoked.crls()),
    )
    with pytest.raises(IntakeRefused) as exc:
        _push(session, blobs, crypto, pdf, cat.market, 9, the_verifier=Verifier(bundle))
    _assert_refused(
        exc,
        session,
        blobs,
        "certificate_revoked",
        "the certificate of signature Seal1 was revoked at signing time",
    )


# Revocation status --------------------------------------------------------------------------
def _verifier_without_crls() -> Verifier:
    """The demo PKI's root and issuing CA, no CRL: a B-B seal's revocation is unknown."""
    pki = demo_pki()
    return Verifier(
        TrustBundle.from_certificates(
            roots=[pki.root.certificate], intermediates=[pki.issuing_ca.certificate]
        ),
        timeout=180,
    )


REVOCATION_UNKNOWN = (
    "the revocation status of the certificate of signature Seal1 is unknown: neither the PDF "
    "nor the trust bundle holds a valid, current CRL or OCSP response for its chain; push the "
    "license sealed at B-LT (with its validation data) or have the operator add the issuing "
    "CA's current CRL to the trust bundle"
)


def test_unknown_revocation_is_refused(
    session: Session, blobs: LocalBlobStore, crypto: HolderCrypto, cat: Catalog
) -> None:
    with pytest.raises(IntakeRefused) as exc:
        _push(
            session, blobs, crypto, license_pdf(20), cat.market, 20,
            the_verifier=_verifier_without_crls(),
        )  # fmt: skip
    _assert_refused(exc, session, blobs, "revocation_unknown", REVOCATION_UNKNOWN)
    (seal,) = exc.value.report.signatures  # type: ignore[attr-defined]
    assert seal.revocation is RevocationStatus.UNKNOWN and seal.chain_trusted
    assert (seal.indication, seal.sub_indication) == (
        Indication.INDETERMINATE,
        SubIndication.TRY_LATER,
    )


def test_unknown_revocation_is_accepted_when_the_policy_allows_it(
    session: Session, blobs: LocalBlobStore, crypto: HolderCrypto, cat: Catalog
) -> None:
    result = _push(
        session, blobs, crypto, license_pdf(21), cat.market, 21,
        the_verifier=_verifier_without_crls(), require_revocation=False,
    )  # fmt: skip
    assert result.created
    assert (result.report.indication, result.report.sub_indication) == (
        Indication.INDETERMINATE,
        SubIndication.TRY_LATER,
    )
    assert result.report.signatures[0].revocation is RevocationStatus.UNKNOWN
    assert _counts(session) == (1, 1, 1)


def test_relaxed_policy_accepts_no_other_indeterminate_verdict(
    session: Session, blobs: LocalBlobStore, crypto: HolderCrypto, cat: Catalog
) -> None:
    """Relaxed, intake forgives unknown revocation and nothing else: the same report with
    another INDETERMINATE sub-indication (as a bulk worker could hand it over) is refused."""
    pdf = license_pdf(22)
    report = _verifier_without_crls().verify(pdf)
    weak = SubIndication.CRYPTO_CONSTRAINTS_FAILURE
    seal = report.signatures[0].model_copy(update={"sub_indication": weak})
    other = report.model_copy(update={"signatures": [seal], "sub_indication": weak})
    with pytest.raises(IntakeRefused) as exc:
        _push(
            session, blobs, crypto, pdf, cat.market, 22,
            the_verifier=PrecomputedVerifier(other), require_revocation=False,
        )  # fmt: skip
    assert exc.value.reason == "verification_failed"
    assert str(exc.value).startswith(
        "the PDF did not pass verification (INDETERMINATE/CRYPTO_CONSTRAINTS_FAILURE): "
    )
    assert _counts(session) == (0, 0, 0)


def test_b_lt_license_carries_its_revocation_data(
    session: Session, blobs: LocalBlobStore, crypto: HolderCrypto, cat: Catalog
) -> None:
    """B-LT pushes need no CRL in the bundle: the seal brings its own (the demo's way)."""
    pdf = license_pdf(23, level=PadesLevel.B_LT)
    result = _push(
        session, blobs, crypto, pdf, cat.market, 23, the_verifier=_verifier_without_crls()
    )
    assert result.created
    assert result.report.signatures[0].revocation is RevocationStatus.GOOD


def test_the_setting_defaults_to_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EVAULT_INTAKE_REQUIRE_REVOCATION", raising=False)
    assert load_settings().intake_require_revocation is True
    assert load_settings(mode="demo").intake_require_revocation is True
    monkeypatch.setenv("EVAULT_INTAKE_REQUIRE_REVOCATION", "false")
    assert load_settings().intake_require_revocation is False


# Changes after the seal: a license is final when sealed --------------------------------------
def test_document_timestamp_after_the_seal_is_accepted(
    session: Session, blobs: LocalBlobStore, crypto: HolderCrypto, cat: Catalog
) -> None:
    result = _push(session, blobs, crypto, license_pdf(24, level=PadesLevel.B_LTA), cat.market, 24)
    assert result.created
    assert [s.modification_level for s in result.report.signatures] == ["LTA_UPDATES", "NONE"]


def test_a_further_seal_of_the_issuer_is_accepted(
    session: Session, blobs: LocalBlobStore, crypto: HolderCrypto, cat: Catalog
) -> None:
    twice = sealer(MARKET_DEPT).seal(
        license_pdf(25), level=PadesLevel.B_B, reason="countersigned", field_name="Seal2"
    )
    result = _push(session, blobs, crypto, twice, cat.market, 25)
    assert result.created
    assert [s.modification_level for s in result.report.signatures] == ["SIGNATURES", "NONE"]


def test_replace_shadow_attack_is_refused(
    session: Session, blobs: LocalBlobStore, crypto: HolderCrypto, cat: Catalog
) -> None:
    """The holder's name is a text field over the signed line; after the seal, an
    incremental update replaces its value and appearance. Verification calls that permitted
    form filling (with a warning); intake refuses it."""
    sealed = sealer(MARKET_DEPT).seal(form_pdf("ZHANG SAN"), level=PadesLevel.B_B)
    forged = replace_field(sealed, "LI SI")
    with pytest.raises(IntakeRefused) as exc:
        _push(session, blobs, crypto, forged, cat.market, 26)
    _assert_refused(
        exc,
        session,
        blobs,
        "form_filled_after_signing",
        f"the document was changed after signature Seal1: form field {FIELD} was filled in after "
        "signing: not covered by the signature. A license is final when sealed: push it as its "
        "issuer sealed it",
    )
    assert exc.value.report.indication is Indication.TOTAL_PASSED  # type: ignore[attr-defined]
    # the same license as sealed, without the update, is taken in
    assert _push(session, blobs, crypto, sealed, cat.market, 26).created


# Conflicts and versions --------------------------------------------------------------------
def test_other_bytes_without_change_is_a_conflict(
    session: Session, blobs: LocalBlobStore, crypto: HolderCrypto, cat: Catalog
) -> None:
    _push(session, blobs, crypto, license_pdf(10), cat.market, 10)
    with pytest.raises(ConflictError) as exc:
        _push(session, blobs, crypto, license_pdf(11), cat.market, 10)
    assert str(exc.value) == (
        f"license JY00000010 of type 11100000000013338W011 from {MARKET_DEPT} is already "
        "stored as version 1 with different bytes; a replacement must be marked as a change "
        "(change_reason) with a version above 1"
    )
    assert _counts(session) == (1, 1, 1)
    assert len(list(blobs.iter())) == 1


def test_change_needs_a_higher_version(
    session: Session, blobs: LocalBlobStore, crypto: HolderCrypto, cat: Catalog
) -> None:
    _push(session, blobs, crypto, license_pdf(12), cat.market, 12)
    with pytest.raises(ConflictError) as exc:
        _push(session, blobs, crypto, license_pdf(13), cat.market, 12, change_reason="变更")
    assert str(exc.value) == (
        f"license JY00000012 of type 11100000000013338W011 from {MARKET_DEPT} is already at "
        "version 1; a change must carry a higher version than 1, not 1"
    )


def test_number_held_by_another_holder_is_a_conflict(
    session: Session, blobs: LocalBlobStore, crypto: HolderCrypto, cat: Catalog
) -> None:
    _push(session, blobs, crypto, license_pdf(14), cat.market, 14)
    with pytest.raises(ConflictError) as exc:
        _push(
            session,
            blobs,
            crypto,
            license_pdf(15),
            cat.market,
            14,
            holder_id=OTHER_HOLDER,
            change_reason="换证",
            version=2,
        )
    message = str(exc.value)
    assert message == (
        f"license JY00000014 of type 11100000000013338W011 from {MARKET_DEPT} is already "
        "held by another holder"
    )
    assert OTHER_HOLDER not in message and HOLDER not in message
    assert _counts(session) == (1, 1, 1)


def test_change_with_higher_version_supersedes(
    session: Session, blobs: LocalBlobStore, crypto: HolderCrypto, cat: Catalog
) -> None:
    first = _push(session, blobs, crypto, license_pdf(16), cat.market, 16)
    second = _push(
        session,
        blobs,
        crypto,
        license_pdf(17),
        cat.market,
        16,
        change_reason="换证",
        version=2,
        holder_name="张三丰",
    )
    assert second.created
    assert second.license.id == first.license.id
    assert second.license.current_version == 2
    versions = lifecycle.list_versions(session=session, license_id=first.license.id)
    assert [v.version for v in versions] == [1, 2]
    old = lifecycle.effective_status(license=second.license, version=versions[0])
    new = lifecycle.effective_status(license=second.license, version=versions[1])
    assert old.superseded and not old.usable
    assert new.usable and new.status is LicenseStatus.VALID
    holder = session.get(Holder, second.license.holder_id)
    assert holder is not None
    assert describe_holder(crypto=crypto, holder=holder).name == "张三丰"
    assert _counts(session) == (1, 2, 1)


def test_no_new_version_after_revocation(
    session: Session, blobs: LocalBlobStore, crypto: HolderCrypto, cat: Catalog
) -> None:
    first = _push(session, blobs, crypto, license_pdf(18), cat.market, 18)
    lifecycle.change_status(
        session=session,
        public_id=first.license.public_id,
        to=LicenseStatus.REVOKED,
        reason="违法经营",
        by_department_id=cat.market,
    )
    with pytest.raises(ConflictError) as exc:
        _push(
            session, blobs, crypto, license_pdf(19), cat.market, 18, change_reason="换证", version=2
        )
    assert str(exc.value) == (
        f"license JY00000018 of type 11100000000013338W011 from {MARKET_DEPT} is 吊销: "
        "it takes no new version"
    )
