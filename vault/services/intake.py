"""Intake: collect each license once, a PDF sealed PAdES or an OFD sealed per GB/T 38540.

``ingest`` runs, in this order:

0. The file's format, told by its bytes (:func:`signing.formats.detect_format`): a PDF or
   an OFD, else ``unsupported_format``; a declared media type that names the other format
   (``application/pdf`` on an OFD file) is refused as ``format_mismatch``.
1. Rules on the metadata: the pushing department exists, is an issuer, is the 颁发机构
   the metadata names, and is registered as an issuer of that license type; the holder's
   kind matches the type's.
2. The same bytes again (a SHA-256 lookup, before any PDF parsing): when the stored
   license is the pushing department's own, the existing record, ``created=False``,
   nothing written. Another issuer's stored bytes are not revealed: the push goes on as
   for a new file (and verification refuses a seal that is not the pusher's). The rules
   come first so a department learns nothing about files it may not issue.
3. The license key (type, issuer, 证照编号) against what is stored: another holder's number
   is a conflict; other bytes for the same license need a change (``change_reason``) with
   a higher version; a withdrawn, cancelled or revoked license takes no new version.
4. Verification of the file by ``signing`` (the same rules for both formats): every
   signature intact and unmodified, the chain trusted, not revoked, its revocation status
   known (``require_revocation``, on by default: ``EVAULT_INTAKE_REQUIRE_REVOCATION``), the
   overall verdict TOTAL_PASSED (or,
   with ``require_revocation`` off, INDETERMINATE/TRY_LATER for unknown revocation only),
   and every seal made with a certificate of the issuing department (a registered
   fingerprint, or its 统一社会信用代码 in the certificate's subject). On an OFD file the
   signer's SM2 certificate must also be one the seal lists (the verifier checks it), so
   the seal is the department's: its certificate's subject names the department's code,
   or its fingerprint is registered. A license is final
   when sealed: after a seal, later revisions may only add validation data (DSS), document
   timestamps and further signatures; a form field filled in or any other change after it
   is refused, whatever the PDF's own permissions allow (the "replace" shadow attack is
   such a fill). An OFD seal must cover every part the document shows, and nothing it
   covers may change after it (a later seal may only extend Signatures.xml).
5. The bytes to the blob store (content-addressed), then one transaction: holder, license,
   version and the verification report. A unique-constraint collision with a concurrent
   push is resolved by looking again: the same bytes are then a duplicate.

Every refusal raises :class:`vault.errors.IntakeRefused` (a stable ``reason`` code) or
:class:`vault.errors.ConflictError`, before anything is written; a blob written before a
failed commit is unreferenced and removed by ``evault gc`` after the grace period.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from schemas.license import LicenseMetadata
from schemas.report import (
    ChangeCategory,
    FileFormat,
    Indication,
    ModificationLevel,
    RevocationStatus,
    SignatureKind,
    SignatureReport,
    SubIndication,
    VerificationReport,
)
from signing.formats import declared_format, detect_format
from vault.blobs.base import BlobStore
from vault.crypto import HolderCrypto
from vault.db.base import utcnow
from vault.errors import ConflictError, IntakeRefused
from vault.log.append import append_event
from vault.models import Department, License, LicenseType, LicenseTypeIssuer, LicenseVersion
from vault.services.holders import find_holder, get_or_create_holder
from vault.services.lifecycle import FINAL_STATUSES, version_by_sha256

__all__ = [
    "IntakeResult",
    "PdfVerifier",
    "PrecomputedVerifier",
    "RuleContext",
    "check_file_format",
    "check_report",
    "check_rules",
    "ingest",
    "ingested_event",
    "lock_license_key",
    "lock_license_keys",
    "precheck",
    "stored_rule_context",
    "version_values",
]

_WRITE_ATTEMPTS = 5
#: Changes a pushed license may carry after a seal, when the pages still look as signed:
#: validation data and document timestamps, further signatures on blank space, and object
#: rewrites with no visible effect (real tools write some when they add LT data: the form's
#: /DA in the DSS corpus). An "undefined" change is a value rewritten in an object the
#: issuer signed: one that brings in an object the signed revision does not reach (a new
#: page, new content, a new field) is "forbidden" and modified (red team pdf12).
FORM_FILLING = ModificationLevel.FORM_FILLING  # refused with the fields it names
_ALLOWED_LATER_CHANGES = frozenset(
    {ChangeCategory.EXTENSION, ChangeCategory.SIGNATURE, ChangeCategory.UNDEFINED}
)


class PdfVerifier(Protocol):
    """What intake needs from ``signing``: a verdict on a PDF's or an OFD's seals, as data."""

    def verify(
        self, data: bytes, *, at: dt.datetime | None = None, file_name: str | None = None
    ) -> VerificationReport: ...


class PrecomputedVerifier:
    """A verifier that hands back a report made earlier (by a bulk-import worker process).

    It refuses bytes other than those the report was made for.
    """

    def __init__(self, report: VerificationReport) -> None:
        self._report = report

    def verify(
        self, data: bytes, *, at: dt.datetime | None = None, file_name: str | None = None
    ) -> VerificationReport:
        if hashlib.sha256(data).hexdigest() != self._report.sha256:
            raise IntakeRefused(
                "report_mismatch", "the verification report was made for other bytes"
            )
        return self._report


@dataclass(frozen=True)
class IntakeResult:
    """What ``ingest`` did: ``created`` is False when the same bytes were already stored."""

    license: License
    version: LicenseVersion
    created: bool
    report: VerificationReport
    findings: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Context:
    """What the rules found, as plain values (valid across transactions)."""

    department_id: int
    department_name: str
    department_code: str
    license_type_id: int
    license_type_code: str
    fingerprints: frozenset[str]


#: The rules' context of a push (:func:`check_rules`), for callers outside this module.
RuleContext = _Context


@dataclass(frozen=True)
class Prechecked:
    """What :func:`precheck` found for one push; hand it to :func:`ingest` to skip the
    lookups it already made (bulk import). Only valid for the same department and metadata.
    """

    department_id: int
    metadata: LicenseMetadata
    context: _Context


def ingest(
    *,
    session: Session,
    blobs: BlobStore,
    verifier: PdfVerifier,
    crypto: HolderCrypto,
    metadata: LicenseMetadata,
    pdf: bytes,
    pushed_by_department_id: int,
    file_name: str | None = None,
    now: dt.datetime | None = None,
    prechecked: Prechecked | None = None,
    require_revocation: bool = True,
    declared_type: str | None = None,
) -> IntakeResult:
    """Store a pushed license once; see the module docstring for the order of checks.

    ``pdf`` is the sealed file, PDF or OFD; ``declared_type`` the media type its sender
    declared, if any (checked against the bytes, never trusted instead of them).

    ``require_revocation`` (the ``intake_require_revocation`` setting): refuse a seal whose
    revocation status is unknown (``revocation_unknown``); off, such a seal is accepted.

    Commits the session. A stored license is appended to the transparency log
    (``license.ingested``) in the same transaction, whoever calls: the API, the bulk
    import or a script; a duplicate writes nothing. Raises IntakeRefused or ConflictError
    (nothing written) on refusal.
    ``prechecked`` (from :func:`precheck` on the same department and metadata, just before)
    skips the duplicate lookup and steps 2-3, which the caller has just run; the write step
    still re-checks the stored license under a lock and still finds a duplicate.
    """
    file_format = check_file_format(pdf, declared_type)
    sha256 = hashlib.sha256(pdf).hexdigest()
    now = now or utcnow()
    if (
        prechecked is not None
        and prechecked.department_id == pushed_by_department_id
        and prechecked.metadata == metadata
    ):
        context = prechecked.context
    else:
        checked = _check_before_verifying(
            session, crypto, metadata, pushed_by_department_id, sha256
        )
        if isinstance(checked, IntakeResult):
            return checked
        context = checked

    report = verifier.verify(pdf, at=now, file_name=file_name)
    check_report(report, sha256=sha256, context=context, require_revocation=require_revocation)

    blobs.put(pdf)
    blob = (sha256, len(pdf), file_format)
    write = functools.partial(
        _write_and_commit, session, crypto, metadata, context, blob, report, now
    )
    return _write_with_retries(session, write, sha256, context)


def _check_before_verifying(
    session: Session,
    crypto: HolderCrypto,
    metadata: LicenseMetadata,
    department_id: int,
    sha256: str,
) -> _Context | IntakeResult:
    """Steps 1-3: the rules' context, or the stored record when these bytes are a
    duplicate. Ends the read transaction: verification is slow, hold no locks."""
    context = check_rules(session, metadata, department_id)
    existing = _find_duplicate_and_commit(session, sha256, context)
    if existing is not None:
        return existing
    try:
        _check_against_stored(session, crypto, metadata, context)
    except ConflictError:
        # A concurrent push may have landed these very bytes since the first lookup.
        session.rollback()
        existing = _find_duplicate_and_commit(session, sha256, context)
        if existing is not None:
            return existing
        raise
    session.rollback()
    return context


def _write_with_retries(
    session: Session, write: Callable[[], IntakeResult], sha256: str, context: _Context
) -> IntakeResult:
    """Step 5's transaction (``write``), tried again when a concurrent push won a unique
    constraint."""
    for attempt in range(_WRITE_ATTEMPTS):
        try:
            # The first attempt needs no lookup: if the bytes landed meanwhile, a unique
            # constraint or the locked re-check below says so, and the retry finds them.
            existing = _find_duplicate_and_commit(session, sha256, context) if attempt else None
            if existing is not None:
                return existing
            return write()
        except ConflictError:
            # A concurrent push may have landed these very bytes between our lookups.
            session.rollback()
            existing = _find_duplicate_and_commit(session, sha256, context)
            if existing is not None:
                return existing
            raise
        except (IntegrityError, OperationalError) as exc:
            session.rollback()
            if isinstance(exc, OperationalError) and not _is_retryable(exc):
                raise
            continue  # a concurrent push won a unique constraint: look again
        except BaseException:
            session.rollback()  # nothing half-written stays in the caller's session
            raise
    raise ConflictError("concurrent pushes of this license kept colliding; push it again")


def precheck(
    *,
    session: Session,
    crypto: HolderCrypto,
    metadata: LicenseMetadata,
    pushed_by_department_id: int,
    sha256: str | None = None,
) -> Prechecked:
    """The checks of ``ingest`` that need no PDF (rules and conflicts), to refuse early.

    Raises what ``ingest`` would raise for them. With ``sha256``, a conflict caused by
    these very bytes having landed meanwhile is no conflict (``ingest`` will return them as
    a duplicate). The result can be passed to ``ingest(prechecked=...)``.
    """
    context = check_rules(session, metadata, pushed_by_department_id)
    try:
        _check_against_stored(session, crypto, metadata, context)
    except ConflictError:
        session.rollback()
        if sha256 is None or version_by_sha256(session=session, sha256=sha256) is None:
            raise
    finally:
        session.rollback()
    return Prechecked(department_id=pushed_by_department_id, metadata=metadata, context=context)


# Steps --------------------------------------------------------------------------------------
def check_file_format(data: bytes, declared_type: str | None = None) -> FileFormat:
    """The format of a pushed file, by its bytes; refuses (IntakeRefused) a file that is
    neither PDF nor OFD, and one whose declared media type names the other format."""
    found = detect_format(data)
    if found is None:
        raise _refuse(
            "unsupported_format",
            "the file is neither a PDF (%PDF-) nor an OFD (a ZIP package, GB/T 33190): "
            "push the license as its issuer sealed it",
        )
    try:
        declared = declared_format(declared_type)
    except ValueError as exc:
        raise _refuse(
            "format_mismatch", f"the declared type {exc}; the file is {found.value}"
        ) from None
    if declared is not None and declared is not found:
        raise _refuse(
            "format_mismatch",
            f"the file was declared {declared.value} ({declared_type}) but its content is "
            f"{found.value}",
        )
    return found


def _find_duplicate_and_commit(
    session: Session, sha256: str, context: _Context
) -> IntakeResult | None:
    """The stored record of these bytes, when it is a license of the pushing department.
    Ends the read transaction either way (commit or rollback): the caller verifies next, and
    verification is slow, so nothing may stay locked.

        Bytes stored for another issuer's license are not this department's to know about:
        None, so the push goes on as a new file would (and its seal check refuses it; should
        it pass, the unique SHA-256 makes the write a conflict, never a second record).
    """
    version = version_by_sha256(session=session, sha256=sha256)
    if version is None:
        return None
    if version.license.issuer_department_id != context.department_id:
        session.rollback()
        return None
    report = VerificationReport.model_validate_json(version.report_json)
    session.commit()
    return IntakeResult(license=version.license, version=version, created=False, report=report)


def _refuse(reason: str, message: str, report: VerificationReport | None = None) -> IntakeRefused:
    return IntakeRefused(reason, message, report=report)


def check_rules(session: Session, metadata: LicenseMetadata, department_id: int) -> _Context:
    """Step 1: the rules on the metadata for the pushing department, as plain values."""
    department = session.get(Department, department_id)
    if department is None:
        raise _refuse("unknown_department", f"department {department_id} is not registered")
    if not department.is_issuer:
        raise _refuse(
            "not_an_issuer", f"department {department.name} is not registered as an issuer"
        )
    if metadata.issuer_code != department.credit_code:
        raise _refuse(
            "issuer_mismatch",
            f"颁发机构代码 {metadata.issuer_code} is not the pushing department's "
            f"统一社会信用代码 {department.credit_code}",
        )
    license_type = session.scalars(
        select(LicenseType).where(LicenseType.code == metadata.type_code)
    ).one_or_none()
    if license_type is None:
        raise _refuse(
            "unknown_license_type", f"license type {metadata.type_code} is not registered"
        )
    if metadata.holder_id_type.value != license_type.holder_kind:
        raise _refuse(
            "holder_kind_mismatch",
            f"license type {license_type.code} is held by holder kind {license_type.holder_kind}, "
            f"not {metadata.holder_id_type.value}",
        )
    if session.get(LicenseTypeIssuer, (license_type.id, department.id)) is None:
        raise _refuse(
            "not_registered_issuer",
            f"department {department.name} is not a registered issuer of license type "
            f"{license_type.code}",
        )
    return _context(department, license_type)


def stored_rule_context(session: Session, department_id: int, license_type_id: int) -> _Context:
    """The rules' context of a stored version: the department that pushed it and its type,
    with the department's seal fingerprints registered now."""
    department = session.get(Department, department_id)
    license_type = session.get(LicenseType, license_type_id)
    if department is None or license_type is None:
        raise _refuse(
            "unknown_department", "the department or the license type of the version is gone"
        )
    return _context(department, license_type)


