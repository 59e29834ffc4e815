"""``evault fields``: structured license data ("一张表").

Declare the surface fields (照面信息) of a license type, let a using department read some
of them, and verify a department's signed field answer offline against the trust bundle
(``evault trust export --credential-key``).
"""

from __future__ import annotations

from pathlib import Path

import typer

from vault.cli.output import EXIT_USAGE, fail, print_json
from vault.cli.scope import vault_session

__all__ = ["app"]


def _verify(answer: Path, trust: Path, as_json: bool) -> None:
    from signing.credentials.fields import read_fields_token
    from signing.errors import CredentialError, TrustError
    from signing.trust import TrustBundle

    try:
        bundle = TrustBundle.load(trust)
    except TrustError as exc:
        fail(f"--trust {trust}: {exc}", EXIT_USAGE)
    if not bundle.credential_keys:
        fail(f"--trust {trust}: the bundle has no credential keys", EXIT_USAGE)
    try:
        text = answer.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"{answer}: {getattr(exc, 'strerror', None) or exc}", EXIT_USAGE)
    try:
        read = read_fields_token(text, trusted_keys=list(bundle.credential_keys))
    except CredentialError as exc:
        fail(f"NOT VALID: {exc}", 1)
    if as_json:
        print_json({"valid": True, **read.claims()})
        return
    typer.echo(
        f"VALID  license {read.license_id} (type {read.type_code}) for {read.department},\n"
        f"  case {read.case_no}: {read.purpose}; license status {read.status}"
    )
    for name, value in sorted(read.fields.items()):
        typer.echo(f"  {name}: {value}")


def _list(type_code: str, as_json: bool) -> None:
    from vault.errors import VaultError
    from vault.services.field_catalog import describe_fields

    try:
        with vault_session() as session:
            rows = describe_fields(session=session, type_code=type_code)
    except VaultError as exc:
        fail(str(exc))
    if as_json:
        print_json(rows)
        return
    for row in rows:
        limit = f" max {row['max_length']}" if row["max_length"] else ""
        choices = f" {'/'.join(row['choices'])}" if row["choices"] else ""
        required = " required" if row["required"] else ""
        readers = ", ".join(row["departments"]) or "-"
        typer.echo(
            f"{row['name']}  {row['label']}  {row['kind']}{limit}{choices}{required}"
            f"  read by: {readers}"
        )


app = typer.Typer(help="License types' surface fields (照面信息, 一张表).")


@app.command("declare")
def declare(
    type_code: str = typer.Argument(..., help="the license type's 证照类型代码"),
    name: str = typer.Argument(..., help="the field's name, e.g. birth_date"),
    label: str = typer.Option(..., "--label", help="its label, e.g. 出生日期"),
    kind: str = typer.Option(..., "--kind", help="string, date, enum or id_number"),
    max_length: int | None = typer.Option(None, "--max-length", help="string: max length"),
    choice: list[str] = typer.Option([], "--choice", help="enum: an allowed value (repeat)"),
    required: bool = typer.Option(False, "--required", help="every push must carry it"),
) -> None:
    """Declare (or change) one surface field of a license type."""
    from vault.errors import VaultError
    from vault.services.field_catalog import declare_field

    try:
        with vault_session() as session:
            declare_field(
                session=session,
                type_code=type_code,
                name=name,
                label=label,
                kind=kind,
                max_length=max_length,
                choices=choice,
                required=required,
            )
    except VaultError as exc:
        fail(str(exc))
    typer.echo(f"{type_code} field {name} ({kind}) declared")


@app.command("permit")
def permit(
    type_code: str = typer.Argument(..., help="the license type's 证照类型代码"),
    department: str = typer.Argument(..., help="the using department's 统一社会信用代码"),
    field: list[str] = typer.Argument(..., help="the fields it may read"),
) -> None:
    """Let a using department read these fields of licenses of this type (in a case)."""
    from vault.errors import VaultError
    from vault.services import catalog
    from vault.services.field_catalog import permit_fields

    try:
        with vault_session() as session:
            found = catalog.find_department_by_code(session=session, credit_code=department)
            if found is None:
                fail(f"no department with 统一社会信用代码 {department}", EXIT_USAGE)
            names = permit_fields(
                session=session, department_id=found.id, type_code=type_code, names=field
            )
    except VaultError as exc:
        fail(str(exc))
    typer.echo(f"{department} may read {', '.join(names)} of {type_code} licenses")


@app.command("list")
def list_fields(
    type_code: str = typer.Argument(..., help="the license type's 证照类型代码"),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """The fields a license type declares, and which departments may read each."""
    _list(type_code, as_json)


@app.command("verify")
def verify(
    answer: Path = typer.Argument(..., help="file holding the field answer (compact JWS)"),
    trust: Path = typer.Option(..., "--trust", help="pinned trust bundle (credential keys)"),
    as_json: bool = typer.Option(False, "--json", help="print the answer as JSON"),
) -> None:
    """Verify a signed field answer offline: exit 0 valid, 1 not valid, 2 usage."""
    _verify(answer, trust, as_json)
