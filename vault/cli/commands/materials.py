"""``evault materials``: the material catalogue (材料目录) and who may reuse which type.

A receiving window is a department with the scope ``materials:deposit``
(``evault dept add NAME --credit-code CODE --roles user --scopes materials:deposit``).
"""

from __future__ import annotations

from typing import Any

import typer

from vault.cli.output import EXIT_USAGE, fail, print_json
from vault.cli.scope import vault_session

__all__ = ["app"]


app = typer.Typer(help="The material catalogue (材料目录) and reuse permissions.")


@app.command("add-type")
def add_type(
    code: str = typer.Argument(..., help="the material's code, e.g. SFZ"),
    name: str = typer.Argument(..., help="材料名称, e.g. 居民身份证"),
    holder_kind: list[str] = typer.Option(
        ..., "--holder-kind", help="111 (persons) or 001 (companies); repeat for both"
    ),
    months: int | None = typer.Option(
        None,
        "--months",
        help="usable for this many months after the clerk's check "
        "(default: until the date given with each deposit, e.g. a card's expiry)",
    ),
) -> None:
    """Add a material type to the catalogue."""
    from vault.errors import VaultError
    from vault.services.material_catalog import add_material_type

    try:
        with vault_session() as session:
            add_material_type(
                session=session,
                code=code,
                name=name,
                holder_kinds=holder_kind,
                validity_months=months,
            )
    except VaultError as exc:
        fail(str(exc))
    until = f"{months} months after the check" if months else "the document's own date"
    typer.echo(f"material type {code.strip()} {name.strip()} added (usable until {until})")


@app.command("permit")
def permit(
    code: str = typer.Argument(..., help="the material type's code"),
    department: str = typer.Argument(..., help="the using department's 统一社会信用代码"),
) -> None:
    """Let a using department reuse holders' materials of this type without consent."""
    from vault.errors import VaultError
    from vault.services import catalog
    from vault.services.material_catalog import grant_material_permission

    try:
        with vault_session() as session:
            found = catalog.find_department_by_code(session=session, credit_code=department)
            if found is None:
                fail(f"no department with 统一社会信用代码 {department}", EXIT_USAGE)
            grant_material_permission(session=session, department_id=found.id, code=code)
    except VaultError as exc:
        fail(str(exc))
    typer.echo(f"{department} may reuse {code} materials in its cases")


@app.command("types")
def types(as_json: bool = typer.Option(False, "--json", help="print JSON")) -> None:
    """List the material catalogue."""
    from vault.errors import VaultError
    from vault.services.material_catalog import list_material_types

    try:
        with vault_session() as session:
            rows: list[dict[str, Any]] = [
                {
                    "code": t.code,
                    "name": t.name,
                    "holder_kinds": list(t.holder_kinds),
                    "validity": t.validity,
                    "validity_months": t.validity_months,
                }
                for t in list_material_types(session=session)
            ]
    except VaultError as exc:
        fail(str(exc))
    if as_json:
        print_json(rows)
        return
    for row in rows:
        months = row["validity_months"]
        until = f"{months} months" if months else "document's date"
        kinds = ",".join(row["holder_kinds"])
        typer.echo(f"{row['code']}\t{row['name']}\t{kinds}\t{until}")
