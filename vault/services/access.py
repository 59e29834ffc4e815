"""Who may use which license, and the access log (用证记录) that records every decision.

A using department may read a holder's license inside a case (办件, ``case_no``) for a
``purpose`` when either

- it has a standing permission (用证目录) for the license's type, or
- the holder consented: an active grant to that department covering the type (and, when
  the grant names a purpose, for that purpose), within its number of cases; or a share
  code the department redeemed for this very case.

Every decision, allowed or denied, is written as an :class:`AccessEvent` in the caller's
transaction (a refusal commits too: see ``api.deps.get_session``) and appended to the
transparency log when one is configured. A denial never says whether the holder or the
license exists: the same :class:`PermissionDenied` message covers "no such holder",
"no such license" and "not allowed".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from schemas.identifiers import HolderIdType
from vault.crypto import HolderCrypto
from vault.db.base import utcnow
from vault.errors import NotFound, PermissionDenied
from vault.models import (
    AccessEvent,
    Department,
    Grant,
    GrantUse,
    Holder,
    License,
    LicenseType,
    LicenseVersion,
    StandingPermission,
)
from vault.services.grants import find_share_code, grant_is_active
from vault.services.holders import find_holder

__all__ = [
    "DENIED",
    "Decision",
    "LogAppender",
    "UseContext",
    "access_log",
    "authorize_department",
    "current_version",
    "holder_license",
    "record_event",
    "search_for_department",
]

#: The one message of every department refusal: reveals nothing about existence.
DENIED = "not allowed: no standing permission or consent covers this request"

#: Appends an event to the transparency log and returns its index (or None).
LogAppender = Callable[[Session, str, dict[str, object]], int | None]


@dataclass(frozen=True)
class UseContext:
    """申请事由 and 办件编号 of a department's request."""

    purpose: str
    case_no: str


@dataclass(frozen=True)
class Decision:
    allowed: bool
    basis: str | None  # standing_permission, consent, share_code
    grant_id: int | None = None
    reason: str | None = None


def record_event(
    *,
    session: Session,
    action: str,
    outcome: str,
    actor: str,
    holder_id: int | None = None,
    department_id: int | None = None,
    basis: str | None = None,
    grant_id: int | None = None,
    license_id: int | None = None,
    copy_id: str | None = None,
    use: UseContext | None = None,
    reason: str | None = None,
    append: LogAppender | None = None,
    now: dt.datetime | None = None,
) -> AccessEvent:
    """Write one access-log row (and its transparency-log leaf when ``append`` is given)."""
    event = AccessEvent(
        at=now or utcnow(),
        holder_id=holder_id,
        department_id=department_id,
        actor=actor,
        action=action,
        outcome=outcome,
        basis=basis,
        grant_id=grant_id,
        license_id=license_id,
        copy_id=copy_id,
        purpose=use.purpose if use else None,
        case_no=use.case_no if use else None,
        reason=reason,
    )
    session.add(event)
    session.flush()
    if append is not None:
        payload: dict[str, object] = {
            "access_event": event.id,
            "action": action,
            "outcome": outcome,
            "actor": actor,
            "holder": holder_id,
            "department": department_id,
            "basis": basis,
            "license": license_id,
            "copy": copy_id,
            "purpose": event.purpose,
            "case_no": event.case_no,
        }
        event.log_index = append(session, f"access.{action}", payload)
        session.flush()
    return event


def _covers(grant: Grant, type_code: str, use: UseContext) -> bool:
    if grant.license_types and type_code not in grant.license_types:
        return False
    return grant.purpose is None or grant.purpose == use.purpose


def _case_allowed(session: Session, grant: Grant, use: UseContext) -> bool:
    """Whether the grant may serve this case; records the case as a use when new."""
    used = session.scalars(select(GrantUse.case_no).where(GrantUse.grant_id == grant.id)).all()
    if use.case_no in used:
        return True
    if grant.uses_allowed is not None and len(used) >= grant.uses_allowed:
        return False
    session.add(GrantUse(grant_id=grant.id, case_no=use.case_no))
    session.flush()
    return True


def _decide(
    session: Session,
    *,
    department_id: int,
    holder_id: int,
    license_type_id: int,
    type_code: str,
    use: UseContext,
    now: dt.datetime,
) -> Decision:
    if session.get(StandingPermission, (department_id, license_type_id)) is not None:
        return Decision(True, "standing_permission")
    grants = session.scalars(
        select(Grant)
        .where(
            Grant.holder_id == holder_id,
            Grant.department_id == department_id,
            Grant.revoked_at.is_(None),
            Grant.expires_at > now,
        )
        .order_by(Grant.id)
    ).all()
    for grant in grants:
        if not grant_is_active(grant, now=now) or not _covers(grant, type_code, use):
            continue
        if grant.kind == "share_code":
            used = session.scalars(
                select(GrantUse.case_no).where(GrantUse.grant_id == grant.id)
            ).all()
            if use.case_no in used:
                return Decision(True, "share_code", grant.id)
            continue
        if _case_allowed(session, grant, use):
            return Decision(True, "consent", grant.id)
    return Decision(False, None, reason="no permission or consent")


def current_version(session: Session, license: License) -> LicenseVersion:
    row = session.scalars(
        select(LicenseVersion).where(
            LicenseVersion.license_id == license.id,
            LicenseVersion.version == license.current_version,
        )
    ).one_or_none()
    if row is None:  # pragma: no cover - intake always writes the current version
        raise NotFound(f"license {license.id} has no current version")
    return row


