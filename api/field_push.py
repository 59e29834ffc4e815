"""The ``fields`` part of a license push: a JSON object of strings, checked against the
license type's declared fields before anything is stored (422 naming the field)."""

from __future__ import annotations

import json
from typing import Any

from fastapi.exceptions import RequestValidationError
from sqlalchemy.orm import Session

from vault.services.field_catalog import FieldValueError, check_values_of_type

__all__ = ["check_pushed_fields", "parse_field_values"]

_MAX_PART = 64 * 1024


def _invalid(loc: tuple[str, ...], message: str, kind: str = "value_error") -> Exception:
    return RequestValidationError(
        [{"type": kind, "loc": ("body", "fields", *loc), "msg": message, "input": None}]
    )


def parse_field_values(text: str | None) -> dict[str, Any] | None:
    """The part's object, or None when the part was not sent; 422 for anything else."""
    if text is None:
        return None
    if len(text) > _MAX_PART:
        raise _invalid((), "the fields part is larger than 64 KiB")
    try:
        loaded = json.loads(text)
    except ValueError:
        raise _invalid((), "the fields part is not JSON", "json_invalid") from None
    if not isinstance(loaded, dict):
        raise _invalid((), "the fields part must be a JSON object")
    return loaded


def check_pushed_fields(session: Session, type_code: str, values: dict[str, Any]) -> None:
    """Refuse (422, the field named in ``loc`` and ``detail``) values that do not fit the
    type's declaration; an unknown type is left to intake, which refuses it."""
    try:
        check_values_of_type(session, type_code, values)
    except FieldValueError as exc:
        raise _invalid((exc.field,), f"field {exc.field}: {exc.reason}") from None