def _context(department: Department, license_type: LicenseType) -> _Context:
    return _Context(
        department_id=department.id,
        department_name=department.name,
        department_code=department.credit_code,
        license_type_id=license_type.id,
        license_type_code=license_type.code,
        fingerprints=frozenset(c.fingerprint for c in department.seal_certificates),
    )


def _describe_key(metadata: LicenseMetadata) -> str:
    return f"license {metadata.number} of type {metadata.type_code} from {metadata.issuer_code}"


def _check_against_stored(
    session: Session,
    crypto: HolderCrypto,
    metadata: LicenseMetadata,
    context: _Context,
    *,
    lock: bool = False,
) -> License | None:
    """Raise ConflictError if this push contradicts the stored license with the same key.

    With ``lock`` the license row is locked (PostgreSQL) until the commit, so two
    concurrent changes cannot both pass the version check and leave the lower one current,
    and so is the key itself (:func:`lock_license_key`), so two first pushes of one key
    for different holders cannot both find no license.
    """
    if lock:
        lock_license_key(session, context.license_type_id, context.department_id, metadata.number)
    query = select(License).where(
        License.license_type_id == context.license_type_id,
        License.issuer_department_id == context.department_id,
        License.number == metadata.number,
    )
    if lock:
        query = query.with_for_update(of=License)
    license = session.scalars(query).one_or_none()
    if license is None:
        return None
    holder = find_holder(
        session=session,
        crypto=crypto,
        holder_id=metadata.holder_id,
        id_type=metadata.holder_id_type,
    )
    key = _describe_key(metadata)
    if holder is None or holder.id != license.holder_id:
        raise ConflictError(f"{key} is already held by another holder")
    current = license.current_version
    if metadata.change_reason is None:
        raise ConflictError(
            f"{key} is already stored as version {current} with different bytes; "
            f"a replacement must be marked as a change (change_reason) with a version above "
            f"{current}"
        )
    if metadata.version <= current:
        raise ConflictError(
            f"{key} is already at version {current}; a change must carry a higher version "
            f"than {current}, not {metadata.version}"
        )
    if license.status in {s.value for s in FINAL_STATUSES}:
        raise ConflictError(f"{key} is {license.status}: it takes no new version")
    return license


