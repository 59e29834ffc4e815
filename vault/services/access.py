"""Who may use which license, and the access log (用证记录) that records every decision.

A using department may read a holder's license inside a case (办件, ``case_no``) for a
``purpose`` when either

- it has a standing permission (用证目录) for the license's type, or
- the holder consented: an active grant to that department covering the type (and, when
  the grant names a purpose, for that purpose), within its number of cases; or a share
  code the department redeemed for this very case.

Every decision, allowed or denied, is written as an :class:`AccessEvent` and appended to
the transparency log in the same transaction (:func:`record_event` has no way to skip the
log). The department use cases here (:func:`search_for_department`,
:func:`read_license_for_department`) commit that record themselves, refusals included,
before they return or raise: a caller cannot get a license's data without its read being
logged. A denial never says whether the holder or the license exists: the same
:class:`PermissionDenied` message covers "no such holder", "no such license" and "not
allowed".

The read path is batched: a license, its current version, whether the department holds
a standing permission for its type and whether the holder has any live grant to it come
back in one query as plain :class:`LicenseRecord` values (a search: all the holder's
licenses in one query); grants are read only when they could matter, once per request;
the log is appended last, just before the commit, so the transparency log's append lock
is held briefly (on PostgreSQL for the server's own append and commit: one query).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, Select, and_, bindparam, select
from sqlalchemy.orm import Session, joinedload, lazyload

from schemas.errors import InvalidValue
from schemas.identifiers import HolderIdType, parse_holder_id
from schemas.report import FileFormat
from signing.formats import EXTENSIONS, MEDIA_TYPES
from vault.blobs.base import BlobStore
from vault.crypto import HolderCrypto
from vault.db.base import utcnow
from vault.errors import NotFound, PermissionDenied
from vault.log.access_log import (
    EventValues,
    RecordedEvent,
    UseContext,
    record_alone,
    record_and_commit,
    record_event,
    record_in_transaction,
)
from vault.models import (
    AccessEvent,
    Department,
    Grant,
    GrantUse,
    Holder,
    License,
    LicenseVersion,
    Material,
    StandingPermission,
)
from vault.services.archive import served_blob
from vault.services.grants import find_share_code, grant_is_active
from vault.services.license_records import (
    OF_HOLDER_FOR_DEPARTMENT,
    ONE_FOR_DEPARTMENT,
    LicenseRecord,
    record_of_row,
)
from vault.services.logged_read import (
    HOLDER,
    LICENSE,
    LoggedRead,
    plain_rows,
    pooled_connection,
    read_one_and_record,
    read_one_and_record_pooled,
    read_rows,
)

__all__ = [
    "DENIED",
    "Decision",
    "LogLine",
    "Original",
    "RecordedEvent",
    "UseContext",
    "access_log",
    "authorize_department",
    "current_version",
    "download_original",
    "holder_license",
    "read_license_for_department",
    "read_license_pooled",
    "record_event",
    "record_own_download",
    "search_for_department",
    "search_pooled",
]

#: The reason logged when neither a standing permission nor a consent allows a use.
NO_PERMISSION = "no permission or consent"

#: The one message of every department refusal: reveals nothing about existence.
DENIED = "not allowed: no standing permission or consent covers this request"


@dataclass(frozen=True)
class Decision:
    allowed: bool
    basis: str | None  # standing_permission, consent, share_code
    grant_id: int | None = None
    reason: str | None = None


def _decision_event(
    decision: Decision,
    *,
    action: str,
    department_id: int,
    holder_id: int,
    license_id: int,
    use: UseContext,
    now: dt.datetime,
    holder_blind_index: bytes | None = None,
) -> EventValues:
    """The access-log row of a department's decision on one license (allowed or denied)."""
    return EventValues(
        action=action,
        outcome="allowed" if decision.allowed else "denied",
        actor="department",
        at=now,
        holder_id=holder_id,
        department_id=department_id,
        basis=decision.basis,
        grant_id=decision.grant_id,
        license_id=license_id,
        use=use,
        reason=decision.reason,
        holder_blind_index=holder_blind_index,
    )


