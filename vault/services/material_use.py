"""Reusing deposited materials (电子材料): departments in their cases, and their holders.

A using department, inside one of its cases (``purpose`` and ``case_no``), finds a holder's
usable materials of the types its procedure needs and fetches them, under the rules that
govern licenses (:mod:`vault.services.access`): a standing permission for the material's
type (:class:`vault.models.MaterialPermission`), or the holder's consent — an active grant
to the department that lists no license types (it covers everything of the holder's) and,
when it names a purpose, for that purpose, within its number of cases.

A material is *usable* while it is its holder's current one of its type (not superseded,
not withdrawn) and its ``usable_until`` day (in China) has not passed. Nothing else is
served. Every decision, allowed or refused, is an access-log row (``material_search``,
``material_read``) with its transparency-log leaf, committed before the answer; a refusal
never says whether the holder or the material exists (:data:`DENIED`), while the holder's
own log says why (withdrawn, expired, superseded, no permission or consent).

Holders list their materials (any state), withdraw one (``material_withdraw``: no longer
served), download one, and see every use of each.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import Session

from schemas.errors import InvalidValue
from schemas.identifiers import HolderIdType, parse_holder_id
from vault.blobs.base import BlobStore
from vault.crypto import HolderCrypto
from vault.db.base import utcnow
from vault.errors import InvalidInput, NotFound, PermissionDenied
from vault.log.access_log import EventValues, UseContext, record_and_commit, record_event
from vault.models import AccessEvent, Department, Holder, Material, MaterialPermission
from vault.services.access import DENIED, _Rules, record_own_download
from vault.services.materials import china_today

__all__ = [
    "FetchedMaterial",
    "MaterialDecision",
    "MaterialUse",
    "authorize_material",
    "fetch_material_for_department",
    "holder_material",
    "holder_material_pdf",
    "list_holder_materials",
    "material_state",
    "material_uses",
    "search_materials_for_department",
    "withdraw_material",
]

#: What a grant's ``license_types`` must be to cover materials: empty, i.e. every type.
_MATERIAL_GRANT_TYPE = "*material*"


def material_state(material: Material, *, now: dt.datetime) -> str:
    """``usable``, ``expired``, ``superseded`` or ``withdrawn``."""
    if material.state != "current":
        return material.state
    return "usable" if material.usable_until >= china_today(now) else "expired"


def _event(
    action: str,
    department_id: int,
    use: UseContext,
    now: dt.datetime,
    *,
    allowed: bool,
    holder_id: int | None = None,
    material_id: int | None = None,
    basis: str | None = None,
    grant_id: int | None = None,
    reason: str | None = None,
) -> EventValues:
    return EventValues(
        action=action,
        outcome="allowed" if allowed else "denied",
        actor="department",
        at=now,
        holder_id=holder_id,
        department_id=department_id,
        basis=basis,
        grant_id=grant_id,
        use=use,
        reason=reason,
        material_id=material_id,
    )


def _with_permission(department_id: int) -> ColumnElement[bool]:
    return and_(
        MaterialPermission.department_id == department_id,
        MaterialPermission.material_type_id == Material.material_type_id,
    )


def search_materials_for_department(
    *,
    session: Session,
    crypto: HolderCrypto,
    department_id: int,
    holder_id: str,
    holder_id_type: HolderIdType | None,
    use: UseContext,
    type_codes: Sequence[str] = (),
    now: dt.datetime | None = None,
) -> list[Material]:
    """The holder's usable materials (of ``type_codes``; empty: any) this department may use
    in this case; logged and committed. Nothing visible: :class:`PermissionDenied`."""
    now = now or utcnow()
    try:
        parsed = parse_holder_id(holder_id, holder_id_type)
    except InvalidValue as exc:
        if holder_id_type is None:
            raise InvalidInput(str(exc)) from None
        # A valid number of the other kind: no holder of the kind asked for, refused like
        # any holder that is not there (as a license search).
        refusal = _event(
            "material_search", department_id, use, now, allowed=False, reason="no such holder"
        )
        record_and_commit(session, refusal)
        raise PermissionDenied(DENIED) from None
    indexes = list(crypto.blind_indexes(parsed.id_type.value, str(parsed)))
    holder_row = session.scalar(select(Holder.id).where(Holder.blind_index.in_(indexes)))
    visible: list[Material] = []
    bases: set[str] = set()
    if holder_row is not None:
        rules = _Rules(session, department_id=department_id, use=use, now=now)
        visible, bases = _allowed_materials(
            session, rules, holder_row, department_id, type_codes, now
        )
    reason = (
        f"{len(visible)} material(s)"
        if visible
        else "nothing visible"
        if holder_row is not None
        else "no such holder"
    )
    basis = next((b for b in ("consent", "standing_permission") if b in bases), None)
    record_and_commit(
        session,
        _event(
            "material_search",
            department_id,
            use,
            now,
            allowed=bool(visible),
            holder_id=holder_row,
            basis=basis,
            reason=reason,
        ),
    )
    if not visible:
        raise PermissionDenied(DENIED)
    return visible


def _allowed_materials(
    session: Session,
    rules: _Rules,
    holder_row: int,
    department_id: int,
    type_codes: Sequence[str],
    now: dt.datetime,
) -> tuple[list[Material], set[str]]:
    """The holder's usable materials of ``type_codes`` the rules allow, and the bases."""
    rows = session.execute(
        select(Material, MaterialPermission.material_type_id)
        .outerjoin(MaterialPermission, _with_permission(department_id))
        .where(Material.holder_id == holder_row, Material.state == "current")
        .order_by(Material.id)
    ).all()
    visible: list[Material] = []
    bases: set[str] = set()
    for material, permission in rows:
        if type_codes and material.material_type.code not in type_codes:
            continue
        if material_state(material, now=now) != "usable":
            continue
        decision = rules.decide(
            holder_id=material.holder_id,
            type_code=_MATERIAL_GRANT_TYPE,
            permitted=permission is not None,
        )
        if decision.allowed:
            visible.append(material)
            bases.add(decision.basis or "")
    return visible, bases