def lock_license_key(session: Session, type_id: int, department_id: int, number: str) -> None:
    """Lock the key (type, issuer, 证照编号) until the commit (PostgreSQL).

    ``licenses`` is partitioned by the holder's blind index there, and a unique key of a
    partitioned table includes the partition key: the database keeps the key unique per
    holder only. Writers of a key take this lock before looking the key up, so the second
    of two concurrent first pushes finds the first's license (and its holder). SQLite
    needs nothing: its writers hold the database's write lock (BEGIN IMMEDIATE).
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    high, low = _key_lock(type_id, department_id, number)
    session.execute(text("SELECT pg_advisory_xact_lock(:high, :low)"), {"high": high, "low": low})


def lock_license_keys(session: Session, keys: Iterable[tuple[int, int, str]]) -> None:
    """:func:`lock_license_key` for each of ``keys``, in their sorted order (so that two
    writers cannot deadlock), in one statement: a row per key, each locked as
    ``unnest`` yields it."""
    if session.get_bind().dialect.name != "postgresql":
        return
    locks = [_key_lock(*key) for key in sorted(set(keys))]
    if not locks:
        return
    session.execute(
        text(
            "SELECT count(pg_advisory_xact_lock(k.high, k.low)) "
            "FROM unnest(CAST(:highs AS integer[]), CAST(:lows AS integer[])) AS k(high, low)"
        ),
        {"highs": [high for high, _ in locks], "lows": [low for _, low in locks]},
    )


def _key_lock(type_id: int, department_id: int, number: str) -> tuple[int, int]:
    """The advisory lock (two 32-bit halves) of a license key."""
    key = f"license-key:{type_id}:{department_id}:{number}"
    high, low = struct.unpack(">ii", hashlib.sha256(key.encode("utf-8")).digest()[:8])
    return high, low


def check_report(
    report: VerificationReport,
    *,
    sha256: str,
    context: _Context,
    require_revocation: bool = True,
) -> None:
    """Refuse a file (PDF or OFD) whose verification report does not meet intake's rules."""
    if report.sha256 != sha256:
        raise _refuse("report_mismatch", "the verification report is about other bytes", report)
    signatures = [s for s in report.signatures if s.kind is SignatureKind.SIGNATURE]
    if not report.signatures and report.indication is Indication.INDETERMINATE:
        # Stopped before it saw any seal (its time bound, a lost or busy worker): the file
        # was not judged, so it is not "unsigned"; an import verifies it again next run.
        detail = "; ".join(report.reasons) or "no reason given"
        raise _refuse(
            "verification_error", f"verification did not run to its end: {detail}", report
        )
    if not signatures:
        raise _refuse("unsigned", f"the {report.file_format.value} carries no signature", report)
    for sig in report.signatures:
        _check_seal(report, sig)
    for sig in report.signatures:
        _check_timestamp_widget(report, sig)
    for sig in report.signatures:
        _check_later_changes(report, sig)
    for sig in signatures:
        _check_signer(report, sig, context)
    for sig in signatures:
        _check_doc_info(report, sig)
    _check_complete(report)
    if require_revocation:
        for sig in signatures:
            _check_revocation_known(report, sig)
    if not report.passed and not (
        not require_revocation and _only_revocation_unknown(report.signatures)
    ):
        detail = "; ".join(report.reasons) or "no reason given"
        sub = f"/{report.sub_indication.value}" if report.sub_indication else ""
        raise _refuse(
            "verification_failed",
            f"the {report.file_format.value} did not pass verification "
            f"({report.indication.value}{sub}): {detail}",
            report,
        )


