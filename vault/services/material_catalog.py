"""材料目录: the kinds of application material, and who may reuse which without consent.

Write functions add and flush; the caller commits (e.g. with ``session_scope``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from vault.errors import ConflictError, InvalidInput, NotFound
from vault.models import Department, MaterialPermission, MaterialType

__all__ = [
    "HOLDER_KINDS",
    "MATERIAL_CODE_PATTERN",
    "add_material_type",
    "get_material_type",
    "grant_material_permission",
    "list_material_types",
    "usable_until",
]

#: 持证主体代码类型代码: 111 persons (公民身份号码), 001 companies (统一社会信用代码).
HOLDER_KINDS = ("111", "001")
#: A material type's code: letters, digits, dot, dash, underscore; 1 to 40 characters.
MATERIAL_CODE_PATTERN = r"^[0-9A-Za-z._-]{1,40}$"
#: Longest fixed period a material may stay usable for.
MAX_VALIDITY_MONTHS = 120


def add_material_type(
    *,
    session: Session,
    code: str,
    name: str,
    holder_kinds: Iterable[str],
    validity_months: int | None,
) -> MaterialType:
    """Add a material type. ``validity_months=None``: usable until the date given with each
    deposit (a card's expiry); otherwise for that many months after the clerk's check."""
    code, name = code.strip(), name.strip()
    if not re.match(MATERIAL_CODE_PATTERN, code):
        raise InvalidInput(f"{code!r} is not a material code (1-40 letters, digits, . _ -)")
    if not name or len(name) > 100 or not name.isprintable():
        raise InvalidInput("a material type's name must be printable text of 1-100 characters")
    kinds = sorted(set(holder_kinds))
    if not kinds or any(kind not in HOLDER_KINDS for kind in kinds):
        raise InvalidInput("holder kinds must be among 111 (persons) and 001 (companies)")
    if validity_months is not None and not 1 <= validity_months <= MAX_VALIDITY_MONTHS:
        raise InvalidInput(f"validity must be 1 to {MAX_VALIDITY_MONTHS} months")
    if session.scalars(select(MaterialType.id).where(MaterialType.code == code)).first():
        raise ConflictError(f"material type {code} already exists")
    material_type = MaterialType(
        code=code,
        name=name,
        holder_kinds=kinds,
        validity="document" if validity_months is None else "period",
        validity_months=validity_months,
    )
    session.add(material_type)
    session.flush()
    return material_type


def get_material_type(*, session: Session, code: str) -> MaterialType:
    found = session.scalars(select(MaterialType).where(MaterialType.code == code)).one_or_none()
    if found is None:
        raise NotFound(f"no material type {code}")
    return found


def list_material_types(*, session: Session) -> Sequence[MaterialType]:
    return session.scalars(select(MaterialType).order_by(MaterialType.code)).all()


def grant_material_permission(
    *, session: Session, department_id: int, code: str
) -> MaterialPermission:
    """Let a using department reuse materials of this type within its cases (idempotent)."""
    department = session.get(Department, department_id)
    if department is None:
        raise NotFound(f"no department {department_id}")
    if not department.is_user:
        raise ConflictError(f"department {department.name} is not registered as a user")
    material_type = get_material_type(session=session, code=code)
    existing = session.get(MaterialPermission, (department_id, material_type.id))
    if existing is not None:
        return existing
    permission = MaterialPermission(department_id=department_id, material_type_id=material_type.id)
    session.add(permission)
    session.flush()
    return permission


def _add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus ``months`` calendar months (the 31st of a short month: its last day)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, candidate)
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has a 28th")  # pragma: no cover


def usable_until(
    material_type: MaterialType, *, checked_on: dt.date, document_valid_until: dt.date | None
) -> dt.date:
    """The last day (inclusive) a deposit of ``material_type`` checked on ``checked_on`` is
    usable: the document's own date, or the type's period, whichever ends first.

    A type usable until the document's date needs that date (:class:`InvalidInput`).
    """
    if material_type.validity == "document":
        if document_valid_until is None:
            raise InvalidInput(
                f"a {material_type.name} is usable until its own expiry date: give valid_until"
            )
        return document_valid_until
    assert material_type.validity_months is not None  # the table's check
    end = _add_months(checked_on, material_type.validity_months)
    return min(end, document_valid_until) if document_valid_until else end
