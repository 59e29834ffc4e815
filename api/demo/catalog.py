"""The demo's departments (with their seals, scopes and credentials), license types,
standing permissions and declared fields.
"""

from __future__ import annotations

from typing import Any

from api.demo.fields import declare_demo_fields
from api.demo.samples import (
    DEPARTMENTS,
    LICENSE_TYPES,
)

__all__ = ["department_credentials", "ensure_catalog"]


def ensure_catalog(session: Any, pki: Any, ofd_seals: dict[str, str]) -> dict[str, int]:
    """The sample departments (with their seals), license types and standing permissions;
    each department's id by its credit code."""
    from cryptography.hazmat.primitives import hashes

    from vault.errors import NotFound
    from vault.services import catalog
    from vault.services.credentials import set_scopes

    ids: dict[str, int] = {}
    for (name, code), roles, scopes, _permits in DEPARTMENTS:
        department = catalog.find_department_by_code(session=session, credit_code=code)
        if department is None:
            department = catalog.create_department(
                session=session,
                name=name,
                credit_code=code,
                issuer="issuer" in roles,
                user="user" in roles,
            )
        ids[code] = department.id
        set_scopes(session=session, department_id=department.id, scopes=scopes)
        if "issuer" in roles:
            seal = pki.issuing_department_seal(code).certificate
            catalog.add_seal_certificate(
                session=session,
                department_id=department.id,
                fingerprint=seal.fingerprint(hashes.SHA256()).hex(),
                label="demo seal",
            )
            if code in ofd_seals:
                catalog.add_seal_certificate(
                    session=session,
                    department_id=department.id,
                    fingerprint=ofd_seals[code],
                    label="demo SM2 seal (OFD)",
                )
    for type_code, type_name, kind, (_, issuer_code) in LICENSE_TYPES:
        try:
            catalog.get_license_type(session=session, code=type_code)
        except NotFound:
            catalog.create_license_type(
                session=session,
                code=type_code,
                name=type_name,
                holder_kind=kind,
                issuer_department_ids=[ids[issuer_code]],
            )
    for (_, code), _roles, _scopes, permits in DEPARTMENTS:
        for type_code in permits:
            license_type = catalog.get_license_type(session=session, code=type_code)
            catalog.grant_standing_permission(
                session=session, department_id=ids[code], license_type_id=license_type.id
            )
    declare_demo_fields(
        session,
        {name: code for code, name, _kind, _issuer in LICENSE_TYPES},
        {name.removeprefix("福州市"): ids[code] for (name, code), *_ in DEPARTMENTS},
    )
    return ids


def department_credentials(
    session: Any, ids: dict[str, int], known: dict[Any, Any]
) -> list[dict[str, Any]]:
    """Each department's client id and secret: the ones of an earlier run, or new ones."""
    from vault.services import catalog
    from vault.services.credentials import issue_credentials

    out: list[dict[str, Any]] = []
    for (name, code), roles, scopes, permits in DEPARTMENTS:
        department = catalog.get_department(session=session, department_id=ids[code])
        old = known.get(code)
        if old and old.get("client_id") == department.oauth_client_id and old.get("client_secret"):
            client_id, secret = str(old["client_id"]), str(old["client_secret"])
        else:
            creds = issue_credentials(session=session, department_id=department.id)
            client_id, secret = creds.client_id, creds.client_secret
        out.append(
            {
                "name": name,
                "credit_code": code,
                "roles": list(roles),
                "scopes": list(scopes),
                "standing_permissions": list(permits),
                "client_id": client_id,
                "client_secret": secret,
            }
        )
    return out
