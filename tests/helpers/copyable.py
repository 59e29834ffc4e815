"""A new vault holding one license that the housing department may copy."""

from __future__ import annotations

from tests.helpers.permitted import push_permitted_license
from vault.bootstrap import open_vault
from vault.migrations import upgrade
from vault.services.credentials import set_scopes
from vault.settings import Settings

__all__ = ["copyable_license"]


def copyable_license(settings: Settings) -> tuple[str, int]:
    """Migrate the database of ``settings``, push ``license_pdf(1)`` and let 住房和城乡建设局
    copy it (standing permission, scope ``licenses:use``); the license's public id and the
    department's id."""
    from tests.vault.licenses import verifier

    upgrade(settings.resolved_database_url)
    vault = open_vault(settings, verifier=verifier(), upgrade=False)
    try:
        with vault.session() as session:
            pushed = push_permitted_license(session, blobs=vault.blobs, crypto=vault.crypto)
            set_scopes(
                session=session, department_id=pushed.catalog.housing, scopes=["licenses:use"]
            )
            session.commit()
    finally:
        vault.close()
    return pushed.license.public_id, pushed.catalog.housing
