"""Vault results -> wire models that add what only the API knows (its URLs).

The views that are the vault's data as they are (licenses, copy status, grants) are built
by vault queries (``vault.services.views``) in their wire form (``schemas.views``).
"""

from __future__ import annotations

from api.models import CopyOut
from vault.services.copies import MadeCopy

__all__ = ["copy_out"]


def copy_out(made: MadeCopy, *, base_url: str) -> CopyOut:
    copy = made.copy
    base = base_url.rstrip("/")
    return CopyOut(
        id=copy.id,
        license_id=made.license_public_id,
        license_version=copy.license_version,
        purpose=copy.purpose,
        case_no=copy.case_no,
        made_at=copy.made_at,
        expires_at=copy.expires_at,
        reused=made.reused,
        verify_url=f"{base}/v/{copy.id}",
        status_url=f"{base}/v1/copies/{copy.id}/status",
        download_url=f"{base}/v1/copies/{copy.id}/pdf",
    )