def _check_seal(report: VerificationReport, sig: SignatureReport) -> None:
    """Intact, not modified after signing (but by form filling, judged later), not revoked,
    trusted."""
    name = sig.field_name or "(unnamed)"
    if not sig.intact:
        raise _refuse(
            "signature_broken",
            f"signature {name} is broken: its digest or signature value does not verify",
            report,
        )
    if sig.modified_after_signing and sig.modification_level is not FORM_FILLING:
        raise _refuse(
            "modified_after_signing",
            f"the document was modified after signature {name} was made"
            + (f": {'; '.join(sig.reasons[:2])}" if sig.reasons else ""),
            report,
        )
    if sig.revocation is RevocationStatus.REVOKED:
        raise _refuse(
            "certificate_revoked",
            f"the certificate of signature {name} was revoked at signing time",
            report,
        )
    if not sig.chain_trusted:
        raise _refuse(
            "untrusted_chain",
            f"the signer of {name} ({sig.signer_subject or 'unknown'}) does not chain to a "
            "trusted root",
            report,
        )


def _check_timestamp_widget(report: VerificationReport, sig: SignatureReport) -> None:
    """A document timestamp whose widget shows on a page: its token, which anyone may
    obtain from a trusted TSA, attests a time, not what the widget draws (red team pdf13,
    p13-11; a field the issuer left visible, which the report, like DSS, does not call a
    modification: pdf14)."""
    if sig.kind is SignatureKind.DOC_TIMESTAMP and sig.widget_shown:
        raise _refuse(
            "timestamp_widget_shown",
            f"document timestamp {sig.field_name or '(unnamed)'} shows a widget on a page: "
            "what it draws is signed by no one (a timestamp attests only a time); push the "
            "license with invisible document timestamps",
            report,
        )


