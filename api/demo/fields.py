"""The demo's structured license data ("一张表"): the surface fields its 居住证 and 营业执照
declare, the values each sample pushes (read off what its PDF prints), and 住房和城乡建设局's
field permission (name, sex and birth date of a 居住证, not the address or ID number)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

__all__ = ["DEMO_FIELD_PERMITS", "declare_demo_fields", "demo_field_values"]

# (name, label, kind, max length, choices, required)
_Field = tuple[str, str, str, int | None, tuple[str, ...], bool]
_RESIDENCE: tuple[_Field, ...] = (
    ("holder_name", "姓名", "string", 50, (), True),
    ("sex", "性别", "enum", None, ("男", "女"), True),
    ("ethnicity", "民族", "string", 20, (), False),
    ("birth_date", "出生日期", "date", None, (), True),
    ("address", "居住地址", "string", 200, (), False),
    ("id_number", "公民身份号码", "id_number", None, (), True),
)
_BUSINESS: tuple[_Field, ...] = (
    ("company_name", "名称", "string", 200, (), True),
    ("credit_code", "统一社会信用代码", "id_number", None, (), True),
    ("company_type", "类型", "string", 100, (), False),
    ("legal_representative", "法定代表人", "string", 50, (), True),
    ("established", "成立日期", "date", None, (), False),
    ("address", "住所", "string", 200, (), False),
)
_BY_NAME = {"居住证": _RESIDENCE, "营业执照": _BUSINESS}
#: (using department's name without 福州市, type name, the fields it may read)
DEMO_FIELD_PERMITS = (("住房和城乡建设局", "居住证", ("holder_name", "sex", "birth_date")),)


def _iso(printed: str) -> str | None:
    found = re.match(r"^(\d{4})年(\d{2})月(\d{2})日", printed)
    if found is None:
        return None
    return dt.date(*(int(g) for g in found.groups())).isoformat()


def demo_field_values(
    type_name: str, holder: tuple[str, str, str], printed: dict[str, str]
) -> dict[str, str] | None:
    """The values a sample's issuer pushes with it (None for a type with no fields)."""
    name, number, _kind = holder
    if type_name == "居住证":
        values = {
            "holder_name": name,
            "sex": printed.get("性别"),
            "ethnicity": printed.get("民族"),
            "birth_date": _iso(printed.get("出生", "")),
            "address": printed.get("居住地址"),
            "id_number": number,
        }
    elif type_name == "营业执照":
        values = {
            "company_name": name,
            "credit_code": number,
            "company_type": printed.get("类型"),
            "legal_representative": printed.get("法定代表人"),
            "established": _iso(printed.get("成立日期", "")),
            "address": printed.get("住所"),
        }
    else:
        return None
    return {k: v for k, v in values.items() if v}


def declare_demo_fields(session: Any, types: dict[str, str], departments: dict[str, int]) -> None:
    """Declare the fields of the demo's types (code by name in ``types``) and the field
    permissions (department id by a part of its name in ``departments``)."""
    from vault.services.field_catalog import declare_field, permit_fields

    for type_name, fields in _BY_NAME.items():
        for name, label, kind, max_length, choices, required in fields:
            declare_field(
                session=session,
                type_code=types[type_name],
                name=name,
                label=label,
                kind=kind,
                max_length=max_length,
                choices=choices,
                required=required,
            )
    for department, type_name, names in DEMO_FIELD_PERMITS:
        permit_fields(
            session=session,
            department_id=departments[department],
            type_code=types[type_name],
            names=names,
        )
