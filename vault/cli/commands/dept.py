"""``evault dept``: register using and issuing departments and give them API credentials.

``evault dept add NAME --credit-code CODE --roles issuer,user --scopes licenses:use`` prints
the client id and secret once; only an argon2 hash of the secret is kept.
"""

from __future__ import annotations

import typer

from vault.cli.output import EXIT_USAGE, fail, print_json
from vault.cli.scope import vault_session

__all__ = ["app"]

_ROLES = ("issuer", "user")
_DEFAULT_SCOPES = {"issuer": "licenses:issue", "user": "licenses:use"}


def _split(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


app = typer.Typer(help="Departments (发证部门, 用证部门) and their API credentials.")


@app.command("add")
def add(
    name: str = typer.Argument(..., help="the department's name, e.g. 福州市市场监督管理局"),
    credit_code: str = typer.Option(..., "--credit-code", help="its 统一社会信用代码"),
    roles: str = typer.Option("user", "--roles", help="issuer, user or issuer,user"),
    scopes: str | None = typer.Option(
        None,
        "--scopes",
        help="licenses:issue, licenses:use, audit:read, materials:deposit "
        "(default: from the roles)",
    ),
    permit: list[str] = typer.Option(
        [], "--permit", help="证照类型代码 it may use without consent (用证目录); repeat"
    ),
    as_json: bool = typer.Option(False, "--json", help="print JSON for machines"),
) -> None:
    """Register a department and print its client id and secret (shown only once)."""
    from vault.errors import VaultError
    from vault.services import catalog
    from vault.services.credentials import issue_credentials

    wanted_roles = _split(roles)
    bad = [r for r in wanted_roles if r not in _ROLES]
    if bad or not wanted_roles:
        fail(f"--roles must be issuer, user or issuer,user (got {roles!r})", EXIT_USAGE)
    wanted_scopes = (
        _split(scopes) if scopes is not None else [_DEFAULT_SCOPES[r] for r in wanted_roles]
    )
    try:
        with vault_session() as session:
            department = catalog.create_department(
                session=session,
                name=name,
                credit_code=credit_code,
                issuer="issuer" in wanted_roles,
                user="user" in wanted_roles,
            )
            for code in permit:
                license_type = catalog.get_license_type(session=session, code=code)
                catalog.grant_standing_permission(
                    session=session,
                    department_id=department.id,
                    license_type_id=license_type.id,
                )
            creds = issue_credentials(
                session=session, department_id=department.id, scopes=wanted_scopes
            )
    except VaultError as exc:
        fail(str(exc))
    if as_json:
        print_json(
            {
                "department_id": creds.department_id,
                "client_id": creds.client_id,
                "client_secret": creds.client_secret,
                "scopes": list(creds.scopes),
            }
        )
        return
    typer.echo(f"department {name} registered (id {creds.department_id})")
    typer.echo(f"client_id:     {creds.client_id}")
    typer.echo(f"client_secret: {creds.client_secret}")
    typer.echo(f"scopes:        {' '.join(creds.scopes)}")
    typer.echo("The secret is shown only now; evault keeps only its hash.")


@app.command("credentials")
def credentials(
    credit_code: str = typer.Argument(..., help="the department's 统一社会信用代码"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Issue new client credentials (the old secret stops working)."""
    from vault.errors import VaultError
    from vault.services import catalog
    from vault.services.credentials import issue_credentials

    try:
        with vault_session() as session:
            department = catalog.find_department_by_code(session=session, credit_code=credit_code)
            if department is None:
                fail(f"no department with 统一社会信用代码 {credit_code}")
            creds = issue_credentials(session=session, department_id=department.id)
    except VaultError as exc:
        fail(str(exc))
    if as_json:
        print_json({"client_id": creds.client_id, "client_secret": creds.client_secret})
        return
    typer.echo(f"client_id:     {creds.client_id}")
    typer.echo(f"client_secret: {creds.client_secret}")
