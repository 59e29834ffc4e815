"""Holders' consent: grants to a named department, and one-time share codes.

A share code is 10 characters of an alphabet without look-alikes, shown as ``XXXXX-XXXXX``
so a holder can read it out at a counter (about 49 bits; only its SHA-256 is stored, it
expires within hours, and redeeming it also needs the holder's ID number). The first using
department that redeems it, inside one case (办件), binds it to itself and that case.

Creating a grant or a share code and revoking one each write the holder's access-log row
and its transparency-log leaf (:func:`vault.log.access_log.record_event`) in the same
transaction; the caller commits.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from schemas.license import TYPE_CODE_PATTERN
from vault.db.base import utcnow
from vault.errors import InvalidInput, NotFound
from vault.log.access_log import record_event
from vault.models import Department, Grant, GrantUse, Holder

__all__ = [
    "SHARE_CODE_ALPHABET",
    "CreatedShareCode",
    "create_grant",
    "create_share_code",
    "find_share_code",
    "grant_is_active",
    "list_grants",
    "normalize_share_code",
    "revoke_grant",
    "uses_count",
]

SHARE_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
_SHARE_CODE_LEN = 10
MAX_GRANT_DAYS = 366
MAX_SHARE_CODE_HOURS = 72


def _check_types(license_types: Iterable[str]) -> list[str]:
    import re

    types = sorted(set(license_types))
    for code in types:
        if not re.match(TYPE_CODE_PATTERN, code):
            raise InvalidInput(f"{code!r} is not a 证照类型代码 (21 digits or capital letters)")
    return types


def _check_text(value: str | None, what: str, limit: int) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if len(value) > limit or not value.isprintable():
        raise InvalidInput(f"{what} must be printable text of at most {limit} characters")
    return value


def create_grant(
    *,
    session: Session,
    holder: Holder,
    department_id: int,
    expires_at: dt.datetime,
    license_types: Iterable[str] = (),
    purpose: str | None = None,
    uses: int | None = None,
    now: dt.datetime | None = None,
) -> Grant:
    """Consent for a using department (all or some license types, until ``expires_at``)."""
    now = now or utcnow()
    department = session.get(Department, department_id)
    if department is None or not department.is_user:
        raise NotFound("no using department with that id")
    if expires_at <= now:
        raise InvalidInput("a grant must expire in the future")
    if expires_at > now + dt.timedelta(days=MAX_GRANT_DAYS):
        raise InvalidInput(f"a grant may last at most {MAX_GRANT_DAYS} days")
    if uses is not None and uses < 1:
        raise InvalidInput("uses must be at least 1")
    grant = Grant(
        public_id="g_" + secrets.token_urlsafe(12),
        holder_id=holder.id,
        holder_blind_index=holder.blind_index,
        kind="consent",
        department_id=department.id,
        license_types=_check_types(license_types),
        purpose=_check_text(purpose, "purpose", 200),
        uses_allowed=uses,
        created_at=now,
        expires_at=expires_at,
    )
    session.add(grant)
    session.flush()
    _log(session, grant, "grant", now)
    return grant


def _log(session: Session, grant: Grant, action: str, now: dt.datetime) -> None:
    """The holder's own action on its consent, in its access log and the transparency log."""
    record_event(
        session=session,
        action=action,
        outcome="allowed",
        actor="holder",
        holder_id=grant.holder_id,
        department_id=grant.department_id,
        basis="owner",
        grant_id=grant.id,
        now=now,
    )


@dataclass(frozen=True)
class CreatedShareCode:
    grant: Grant
    code: str = field(repr=False)


def normalize_share_code(code: str) -> str:
    return "".join(c for c in code.upper() if c.isalnum())


def _code_hash(code: str) -> bytes:
    return hashlib.sha256(b"evault share code\0" + normalize_share_code(code).encode()).digest()


def create_share_code(
    *,
    session: Session,
    holder: Holder,
    expires_at: dt.datetime,
    license_types: Iterable[str] = (),
    purpose: str | None = None,
    now: dt.datetime | None = None,
) -> CreatedShareCode:
    """A one-time code the holder reads out; valid until redeemed or ``expires_at``."""
    now = now or utcnow()
    if expires_at <= now:
        raise InvalidInput("a share code must expire in the future")
    if expires_at > now + dt.timedelta(hours=MAX_SHARE_CODE_HOURS):
        raise InvalidInput(f"a share code may last at most {MAX_SHARE_CODE_HOURS} hours")
    raw = "".join(secrets.choice(SHARE_CODE_ALPHABET) for _ in range(_SHARE_CODE_LEN))
    grant = Grant(
        public_id="g_" + secrets.token_urlsafe(12),
        holder_id=holder.id,
        holder_blind_index=holder.blind_index,
        kind="share_code",
        department_id=None,
        license_types=_check_types(license_types),
        purpose=_check_text(purpose, "purpose", 200),
        uses_allowed=1,
        code_hash=_code_hash(raw),
        created_at=now,
        expires_at=expires_at,
    )
    session.add(grant)
    session.flush()
    _log(session, grant, "grant", now)
    return CreatedShareCode(grant, f"{raw[:5]}-{raw[5:]}")


def find_share_code(*, session: Session, code: str) -> Grant | None:
    """The share-code grant with this code, or None (whatever its state)."""
    if len(normalize_share_code(code)) != _SHARE_CODE_LEN:
        return None
    return session.scalars(
        select(Grant).where(Grant.code_hash == _code_hash(code), Grant.kind == "share_code")
    ).one_or_none()


def list_grants(*, session: Session, holder_id: int) -> Sequence[Grant]:
    return session.scalars(
        select(Grant).where(Grant.holder_id == holder_id).order_by(Grant.id.desc())
    ).all()


def revoke_grant(
    *, session: Session, holder_id: int, public_id: str, now: dt.datetime | None = None
) -> Grant:
    """Revoke one of the holder's grants (idempotent); another holder's is "not found"."""
    grant = session.scalars(
        select(Grant).where(Grant.public_id == public_id, Grant.holder_id == holder_id)
    ).one_or_none()
    if grant is None:
        raise NotFound("no such grant")
    now = now or utcnow()
    if grant.revoked_at is None:
        grant.revoked_at = now
        session.flush()
    _log(session, grant, "grant_revoke", now)
    return grant


def uses_count(*, session: Session, grant_id: int) -> int:
    return int(
        session.scalar(
            select(func.count()).select_from(GrantUse).where(GrantUse.grant_id == grant_id)
        )
        or 0
    )


def grant_is_active(grant: Grant, *, now: dt.datetime | None = None) -> bool:
    """Not revoked and not expired (uses are checked per case by the access service)."""
    now = now or utcnow()
    return grant.revoked_at is None and grant.expires_at > now
