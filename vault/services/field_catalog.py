"""Declaring license types' surface fields (照面信息) and which of them a using department
may read, and checking pushed values against their declaration. Flushes, never commits."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from schemas.errors import InvalidValue
from schemas.identifiers import parse_holder_id
from vault.errors import ConflictError, InvalidInput, NotFound
from vault.models.catalog import Department, LicenseType
from vault.models.fields import FIELD_KINDS, FieldPermission, LicenseTypeField

__all__ = [
    "DeclaredField",
    "FieldValueError",
    "check_values",
    "check_values_of_type",
    "declare_field",
    "describe_fields",
    "fields_for_department",
    "fields_of_type",
    "permit_fields",
    "permitted_fields",
]

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_MAX_VALUE = 1000


class FieldValueError(InvalidInput):
    """A pushed field value does not fit its declaration (``field`` names it)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"field {field}: {message}")
        self.field = field
        self.reason = message


def _type(session: Session, code: str) -> LicenseType:
    found = session.scalars(select(LicenseType).where(LicenseType.code == code)).one_or_none()
    if found is None:
        raise NotFound(f"no license type {code}")
    return found


def declare_field(
    *,
    session: Session,
    type_code: str,
    name: str,
    label: str,
    kind: str,
    max_length: int | None = None,
    choices: Sequence[str] = (),
    required: bool = False,
) -> LicenseTypeField:
    """Declare (or redeclare) one surface field of a license type."""
    if not _NAME.match(name):
        raise InvalidInput(f"field name {name!r}: lowercase letters, digits and _ (max 64)")
    if kind not in FIELD_KINDS:
        raise InvalidInput(f"field kind {kind!r}: one of {', '.join(FIELD_KINDS)}")
    if not label.strip() or len(label) > 100:
        raise InvalidInput("a field label is 1 to 100 characters")
    if kind == "string" and not (max_length and 0 < max_length <= _MAX_VALUE):
        raise InvalidInput(f"a string field needs a max length from 1 to {_MAX_VALUE}")
    clean = [c.strip() for c in choices if c.strip()]
    if kind == "enum" and not clean:
        raise InvalidInput("an enum field needs its choices")
    license_type = _type(session, type_code)
    row = session.get(LicenseTypeField, (license_type.id, name)) or LicenseTypeField(
        license_type_id=license_type.id, name=name
    )
    row.label, row.kind, row.required = label.strip(), kind, required
    row.max_length = max_length if kind == "string" else None
    row.choices = "\n".join(clean) if kind == "enum" else None
    session.add(row)
    session.flush()
    return row


def fields_of_type(session: Session, license_type_id: int) -> dict[str, LicenseTypeField]:
    rows = session.scalars(
        select(LicenseTypeField).where(LicenseTypeField.license_type_id == license_type_id)
    )
    return {row.name: row for row in rows}


def permit_fields(
    *, session: Session, department_id: int, type_code: str, names: Iterable[str]
) -> list[str]:
    """Let a using department read these declared fields of a license type (idempotent)."""
    department = session.get(Department, department_id)
    if department is None:
        raise NotFound(f"no department {department_id}")
    if not department.is_user:
        raise ConflictError(f"department {department.name} is not registered as a user")
    license_type = _type(session, type_code)
    declared = fields_of_type(session, license_type.id)
    wanted = sorted(set(names))
    for name in wanted:
        if name not in declared:
            raise InvalidInput(f"license type {type_code} declares no field {name}")
        if session.get(FieldPermission, (department_id, license_type.id, name)) is None:
            session.add(
                FieldPermission(
                    department_id=department_id, license_type_id=license_type.id, field_name=name
                )
            )
    session.flush()
    return wanted


