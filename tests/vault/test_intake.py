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
from schemas.report import Indication
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
    sealer_for,
)
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
from vault.services.intake import IntakeResult, ingest


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
    the_verifier: Verifier | None = None,
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
    # The hash lookup comes first: even a push that would be refused returns the record.
    third = _push(session, blobs, crypto, license_pdf(1), 999_999, number="OTHER")
    assert not third.created and third.version.id == first.version.id
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
        license_id=first.license.id,
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
