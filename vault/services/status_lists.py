"""What a holder's SD-JWT VC says, and the status lists that say whether it still holds.

Each credential names an entry of a Token Status List (draft-ietf-oauth-status-list):
``status.status_list = {idx, uri}``, ``uri`` = ``<issuer>/credentials/status/<n>``. A list
has :data:`LIST_SIZE` entries of 2 bits; the index is drawn at random among the free ones
of the list being filled (a list is filled to half, then the next one starts), so an
index tells nothing about when or for whom it was issued.

The list is not stored: :func:`status_list_token` computes every entry from the license it
names when the list is asked for, with the same rules as a certified copy
(:func:`vault.services.lifecycle.status_at`): valid and current -> VALID, 暂扣 -> SUSPENDED,
anything else (撤销, 注销, 吊销, 失效, or a newer version pushed) -> INVALID. A status change
of the license is therefore in the next list served, with no step that could be missed.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from schemas.license import LicenseStatus
from signing.credentials.keys import CredentialKey
from signing.credentials.status_list import Status, StatusList
from signing.credentials.tokens import sign_status_list_token
from vault.errors import ConflictError, NotFound
from vault.models import IssuedCredential, License, LicenseVersion
from vault.services.license_records import LicenseRecord
from vault.services.lifecycle import CHINA_TZ, status_at

__all__ = [
    "BITS",
    "LIST_SIZE",
    "STATUS_TTL_SECONDS",
    "allocate_index",
    "credential_claims",
    "credential_expiry",
    "status_list_token",
    "status_list_uri",
    "vct_uri",
]

LIST_SIZE = 1 << 17
BITS = 2
#: How long a verifier may cache a status list token (its ``ttl``; also its ``exp``).
STATUS_TTL_SECONDS = 300


def status_list_uri(issuer_url: str, number: int) -> str:
    return f"{issuer_url}/credentials/status/{number}"


def vct_uri(issuer_url: str) -> str:
    """The credential type (``vct``): a URL that serves its SD-JWT VC type metadata."""
    return f"{issuer_url}/credentials/types/license"


def allocate_index(*, session: Session) -> tuple[int, int]:
    """A free ``(list number, index)`` for a new credential, drawn at random."""
    issued = session.scalar(select(func.count()).select_from(IssuedCredential)) or 0
    number = 1 + issued // (LIST_SIZE // 2)
    used = set(
        session.scalars(
            select(IssuedCredential.status_idx).where(IssuedCredential.status_list == number)
        )
    )
    for _ in range(64):  # at most half the list is used: 64 misses in a row is ~1e-19
        index = secrets.randbelow(LIST_SIZE)
        if index not in used:
            return number, index
    raise ConflictError("no free status list entry found; try again")


def _timestamp(moment: dt.datetime) -> int:
    return int(moment.timestamp())


def credential_expiry(valid_until: dt.date | None) -> dt.datetime | None:
    """When a credential expires: the end of the license's last valid day (China Standard
    Time), or never (the status list still says when it stops holding)."""
    if valid_until is None:
        return None
    last = dt.datetime.combine(valid_until, dt.time(), CHINA_TZ)
    return (last + dt.timedelta(days=1)).astimezone(dt.UTC)


def credential_claims(
    *,
    record: LicenseRecord,
    holder_name: str,
    issuer_url: str,
    slot: tuple[int, int],
    status: str,
    now: dt.datetime,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(clear claims, selectively disclosable claims) of a license's credential.

    In clear only what every verifier needs to check it: issuer, type, times, status list
    entry (``cnf`` is added when signing). Every field of the license is a Disclosure. The
    holder's ID number is not offered at all, only its masked form.
    """
    clear: dict[str, Any] = {
        "iss": issuer_url,
        "vct": vct_uri(issuer_url),
        "iat": _timestamp(now),
        "status": {"status_list": {"idx": slot[1], "uri": status_list_uri(issuer_url, slot[0])}},
    }
    expires = credential_expiry(record.valid_until)
    if expires is not None:
        clear["exp"] = _timestamp(expires)
    fields: dict[str, Any] = {
        "license_name": record.name,
        "license_type_code": record.type_code,
        "license_type_name": record.type_name,
        "license_number": record.number,
        "license_identifier": record.identifier,
        "license_id": record.public_id,
        "license_version": record.version,
        "issuer_name": record.issuer_name,
        "issuer_code": record.issuer_code,
        "issue_date": record.issue_date.isoformat(),
        "valid_from": record.valid_from.isoformat() if record.valid_from else None,
        "valid_until": record.valid_until.isoformat() if record.valid_until else None,
        "holder_name": holder_name,
        "holder_id_type": record.holder_id_type,
        "holder_id_masked": record.holder_masked_id,
        "license_status": status,
    }
    return clear, {k: v for k, v in fields.items() if v is not None}


def _entry(stored: str, version: int, current: int, until: dt.date | None, now: dt.datetime) -> int:
    effective = status_at(
        stored=stored, version=version, current_version=current, valid_until=until, now=now
    )
    if effective.usable:
        return Status.VALID
    if effective.status is LicenseStatus.SUSPENDED and not effective.superseded:
        return Status.SUSPENDED
    return Status.INVALID


def status_list_token(
    *, session: Session, key: CredentialKey, number: int, issuer_url: str, now: dt.datetime
) -> str:
    """The signed status list token of list ``number``, computed now."""
    last = session.scalar(select(func.max(IssuedCredential.status_list))) or 1
    if not 1 <= number <= last:
        raise NotFound("no such status list")
    rows = session.execute(
        select(
            IssuedCredential.status_idx,
            IssuedCredential.version,
            License.status,
            License.current_version,
            LicenseVersion.valid_until,
        )
        .join(
            License,
            and_(
                License.id == IssuedCredential.license_id,
                License.holder_blind_index == IssuedCredential.holder_blind_index,
            ),
        )
        .join(
            LicenseVersion,
            and_(
                LicenseVersion.license_id == IssuedCredential.license_id,
                LicenseVersion.holder_blind_index == IssuedCredential.holder_blind_index,
                LicenseVersion.version == IssuedCredential.version,
            ),
        )
        .where(IssuedCredential.status_list == number)
    ).all()
    entries = [(idx, _entry(stored, ver, cur, until, now)) for idx, ver, stored, cur, until in rows]
    return sign_status_list_token(
        key=key,
        uri=status_list_uri(issuer_url, number),
        issuer=issuer_url,
        status_list=StatusList.build(
            ((i, s) for i, s in entries if s != Status.VALID), bits=BITS, size=LIST_SIZE
        ),
        now=now,
        ttl=STATUS_TTL_SECONDS,
    )
