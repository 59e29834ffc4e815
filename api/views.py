"""Domain objects -> wire models (no I/O beyond the session's lazy loads)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from api.models import CopyOut, CopyStatusOut, DepartmentOut, GrantOut, LicenseOut
from schemas.identifiers import HolderIdType
from schemas.report import FileFormat
from vault.crypto import HolderCrypto
from vault.db.base import utcnow
from vault.models import Department, Grant, License
from vault.services.access import current_version
from vault.services.copies import CopyStatusView, MadeCopy
from vault.services.grants import grant_is_active, uses_count
from vault.services.holders import holder_name
from vault.services.license_records import LicenseRecord, record_of
from vault.services.lifecycle import status_at

__all__ = ["copy_out", "copy_status_out", "grant_out", "license_out", "record_out"]


def license_out(
    session: Session, crypto: HolderCrypto, license: License, *, now: dt.datetime | None = None
) -> LicenseOut:
    return record_out(crypto, record_of(license, current_version(session, license)), now=now)


def record_out(
    crypto: HolderCrypto, record: LicenseRecord, *, now: dt.datetime | None = None
) -> LicenseOut:
    """The wire form of a license and its current version."""
    status = status_at(
        stored=record.stored_status,
        version=record.version,
        current_version=record.current_version,
        valid_until=record.valid_until,
        now=now or utcnow(),
    )
    return LicenseOut(
        id=record.public_id,
        identifier=record.identifier,
        version=record.version,
        name=record.name,
        type_code=record.type_code,
        type_name=record.type_name,
        number=record.number,
        issuer_name=record.issuer_name,
        issuer_code=record.issuer_code,
        issue_date=record.issue_date,
        valid_from=record.valid_from,
        valid_until=record.valid_until,
        holder_name=holder_name(crypto=crypto, name_ciphertext=record.holder_name_ciphertext),
        holder_id_masked=record.holder_masked_id,
        holder_id_type=HolderIdType(record.holder_id_type),
        status=status.status.value,
        status_en=status.status.english,
        sha256=record.sha256,
        file_format=FileFormat(record.file_format),
        updated_at=record.updated_at,
    )


def copy_out(made: MadeCopy, *, base_url: str) -> CopyOut:
    copy = made.copy
    base = base_url.rstrip("/")
    return CopyOut(
        id=copy.id,
        license_id=made.license_public_id,
        license_version=copy.license_version,
        purpose=copy.purpose,
        case_no=copy.case_no,
        made_at=copy.made_at,
        expires_at=copy.expires_at,
        reused=made.reused,
        verify_url=f"{base}/v/{copy.id}",
        status_url=f"{base}/v1/copies/{copy.id}/status",
        download_url=f"{base}/v1/copies/{copy.id}/pdf",
    )


def copy_status_out(view: CopyStatusView) -> CopyStatusOut:
    return CopyStatusOut(
        id=view.copy_id,
        state=view.state,
        valid=view.state == "valid",
        reasons=list(view.reasons),
        made_at=view.made_at,
        expires_at=view.expires_at,
        license_status=view.license_status.value,
        superseded=view.superseded,
        license_name=view.license_name,
        license_type_code=view.license_type_code,
        license_type_name=view.license_type_name,
        license_identifier=view.license_identifier,
        license_version=view.license_version,
        issuer_name=view.issuer_name,
        holder_masked=view.holder_masked,
        department_name=view.department_name,
        purpose=view.purpose,
        sha256=view.sha256,
    )


def department_out(department: Department) -> DepartmentOut:
    return DepartmentOut(id=department.id, name=department.name, credit_code=department.credit_code)


def grant_out(session: Session, grant: Grant, *, share_code: str | None = None) -> GrantOut:
    department = session.get(Department, grant.department_id) if grant.department_id else None
    return GrantOut(
        id=grant.public_id,
        kind="share_code" if grant.kind == "share_code" else "consent",
        department=department_out(department) if department else None,
        license_types=list(grant.license_types or []),
        purpose=grant.purpose,
        uses_allowed=grant.uses_allowed,
        uses=uses_count(session=session, grant_id=grant.id),
        created_at=grant.created_at,
        expires_at=grant.expires_at,
        revoked_at=grant.revoked_at,
        active=grant_is_active(grant),
        share_code=share_code,
    )
