"""What a holder (持证主体) does with its own licenses, each step logged.

The use cases behind the holder's REST routes and web pages, so that both only read input
and render: download the original, give or withdraw consent, create a share code. Each one
acts, writes its access-log row and transparency-log leaf (:func:`record_event`; the
grant functions of :mod:`vault.services.grants` do that themselves), and commits, in that
order: nothing a holder does escapes the log. Copies are in
:func:`vault.services.copies.copy_for_holder`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from schemas.report import FileFormat
from signing.formats import EXTENSIONS, MEDIA_TYPES
from vault.blobs.base import BlobStore
from vault.crypto import HolderCrypto
from vault.db.base import utcnow
from vault.errors import NotFound
from vault.models import Grant, Holder, License
from vault.services.access import current_version, holder_license, record_event
from vault.services.grants import CreatedShareCode, create_grant, create_share_code, revoke_grant
from vault.services.holders import find_holder

__all__ = [
    "Original",
    "download_original",
    "give_consent",
    "give_share_code",
    "known_holder",
    "withdraw_consent",
]


def known_holder(
    *, session: Session, crypto: HolderCrypto, holder_id: str, id_type: str | None
) -> Holder:
    """The signed-in holder's row; :class:`NotFound` when the vault holds nothing of theirs."""
    holder = find_holder(session=session, crypto=crypto, holder_id=holder_id, id_type=id_type)
    if holder is None:
        raise NotFound("the vault holds no licenses of yours")
    return holder


@dataclass(frozen=True)
class Original:
    """The holder's original e-certificate: the file (PDF or OFD) as the issuer sealed it."""

    license: License
    data: bytes
    file_format: FileFormat

    @property
    def media_type(self) -> str:
        """``application/pdf`` or ``application/ofd``."""
        return MEDIA_TYPES[self.file_format]

    @property
    def file_name(self) -> str:
        """``license-<public id>.pdf`` or ``.ofd``: no holder data in it."""
        return f"license-{self.license.public_id}.{EXTENSIONS[self.file_format]}"


def download_original(
    *, session: Session, blobs: BlobStore, holder: Holder, public_id: str
) -> Original:
    """The current version's sealed file of one of the holder's licenses (by its public id); logged
    and committed."""
    license = holder_license(session=session, holder=holder, public_id=public_id)
    version = current_version(session, license)
    data = blobs.get(version.blob_sha256)
    record_event(
        session=session,
        action="download",
        outcome="allowed",
        actor="holder",
        holder_id=holder.id,
        basis="owner",
        license_id=license.id,
    )
    session.commit()
    return Original(license, data, FileFormat(version.file_format))


def give_consent(
    *,
    session: Session,
    holder: Holder,
    department_id: int,
    expires_at: dt.datetime,
    license_types: Iterable[str] = (),
    purpose: str | None = None,
    uses: int | None = None,
    now: dt.datetime | None = None,
) -> Grant:
    """Consent for a using department (see :func:`create_grant`); logged and committed."""
    now = now or utcnow()
    grant = create_grant(
        session=session,
        holder=holder,
        department_id=department_id,
        expires_at=expires_at,
        license_types=license_types,
        purpose=purpose,
        uses=uses,
        now=now,
    )
    session.commit()
    return grant


def give_share_code(
    *,
    session: Session,
    holder: Holder,
    expires_at: dt.datetime,
    license_types: Iterable[str] = (),
    purpose: str | None = None,
    now: dt.datetime | None = None,
) -> CreatedShareCode:
    """A one-time share code (see :func:`create_share_code`); logged and committed."""
    now = now or utcnow()
    created = create_share_code(
        session=session,
        holder=holder,
        expires_at=expires_at,
        license_types=license_types,
        purpose=purpose,
        now=now,
    )
    session.commit()
    return created


def withdraw_consent(
    *, session: Session, holder: Holder, public_id: str, now: dt.datetime | None = None
) -> Grant:
    """Revoke one of the holder's grants (idempotent); logged and committed."""
    now = now or utcnow()
    grant = revoke_grant(session=session, holder_id=holder.id, public_id=public_id, now=now)
    session.commit()
    return grant
