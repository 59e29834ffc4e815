"""What the holder's JSON routes (``api/routes/holders.py``) and HTML pages
(``api/pages/portal.py``) both do, each one call with the application's parts (blob store,
renderer, copy policy, log proofs) taken from the context."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi.responses import Response
from sqlalchemy.orm import Session

from api.context import ApiContext
from api.downloads import file_download
from api.logsink import copy_proof_maker
from vault.services.access import download_original
from vault.services.copies import CopyPolicy, MadeCopy, copy_for_holder
from vault.services.views import HolderRef

__all__ = ["CopyOrder", "holder_copy", "original_file"]


@dataclass(frozen=True)
class CopyOrder:
    """What the holder asks of a certified copy: the purpose, whom for, the case, days."""

    purpose: str
    recipient: str | None = None
    case_no: str | None = None
    days: int | None = None


def original_file(
    ctx: ApiContext, session: Session, holder: HolderRef, license_id: str
) -> Response:
    """The holder's original e-certificate as a download (logged and committed)."""
    original = download_original(
        session=session, blobs=ctx.blobs, holder=holder, public_id=license_id
    )
    return file_download(original.data, original.media_type, original.file_name)


def holder_copy(
    ctx: ApiContext, session: Session, holder: HolderRef, license_id: str, order: CopyOrder
) -> MadeCopy:
    """A certified copy of one of the holder's licenses (made or reused; commits)."""
    return copy_for_holder(
        session=session,
        blobs=ctx.blobs,
        renderer=ctx.renderer.get,
        policy=CopyPolicy.from_settings(ctx.settings),
        holder=holder,
        public_id=license_id,
        purpose=order.purpose,
        recipient=order.recipient,
        case_no=order.case_no,
        days=order.days,
        log_proof=copy_proof_maker(ctx),
    )
