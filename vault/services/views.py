"""Ready views of the vault's records (``schemas.views``), for the API's routes and pages.

The API reads no ORM rows: it calls these queries, which answer a license with its holder's
name decrypted and its status computed, the departments a holder can consent to, a
holder's grants with their department and uses counted. Read only: nothing is written.
"""

from __future__ import annotations

import datetime as dt
from typing import TypeAlias

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from schemas.identifiers import HolderIdType
from schemas.report import FileFormat
from schemas.views import DepartmentOut, GrantOut, LicenseOut
from vault.crypto import HolderCrypto
from vault.db.base import utcnow
from vault.errors import NotFound
from vault.models import Department, Grant, Holder, License, LicenseVersion
from vault.services.access import current_version, holder_license
from vault.services.catalog import find_department_by_code
from vault.services.grants import grant_is_active, list_grants, uses_count
from vault.services.holders import holder_name
from vault.services.license_records import LicenseRecord, record_of
from vault.services.lifecycle import status_at

__all__ = [
    "HolderRef",
    "all_departments",
    "consent_department",
    "consent_departments",
    "grant_view",
    "holder_grants",
    "holder_license_view",
    "holder_licenses",
    "license_view",
    "record_view",
    "require_holder",
]

#: A holder's row as the API holds it: found by one vault call, handed to the next, not read.
HolderRef: TypeAlias = Holder


def record_view(
    crypto: HolderCrypto, record: LicenseRecord, *, now: dt.datetime | None = None
) -> LicenseOut:
    """A license and its current version as shown: the name decrypted, the status computed."""
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


def license_view(
    session: Session, crypto: HolderCrypto, license: License, *, now: dt.datetime | None = None
) -> LicenseOut:
    """The view of a license some service returned (intake's, a wallet offer's)."""
    return record_view(crypto, record_of(license, current_version(session, license)), now=now)


def require_holder(holder: Holder | None) -> Holder:
    """The signed-in holder's row; :class:`NotFound` when the vault holds nothing of theirs."""
    if holder is None:
        raise NotFound("the vault holds no licenses of yours")
    return holder


def holder_licenses(
    session: Session, crypto: HolderCrypto, holder: Holder | None
) -> list[LicenseOut]:
    """The holder's licenses, oldest first (none for a holder the vault does not know)."""
    if holder is None:
        return []
    rows = session.scalars(
        select(License)
        .where(License.holder_id == holder.id)
        .order_by(License.id)
        .options(  # the current versions in the same query (as the department read does)
            joinedload(License.current).lazyload(LicenseVersion.license),
            joinedload(License.current).defer(LicenseVersion.report_json),
        )
    ).all()
    return [license_view(session, crypto, license) for license in rows]


def holder_license_view(
    session: Session, crypto: HolderCrypto, holder: Holder, public_id: str
) -> LicenseOut:
    """One of the holder's licenses by its public id; another's is :class:`NotFound`."""
    license = holder_license(session=session, holder=holder, public_id=public_id)
    return license_view(session, crypto, license)


def _department(department: Department) -> DepartmentOut:
    return DepartmentOut(id=department.id, name=department.name, credit_code=department.credit_code)


def consent_departments(session: Session) -> list[DepartmentOut]:
    """The using departments a holder may consent to, by name."""
    rows = session.scalars(
        select(Department).where(Department.is_user.is_(True)).order_by(Department.name)
    ).all()
    return [_department(d) for d in rows]


def consent_department(session: Session, credit_code: str) -> DepartmentOut:
    """The using department with this 统一社会信用代码; :class:`NotFound` for none or another."""
    department = find_department_by_code(session=session, credit_code=credit_code)
    if department is None or not department.is_user:
        raise NotFound("no using department with that 统一社会信用代码")
    return _department(department)


def all_departments(session: Session) -> list[DepartmentOut]:
    """Every department, by name (the access log's filter)."""
    return [_department(d) for d in session.scalars(select(Department).order_by(Department.name))]


def grant_view(session: Session, grant: Grant, *, share_code: str | None = None) -> GrantOut:
    """A grant with its department and the uses counted (``share_code`` only when made)."""
    department = session.get(Department, grant.department_id) if grant.department_id else None
    return GrantOut(
        id=grant.public_id,
        kind="share_code" if grant.kind == "share_code" else "consent",
        department=_department(department) if department else None,
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


def holder_grants(session: Session, holder: Holder | None) -> list[GrantOut]:
    """The holder's grants, as :func:`list_grants` orders them."""
    if holder is None:
        return []
    return [grant_view(session, g) for g in list_grants(session=session, holder_id=holder.id)]
