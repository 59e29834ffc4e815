"""Versions and status of licenses.

Stored statuses and the transitions an issuer may make (``ALLOWED_TRANSITIONS``)::

    有效 (valid)      -> 暂扣, 撤销, 注销, 吊销
    暂扣 (suspended)  -> 有效 (reinstated), 撤销, 注销, 吊销
    撤销, 注销, 吊销   -> nothing: final

失效 (expired) is never stored or set: it is computed from 有效期截止 and the current time
(a license is valid through the whole last day, in China Standard Time). A version older
than the license's current version is *superseded*. Every change records who, when, why,
from and to (``status_changes``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from schemas.license import LicenseStatus
from vault.db.base import utcnow
from vault.errors import ConflictError, InvalidInput, NotFound
from vault.log.append import append_event
from vault.models import License, LicenseType, LicenseVersion, StatusChange

__all__ = [
    "ALLOWED_TRANSITIONS",
    "CHINA_TZ",
    "FINAL_STATUSES",
    "EffectiveStatus",
    "change_status",
    "effective_status",
    "find_license",
    "get_license",
    "get_version",
    "licenses_of_holder",
    "list_versions",
    "status_at",
    "status_history",
    "version_by_sha256",
]

S = LicenseStatus
ALLOWED_TRANSITIONS: Mapping[LicenseStatus, frozenset[LicenseStatus]] = {
    S.VALID: frozenset({S.SUSPENDED, S.WITHDRAWN, S.CANCELLED, S.REVOKED}),
    S.SUSPENDED: frozenset({S.VALID, S.WITHDRAWN, S.CANCELLED, S.REVOKED}),
    S.WITHDRAWN: frozenset(),
    S.CANCELLED: frozenset(),
    S.REVOKED: frozenset(),
}
FINAL_STATUSES = frozenset({S.WITHDRAWN, S.CANCELLED, S.REVOKED})
CHINA_TZ = dt.timezone(dt.timedelta(hours=8), "CST")


@dataclass(frozen=True)
class EffectiveStatus:
    """A version's status as of a moment.

    ``status`` is the stored status, or 失效 when a valid or suspended license is past its
    有效期截止; ``superseded`` is True when a newer version exists (then the version is not
    valid whatever ``status`` says); ``usable`` is what a verifier of a copy wants to know.
    """

    status: LicenseStatus
    stored_status: LicenseStatus
    superseded: bool
    current_version: int
    valid_until: dt.date | None

    @property
    def usable(self) -> bool:
        return self.status is LicenseStatus.VALID and not self.superseded


def effective_status(
    *, license: License, version: LicenseVersion, now: dt.datetime | None = None
) -> EffectiveStatus:
    """The status of ``version`` of ``license`` at ``now`` (expiry computed, not stored)."""
    return status_at(
        stored=license.status,
        version=version.version,
        current_version=license.current_version,
        valid_until=version.valid_until,
        now=now,
    )


def status_at(
    *,
    stored: str,
    version: int,
    current_version: int,
    valid_until: dt.date | None,
    now: dt.datetime | None = None,
) -> EffectiveStatus:
    """:func:`effective_status` from plain values (a stored status and version numbers)."""
    now = now or utcnow()
    stored_status = LicenseStatus(stored)
    status = stored_status
    today = now.astimezone(CHINA_TZ).date()
    if stored_status in (S.VALID, S.SUSPENDED) and valid_until is not None and today > valid_until:
        status = S.EXPIRED
    return EffectiveStatus(
        status=status,
        stored_status=stored_status,
        superseded=version < current_version,
        current_version=current_version,
        valid_until=valid_until,
    )


def get_license(*, session: Session, license_id: int) -> License:
    license = session.get(License, license_id)
    if license is None:
        raise NotFound(f"no license {license_id}")
    return license


def find_license(
    *, session: Session, type_code: str, issuer_department_id: int, number: str
) -> License | None:
    """The license with this key (type, issuer, 证照编号), or None."""
    return session.scalars(
        select(License)
        .join(LicenseType, License.license_type_id == LicenseType.id)
        .where(
            LicenseType.code == type_code,
            License.issuer_department_id == issuer_department_id,
            License.number == number,
        )
    ).one_or_none()


def list_versions(*, session: Session, license_id: int) -> Sequence[LicenseVersion]:
    """Every version of the license, oldest first."""
    return session.scalars(
        select(LicenseVersion)
        .where(LicenseVersion.license_id == license_id)
        .order_by(LicenseVersion.version)
    ).all()


def get_version(*, session: Session, license_id: int, version: int | None = None) -> LicenseVersion:
    """A version of the license (default: its current one)."""
    license = get_license(session=session, license_id=license_id)
    number = license.current_version if version is None else version
    row = session.scalars(
        select(LicenseVersion).where(
            LicenseVersion.license_id == license_id, LicenseVersion.version == number
        )
    ).one_or_none()
    if row is None:
        raise NotFound(f"license {license_id} has no version {number}")
    return row


def version_by_sha256(*, session: Session, sha256: str) -> LicenseVersion | None:
    """The version whose PDF has this SHA-256, or None (an indexed lookup)."""
    # Only the version and its license row: this lookup is the whole cost of a duplicate
    # push, so the license's type, issuer and holder load later, if asked for.
    return session.scalars(
        select(LicenseVersion)
        .where(LicenseVersion.blob_sha256 == sha256)
        .options(joinedload(LicenseVersion.license).lazyload("*"))
    ).one_or_none()


def licenses_of_holder(*, session: Session, holder_id: int) -> Sequence[License]:
    """Every license of a holder (by the holder's row id), newest first."""
    return session.scalars(
        select(License).where(License.holder_id == holder_id).order_by(License.id.desc())
    ).all()


def status_history(*, session: Session, license_id: int) -> Sequence[StatusChange]:
    return session.scalars(
        select(StatusChange)
        .where(StatusChange.license_id == license_id)
        .order_by(StatusChange.changed_at, StatusChange.id)
    ).all()


def change_status(
    *,
    session: Session,
    public_id: str,
    to: LicenseStatus | str,
    reason: str,
    by_department_id: int | None,
    actor: str | None = None,
    now: dt.datetime | None = None,
) -> StatusChange:
    """Change a license's stored status and record the change (the edge commits).

    The change is appended to the transparency log (``license.status_changed``) in the
    same transaction, whoever calls: the API, the CLI or a script.

    The license is named by its ``public_id``. Only its issuing department may change it
    (``by_department_id``): to any other department it does not exist (the same
    :class:`NotFound` as a missing license, so the answer tells no one what exists).
    ``None`` means an operator acting through the CLI (``actor`` then says who). 失效 cannot
    be set: it follows from 有效期截止.
    """
    try:
        target = LicenseStatus.parse(to) if isinstance(to, str) else to
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    if target is S.EXPIRED:
        raise InvalidInput("失效 (expired) cannot be set: it follows from 有效期截止")
    if not reason or not reason.strip():
        raise InvalidInput("a status change needs a reason")
    now = now or utcnow()
    query = select(License).where(License.public_id == public_id)
    if by_department_id is not None:
        query = query.where(License.issuer_department_id == by_department_id)
    license = session.scalars(query.with_for_update(of=License)).one_or_none()
    if license is None:
        raise NotFound("no such license among this department's licenses")
    current = LicenseStatus(license.status)
    if target not in ALLOWED_TRANSITIONS[current]:
        allowed = ", ".join(sorted(s.value for s in ALLOWED_TRANSITIONS[current])) or "none"
        raise ConflictError(
            f"license {public_id} is {current.value}: it cannot become {target.value} "
            f"(allowed: {allowed})"
        )
    change = StatusChange(
        license_id=license.id,
        holder_blind_index=license.holder_blind_index,
        version=license.current_version,
        from_status=current.value,
        to_status=target.value,
        reason=reason.strip(),
        changed_by_department_id=by_department_id,
        actor=actor or (f"department:{by_department_id}" if by_department_id else "operator"),
        changed_at=now,
    )
    license.status = target.value
    license.updated_at = now
    session.add(change)
    session.flush()
    append_event(
        session=session,
        event_type="license.status_changed",
        payload={
            "license_id": license.id,
            "version": license.current_version,
            "from": current.value,
            "to": target.value,
            "reason": change.reason,
            "actor": change.actor,
            "at": now.isoformat(),
        },
    )
    return change
