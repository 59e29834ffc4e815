"""Holders (持证主体): found by blind index, stored encrypted, shown masked."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from schemas.identifiers import CitizenId, CreditCode, HolderIdType, mask, parse_holder_id
from vault.crypto import HolderCrypto
from vault.db.base import utcnow
from vault.models import Holder

__all__ = [
    "HolderView",
    "describe_holder",
    "find_holder",
    "get_or_create_holder",
    "holder_name",
    "reveal_holder_id",
]

_ID_PURPOSE = "id"
_NAME_PURPOSE = "name"


@dataclass(frozen=True)
class HolderView:
    """What may be shown of a holder: the ID masked, the name decrypted."""

    id: int
    id_type: HolderIdType
    masked_id: str
    name: str


def find_holder(
    *,
    session: Session,
    crypto: HolderCrypto,
    holder_id: str,
    id_type: HolderIdType | str | None = None,
) -> Holder | None:
    """The holder with this ID number, or None. Raises schemas.InvalidValue if malformed."""
    parsed = parse_holder_id(holder_id, id_type)
    index = crypto.blind_index(parsed.id_type.value, parsed)
    return session.scalars(select(Holder).where(Holder.blind_index == index)).one_or_none()


def get_or_create_holder(
    *,
    session: Session,
    crypto: HolderCrypto,
    holder_id: str,
    id_type: HolderIdType | str | None = None,
    name: str,
) -> Holder:
    """The holder with this ID number, created if new; its name is updated to ``name``.

    Safe against a concurrent creation of the same holder: the insert runs in a savepoint
    and on a unique-index collision the other transaction's row is used.
    """
    parsed = parse_holder_id(holder_id, id_type)
    kind = parsed.id_type.value
    index = crypto.blind_index(kind, parsed)
    existing = session.scalars(select(Holder).where(Holder.blind_index == index)).one_or_none()
    if existing is None:
        holder = Holder(
            id_type=kind,
            blind_index=index,
            id_ciphertext=crypto.encrypt(str(parsed), purpose=_ID_PURPOSE),
            name_ciphertext=crypto.encrypt(name, purpose=_NAME_PURPOSE),
            masked_id=mask(parsed),
        )
        try:
            with session.begin_nested():
                session.add(holder)
        except IntegrityError:
            existing = session.scalars(select(Holder).where(Holder.blind_index == index)).one()
        else:
            return holder
    if crypto.decrypt(existing.name_ciphertext, purpose=_NAME_PURPOSE) != name:
        existing.name_ciphertext = crypto.encrypt(name, purpose=_NAME_PURPOSE)
        existing.updated_at = utcnow()
    return existing


def reveal_holder_id(*, crypto: HolderCrypto, holder: Holder) -> CitizenId | CreditCode:
    """The clear ID number, for the holder's own pages and certified copies only."""
    clear = crypto.decrypt(holder.id_ciphertext, purpose=_ID_PURPOSE)
    return parse_holder_id(clear, holder.id_type)


def holder_name(*, crypto: HolderCrypto, name_ciphertext: bytes) -> str:
    """A holder's name from its stored ciphertext."""
    return crypto.decrypt(name_ciphertext, purpose=_NAME_PURPOSE)


def describe_holder(*, crypto: HolderCrypto, holder: Holder) -> HolderView:
    return HolderView(
        id=holder.id,
        id_type=HolderIdType(holder.id_type),
        masked_id=holder.masked_id,
        name=crypto.decrypt(holder.name_ciphertext, purpose=_NAME_PURPOSE),
    )