def _no_such_license(
    action: str, department_id: int, use: UseContext, now: dt.datetime, *, what: str = "license"
) -> EventValues:
    """The access-log row of a refusal because the license (or holder) does not exist."""
    return EventValues(
        action=action,
        outcome="denied",
        actor="department",
        at=now,
        department_id=department_id,
        use=use,
        reason=f"no such {what}",
    )


def _covers(grant: Grant, type_code: str, use: UseContext) -> bool:
    if grant.license_types and type_code not in grant.license_types:
        return False
    return grant.purpose is None or grant.purpose == use.purpose


def _case_allowed(session: Session, grant: Grant, use: UseContext) -> bool:
    """Whether the grant may serve this case; records the case as a use when new."""
    used = session.scalars(
        select(GrantUse.case_no).where(
            GrantUse.grant_id == grant.id,
            GrantUse.holder_blind_index == grant.holder_blind_index,  # colocated with the grant
        )
    ).all()
    if use.case_no in used:
        return True
    if grant.uses_allowed is not None and len(used) >= grant.uses_allowed:
        return False
    session.add(
        GrantUse(
            grant_id=grant.id,
            holder_blind_index=grant.holder_blind_index,
            case_no=use.case_no,
        )
    )
    session.flush()
    return True


class _Rules:
    """One request's decisions: a department, in a case, about one holder's licenses.

    The standing permission comes with each license (see :func:`_with_permission`); the
    holder's grants to the department are read once, and only when a license needs them.
    """

    def __init__(
        self, session: Session, *, department_id: int, use: UseContext, now: dt.datetime
    ) -> None:
        self._session = session
        self._department_id = department_id
        self._use = use
        self._now = now
        self._grants: dict[int, Sequence[Grant]] = {}

    def _grants_of(self, holder_id: int) -> Sequence[Grant]:
        if holder_id not in self._grants:
            self._grants[holder_id] = self._session.scalars(
                select(Grant)
                .where(
                    Grant.holder_id == holder_id,
                    Grant.department_id == self._department_id,
                    Grant.revoked_at.is_(None),
                    Grant.expires_at > self._now,
                )
                .order_by(Grant.id)
            ).all()
        return self._grants[holder_id]

    def decide(
        self, *, holder_id: int, type_code: str, permitted: bool, may_consent: bool = True
    ) -> Decision:
        """The decision about one license (of ``holder_id``, of type ``type_code``).

        ``may_consent=False``: the holder is known to have no live grant to the department,
        so the grants are not read.
        """
        if permitted:
            return Decision(True, "standing_permission")
        if not may_consent:
            return Decision(False, None, reason=NO_PERMISSION)
        session, use, now = self._session, self._use, self._now
        for grant in self._grants_of(holder_id):
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
        return Decision(False, None, reason=NO_PERMISSION)


def _with_permission() -> Select[License, int]:
    """Licenses with their current version and the department's standing permission.

    One query: the permission is an outer join (``None`` when the department, the bound
    parameter ``department_id``, has none for the license's type); the version's
    verification report is not loaded. Built once (below), executed with parameters.
    """
    return (
        select(License, StandingPermission.license_type_id)
        .outerjoin(
            StandingPermission,
            and_(
                StandingPermission.department_id == bindparam("department_id"),
                StandingPermission.license_type_id == License.license_type_id,
            ),
        )
        .options(
            joinedload(License.current).lazyload(LicenseVersion.license),
            joinedload(License.current).defer(LicenseVersion.report_json),
        )
    )


#: One license (by its public id, ``public_id``) for a department (``department_id``).
_ONE_LICENSE = _with_permission().where(License.public_id == bindparam("public_id"))


def current_version(session: Session, license: License) -> LicenseVersion:
    """The license's current version (already loaded with ``License.current``, or read)."""
    loaded = license.__dict__.get("current")
    if loaded is not None and loaded.version == license.current_version:
        version: LicenseVersion = loaded
        return version
    row = session.scalars(
        select(LicenseVersion)
        .where(
            LicenseVersion.license_id == license.id,
            LicenseVersion.holder_blind_index == license.holder_blind_index,
            LicenseVersion.version == license.current_version,
        )
        .options(lazyload(LicenseVersion.license))
    ).one_or_none()
    if row is None:  # pragma: no cover - intake always writes the current version
        raise NotFound(f"license {license.id} has no current version")
    return row