def describe_fields(*, session: Session, type_code: str) -> list[dict[str, Any]]:
    """A license type's fields as plain values, each with the credit codes of the
    departments that may read it."""
    license_type = _type(session, type_code)
    readers: dict[str, list[str]] = {}
    for name, code in session.execute(
        select(FieldPermission.field_name, Department.credit_code)
        .join(Department, Department.id == FieldPermission.department_id)
        .where(FieldPermission.license_type_id == license_type.id)
        .order_by(Department.credit_code)
    ):
        readers.setdefault(name, []).append(code)
    return [
        {
            "name": field.name,
            "label": field.label,
            "kind": field.kind,
            "max_length": field.max_length,
            "choices": (field.choices or "").split("\n") if field.choices else [],
            "required": field.required,
            "departments": readers.get(field.name, []),
        }
        for field in sorted(
            fields_of_type(session, license_type.id).values(), key=lambda f: (f.added_at, f.name)
        )
    ]


@dataclass(frozen=True)
class DeclaredField:
    """One surface field a license type declares, as a using department sees it."""

    name: str
    label: str
    kind: str
    max_length: int | None
    choices: tuple[str, ...]
    required: bool
    may_request: bool


def fields_for_department(
    *, session: Session, department_id: int, type_code: str
) -> list[DeclaredField]:
    """The fields ``type_code`` declares, in declaration order, each saying whether the
    department's field permission covers it (what it may ask for); no other department's
    permission is shown."""
    license_type = _type(session, type_code)
    allowed = permitted_fields(session, department_id, license_type.id)
    declared = sorted(
        fields_of_type(session, license_type.id).values(), key=lambda f: (f.added_at, f.name)
    )
    return [
        DeclaredField(
            name=f.name,
            label=f.label,
            kind=f.kind,
            max_length=f.max_length,
            choices=tuple(f.choices.split("\n")) if f.choices else (),
            required=f.required,
            may_request=f.name in allowed,
        )
        for f in declared
    ]


def permitted_fields(session: Session, department_id: int, license_type_id: int) -> set[str]:
    rows = session.scalars(
        select(FieldPermission.field_name).where(
            FieldPermission.department_id == department_id,
            FieldPermission.license_type_id == license_type_id,
        )
    )
    return set(rows)


def _check_one(field: LicenseTypeField, value: object) -> str:
    if not isinstance(value, str):
        raise FieldValueError(field.name, "must be a string")
    text = value.strip()
    if not text:
        raise FieldValueError(field.name, "is empty")
    if len(text) > (field.max_length or _MAX_VALUE):
        raise FieldValueError(field.name, f"longer than {field.max_length or _MAX_VALUE}")
    if field.kind == "date":
        try:
            return dt.date.fromisoformat(text).isoformat()
        except ValueError:
            raise FieldValueError(field.name, "is not a date (YYYY-MM-DD)") from None
    if field.kind == "enum" and text not in (field.choices or "").split("\n"):
        raise FieldValueError(field.name, f"is not one of {(field.choices or '').split()}")
    if field.kind == "id_number":
        try:
            return str(parse_holder_id(text))
        except InvalidValue as exc:
            raise FieldValueError(field.name, f"is not a valid ID number: {exc}") from None
    return text


def check_values(
    session: Session, license_type_id: int, values: Mapping[str, object]
) -> dict[str, str]:
    """The values, normalized, if each fits its declared field and none required is
    missing; else :class:`FieldValueError` naming the first field that does not fit."""
    declared = fields_of_type(session, license_type_id)
    for name in sorted(values):
        if name not in declared:
            raise FieldValueError(name, "is not a field of this license type")
    checked = {name: _check_one(declared[name], values[name]) for name in sorted(values)}
    for name, field in sorted(declared.items()):
        if field.required and name not in checked:
            raise FieldValueError(name, "is required")
    return checked


def check_values_of_type(session: Session, type_code: str, values: Mapping[str, object]) -> None:
    """:func:`check_values` for the license type ``type_code``; an unknown type passes (intake
    refuses it with its own answer)."""
    type_id = session.scalars(
        select(LicenseType.id).where(LicenseType.code == type_code)
    ).one_or_none()
    if type_id is not None:
        check_values(session, type_id, values)
