"""Certified copies (加注件): make or reuse, serve, and tell their status online.

A copy is made by ``signing`` (a :class:`CopyRenderer`, i.e. ``signing.copies.CopyMaker``):
the original PDF untouched plus one sealed incremental update carrying the 加注 and a QR
code to ``<public_base_url>/v/<copy id>``. Ids are 128 random bits (URL-safe base64, 22
characters). A copy expires after ``days`` (default ``settings.copy_default_days``, at most
``settings.copy_max_days``).

Reuse: the same department (or the holder itself) asking again for the same license
version, purpose and case while an earlier copy is still valid gets that copy back. Identical
requests arriving together make one copy: each holds a lock on its reuse key
(:func:`vault.db.keylock.key_lock`) from authorization until its copy is stored, so the
others wait and then reuse that copy. Different requests do not wait for each other.

Online status: a copy is ``valid`` until it expires, unless its license is no longer
usable (暂扣, 撤销, 注销, 吊销, 失效, or superseded by a newer version): then it is
``license_invalid``. The file itself, verified offline, still shows what was true when sealed.

Sealing is slow and CPU-bound: :func:`make_copy` ends the read transaction before sealing,
so no database lock is held meanwhile (call it from a worker thread in async code).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import secrets
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from schemas.license import LicenseStatus
from schemas.views import CopyState, CopyStatusOut
from vault.blobs.base import BlobStore
from vault.db.base import utcnow
from vault.db.keylock import key_lock
from vault.errors import ConflictError, InvalidInput, NotFound, PermissionDenied
from vault.log.access_log import RecordedEvent
from vault.models import CertifiedCopy, Department, Holder, License, LicenseVersion, Material
from vault.services.access import (
    UseContext,
    authorize_department,
    current_version,
    holder_license,
    record_event,
)
from vault.services.lifecycle import effective_status, version_by_sha256
from vault.services.material_use import material_state

if TYPE_CHECKING:
    from signing.copies import CopyAnnotation
    from vault.settings import Settings

__all__ = [
    "COPYABLE_FORMATS",
    "COPY_ID_BYTES",
    "CopyPolicy",
    "CopyRenderer",
    "CopyState",
    "HeldFile",
    "LogProofMaker",
    "MadeCopy",
    "RendererSource",
    "check_copyable",
    "copy_for_department",
    "copy_for_holder",
    "copy_pdf",
    "copy_status",
    "copy_text",
    "held_file",
    "holder_copy_texts",
    "make_copy",
    "new_copy_id",
    "seal_copy",
]

COPY_ID_BYTES = 16
_REUSE_LOCK = "certified-copy"  # first part of the reuse key's lock (vault.db.keylock)
HOLDER_CASE = "持证主体自用"
HOLDER_RECIPIENT = "持证主体本人"


#: The formats of originals the copy renderer makes certified copies of ("PDF", "OFD": the
#: license version's ``file_format``). A copy of any other is refused before anything is
#: logged or sealed (:func:`check_copyable`).
COPYABLE_FORMATS = frozenset({"PDF", "OFD"})

#: Given the session and a committed log index, the proof a copy embeds (bytes), or None.
LogProofMaker = Callable[[Session, int], bytes | None]


class CopyRenderer(Protocol):
    """What making a copy needs from ``signing``."""

    def make(self, original: bytes, annotation: CopyAnnotation) -> bytes: ...


#: Gives the renderer when a copy is to be made (built on first use: after authorization).
RendererSource = Callable[[], CopyRenderer]


def copy_text(name: str, value: str) -> str:
    """``value`` trimmed and in Unicode NFC, as the 加注 field ``name`` (``purpose``,
    ``case_no``, ``department``: whom the copy is for, ``maker``) shows it; InvalidInput
    with the reason when it could read as another field of the sealed 加注 (white space
    runs, control or format characters, a colon, a label, too long:
    :func:`signing.copies.annotation.annotation_text_problem`; red team 12, r12-10: a
    holder's purpose spelled a fake 有效期截止时间 line). Checked before anything is
    locked, logged or made."""
    from signing.copies.annotation import annotation_text_problem

    value = unicodedata.normalize("NFC", value.strip())
    problem = annotation_text_problem(name, value)
    if problem is not None:
        raise InvalidInput(f"the certified copy's 加注 cannot show this: {problem}")
    return value


def _check_annotation_text(copy: CertifiedCopy, recipient: str, maker_name: str) -> None:
    """Every text a copy's 加注 shows, as :func:`copy_text` takes it (unchanged)."""
    shown = {
        "purpose": copy.purpose,
        "case_no": copy.case_no or HOLDER_CASE,
        "department": recipient,
        "maker": maker_name,
    }
    for name, value in shown.items():
        if copy_text(name, value) != value:
            raise InvalidInput(f"the certified copy's {name} has white space at an end")


def new_copy_id() -> str:
    """128 random bits, URL-safe base64 without padding (22 characters)."""
    return secrets.token_urlsafe(COPY_ID_BYTES)


@dataclass(frozen=True)
class MadeCopy:
    copy: CertifiedCopy
    reused: bool
    #: The copied license's public id (the copy row holds its row id).
    license_public_id: str


@dataclass(frozen=True)
class CopyPolicy:
    """What every copy takes from the settings: its maker, where it is checked, how long."""

    maker_name: str
    public_base_url: str
    default_days: int
    max_days: int

    @classmethod
    def from_settings(cls, settings: Settings) -> CopyPolicy:
        return cls(
            maker_name=settings.vault_name,
            public_base_url=settings.public_base_url,
            default_days=settings.copy_default_days,
            max_days=settings.copy_max_days,
        )


def _find_reusable(session: Session, like: CertifiedCopy) -> CertifiedCopy | None:
    """A valid copy made for the same request as ``like`` (a new copy, not yet stored):
    the same license version (or material), requester, department, purpose and case."""
    query = select(CertifiedCopy).where(
        CertifiedCopy.requested_by == like.requested_by,
        CertifiedCopy.purpose == like.purpose,
        CertifiedCopy.expires_at > like.made_at,
    )
    if like.material_id is not None:
        query = query.where(CertifiedCopy.material_id == like.material_id)
    else:
        query = query.where(
            CertifiedCopy.license_id == like.license_id,
            CertifiedCopy.license_version == like.license_version,
        )
    query = query.where(
        CertifiedCopy.department_id.is_(None)
        if like.department_id is None
        else CertifiedCopy.department_id == like.department_id
    )
    query = query.where(
        CertifiedCopy.case_no.is_(None)
        if like.case_no is None
        else CertifiedCopy.case_no == like.case_no
    )
    return session.scalars(query.order_by(CertifiedCopy.made_at.desc()).limit(1)).first()


def check_copyable(version: LicenseVersion) -> None:
    """Refuse (ConflictError) a copy of a version whose file format has no copy renderer."""
    if version.file_format not in COPYABLE_FORMATS:
        raise ConflictError(
            f"certified copies of {version.file_format} licenses are not available yet: "
            "download the original (sealed by its issuer) instead"
        )


def make_copy(
    *,
    session: Session,
    blobs: BlobStore,
    renderer: CopyRenderer,
    license: License,
    requested_by: Literal["department", "holder"],
    department_id: int | None,
    recipient: str,
    purpose: str,
    case_no: str | None,
    days: int,
    max_days: int,
    maker_name: str,
    public_base_url: str,
    basis: str | None = None,
    log_proof: LogProofMaker | None = None,
    now: dt.datetime | None = None,
) -> MadeCopy:
    """A certified copy of the license's current version (made, or reused). Commits.

    Logs the copy (``basis``: why it was allowed) with its id. A new copy is logged
    *before* it is sealed, so that it can carry its log entry with an inclusion proof
    (``log_proof``: given the session and the committed entry's index, the proof's bytes);
    if sealing then fails, a ``copy_failed`` event follows in the log.

    Refuses (:class:`ConflictError`) a license that is not usable now: a copy of it would
    be invalid from its first second.
    """
    now = now or utcnow()
    version = _copyable_version(session, license, days=days, max_days=max_days, now=now)
    copy = CertifiedCopy(
        id=new_copy_id(),
        license_id=license.id,
        license_version=version.version,
        holder_id=license.holder_id,
        holder_blind_index=license.holder_blind_index,
        department_id=department_id,
        requested_by=requested_by,
        purpose=purpose,
        case_no=case_no,
        made_at=now,
        expires_at=now + dt.timedelta(days=days),
    )  # not in the session until it is sealed
    return seal_copy(
        session=session,
        blobs=blobs,
        renderer=renderer,
        copy=copy,
        blob=version.blob_sha256,
        public_id=license.public_id,
        recipient=recipient,
        maker_name=maker_name,
        public_base_url=public_base_url,
        basis=basis,
        log_proof=log_proof,
    )


def seal_copy(
    *,
    session: Session,
    blobs: BlobStore,
    renderer: CopyRenderer,
    copy: CertifiedCopy,
    blob: str,
    public_id: str,
    recipient: str,
    maker_name: str,
    public_base_url: str,
    basis: str | None,
    log_proof: LogProofMaker | None,
) -> MadeCopy:
    """The copy ``copy`` describes (not yet stored) of the file ``blob``: an earlier one
    for the same request reused, or a new one logged, then sealed and stored. Commits.

    The one maker of certified copies, of licenses (:func:`make_copy`) and of materials
    (:mod:`vault.services.material_copies`); whoever calls it authorized the request.
    Raises :class:`InvalidInput`, before anything is written, for a text the 加注 cannot
    show (:func:`copy_text`).
    """
    _check_annotation_text(copy, recipient, maker_name)
    log = functools.partial(
        record_event,
        session=session,
        actor=copy.requested_by,
        holder_id=copy.holder_id,
        department_id=copy.department_id,
        license_id=copy.license_id,
        material_id=copy.material_id,
        use=UseContext(copy.purpose, copy.case_no or HOLDER_CASE),
    )
    allowed = functools.partial(
        log, action="copy", outcome="allowed", basis=basis, now=copy.made_at
    )
    existing = _find_reusable(session, like=copy)
    if existing is not None:
        allowed(copy_id=existing.id, reason="reused")
        _commit_copy_step(session)
        return MadeCopy(existing, True, public_id)
    annotation = _annotation(copy, maker_name, recipient, public_base_url)
    event = allowed(copy_id=copy.id)
    _commit_copy_step(session)  # the entry must be committed before a checkpoint covers it
    proof = log_proof(session, event.log_index) if log_proof else None
    _commit_copy_step(session)  # hold no lock while sealing
    try:
        pdf = renderer.make(blobs.get(blob), dataclasses.replace(annotation, log_proof=proof))
        copy.blob_sha256 = blobs.put(pdf)
    except Exception as exc:
        _log_failure_and_commit(session, log, copy.id, exc)
        raise
    copy.size, copy.log_index = len(pdf), event.log_index
    session.add(copy)
    _commit_copy_step(session)
    return MadeCopy(copy, False, public_id)


def _log_failure_and_commit(
    session: Session, log: Callable[..., RecordedEvent], copy_id: str, exc: Exception
) -> None:
    """After sealing failed: nothing of the copy is kept, a ``copy_failed`` event is logged."""
    session.rollback()
    reason = f"sealing failed: {type(exc).__name__}"
    log(action="copy_failed", outcome="denied", copy_id=copy_id, reason=reason)
    _commit_copy_step(session)


def _commit_copy_step(session: Session) -> None:
    """Commit one step of making a copy: a copy's log entry is committed before its proof
    is made and before sealing (no lock is held while sealing), so making a copy is one of
    the services that commit (see docs/architecture.md)."""
    session.commit()


def _copyable_version(
    session: Session, license: License, *, days: int, max_days: int, now: dt.datetime
) -> LicenseVersion:
    """The license's current version, when a copy of it for ``days`` may be made now."""
    if not 1 <= days <= max_days:
        raise InvalidInput(f"a copy's validity must be 1 to {max_days} days, not {days}")
    version = current_version(session, license)
    status = effective_status(license=license, version=version, now=now)
    if not status.usable:
        raise ConflictError(
            f"license {license.public_id} is {status.status.value} ({status.status.english}):"
            " no certified copy can be made"
        )
    check_copyable(version)
    return version


def _annotation(
    copy: CertifiedCopy, maker_name: str, recipient: str, public_base_url: str
) -> CopyAnnotation:
    """The 加注 a new copy carries (its log proof is added once the entry is committed)."""
    from signing.copies import CopyAnnotation

    return CopyAnnotation(
        copy_id=copy.id,
        made_at=copy.made_at,
        maker=maker_name,
        department=recipient,
        purpose=copy.purpose,
        case_no=copy.case_no or HOLDER_CASE,
        valid_until=copy.expires_at,
        verify_url=f"{public_base_url.rstrip('/')}/v/{copy.id}",
    )


def copy_for_department(
    *,
    session: Session,
    blobs: BlobStore,
    renderer: RendererSource,
    policy: CopyPolicy,
    department_id: int,
    public_id: str,
    use: UseContext,
    days: int | None = None,
    log_proof: LogProofMaker | None = None,
    now: dt.datetime | None = None,
) -> MadeCopy:
    """A using department's certified copy of a license (by its ``public_id``) for a case:
    authorized, logged, made; commits.

    A refusal is logged and committed before :class:`PermissionDenied` is raised. Runs under
    the lock of its reuse key (see the module's docstring), after committing ``session``.
    """
    use = UseContext(copy_text("purpose", use.purpose), copy_text("case_no", use.case_no))
    key = (_REUSE_LOCK, "department", department_id, public_id, use.purpose, use.case_no)
    with key_lock(session, *key) as locked:
        try:
            license, decision = authorize_department(
                session=locked,
                department_id=department_id,
                public_id=public_id,
                use=use,
                action="copy",
                record_allowed=False,
                now=now,
            )
        except PermissionDenied:
            locked.commit()
            raise
        department = locked.get(Department, department_id)
        return make_copy(
            session=locked,
            blobs=blobs,
            renderer=renderer(),
            license=license,
            requested_by="department",
            department_id=department_id,
            recipient=department.name if department else f"department {department_id}",
            purpose=use.purpose,
            case_no=use.case_no,
            days=days or policy.default_days,
            max_days=policy.max_days,
            maker_name=policy.maker_name,
            public_base_url=policy.public_base_url,
            basis=decision.basis,
            log_proof=log_proof,
            now=now,
        )


def copy_for_holder(
    *,
    session: Session,
    blobs: BlobStore,
    renderer: RendererSource,
    policy: CopyPolicy,
    holder: Holder,
    public_id: str,
    purpose: str,
    recipient: str | None = None,
    case_no: str | None = None,
    days: int | None = None,
    log_proof: LogProofMaker | None = None,
    now: dt.datetime | None = None,
) -> MadeCopy:
    """A holder's certified copy of its own license (by its ``public_id``), for a purpose it
    names; commits.

    Another holder's license is "not found". Logged like every copy. Runs under the lock of
    its reuse key, like :func:`copy_for_department`.
    """
    purpose, case_no, recipient = holder_copy_texts(purpose, case_no, recipient)
    key = (_REUSE_LOCK, "holder", holder.id, public_id, purpose, case_no)
    with key_lock(session, *key) as locked:
        license = holder_license(session=locked, holder=holder, public_id=public_id)
        return make_copy(
            session=locked,
            blobs=blobs,
            renderer=renderer(),
            license=license,
            requested_by="holder",
            department_id=None,
            recipient=recipient,
            purpose=purpose,
            case_no=case_no,
            days=days or policy.default_days,
            max_days=policy.max_days,
            maker_name=policy.maker_name,
            public_base_url=policy.public_base_url,
            basis="owner",
            log_proof=log_proof,
            now=now,
        )


def holder_copy_texts(
    purpose: str, case_no: str | None, recipient: str | None
) -> tuple[str, str | None, str]:
    """A holder's purpose, case number (None: none) and recipient (None or blank: the
    holder itself) as the copy's 加注 shows them (:func:`copy_text`); InvalidInput for a
    missing purpose or a text the 加注 cannot show."""
    if not purpose.strip():
        raise InvalidInput("name the purpose of the copy (制作事由)")
    case = copy_text("case_no", case_no) if case_no and case_no.strip() else None
    whom = copy_text("department", recipient) if recipient and recipient.strip() else None
    return copy_text("purpose", purpose), case, whom or HOLDER_RECIPIENT


def copy_pdf(
    *,
    session: Session,
    blobs: BlobStore,
    copy_id: str,
    department_id: int | None = None,
    holder_id: int | None = None,
) -> tuple[CertifiedCopy, bytes]:
    """The copy's bytes, for the department it was made for or the license's holder.

    Anyone else, and an unknown id, get the same :class:`NotFound`.
    """
    copy = session.get(CertifiedCopy, copy_id)
    allowed = copy is not None and (
        (department_id is not None and copy.department_id == department_id)
        or (holder_id is not None and copy.holder_id == holder_id)
    )
    if copy is None or not allowed:
        raise NotFound("not found")
    record_event(
        session=session,
        action="download",
        outcome="allowed",
        actor="department" if department_id is not None else "holder",
        holder_id=copy.holder_id,
        department_id=department_id,
        basis="owner" if department_id is None else None,
        license_id=copy.license_id,
        material_id=copy.material_id,
        copy_id=copy.id,
        use=UseContext(copy.purpose, copy.case_no or HOLDER_CASE),
    )
    return copy, blobs.get(copy.blob_sha256)


def copy_status(*, session: Session, copy_id: str, now: dt.datetime | None = None) -> CopyStatusOut:
    """The online status of a copy; an unknown id is a plain :class:`NotFound`."""
    now = now or utcnow()
    copy = session.get(CertifiedCopy, copy_id) if len(copy_id) <= 32 else None
    if copy is None:
        raise NotFound("not found")
    if copy.material_id is not None:
        return _material_copy_status(session, copy, copy.material_id, now)
    # the copy carries its holder's blind index: one partition, not one probe per partition
    license = session.scalars(
        select(License).where(
            License.id == copy.license_id, License.holder_blind_index == copy.holder_blind_index
        )
    ).one_or_none()
    version = session.scalars(
        select(LicenseVersion).where(
            LicenseVersion.license_id == copy.license_id,
            LicenseVersion.holder_blind_index == copy.holder_blind_index,
            LicenseVersion.version == copy.license_version,
        )
    ).one_or_none()
    if license is None or version is None:  # pragma: no cover - rows cascade together
        raise NotFound("not found")
    status = effective_status(license=license, version=version, now=now)
    reasons: list[str] = []
    state: CopyState = "valid"
    if not status.usable:
        state = "license_invalid"
        if status.superseded:
            reasons.append(f"证照已有新版本 (version {status.current_version} supersedes it)")
        if status.status is not LicenseStatus.VALID:
            reasons.append(f"证照状态: {status.status.value} ({status.status.english})")
    if copy.expires_at <= now:
        if state == "valid":
            state = "expired"
        reasons.append("加注件已过有效期 (the copy has expired)")
    department = session.get(Department, copy.department_id) if copy.department_id else None
    return CopyStatusOut(
        id=copy.id,
        state=state,
        valid=state == "valid",
        reasons=reasons,
        made_at=copy.made_at,
        expires_at=copy.expires_at,
        license_status=status.status.value,
        superseded=status.superseded,
        license_name=version.name,
        license_type_code=license.license_type.code,
        license_type_name=license.license_type.name,
        license_identifier=version.license_identifier,
        license_version=version.version,
        issuer_name=version.issuer_name,
        holder_masked=license.holder.masked_id,
        department_name=department.name if department else None,
        purpose=copy.purpose,
        sha256=copy.blob_sha256,
    )


def _material_copy_status(
    session: Session, copy: CertifiedCopy, material_id: int, now: dt.datetime
) -> CopyStatusOut:
    """A material's copy: ``license_invalid`` once the material is not usable (withdrawn,
    superseded, past its usable day); the license fields name the material's type and the
    receiving department (窗口) that checked and deposited it."""
    # the copy carries its holder's blind index: one partition each, not a probe per partition
    material = session.scalars(
        select(Material).where(
            Material.id == material_id, Material.holder_blind_index == copy.holder_blind_index
        )
    ).one_or_none()
    holder = session.scalars(
        select(Holder).where(
            Holder.id == copy.holder_id, Holder.blind_index == copy.holder_blind_index
        )
    ).one_or_none()
    if material is None or holder is None:  # pragma: no cover - rows cascade together
        raise NotFound("not found")
    state_now = material_state(material, now=now)
    reasons: list[str] = []
    state: CopyState = "valid"
    if state_now != "usable":
        state = "license_invalid"
        reasons.append(f"材料已不可用 (the material is {state_now})")
    if copy.expires_at <= now:
        if state == "valid":
            state = "expired"
        reasons.append("加注件已过有效期 (the copy has expired)")
    window = session.get(Department, material.department_id)
    department = session.get(Department, copy.department_id) if copy.department_id else None
    usable = LicenseStatus.VALID if state_now == "usable" else LicenseStatus.EXPIRED
    return CopyStatusOut(
        id=copy.id,
        state=state,
        valid=state == "valid",
        reasons=reasons,
        made_at=copy.made_at,
        expires_at=copy.expires_at,
        license_status=usable.value,
        superseded=state_now == "superseded",
        license_name=material.material_type.name,
        license_type_code=material.material_type.code,
        license_type_name=material.material_type.name,
        license_identifier=None,
        license_version=1,
        issuer_name=window.name if window else "",
        holder_masked=holder.masked_id,
        department_name=department.name if department else None,
        purpose=copy.purpose,
        sha256=copy.blob_sha256,
    )


@dataclass(frozen=True)
class HeldFile:
    """What the vault's records say now of a file it holds: a license's original or a copy.

    A seal that verifies says only that the file was not altered; this says whether the
    license behind it is still usable (revoked, suspended, superseded ... since sealing).
    """

    kind: Literal["original", "copy"]
    license_name: str
    issuer_name: str
    status: LicenseStatus
    superseded: bool
    copy_id: str | None = None
    copy_state: CopyState | None = None

    @property
    def usable(self) -> bool:
        if self.copy_state is not None:
            return self.copy_state == "valid"
        return self.status is LicenseStatus.VALID and not self.superseded


def held_file(
    *, session: Session, sha256: str, copy_id: str | None = None, now: dt.datetime | None = None
) -> HeldFile | None:
    """The record of the file whose bytes hash to ``sha256``, or None if the vault has none.

    An original is found by its hash (an indexed lookup). A copy by the id its information
    dictionary names (``copy_id``, read from the uploaded file), accepted only when that
    copy's stored bytes have this very hash: a file cannot borrow another copy's record.
    """
    version = version_by_sha256(session=session, sha256=sha256)
    if version is not None:
        status = effective_status(license=version.license, version=version, now=now)
        return HeldFile(
            kind="original",
            license_name=version.name,
            issuer_name=version.issuer_name,
            status=status.status,
            superseded=status.superseded,
        )
    copy = session.get(CertifiedCopy, copy_id) if copy_id and len(copy_id) <= 32 else None
    if copy is None or copy.blob_sha256 != sha256:
        return None
    view = copy_status(session=session, copy_id=copy.id, now=now)
    return HeldFile(
        kind="copy",
        license_name=view.license_name,
        issuer_name=view.issuer_name,
        status=LicenseStatus(view.license_status),
        superseded=view.superseded,
        copy_id=view.id,
        copy_state=view.state,
    )


def copies_of_license(*, session: Session, license_id: int) -> Sequence[CertifiedCopy]:
    return session.scalars(
        select(CertifiedCopy)
        .where(CertifiedCopy.license_id == license_id)
        .order_by(CertifiedCopy.made_at.desc())
    ).all()
