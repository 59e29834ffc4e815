"""Holders (持证主体): found by blind index, stored encrypted, shown masked.

A holder is looked up by its blind index under every configured index key
(:meth:`HolderCrypto.blind_indexes`), so it is found before, during and after a key
rotation; whatever is written is sealed and indexed under the current keys.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from schemas.identifiers import CitizenId, CreditCode, HolderIdType, mask, parse_holder_id
from vault.crypto import HolderCrypto
from vault.db.base import utcnow
from vault.errors import NotFound
from vault.models import Holder

__all__ = [
    "HolderView",
    "describe_holder",
    "find_holder",
    "get_or_create_holder",
    "holder_lookup",
    "holder_name",
    "is_current",
    "known_holder",
    "new_holder_values",
    "reseal_holder",
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


def holder_lookup(
    *, crypto: HolderCrypto, holder_id: str, id_type: HolderIdType | str | None = None
) -> ColumnElement[bool]:
    """The WHERE clause finding this holder's row under any configured index key.

    Raises schemas.InvalidValue if the ID is malformed.
    """
    parsed = parse_holder_id(holder_id, id_type)
    return Holder.blind_index.in_(crypto.blind_indexes(parsed.id_type.value, parsed))


def find_holder(
    *,
    session: Session,
    crypto: HolderCrypto,
    holder_id: str,
    id_type: HolderIdType | str | None = None,
) -> Holder | None:
    """The holder with this ID number, or None. Raises schemas.InvalidValue if malformed."""
    where = holder_lookup(crypto=crypto, holder_id=holder_id, id_type=id_type)
    # Two rows can match only if the same holder was created under two different current
    # keys (a rolling deploy of a new key): `evault keys rotate` reports them. Take the first.
    return session.scalars(select(Holder).where(where).order_by(Holder.id).limit(1)).first()


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
    and on a unique-index collision the other transaction's row is used. A row that is
    changed is re-sealed under the current keys as a whole.
    """
    parsed = parse_holder_id(holder_id, id_type)
    kind = parsed.id_type.value
    existing = find_holder(session=session, crypto=crypto, holder_id=parsed, id_type=kind)
    if existing is None:
        holder = Holder(**new_holder_values(crypto=crypto, holder_id=parsed, name=name))
        try:
            with session.begin_nested():
                session.add(holder)
        except IntegrityError:
            existing = find_holder(session=session, crypto=crypto, holder_id=parsed, id_type=kind)
            if existing is None:
                raise
        else:
            return holder
    if crypto.decrypt(existing.name_ciphertext, purpose=_NAME_PURPOSE) != name:
        reseal_holder(crypto=crypto, holder=existing, name=name)
    return existing


def is_current(*, crypto: HolderCrypto, holder: Holder) -> bool:
    """Whether the row is sealed and indexed under the current keys."""
    return (
        holder.holder_key_id == crypto.holder_key_id
        and holder.blind_index_key_id == crypto.blind_index_key_id
    )


def new_holder_values(
    *, crypto: HolderCrypto, holder_id: CitizenId | CreditCode, name: str
) -> dict[str, object]:
    """The columns of a new holder row: sealed and indexed under the current keys."""
    kind = holder_id.id_type.value
    return {
        "id_type": kind,
        "blind_index": crypto.blind_index(kind, holder_id),
        "id_ciphertext": crypto.encrypt(str(holder_id), purpose=_ID_PURPOSE),
        "name_ciphertext": crypto.encrypt(name, purpose=_NAME_PURPOSE),
        "masked_id": mask(holder_id),
        "holder_key_id": crypto.holder_key_id,
        "blind_index_key_id": crypto.blind_index_key_id,
    }


def reseal_holder(*, crypto: HolderCrypto, holder: Holder, name: str | None = None) -> None:
    """Re-encrypt and re-index the row under the current keys (optionally with a new name).

    The clear ID number lives only in this function's locals.
    """
    number = crypto.decrypt(holder.id_ciphertext, purpose=_ID_PURPOSE)
    if name is None:
        name = crypto.decrypt(holder.name_ciphertext, purpose=_NAME_PURPOSE)
    holder.blind_index = crypto.blind_index(holder.id_type, number)
    holder.id_ciphertext = crypto.encrypt(number, purpose=_ID_PURPOSE)
    holder.name_ciphertext = crypto.encrypt(name, purpose=_NAME_PURPOSE)
    holder.holder_key_id = crypto.holder_key_id
    holder.blind_index_key_id = crypto.blind_index_key_id
    holder.updated_at = utcnow()


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


def known_holder(
    *, session: Session, crypto: HolderCrypto, holder_id: str, id_type: str | None
) -> Holder:
    """The signed-in holder's row; :class:`NotFound` when the vault holds nothing of theirs."""
    holder = find_holder(session=session, crypto=crypto, holder_id=holder_id, id_type=id_type)
    if holder is None:
        raise NotFound("the vault holds no licenses of yours")
    return holder