def _check_later_changes(report: VerificationReport, sig: SignatureReport) -> None:
    """Nothing but validation data, timestamps and further signatures after a seal."""
    level = sig.modification_level
    if sig.covers_whole_file or (
        not sig.modified_after_signing and set(sig.changes) <= _ALLOWED_LATER_CHANGES
    ):
        return
    name = sig.field_name or "(unnamed)"
    if level is FORM_FILLING:
        changes = sig.warnings
        raise _refuse(
            "form_filled_after_signing",
            f"the document was changed after signature {name}: "
            f"{'; '.join(changes) or 'form fields were filled in'}. A license is final "
            "when sealed: push it as its issuer sealed it",
            report,
        )
    raise _refuse(
        "updated_after_signing",
        f"the document was updated after signature {name} "
        f"({'; '.join(sig.reasons[:2]) or level or 'unknown changes'}); a license must be "
        "pushed as its issuer "
        "sealed it",
        report,
    )


def _check_signer(report: VerificationReport, sig: SignatureReport, context: _Context) -> None:
    """The seal is the issuing department's: a registered fingerprint or its code."""
    by_fingerprint = (sig.signer_fingerprint or "").lower() in context.fingerprints
    by_code = sig.signer_credit_code == context.department_code
    if not (by_fingerprint or by_code):
        raise _refuse(
            "signer_not_issuer",
            f"signature {sig.field_name or '(unnamed)'} was made by "
            f"{sig.signer_subject or 'an unknown signer'}, not with a seal of "
            f"{context.department_name} ({context.department_code}), the registered issuer",
            report,
        )