@dataclass(frozen=True)
class FetchedMaterial:
    material: Material
    pdf: bytes


@dataclass(frozen=True)
class MaterialDecision:
    """A department's allowed use of a material in a case, and on what basis."""

    material: Material
    basis: str | None


def authorize_material(
    *,
    session: Session,
    department_id: int,
    public_id: str,
    use: UseContext,
    action: str,
    record_allowed: bool = True,
    now: dt.datetime | None = None,
) -> MaterialDecision:
    """May the department use this material in this case (usable, and a standing permission
    for its type or the holder's consent)? The decision is logged (``action``; an allowed one
    only with ``record_allowed``, for a caller that logs its own act) and committed first.
    Not usable, unknown or not allowed: :class:`PermissionDenied`."""
    now = now or utcnow()
    row = session.execute(
        select(Material, MaterialPermission.material_type_id)
        .outerjoin(MaterialPermission, _with_permission(department_id))
        .where(Material.public_id == public_id)
    ).one_or_none()
    if row is None:
        refusal = _event(action, department_id, use, now, allowed=False, reason="no such material")
        record_and_commit(session, refusal)
        raise PermissionDenied(DENIED)
    material, permission = row
    state = material_state(material, now=now)
    basis: str | None = None
    grant_id: int | None = None
    reason: str | None = f"material {state}"
    allowed = False
    if state == "usable":
        rules = _Rules(session, department_id=department_id, use=use, now=now)
        decision = rules.decide(
            holder_id=material.holder_id,
            type_code=_MATERIAL_GRANT_TYPE,
            permitted=permission is not None,
        )
        allowed, basis = decision.allowed, decision.basis
        grant_id, reason = decision.grant_id, decision.reason
    if allowed and not record_allowed:  # the caller's record commits the grant's use too
        return MaterialDecision(material, basis)
    event = _event(
        action,
        department_id,
        use,
        now,
        allowed=allowed,
        holder_id=material.holder_id,
        material_id=material.id,
        basis=basis,
        grant_id=grant_id,
        reason=reason,
    )
    record_and_commit(session, event)
    if not allowed:
        raise PermissionDenied(DENIED)
    return MaterialDecision(material, basis)


