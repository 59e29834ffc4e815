"""Sealed licenses referenced as materials of a department's case (办件材料).

A using department, inside one of its cases, references a holder's license as one of the
case's materials instead of asking for a copy of it: the reference pins the license
version and the SHA-256 of its sealed file as they are now. It is authorized exactly as a
read (:func:`vault.services.access.authorize_department`: a standing permission for the
type or the holder's consent, a refusal being the same :data:`DENIED`), recorded once per
(department, case, version), and every reference, allowed or refused, is a
``case_reference`` row of the holder's access log with its transparency-log leaf.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from vault.db.base import utcnow
from vault.log.access_log import UseContext, record_event
from vault.log.append import take_append_lock
from vault.models import CaseLicense, License, LicenseType
from vault.services.access import authorize_department, current_version

__all__ = ["CaseLicenseView", "case_licenses", "reference_license"]


@dataclass(frozen=True)
class CaseLicenseView:
    """One license referenced in a case, as the department sees it."""

    id: str
    license_id: str
    license_version: int
    sha256: str
    type_code: str
    type_name: str
    case_no: str
    purpose: str
    referenced_at: dt.datetime
    log_index: int | None
    created: bool = False


def _view(row: CaseLicense, license: License, type_: LicenseType, created: bool) -> CaseLicenseView:
    return CaseLicenseView(
        id=row.public_id,
        license_id=license.public_id,
        license_version=row.license_version,
        sha256=row.sha256,
        type_code=type_.code,
        type_name=type_.name,
        case_no=row.case_no,
        purpose=row.purpose,
        referenced_at=row.created_at,
        log_index=row.log_index,
        created=created,
    )


def reference_license(
    *,
    session: Session,
    department_id: int,
    public_id: str,
    use: UseContext,
    now: dt.datetime | None = None,
) -> CaseLicenseView:
    """Reference the license's current version in the department's case; logged, flushed
    (the edge commits).

    Again for the same case and version: the same reference (``created`` false), logged
    again. Refused: logged, then :class:`PermissionDenied` (which the edge commits too).
    """
    now = now or utcnow()
    # a refusal's row is in the transaction; the edge commits it with the PermissionDenied
    license, decision = authorize_department(
        session=session,
        department_id=department_id,
        public_id=public_id,
        use=use,
        action="case_reference",
        record_allowed=False,
        now=now,
    )
    version = current_version(session, license)
    # The log's lock first (the event below takes it anyway): of two concurrent references
    # of one case and version, the second waits here and then finds the first's row.
    take_append_lock(session)
    existing = session.scalars(
        select(CaseLicense).where(
            CaseLicense.department_id == department_id,
            CaseLicense.case_no == use.case_no,
            CaseLicense.license_id == license.id,
            CaseLicense.license_version == version.version,
        )
    ).first()
    event = record_event(
        session=session,
        action="case_reference",
        outcome="allowed",
        actor="department",
        holder_id=license.holder_id,
        department_id=department_id,
        basis=decision.basis,
        grant_id=decision.grant_id,
        license_id=license.id,
        use=use,
        reason=None if existing is None else "already referenced",
        now=now,
    )
    row = existing or CaseLicense(
        department_id=department_id,
        case_no=use.case_no,
        purpose=use.purpose,
        license_id=license.id,
        license_version=version.version,
        sha256=version.blob_sha256,
        holder_id=license.holder_id,
        holder_blind_index=license.holder_blind_index,
        created_at=now,
        log_index=event.log_index,
    )
    session.add(row)
    session.flush()
    return _view(row, license, license.license_type, existing is None)


def case_licenses(*, session: Session, department_id: int, case_no: str) -> list[CaseLicenseView]:
    """The licenses the department referenced in its case, oldest first (its own only)."""
    rows = session.execute(
        select(CaseLicense, License, LicenseType)
        .join(License, CaseLicense.license_id == License.id)
        .join(LicenseType, License.license_type_id == LicenseType.id)
        .where(CaseLicense.department_id == department_id, CaseLicense.case_no == case_no)
        .order_by(CaseLicense.id)
    ).all()
    return [_view(row, lic, type_, False) for row, lic, type_ in rows]