def _check_doc_info(report: VerificationReport, sig: SignatureReport) -> None:
    """An OFD seal that leaves OFD.xml out while its DocInfo carries what a reader shows
    (a title, custom data): that metadata is unsigned, may be forged, and a viewer shows
    it as the license's. Whatever a later seal covers (the vault's copy seal would)."""
    if sig.unsigned_metadata:
        raise _refuse(
            "unsigned_document_info",
            f"signature {sig.field_name or '(unnamed)'} does not cover OFD.xml, whose "
            f"document information ({', '.join(sig.unsigned_metadata)}) a reader shows: it "
            "is unsigned and may be forged; push the license with OFD.xml sealed, or with "
            "no DocInfo beyond its DocID",
            report,
        )


def _check_complete(report: VerificationReport) -> None:
    """An OFD license whose document names a page, template, font, image or annotation
    file the package lacks: a reader shows it incomplete (what the issuer sealed, but not
    a license to hand out), and a part supplied later is an unsigned change."""
    if report.missing_parts:
        raise _refuse(
            "incomplete_document",
            "the document names parts that are not in the package "
            f"({', '.join(report.missing_parts[:5])}): a reader shows the license without "
            "them; push the license with every part it names",
            report,
        )


def _check_revocation_known(report: VerificationReport, sig: SignatureReport) -> None:
    if sig.revocation is RevocationStatus.UNKNOWN:
        raise _refuse(
            "revocation_unknown",
            f"the revocation status of the certificate of signature "
            f"{sig.field_name or '(unnamed)'} is unknown: neither the "
            f"{report.file_format.value} nor the trust bundle holds a valid, current "
            "CRL or OCSP response for its chain; push the license sealed at B-LT (with "
            "its validation data) or have the operator add the issuing CA's current "
            "CRL to the trust bundle",
            report,
        )


