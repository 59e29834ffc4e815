"""The catalog: departments (issuers and users), their seal certificates, license types,
who may issue which type, and standing permissions (用证目录).

Write functions add and flush; the caller commits (e.g. with ``session_scope``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from schemas.errors import InvalidValue
from schemas.identifiers import CreditCode, HolderIdType
from schemas.license import TYPE_CODE_PATTERN
from vault.errors import ConflictError, InvalidInput, NotFound
from vault.models import (
    Department,
    LicenseType,
    LicenseTypeIssuer,
    SealCertificate,
    StandingPermission,
)

__all__ = [
    "add_seal_certificate",
    "authenticate_client",
    "create_department",
    "create_license_type",
    "find_department_by_client_id",
    "find_department_by_code",
    "get_department",
    "get_license_type",
    "grant_standing_permission",
    "has_standing_permission",
    "is_registered_issuer",
    "issuer_fingerprints",
    "list_departments",
    "list_license_types",
    "register_issuer",
    "revoke_standing_permission",
    "set_client_credentials",
]

_FINGERPRINT = re.compile(r"^[0-9a-f]{64}$")


def _credit_code(value: str, what: str) -> CreditCode:
    try:
        return CreditCode.parse(value)
    except InvalidValue as exc:
        raise InvalidInput(f"{what}: {exc}") from None


# Departments ---------------------------------------------------------------------------
def create_department(
    *,
    session: Session,
    name: str,
    credit_code: str,
    issuer: bool = False,
    user: bool = False,
) -> Department:
    """Register a department; its 统一社会信用代码 must be valid and not registered yet."""
    code = _credit_code(credit_code, "department 统一社会信用代码")
    if not name.strip():
        raise InvalidInput("a department needs a name")
    if not (issuer or user):
        raise InvalidInput("a department must be an issuer, a user, or both")
    if find_department_by_code(session=session, credit_code=code) is not None:
        raise ConflictError(f"a department with 统一社会信用代码 {code} is already registered")
    department = Department(
        name=name.strip(), credit_code=str(code), is_issuer=issuer, is_user=user
    )
    session.add(department)
    session.flush()
    return department


def get_department(*, session: Session, department_id: int) -> Department:
    department = session.get(Department, department_id)
    if department is None:
        raise NotFound(f"no department {department_id}")
    return department


def find_department_by_code(*, session: Session, credit_code: str) -> Department | None:
    return session.scalars(
        select(Department).where(Department.credit_code == credit_code.strip().upper())
    ).one_or_none()


def list_departments(*, session: Session) -> Sequence[Department]:
    return session.scalars(select(Department).order_by(Department.id)).all()


def add_seal_certificate(
    *, session: Session, department_id: int, fingerprint: str, label: str | None = None
) -> SealCertificate:
    """Register a seal certificate (SHA-256 fingerprint, hex) as the department's."""
    department = get_department(session=session, department_id=department_id)
    fp = fingerprint.strip().lower().replace(":", "")
    if not _FINGERPRINT.match(fp):
        raise InvalidInput("a certificate fingerprint must be SHA-256 as 64 hex characters")
    existing = session.scalars(
        select(SealCertificate).where(SealCertificate.fingerprint == fp)
    ).one_or_none()
    if existing is not None:
        if existing.department_id == department.id:
            return existing
        raise ConflictError(
            f"seal certificate {fp} is already registered to department {existing.department_id}"
        )
    cert = SealCertificate(department_id=department.id, fingerprint=fp, label=label)
    session.add(cert)
    session.flush()
    return cert


def issuer_fingerprints(*, session: Session, department_id: int) -> frozenset[str]:
    return frozenset(
        session.scalars(
            select(SealCertificate.fingerprint).where(
                SealCertificate.department_id == department_id
            )
        ).all()
    )


# OAuth client credentials of a department (used by the API) -----------------------------
def set_client_credentials(
    *, session: Session, department_id: int, client_id: str, secret: str
) -> None:
    """Give the department API client credentials; only an argon2 hash of the secret is kept."""
    from argon2 import PasswordHasher

    department = get_department(session=session, department_id=department_id)
    other = find_department_by_client_id(session=session, client_id=client_id)
    if other is not None and other.id != department.id:
        raise ConflictError(f"client id {client_id!r} belongs to another department")
    if len(secret) < 16:
        raise InvalidInput("a client secret must have at least 16 characters")
    department.oauth_client_id = client_id
    department.oauth_secret_hash = PasswordHasher().hash(secret)
    session.flush()