def authorize_department(
    *,
    session: Session,
    department_id: int,
    license_id: int,
    use: UseContext,
    action: str,
    append: LogAppender | None = None,
    record_allowed: bool = True,
    now: dt.datetime | None = None,
) -> tuple[License, Decision]:
    """Allow or refuse one department's use of one license; log it.

    Raises :class:`PermissionDenied` (with :data:`DENIED`) when refused or when the license
    does not exist. ``record_allowed=False``: the caller logs the allowed use itself (a
    copy is logged once it has its id); refusals are always logged here.
    """
    now = now or utcnow()
    license = session.get(License, license_id)
    if license is None:
        record_event(
            session=session,
            action=action,
            outcome="denied",
            actor="department",
            department_id=department_id,
            use=use,
            reason="no such license",
            append=append,
            now=now,
        )
        raise PermissionDenied(DENIED)
    decision = _decide(
        session,
        department_id=department_id,
        holder_id=license.holder_id,
        license_type_id=license.license_type_id,
        type_code=license.license_type.code,
        use=use,
        now=now,
    )
    if decision.allowed and not record_allowed:
        return license, decision
    record_event(
        session=session,
        action=action,
        outcome="allowed" if decision.allowed else "denied",
        actor="department",
        holder_id=license.holder_id,
        department_id=department_id,
        basis=decision.basis,
        grant_id=decision.grant_id,
        license_id=license.id,
        use=use,
        reason=decision.reason,
        append=append,
        now=now,
    )
    if not decision.allowed:
        raise PermissionDenied(DENIED)
    return license, decision


def _redeem(
    session: Session,
    *,
    code: str,
    holder: Holder | None,
    department_id: int,
    use: UseContext,
    now: dt.datetime,
) -> Grant | None:
    """Bind a share code to this department and case, when it is the holder's and unused."""
    grant = find_share_code(session=session, code=code)
    if grant is None or holder is None or grant.holder_id != holder.id:
        return None
    if not grant_is_active(grant, now=now):
        return None
    if grant.department_id is None:
        grant.department_id = department_id
        grant.redeemed_at = now
        session.add(GrantUse(grant_id=grant.id, case_no=use.case_no))
        session.flush()
        return grant
    if grant.department_id == department_id:
        used = session.scalars(select(GrantUse.case_no).where(GrantUse.grant_id == grant.id))
        if use.case_no in used.all():
            return grant
    return None


def search_for_department(
    *,
    session: Session,
    crypto: HolderCrypto,
    department_id: int,
    holder_id: str,
    holder_id_type: HolderIdType | None,
    use: UseContext,
    type_code: str | None = None,
    share_code: str | None = None,
    append: LogAppender | None = None,
    now: dt.datetime | None = None,
) -> Sequence[License]:
    """The holder's current licenses this department may use in this case.

    Nothing visible (unknown holder, no licenses, or none allowed): :class:`PermissionDenied`,
    the same refusal in every case. A share code is redeemed here.
    """
    now = now or utcnow()
    holder = find_holder(
        session=session, crypto=crypto, holder_id=holder_id, id_type=holder_id_type
    )
    grant = None
    if share_code:
        grant = _redeem(
            session, code=share_code, holder=holder, department_id=department_id, use=use, now=now
        )
        if grant is not None:
            record_event(
                session=session,
                action="share_redeem",
                outcome="allowed",
                actor="department",
                holder_id=grant.holder_id,
                department_id=department_id,
                basis="share_code",
                grant_id=grant.id,
                use=use,
                append=append,
                now=now,
            )
    visible: list[License] = []
    if holder is not None:
        query = select(License).where(License.holder_id == holder.id).order_by(License.id)
        if type_code:
            query = query.join(LicenseType, License.license_type_id == LicenseType.id).where(
                LicenseType.code == type_code
            )
        for license in session.scalars(query).all():
            decision = _decide(
                session,
                department_id=department_id,
                holder_id=holder.id,
                license_type_id=license.license_type_id,
                type_code=license.license_type.code,
                use=use,
                now=now,
            )
            if decision.allowed:
                visible.append(license)
    if not visible:
        record_event(
            session=session,
            action="search",
            outcome="denied",
            actor="department",
            holder_id=holder.id if holder is not None else None,
            department_id=department_id,
            use=use,
            reason="nothing visible" if holder is not None else "no such holder",
            append=append,
            now=now,
        )
        raise PermissionDenied(DENIED)
    record_event(
        session=session,
        action="search",
        outcome="allowed",
        actor="department",
        holder_id=holder.id if holder is not None else None,
        department_id=department_id,
        use=use,
        reason=f"{len(visible)} license(s)",
        append=append,
        now=now,
    )
    return visible


def holder_license(*, session: Session, holder: Holder, license_id: int) -> License:
    """One of the holder's own licenses; another holder's is "not found"."""
    license = session.get(License, license_id)
    if license is None or license.holder_id != holder.id:
        raise NotFound("no such license")
    return license


def access_log(
    *,
    session: Session,
    holder_id: int,
    limit: int = 100,
    offset: int = 0,
    license_id: int | None = None,
    department_id: int | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> Sequence[tuple[AccessEvent, str | None]]:
    """The holder's access log, newest first, with each department's name.

    Optional filters: one license, one department, and ``since <= at < until``.
    """
    query = (
        select(AccessEvent, Department.name)
        .outerjoin(Department, AccessEvent.department_id == Department.id)
        .where(AccessEvent.holder_id == holder_id)
    )
    if license_id is not None:
        query = query.where(AccessEvent.license_id == license_id)
    if department_id is not None:
        query = query.where(AccessEvent.department_id == department_id)
    if since is not None:
        query = query.where(AccessEvent.at >= since)
    if until is not None:
        query = query.where(AccessEvent.at < until)
    rows = session.execute(
        query.order_by(AccessEvent.at.desc(), AccessEvent.id.desc()).limit(limit).offset(offset)
    ).all()
    return [(event, name) for event, name in rows]