def authorize_department(
    *,
    session: Session,
    department_id: int,
    public_id: str,
    use: UseContext,
    action: str,
    record_allowed: bool = True,
    now: dt.datetime | None = None,
) -> tuple[License, Decision]:
    """Allow or refuse one department's use of one license (by its ``public_id``); log it
    (not committed).

    Raises :class:`PermissionDenied` (with :data:`DENIED`) when refused or when the license
    does not exist. ``record_allowed=False``: the caller logs the allowed use itself (a
    copy is logged once it has its id); refusals are always logged here. The license comes
    back with its current version loaded (``License.current``).
    """
    now = now or utcnow()
    row = session.execute(
        _ONE_LICENSE, {"department_id": department_id, "public_id": public_id}
    ).one_or_none()
    if row is None:
        record_in_transaction(session, _no_such_license(action, department_id, use, now))
        raise PermissionDenied(DENIED)
    license, permission = row
    rules = _Rules(session, department_id=department_id, use=use, now=now)
    decision = rules.decide(
        holder_id=license.holder_id,
        type_code=license.license_type.code,
        permitted=permission is not None,
    )
    if decision.allowed and not record_allowed:
        return license, decision
    record_in_transaction(
        session,
        _decision_event(
            decision,
            action=action,
            department_id=department_id,
            holder_id=license.holder_id,
            license_id=license.id,
            use=use,
            now=now,
            holder_blind_index=license.holder_blind_index,
        ),
    )
    if not decision.allowed:
        raise PermissionDenied(DENIED)
    return license, decision


def read_license_for_department(
    *,
    session: Session,
    department_id: int,
    public_id: str,
    use: UseContext,
    now: dt.datetime | None = None,
) -> LicenseRecord:
    """A department reads one license (by its ``public_id``) in a case: authorized, logged
    and committed.

    The decision (allowed or refused) is committed with its log leaf before this returns
    or raises :class:`PermissionDenied` (with :data:`DENIED`). One query reads the license,
    its current version and the department's standing permission (:mod:`license_records`).
    """
    now = now or utcnow()
    params = {"department_id": department_id, "public_id": public_id, "now": now}
    logged = read_one_and_record(session, params, **_read_events(department_id, use, now))
    return _decided(logged) or _read_by_rules(
        session, params, logged, department_id=department_id, use=use, now=now
    )


def read_license_pooled(
    *,
    engine: Engine,
    sessions: Callable[[], Session],
    department_id: int,
    public_id: str,
    use: UseContext,
) -> LicenseRecord:
    """:func:`read_license_for_department` for a request with no session of its own: the
    read and its log row on a pooled connection in one round trip (PostgreSQL), and a
    session from ``sessions`` only when the holder's grants must be read (or elsewhere)."""
    now = utcnow()
    params = {"department_id": department_id, "public_id": public_id, "now": now}
    logged = read_one_and_record_pooled(engine, params, **_read_events(department_id, use, now))
    found = _decided(logged)
    if found is not None:
        return found
    with sessions() as session:
        if logged is None:  # the one query does not apply: the usual path, from the start
            return read_license_for_department(
                session=session,
                department_id=department_id,
                public_id=public_id,
                use=use,
                now=now,
            )
        return _read_by_rules(
            session, params, logged, department_id=department_id, use=use, now=now
        )


def _decided(logged: LoggedRead | None) -> LicenseRecord | None:
    """The record, when the one-query read decided and recorded an allowed read; raises
    :class:`PermissionDenied` when it recorded a refusal; ``None``: the rules decide."""
    if logged is None or not logged.recorded:
        return None
    if logged.row is None:  # no such license: refused and recorded
        raise PermissionDenied(DENIED)
    found = record_of_row(logged.row)
    if not found.permitted:
        raise PermissionDenied(DENIED)
    return found.record


