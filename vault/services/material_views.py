"""Materials (电子材料) as ready views: what the API and the portal show of one.

The routes and pages render these instead of reading the tables; the rules stay in
:mod:`vault.services.material_use`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from vault.db.base import utcnow
from vault.models import Department, Holder, Material
from vault.services.material_use import (
    MaterialUse,
    list_holder_materials,
    material_state,
    material_uses,
)

__all__ = ["MaterialCard", "MaterialView", "material_cards", "material_views"]


@dataclass(frozen=True)
class MaterialView:
    """What a holder, or a department allowed to use it, is shown of a material.

    ``state`` is ``usable``, ``expired``, ``superseded`` or ``withdrawn`` at the time the
    view was made.
    """

    id: str
    type_code: str
    type_name: str
    media_type: str
    state: str
    usable_until: dt.date
    department: str
    clerk: str
    checked_at: dt.datetime
    purpose: str
    case_no: str
    sha256: str
    source_sha256: str
    deposited_at: dt.datetime


@dataclass(frozen=True)
class MaterialCard:
    """One of a holder's materials with every use of it, newest first (the portal)."""

    material: MaterialView
    uses: list[MaterialUse]


def material_views(
    *, session: Session, materials: Iterable[Material], now: dt.datetime | None = None
) -> list[MaterialView]:
    """Views of ``materials`` (as the material services return them), in their order."""
    rows = list(materials)
    now = now or utcnow()
    wanted = sorted({m.department_id for m in rows})
    names: dict[int, str] = {}
    if wanted:
        query = select(Department.id, Department.name).where(Department.id.in_(wanted))
        names = {row.id: row.name for row in session.execute(query)}
    return [
        MaterialView(
            id=m.public_id,
            type_code=m.material_type.code,
            type_name=m.material_type.name,
            media_type=m.media_type,
            state=material_state(m, now=now),
            usable_until=m.usable_until,
            department=names.get(m.department_id, ""),
            clerk=m.clerk,
            checked_at=m.checked_at,
            purpose=m.purpose,
            case_no=m.case_no,
            sha256=m.blob_sha256,
            source_sha256=m.source_sha256,
            deposited_at=m.created_at,
        )
        for m in rows
    ]


def material_cards(*, session: Session, holder: Holder | None) -> list[MaterialCard]:
    """Every material of ``holder`` (none when the vault holds nothing of theirs)."""
    if holder is None:
        return []
    materials = list_holder_materials(session=session, holder=holder)
    return [
        MaterialCard(view, material_uses(session=session, holder=holder, public_id=view.id))
        for view in material_views(session=session, materials=materials)
    ]