def fetch_material_for_department(
    *,
    session: Session,
    blobs: BlobStore,
    department_id: int,
    public_id: str,
    use: UseContext,
    now: dt.datetime | None = None,
) -> FetchedMaterial:
    """A department fetches one material (its sealed PDF) in a case: authorized, logged and
    committed first (:func:`authorize_material`)."""
    decided = authorize_material(
        session=session,
        department_id=department_id,
        public_id=public_id,
        use=use,
        action="material_read",
        now=now,
    )
    return FetchedMaterial(decided.material, blobs.get(decided.material.blob_sha256))


def list_holder_materials(*, session: Session, holder: Holder) -> Sequence[Material]:
    """All the holder's materials, newest first (every state)."""
    return session.scalars(
        select(Material)
        .where(Material.holder_id == holder.id, Material.holder_blind_index == holder.blind_index)
        .order_by(Material.created_at.desc(), Material.id.desc())
    ).all()


def holder_material(*, session: Session, holder: Holder, public_id: str) -> Material:
    """One of the holder's materials; another holder's is "not found"."""
    material = session.scalars(
        select(Material).where(
            Material.public_id == public_id,
            Material.holder_id == holder.id,
            Material.holder_blind_index == holder.blind_index,  # the holder's partition only
        )
    ).one_or_none()
    if material is None:
        raise NotFound("no such material")
    return material


def withdraw_material(
    *, session: Session, holder: Holder, public_id: str, now: dt.datetime | None = None
) -> Material:
    """The holder withdraws one of its materials: it is no longer served; logged (the edge
    commits).

    Withdrawing a withdrawn material again changes nothing and logs nothing.
    """
    now = now or utcnow()
    material = holder_material(session=session, holder=holder, public_id=public_id)
    if material.state == "withdrawn":
        return material
    material.state = "withdrawn"
    material.state_changed_at = now
    record_event(
        session=session,
        action="material_withdraw",
        outcome="allowed",
        actor="holder",
        holder_id=holder.id,
        basis="owner",
        material_id=material.id,
        now=now,
    )
    return material


def holder_material_pdf(
    *, session: Session, blobs: BlobStore, holder: Holder, public_id: str
) -> FetchedMaterial:
    """The holder downloads one of its own materials (any state); logged (the edge commits)."""
    material = holder_material(session=session, holder=holder, public_id=public_id)
    record_own_download(session, holder, material_id=material.id)
    return FetchedMaterial(material, blobs.get(material.blob_sha256))


@dataclass(frozen=True)
class MaterialUse:
    """One access-log row about a material, with the department's name."""

    event: AccessEvent
    department: str | None


def material_uses(
    *, session: Session, holder: Holder, public_id: str, limit: int = 100, offset: int = 0
) -> list[MaterialUse]:
    """Every logged event about one of the holder's materials, newest first."""
    material = holder_material(session=session, holder=holder, public_id=public_id)
    rows = session.execute(
        select(AccessEvent, Department.name)
        .outerjoin(Department, AccessEvent.department_id == Department.id)
        .where(
            AccessEvent.holder_id == holder.id,
            AccessEvent.holder_blind_index == holder.blind_index,
            AccessEvent.material_id == material.id,
        )
        .order_by(AccessEvent.at.desc(), AccessEvent.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return [MaterialUse(event, name) for event, name in rows]