def _read_by_rules(
    session: Session,
    params: dict[str, object],
    logged: LoggedRead | None,
    *,
    department_id: int,
    use: UseContext,
    now: dt.datetime,
) -> LicenseRecord:
    """Decide a read by the rules (the holder's grants), record it and commit; ``logged``:
    the row the one query read without recording (``None``: read it here)."""
    row = (
        logged.row
        if logged is not None
        else session.connection().execute(ONE_FOR_DEPARTMENT, params).first()
    )
    if row is None:
        record_and_commit(session, _no_such_license("read", department_id, use, now))
        raise PermissionDenied(DENIED)
    found = record_of_row(row)
    record = found.record
    rules = _Rules(session, department_id=department_id, use=use, now=now)
    decision = rules.decide(
        holder_id=record.holder_row_id,
        type_code=record.type_code,
        permitted=found.permitted,
        may_consent=found.may_consent,
    )
    record_and_commit(
        session,
        _decision_event(
            decision,
            action="read",
            department_id=department_id,
            holder_id=record.holder_row_id,
            license_id=record.id,
            use=use,
            now=now,
            holder_blind_index=record.holder_blind_index,
        ),
    )
    if not decision.allowed:
        raise PermissionDenied(DENIED)
    return record


def _read_events(department_id: int, use: UseContext, now: dt.datetime) -> dict[str, EventValues]:
    """The events the one-query read may record (see :mod:`vault.services.logged_read`):
    the read allowed by a standing permission, refused, or of no such license."""

    def event(decision: Decision) -> EventValues:
        return _decision_event(
            decision,
            action="read",
            department_id=department_id,
            holder_id=HOLDER,
            license_id=LICENSE,
            use=use,
            now=now,
        )

    return {
        "allowed": event(Decision(True, "standing_permission")),
        "denied": event(Decision(False, None, reason=NO_PERMISSION)),
        "missing": _no_such_license("read", department_id, use, now),
    }


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
        session.add(
            GrantUse(
                grant_id=grant.id,
                holder_blind_index=grant.holder_blind_index,
                case_no=use.case_no,
            )
        )
        session.flush()
        return grant
    if grant.department_id == department_id:
        used = session.scalars(
            select(GrantUse.case_no).where(
                GrantUse.grant_id == grant.id,
                GrantUse.holder_blind_index == grant.holder_blind_index,
            )
        )
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
    now: dt.datetime | None = None,
) -> list[LicenseRecord]:
    """The holder's current licenses this department may use in this case; commits.

    Nothing visible (unknown holder, no licenses, or none allowed): :class:`PermissionDenied`,
    the same refusal in every case. A share code is redeemed here. The search is logged and
    committed before this returns or raises. One query reads every license of the holder
    with its current version and the department's standing permission.
    """
    now = now or utcnow()
    try:
        parsed = parse_holder_id(holder_id, holder_id_type)
    except InvalidValue:
        if holder_id_type is None:
            raise
        # A valid number of the other kind: no holder of the kind asked for, which is
        # refused like any holder that is not there.
        refusal = _no_such_license("search", department_id, use, now, what="holder")
        record_and_commit(session, refusal)
        raise PermissionDenied(DENIED) from None
    indexes = list(crypto.blind_indexes(parsed.id_type.value, parsed))  # current key first
    holder: Holder | None = None
    if share_code:
        holder = _redeem_share_code(
            session, indexes, share_code, department_id=department_id, use=use, now=now
        )
    rows = read_rows(
        session,
        OF_HOLDER_FOR_DEPARTMENT,
        {"department_id": department_id, "blind_indexes": indexes, "now": now},
    )
    holder_row_id, holder_index = _searched_holder(session, rows, holder, indexes)
    rules = _Rules(session, department_id=department_id, use=use, now=now)
    visible, bases = _visible_records(rows, rules, type_code)
    event = _search_event(department_id, use, now, holder_row_id, holder_index, visible, bases)
    record_and_commit(session, event)
    if not visible:
        raise PermissionDenied(DENIED)
    return visible


def search_pooled(
    *,
    engine: Engine,
    sessions: Callable[[], Session],
    crypto: HolderCrypto,
    department_id: int,
    holder_id: str,
    holder_id_type: HolderIdType | None,
    use: UseContext,
    type_code: str | None = None,
    share_code: str | None = None,
) -> list[LicenseRecord]:
    """:func:`search_for_department` for a request with no session of its own: on
    PostgreSQL the read and the log row on a pooled connection (two round trips, no
    session) when the read alone decides (a standing permission, or no live grant, for
    each license found); else, and for a share code, the usual path in a session from
    ``sessions`` (the read done here wrote nothing)."""
    now = utcnow()
    found = None
    if engine.dialect.name == "postgresql" and not share_code:
        found = _search_plain(
            engine, crypto, department_id, holder_id, holder_id_type, use, type_code, now
        )
    if found is None:
        with sessions() as session:
            return search_for_department(
                session=session,
                crypto=crypto,
                department_id=department_id,
                holder_id=holder_id,
                holder_id_type=holder_id_type,
                use=use,
                type_code=type_code,
                share_code=share_code,
                now=now,
            )
    if not found:
        raise PermissionDenied(DENIED)
    return found


