"""A new vault holding one license that the housing department may copy."""

from __future__ import annotations

from vault.bootstrap import open_vault
from vault.migrations import upgrade
from vault.services import catalog
from vault.services.credentials import set_scopes
from vault.services.intake import ingest
from vault.settings import Settings

__all__ = ["copyable_license"]


def copyable_license(settings: Settings) -> tuple[str, int]:
    """Migrate the database of ``settings``, push ``license_pdf(1)`` and let 住房和城乡建设局
    copy it (standing permission, scope ``licenses:use``); the license's public id and the
    department's id."""
    from tests.vault.licenses import CITIZEN_TYPE, license_pdf, make_catalog, metadata, verifier

    upgrade(settings.resolved_database_url)
    vault = open_vault(settings, verifier=verifier(), upgrade=False)
    try:
        with vault.session() as session:
            cat = make_catalog(session)
            license_type = catalog.get_license_type(session=session, code=CITIZEN_TYPE)
            catalog.grant_standing_permission(
                session=session, department_id=cat.housing, license_type_id=license_type.id
            )
            set_scopes(session=session, department_id=cat.housing, scopes=["licenses:use"])
            session.commit()
            license_id = ingest(
                session=session,
                blobs=vault.blobs,
                verifier=verifier(),
                crypto=vault.crypto,
                metadata=metadata(1),
                pdf=license_pdf(1),
                pushed_by_department_id=cat.market,
            ).license.public_id
    finally:
        vault.close()
    return license_id, cat.housing
