"""Certified copies (加注件) of materials (电子材料), made like license copies.

The copy is made by the license copies' one maker (:func:`vault.services.copies.seal_copy`):
the same 加注 (maker, recipient, purpose, case, validity), QR code to ``/v/<copy id>``, log
entry with its inclusion proof, vault seal, reuse and status. What is copied is the
material as the vault serves it: the PDF the vault sealed at deposit (收件核验), whatever
the window handed in. A JPEG or PNG scan is no PDF and carries no seal of its own, so the
copy of a scan is the copy of its sealed deposit (the scan on a page, with the 收件核验
note): the only form of it whose origin anyone can verify. A PDF handed in is copied the
same way, from its sealed deposit, so every material copy carries the deposit's seal and
the copy's.

A department copies a material it may fetch in that case (:func:`authorize_material`); its
holder (or a person acting for a company with the ``copies`` scope) copies its own usable
material. Both are logged (``copy`` with the material) in the holder's access log.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from sqlalchemy.orm import Session

from vault.blobs.base import BlobStore
from vault.db.base import utcnow
from vault.db.keylock import key_lock
from vault.errors import ConflictError, InvalidInput
from vault.log.access_log import UseContext
from vault.models import CertifiedCopy, Department, Holder, Material
from vault.services.copies import (
    CopyPolicy,
    LogProofMaker,
    MadeCopy,
    RendererSource,
    copy_text,
    holder_copy_texts,
    new_copy_id,
    seal_copy,
)
from vault.services.material_use import authorize_material, holder_material, material_state

__all__ = ["copy_material_for_department", "copy_material_for_holder"]

_REUSE_LOCK = "certified-copy"


@dataclass(frozen=True)
class _Request:
    """Who asks for a material's copy, for whom, why and for how long."""

    requested_by: Literal["department", "holder"]
    department_id: int | None
    recipient: str
    purpose: str
    case_no: str | None
    days: int
    basis: str | None


def _copy(
    session: Session,
    blobs: BlobStore,
    renderer: RendererSource,
    policy: CopyPolicy,
    material: Material,
    request: _Request,
    log_proof: LogProofMaker | None,
    now: dt.datetime,
) -> MadeCopy:
    if not 1 <= request.days <= policy.max_days:
        raise InvalidInput(f"a copy's validity must be 1 to {policy.max_days} days")
    state = material_state(material, now=now)
    if state != "usable":
        raise ConflictError(f"material {material.public_id} is {state}: no certified copy")
    copy = CertifiedCopy(
        id=new_copy_id(),
        material_id=material.id,
        holder_id=material.holder_id,
        holder_blind_index=material.holder_blind_index,
        department_id=request.department_id,
        requested_by=request.requested_by,
        purpose=request.purpose,
        case_no=request.case_no,
        made_at=now,
        expires_at=now + dt.timedelta(days=request.days),
    )  # not in the session until it is sealed
    return seal_copy(
        session=session,
        blobs=blobs,
        renderer=renderer(),
        copy=copy,
        blob=material.blob_sha256,
        public_id=material.public_id,
        recipient=request.recipient,
        maker_name=policy.maker_name,
        public_base_url=policy.public_base_url,
        basis=request.basis,
        log_proof=log_proof,
    )


def copy_material_for_department(
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
    """A department's certified copy of a material it may use in this case; commits.

    A refusal is logged (``copy``, denied) and committed before :class:`PermissionDenied`.
    """
    now = now or utcnow()
    use = UseContext(copy_text("purpose", use.purpose), copy_text("case_no", use.case_no))
    key = (_REUSE_LOCK, "material-department", department_id, public_id, use.purpose, use.case_no)
    with key_lock(session, *key) as locked:
        decided = authorize_material(  # a refusal is logged and committed there
            session=locked,
            department_id=department_id,
            public_id=public_id,
            use=use,
            action="copy",
            record_allowed=False,
            now=now,
        )
        department = locked.get(Department, department_id)
        request = _Request(
            requested_by="department",
            department_id=department_id,
            recipient=department.name if department else f"department {department_id}",
            purpose=use.purpose,
            case_no=use.case_no,
            days=days or policy.default_days,
            basis=decided.basis,
        )
        return _copy(locked, blobs, renderer, policy, decided.material, request, log_proof, now)


def copy_material_for_holder(
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
    """The holder's certified copy of one of its usable materials, for a purpose it names;
    commits. Another holder's material is "not found"."""
    now = now or utcnow()
    purpose, case_no, recipient = holder_copy_texts(purpose, case_no, recipient)
    key = (_REUSE_LOCK, "material-holder", holder.id, public_id, purpose, case_no)
    with key_lock(session, *key) as locked:
        material = holder_material(session=locked, holder=holder, public_id=public_id)
        request = _Request(
            requested_by="holder",
            department_id=None,
            recipient=recipient,
            purpose=purpose,
            case_no=case_no,
            days=days or policy.default_days,
            basis="owner",
        )
        return _copy(locked, blobs, renderer, policy, material, request, log_proof, now)