def _search_plain(
    engine: Engine,
    crypto: HolderCrypto,
    department_id: int,
    holder_id: str,
    holder_id_type: HolderIdType | None,
    use: UseContext,
    type_code: str | None,
    now: dt.datetime,
) -> list[LicenseRecord] | None:
    """The search's read and its log row on a pooled connection: the visible licenses
    (recorded); ``None`` when the read does not decide (no license found: the holder is
    looked up; a license the holder's grants may open; an invalid ID): nothing written."""
    try:
        parsed = parse_holder_id(holder_id, holder_id_type)
    except InvalidValue:
        return None  # refused (and recorded, or raised) by the usual path
    indexes = list(crypto.blind_indexes(parsed.id_type.value, parsed))  # current key first
    params = {"department_id": department_id, "blind_indexes": indexes, "now": now}
    with pooled_connection(engine) as (raw, invalidate):
        rows = plain_rows(raw, engine.dialect, OF_HOLDER_FOR_DEPARTMENT, params, invalidate)
        found = [record_of_row(row) for row in rows]
        considered = [f for f in found if not type_code or f.record.type_code == type_code]
        if not found or any(not f.permitted and f.may_consent for f in considered):
            return None
        # As _Rules decides without grants: a standing permission allows, nothing else does.
        visible = [f.record for f in considered if f.permitted]
        bases = {"standing_permission"} if visible else set()
        first = found[0].record
        event = _search_event(
            department_id, use, now, first.holder_row_id, first.holder_blind_index, visible, bases
        )
        record_alone(raw, engine.dialect, event, invalidate)
    return visible


def _search_event(
    department_id: int,
    use: UseContext,
    now: dt.datetime,
    holder_row_id: int | None,
    holder_index: bytes | None,
    visible: list[LicenseRecord],
    bases: set[str],
) -> EventValues:
    """The access-log row of a search (of the holder ``holder_row_id``; None: no such
    holder) that found ``visible`` on ``bases``."""
    return EventValues(
        action="search",
        outcome="allowed" if visible else "denied",
        actor="department",
        at=now,
        holder_id=holder_row_id,
        holder_blind_index=holder_index,
        department_id=department_id,
        basis=_search_basis(bases),
        use=use,
        reason=(
            f"{len(visible)} license(s)"
            if visible
            else "nothing visible"
            if holder_row_id is not None
            else "no such holder"
        ),
    )


def _searched_holder(
    session: Session, rows: Sequence[Sequence[Any]], holder: Holder | None, indexes: list[bytes]
) -> tuple[int | None, bytes | None]:
    """The searched holder's row id and blind index (None, None: no such holder)."""
    if rows:
        record = record_of_row(rows[0]).record
        return record.holder_row_id, record.holder_blind_index
    if holder is not None:
        return holder.id, holder.blind_index
    found = session.execute(
        select(Holder.id, Holder.blind_index).where(Holder.blind_index.in_(indexes))
    ).first()
    return (found[0], found[1]) if found else (None, None)


def _redeem_share_code(
    session: Session,
    indexes: list[bytes],
    share_code: str,
    *,
    department_id: int,
    use: UseContext,
    now: dt.datetime,
) -> Holder | None:
    """Redeem ``share_code`` for the holder of ``indexes`` (logged when it holds); the holder."""
    holder = session.scalars(select(Holder).where(Holder.blind_index.in_(indexes))).one_or_none()
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
            now=now,
        )
    return holder


