"""``evault catalog``: license types, who issues them, departments' seal certificates.

Departments themselves are registered with ``evault dept add``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from vault.cli.output import fail, print_json
from vault.cli.scope import vault_session

__all__ = ["app"]


app = typer.Typer(help="License types (证照类型), issuers and seal certificates.")


@app.command("add-type")
def add_type(
    code: str = typer.Argument(..., help="证照类型代码 (21 characters)"),
    name: str = typer.Argument(..., help="证照名称, e.g. 食品经营许可证"),
    holder_kind: str = typer.Option(
        ..., "--holder-kind", help="111 (公民身份号码) or 001 (统一社会信用代码)"
    ),
    issuer: list[str] = typer.Option(
        [], "--issuer", help="统一社会信用代码 of an issuing department; repeat"
    ),
) -> None:
    """Register a license type and the departments that issue it."""
    from vault.errors import VaultError
    from vault.services import catalog

    try:
        with vault_session() as session:
            ids = [_department_id(session, c) for c in issuer]
            catalog.create_license_type(
                session=session,
                code=code,
                name=name,
                holder_kind=holder_kind,
                issuer_department_ids=ids,
            )
    except VaultError as exc:
        fail(str(exc))
    typer.echo(f"license type {code} {name} registered")


@app.command("add-issuer")
def add_issuer(
    code: str = typer.Argument(..., help="证照类型代码"),
    department: str = typer.Argument(..., help="the department's 统一社会信用代码"),
) -> None:
    """Let an issuing department push licenses of this type."""
    from vault.errors import VaultError
    from vault.services import catalog

    try:
        with vault_session() as session:
            license_type = catalog.get_license_type(session=session, code=code)
            catalog.register_issuer(
                session=session,
                license_type_id=license_type.id,
                department_id=_department_id(session, department),
            )
    except VaultError as exc:
        fail(str(exc))
    typer.echo(f"{department} may issue {code}")


@app.command("add-seal")
def add_seal(
    department: str = typer.Argument(..., help="the department's 统一社会信用代码"),
    certificate: Path = typer.Argument(..., help="its seal certificate (PEM or DER)"),
) -> None:
    """Register a seal certificate (by SHA-256 fingerprint) as the department's."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    from vault.errors import VaultError
    from vault.services import catalog

    try:
        raw = certificate.read_bytes()
        cert = (
            x509.load_pem_x509_certificate(raw)
            if b"-----BEGIN" in raw
            else x509.load_der_x509_certificate(raw)
        )
    except (OSError, ValueError) as exc:
        fail(f"cannot read certificate {certificate}: {exc}")
    fingerprint = cert.fingerprint(hashes.SHA256()).hex()
    try:
        with vault_session() as session:
            catalog.add_seal_certificate(
                session=session,
                department_id=_department_id(session, department),
                fingerprint=fingerprint,
                label=cert.subject.rfc4514_string()[:200],
            )
    except VaultError as exc:
        fail(str(exc))
    typer.echo(f"seal certificate {fingerprint} registered to {department}")


@app.command("list")
def list_(as_json: bool = typer.Option(False, "--json")) -> None:
    """Show departments and license types with their issuers."""
    from sqlalchemy import select

    from vault.errors import VaultError
    from vault.models import LicenseTypeIssuer
    from vault.services import catalog

    try:
        with vault_session() as session:
            departments = catalog.list_departments(session=session)
            names = {d.id: d.credit_code for d in departments}
            links = session.execute(
                select(LicenseTypeIssuer.license_type_id, LicenseTypeIssuer.department_id)
            ).all()
            data: dict[str, list[dict[str, Any]]] = {
                "departments": [
                    {
                        "id": d.id,
                        "name": d.name,
                        "credit_code": d.credit_code,
                        "issuer": d.is_issuer,
                        "user": d.is_user,
                        "seals": [c.fingerprint for c in d.seal_certificates],
                    }
                    for d in departments
                ],
                "license_types": [
                    {
                        "code": t.code,
                        "name": t.name,
                        "holder_kind": t.holder_kind,
                        "issuers": [names[d] for lt, d in links if lt == t.id],
                    }
                    for t in catalog.list_license_types(session=session)
                ],
            }
    except VaultError as exc:
        fail(str(exc))
    if as_json:
        print_json(data)
        return
    for d in data["departments"]:
        roles = ",".join(r for r in ("issuer", "user") if d[r])
        typer.echo(f"department {d['credit_code']} {d['name']} ({roles})")
    for t in data["license_types"]:
        issuers = ", ".join(t["issuers"]) or "no issuer"
        typer.echo(f"type {t['code']} {t['name']} holder {t['holder_kind']}: {issuers}")


def _department_id(session: object, credit_code: str) -> int:
    from sqlalchemy.orm import Session

    from vault.errors import NotFound
    from vault.services import catalog

    assert isinstance(session, Session)
    department = catalog.find_department_by_code(session=session, credit_code=credit_code)
    if department is None:
        raise NotFound(f"no department with 统一社会信用代码 {credit_code}")
    return department.id
