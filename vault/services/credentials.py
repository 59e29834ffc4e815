"""Departments' API credentials: OAuth 2.0 client id + secret (argon2id hash) and scopes.

The secret is shown once, when issued, and stored only as an argon2id hash
(``argon2-cffi`` defaults, RFC 9106 low-memory profile) by :mod:`vault.services.catalog`.
Scopes live in ``department_scopes``. Authentication takes the same time
whether or not the client id exists, so a caller cannot probe for client ids.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from vault.errors import NotFound, PermissionDenied, VaultError
from vault.models import Department, DepartmentScope

__all__ = [
    "SCOPES",
    "ClientCredentials",
    "InvalidScope",
    "authenticate_client",
    "department_scopes",
    "issue_credentials",
    "set_scopes",
]

#: Every scope the API knows.
SCOPES = ("licenses:issue", "licenses:use", "audit:read", "materials:deposit")

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(32))


class InvalidScope(PermissionDenied):
    """A client asked for a scope its department does not have."""


@dataclass(frozen=True)
class ClientCredentials:
    """A department's client id and its secret, in clear: shown once, never stored."""

    department_id: int
    client_id: str
    client_secret: str = field(repr=False)
    scopes: tuple[str, ...]


def _check_scopes(scopes: Iterable[str]) -> list[str]:
    wanted = sorted(set(scopes))
    unknown = [s for s in wanted if s not in SCOPES]
    if unknown:
        raise VaultError(f"unknown scope {unknown[0]!r} (known: {', '.join(SCOPES)})")
    return wanted


def set_scopes(*, session: Session, department_id: int, scopes: Iterable[str]) -> list[str]:
    """Replace the scopes a department's client may ask for."""
    wanted = _check_scopes(scopes)
    session.execute(delete(DepartmentScope).where(DepartmentScope.department_id == department_id))
    for scope in wanted:
        session.add(DepartmentScope(department_id=department_id, scope=scope))
    session.flush()
    return wanted


def department_scopes(*, session: Session, department_id: int) -> list[str]:
    rows = session.scalars(
        select(DepartmentScope.scope).where(DepartmentScope.department_id == department_id)
    )
    return sorted(rows)


def issue_credentials(
    *, session: Session, department_id: int, scopes: Iterable[str] | None = None
) -> ClientCredentials:
    """New client credentials for a department (replacing any earlier ones)."""
    from vault.services.catalog import set_client_credentials

    if session.get(Department, department_id) is None:
        raise NotFound(f"no department with id {department_id}")
    if scopes is not None:
        set_scopes(session=session, department_id=department_id, scopes=scopes)
    client_id = "evc_" + secrets.token_hex(10)
    secret = secrets.token_urlsafe(32)
    set_client_credentials(
        session=session, department_id=department_id, client_id=client_id, secret=secret
    )
    granted = department_scopes(session=session, department_id=department_id)
    return ClientCredentials(department_id, client_id, secret, tuple(granted))


@dataclass(frozen=True)
class AuthenticatedClient:
    department_id: int
    client_id: str
    scopes: frozenset[str]


def authenticate_client(
    *,
    session: Session,
    client_id: str,
    client_secret: str,
    requested: Iterable[str] | None = None,
) -> AuthenticatedClient:
    """Check a client's secret and the scopes it asks for (default: all it has).

    Raises :class:`PermissionDenied` ("invalid client credentials") for a wrong id or secret,
    and :class:`InvalidScope` for a scope the department does not have.
    """
    from vault.services.catalog import authenticate_client as check_secret
    from vault.services.catalog import find_department_by_client_id

    if find_department_by_client_id(session=session, client_id=client_id) is None:
        # Spend the same time as for a known client id: no probing for ids.
        with contextlib.suppress(VerificationError, InvalidHashError):
            _hasher.verify(_DUMMY_HASH, client_secret)
        raise PermissionDenied("invalid client credentials")
    department = check_secret(session=session, client_id=client_id, secret=client_secret)
    if department is None:
        raise PermissionDenied("invalid client credentials")
    has = set(department_scopes(session=session, department_id=department.id))
    if requested is None:
        granted = has
    else:
        wanted = set(requested)
        unknown = wanted - set(SCOPES)
        if unknown:
            raise InvalidScope(f"unknown scope {sorted(unknown)[0]!r}")
        missing = wanted - has
        if missing:
            raise InvalidScope(f"this client may not ask for scope {sorted(missing)[0]!r}")
        granted = wanted
    if not granted:
        raise InvalidScope("this client has no scopes")
    return AuthenticatedClient(department.id, client_id, frozenset(granted))