def _visible_records(
    rows: Sequence[Sequence[Any]], rules: _Rules, type_code: str | None
) -> tuple[list[LicenseRecord], set[str]]:
    """The found licenses the department may use (of ``type_code`` when given), and the
    bases of those decisions."""
    visible: list[LicenseRecord] = []
    bases: set[str] = set()
    for row in rows:
        found = record_of_row(row)
        record = found.record
        if type_code and record.type_code != type_code:
            continue
        decision = rules.decide(
            holder_id=record.holder_row_id,
            type_code=record.type_code,
            permitted=found.permitted,
            may_consent=found.may_consent,
        )
        if decision.allowed:
            visible.append(record)
            bases.add(decision.basis or "")
    return visible, bases


#: A search that found licenses on several grounds names the holder's own decision first.
_SEARCH_BASIS_ORDER = ("share_code", "consent", "standing_permission")


def _search_basis(bases: set[str]) -> str | None:
    """The basis a search's access-log row shows: of the licenses it found (none: None)."""
    return next((basis for basis in _SEARCH_BASIS_ORDER if basis in bases), None)


def holder_license(*, session: Session, holder: Holder, public_id: str) -> License:
    """One of the holder's own licenses, by its public id; another holder's is "not found"."""
    license = session.scalars(
        select(License).where(
            License.public_id == public_id,
            License.holder_id == holder.id,
            License.holder_blind_index == holder.blind_index,  # the holder's partition only
        )
    ).one_or_none()
    if license is None:
        raise NotFound("no such license")
    return license


@dataclass(frozen=True)
class LogLine:
    """One access-log row with what a holder is shown of it: the department's name and the
    license's (or material's) public id."""

    event: AccessEvent
    department: str | None
    license_public_id: str | None
    material_public_id: str | None = None


def access_log(
    *,
    session: Session,
    holder_id: int,
    limit: int = 100,
    offset: int = 0,
    license_public_id: str | None = None,
    department_id: int | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> list[LogLine]:
    """The holder's access log, newest first, with each department's name.

    Optional filters: one license (by public id), one department, ``since <= at < until``.
    """
    query = (
        select(AccessEvent, Department.name, License.public_id, Material.public_id)
        .outerjoin(Department, AccessEvent.department_id == Department.id)
        .outerjoin(License, AccessEvent.license_id == License.id)
        .outerjoin(Material, AccessEvent.material_id == Material.id)
        .where(AccessEvent.holder_id == holder_id)
    )
    if license_public_id is not None:
        query = query.where(License.public_id == license_public_id)
    if department_id is not None:
        query = query.where(AccessEvent.department_id == department_id)
    if since is not None:
        query = query.where(AccessEvent.at >= since)
    if until is not None:
        query = query.where(AccessEvent.at < until)
    rows = session.execute(
        query.order_by(AccessEvent.at.desc(), AccessEvent.id.desc()).limit(limit).offset(offset)
    ).all()
    return [
        LogLine(event, name, license_id, material_id)
        for event, name, license_id, material_id in rows
    ]


@dataclass(frozen=True)
class Original:
    """The holder's original e-certificate: the file (PDF or OFD) as the issuer sealed it."""

    license: License
    data: bytes
    file_format: FileFormat

    @property
    def media_type(self) -> str:
        """``application/pdf`` or ``application/ofd``."""
        return MEDIA_TYPES[self.file_format]

    @property
    def file_name(self) -> str:
        """``license-<public id>.pdf`` or ``.ofd``: no holder data in it."""
        return f"license-{self.license.public_id}.{EXTENSIONS[self.file_format]}"


def download_original(
    *, session: Session, blobs: BlobStore, holder: Holder, public_id: str
) -> Original:
    """The current version's sealed file of one of the holder's licenses (by its public id);
    logged (the edge commits)."""
    license = holder_license(session=session, holder=holder, public_id=public_id)
    version = current_version(session, license)
    data = blobs.get(served_blob(session, version))  # with its archive renewals, if any
    record_own_download(session, holder, license_id=license.id)
    return Original(license, data, FileFormat(version.file_format))


def record_own_download(
    session: Session,
    holder: Holder,
    *,
    license_id: int | None = None,
    material_id: int | None = None,
) -> None:
    """Log that the holder downloaded one of its own files (a license or a material)."""
    record_event(
        session=session,
        action="download",
        outcome="allowed",
        actor="holder",
        holder_id=holder.id,
        basis="owner",
        license_id=license_id,
        material_id=material_id,
    )