def find_department_by_client_id(*, session: Session, client_id: str) -> Department | None:
    return session.scalars(
        select(Department).where(Department.oauth_client_id == client_id)
    ).one_or_none()


def authenticate_client(*, session: Session, client_id: str, secret: str) -> Department | None:
    """The department whose client credentials these are, or None (wrong id or secret)."""
    from argon2 import PasswordHasher
    from argon2.exceptions import InvalidHashError, VerificationError

    department = find_department_by_client_id(session=session, client_id=client_id)
    if department is None or department.oauth_secret_hash is None:
        return None
    try:
        PasswordHasher().verify(department.oauth_secret_hash, secret)
    except (VerificationError, InvalidHashError):
        return None
    return department


# License types ---------------------------------------------------------------------------
def create_license_type(
    *,
    session: Session,
    code: str,
    name: str,
    holder_kind: HolderIdType | str,
    issuer_department_ids: Iterable[int] = (),
    description: str | None = None,
) -> LicenseType:
    """Register a license type (证照类型代码, 21 characters) and optionally its issuers."""
    if not re.match(TYPE_CODE_PATTERN, code):
        raise InvalidInput("a 证照类型代码 must be 21 digits or capital letters")
    try:
        kind = HolderIdType(holder_kind)
    except ValueError:
        raise InvalidInput(
            "holder kind must be 111 (公民身份号码) or 001 (统一社会信用代码)"
        ) from None
    if session.scalars(select(LicenseType).where(LicenseType.code == code)).one_or_none():
        raise ConflictError(f"license type {code} is already registered")
    license_type = LicenseType(
        code=code, name=name.strip(), holder_kind=kind.value, description=description
    )
    session.add(license_type)
    session.flush()
    for department_id in issuer_department_ids:
        register_issuer(
            session=session, license_type_id=license_type.id, department_id=department_id
        )
    return license_type


def get_license_type(*, session: Session, code: str) -> LicenseType:
    license_type = session.scalars(
        select(LicenseType).where(LicenseType.code == code)
    ).one_or_none()
    if license_type is None:
        raise NotFound(f"no license type {code}")
    return license_type


def list_license_types(*, session: Session) -> Sequence[LicenseType]:
    return session.scalars(select(LicenseType).order_by(LicenseType.code)).all()


def register_issuer(*, session: Session, license_type_id: int, department_id: int) -> None:
    """Allow an issuing department to push licenses of this type (idempotent)."""
    department = get_department(session=session, department_id=department_id)
    if not department.is_issuer:
        raise ConflictError(f"department {department.name} is not registered as an issuer")
    if session.get(LicenseType, license_type_id) is None:
        raise NotFound(f"no license type {license_type_id}")
    if not is_registered_issuer(
        session=session, license_type_id=license_type_id, department_id=department_id
    ):
        session.add(LicenseTypeIssuer(license_type_id=license_type_id, department_id=department_id))
        session.flush()


def is_registered_issuer(*, session: Session, license_type_id: int, department_id: int) -> bool:
    return session.get(LicenseTypeIssuer, (license_type_id, department_id)) is not None


# Standing permissions (用证目录) ----------------------------------------------------------
def grant_standing_permission(
    *, session: Session, department_id: int, license_type_id: int, note: str | None = None
) -> StandingPermission:
    """Let a using department read licenses of this type within its cases (idempotent)."""
    department = get_department(session=session, department_id=department_id)
    if not department.is_user:
        raise ConflictError(f"department {department.name} is not registered as a user")
    if session.get(LicenseType, license_type_id) is None:
        raise NotFound(f"no license type {license_type_id}")
    existing = session.get(StandingPermission, (department_id, license_type_id))
    if existing is not None:
        return existing
    permission = StandingPermission(
        department_id=department_id, license_type_id=license_type_id, note=note
    )
    session.add(permission)
    session.flush()
    return permission


def revoke_standing_permission(
    *, session: Session, department_id: int, license_type_id: int
) -> bool:
    """Remove the permission; return whether there was one."""
    existing = session.get(StandingPermission, (department_id, license_type_id))
    if existing is None:
        return False
    session.delete(existing)
    session.flush()
    return True


def has_standing_permission(*, session: Session, department_id: int, license_type_id: int) -> bool:
    return session.get(StandingPermission, (department_id, license_type_id)) is not None