def _only_revocation_unknown(signatures: list[SignatureReport]) -> bool:
    """Every seal passed but for an unknown revocation status (INDETERMINATE/TRY_LATER)."""
    held_back = [s for s in signatures if s.indication is not Indication.TOTAL_PASSED]
    return bool(held_back) and all(
        s.kind is SignatureKind.SIGNATURE
        and s.indication is Indication.INDETERMINATE
        and s.sub_indication is SubIndication.TRY_LATER
        and s.revocation is RevocationStatus.UNKNOWN
        and s.chain_trusted
        for s in held_back
    )


def _write_and_commit(
    session: Session,
    crypto: HolderCrypto,
    metadata: LicenseMetadata,
    context: _Context,
    blob: tuple[str, int, FileFormat],
    report: VerificationReport,
    now: dt.datetime,
) -> IntakeResult:
    """Write the license, its version and its log leaf, and commit: intake is its own
    edge here, since a unique-key clash (a concurrent push) is retried in a fresh
    transaction by :func:`_write_with_retries`, and the blob stored just before is
    referenced only once this commits."""
    license = _check_against_stored(session, crypto, metadata, context, lock=True)
    holder = get_or_create_holder(
        session=session,
        crypto=crypto,
        holder_id=metadata.holder_id,
        id_type=metadata.holder_id_type,
        name=metadata.holder_name,
    )
    if license is None:
        license = License(
            license_type_id=context.license_type_id,
            issuer_department_id=context.department_id,
            number=metadata.number,
            holder_id=holder.id,
            holder_blind_index=holder.blind_index,
            status="有效",
            current_version=metadata.version,
            created_at=now,
            updated_at=now,
        )
        session.add(license)
        session.flush()
    else:
        license.current_version = metadata.version
        license.updated_at = now
    version = LicenseVersion(
        **version_values(metadata, context, blob, report.model_dump_json(), report, now),
        license_id=license.id,
        holder_blind_index=license.holder_blind_index,
    )
    session.add(version)
    session.flush()
    append_event(
        session=session,
        event_type="license.ingested",
        payload=ingested_event(license.id, metadata, holder.id, blob, now),
    )
    session.commit()
    return IntakeResult(
        license=license,
        version=version,
        created=True,
        report=report,
        findings=metadata.identifier_findings,
    )


def _is_retryable(exc: OperationalError) -> bool:
    """Serialization failures and deadlocks (PostgreSQL), a busy database (SQLite)."""
    code = getattr(exc.orig, "sqlstate", None)
    if code in ("40001", "40P01"):
        return True
    return "database is locked" in str(exc.orig)


def ingested_event(
    license_id: int,
    metadata: LicenseMetadata,
    holder_ref: int,
    blob: tuple[str, int, FileFormat],
    now: dt.datetime,
) -> dict[str, object]:
    """The payload of the ``license.ingested`` event for a license's new version (the holder by its
    row id, never the ID number)."""
    return {
        "license_id": license_id,
        "version": metadata.version,
        "type_code": metadata.type_code,
        "issuer_code": str(metadata.issuer_code),
        "number": metadata.number,
        "holder_ref": holder_ref,
        "sha256": blob[0],
        "file_format": blob[2].value,
        "change_reason": metadata.change_reason,
        "at": now.isoformat(),
    }


def version_values(
    metadata: LicenseMetadata,
    context: _Context,
    blob: tuple[str, int, FileFormat],
    report_json: str,
    report: VerificationReport,
    now: dt.datetime,
) -> dict[str, object]:
    """The columns of a new :class:`LicenseVersion` but its ``license_id``."""
    sha256, size, file_format = blob
    return {
        "version": metadata.version,
        "blob_sha256": sha256,
        "size": size,
        "file_format": file_format.value,
        "name": metadata.name,
        "license_identifier": metadata.license_identifier,
        "issuer_name": metadata.issuer_name,
        "issue_date": metadata.issue_date,
        "valid_from": metadata.valid_from,
        "valid_until": metadata.valid_until,
        "change_reason": metadata.change_reason,
        "extra": dict(metadata.extra),
        "report_json": report_json,
        "verified_at": report.checked_at,
        "pushed_by_department_id": context.department_id,
        "created_at": now,
    }
