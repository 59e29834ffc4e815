"""The setup many tests share: the test catalogue, one license that 市场监督管理局 pushes
through the real intake, and 住房和城乡建设局's standing permission to use licenses of its
type."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from vault.services import catalog
from vault.services.intake import ingest

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from tests.vault.licenses import Catalog
    from vault.blobs import BlobStore
    from vault.crypto import HolderCrypto
    from vault.models import License

__all__ = ["PermittedLicense", "push_permitted_license"]


@dataclass(frozen=True)
class PermittedLicense:
    catalog: Catalog
    """The test catalogue's department ids (``housing`` is the permitted one)."""
    license: License
    """The pushed license (``license_pdf(n)`` with ``metadata(n)``)."""


def push_permitted_license(
    session: Session, *, blobs: BlobStore, crypto: HolderCrypto, n: int = 1
) -> PermittedLicense:
    """Make the test catalogue, let 住房和城乡建设局 use licenses of the citizen type, push
    ``license_pdf(n)`` as 市场监督管理局; all committed (the test is the edge)."""
    from tests.vault.licenses import CITIZEN_TYPE, license_pdf, make_catalog, metadata, verifier

    cat = make_catalog(session)
    license_type = catalog.get_license_type(session=session, code=CITIZEN_TYPE)
    catalog.grant_standing_permission(
        session=session, department_id=cat.housing, license_type_id=license_type.id
    )
    session.commit()  # the intake ends the open transaction before it verifies
    pushed = ingest(
        session=session,
        blobs=blobs,
        verifier=verifier(),
        crypto=crypto,
        metadata=metadata(n),
        pdf=license_pdf(n),
        pushed_by_department_id=cat.market,
    )
    session.commit()
    return PermittedLicense(cat, pushed.license)
