"""Rotation of the holder keys: re-seal every holder row under the current keys.

The procedure (docs/operations.md, "Rotating the keys"): make the new keys current and
list the previous ones in ``EVAULT_OLD_HOLDER_KEYS`` / ``EVAULT_OLD_BLIND_INDEX_KEYS`` on
every process, run ``evault keys rotate`` until :func:`key_status` says complete, then drop
the old keys. Meanwhile every holder stays readable (a ciphertext names its key) and
findable (lookups try the index under every configured key).

:func:`rotate_holder_keys` works in batches, one transaction each, in row-id order: a row
is either wholly re-sealed (ID, name, blind index and both key ids) or untouched. The
progress is the rows themselves (their key ids), so an interrupted rotation resumes by
running it again. Nothing here logs or returns a holder ID: only counts, key ids and row ids.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from vault.crypto import HolderCrypto, HolderDataError
from vault.errors import ConflictError
from vault.models import Holder
from vault.services.holders import reseal_holder, reveal_holder_id

__all__ = ["KeyStatus", "RotationResult", "key_status", "rotate_holder_keys"]

_log = logging.getLogger(__name__)
DEFAULT_BATCH = 500
#: A rotation pass starts again from the first row while rows remain (written meanwhile
#: by a process that still had the old keys as current ones), at most this often.
_PASSES = 3


@dataclass(frozen=True)
class KeyStatus:
    """The configured keys (by id) and how many holder rows each pair of keys holds."""

    holder_key_id: str
    blind_index_key_id: str
    old_holder_key_ids: tuple[str, ...]
    old_blind_index_key_ids: tuple[str, ...]
    #: (holder key id, blind-index key id) -> rows; None: written before key ids existed.
    rows_by_keys: dict[tuple[str | None, str | None], int]

    @property
    def holders(self) -> int:
        return sum(self.rows_by_keys.values())

    @property
    def current(self) -> int:
        """Rows sealed and indexed under the current keys."""
        return self.rows_by_keys.get((self.holder_key_id, self.blind_index_key_id), 0)

    @property
    def remaining(self) -> int:
        """Rows a rotation still has to re-seal."""
        return self.holders - self.current

    @property
    def complete(self) -> bool:
        return self.remaining == 0

    @property
    def unconfigured(self) -> int:
        """Rows naming a key that is configured neither as current nor as old.

        Their data cannot be read nor their holders found until the key is configured again.
        """
        holder_keys = {self.holder_key_id, *self.old_holder_key_ids, None}
        index_keys = {self.blind_index_key_id, *self.old_blind_index_key_ids, None}
        return sum(
            n
            for (h, b), n in self.rows_by_keys.items()
            if h not in holder_keys or b not in index_keys
        )


@dataclass(frozen=True)
class RotationResult:
    resealed: int
    batches: int
    remaining: int
    seconds: float


def _stale(crypto: HolderCrypto) -> ColumnElement[bool]:
    return or_(
        Holder.holder_key_id.is_distinct_from(crypto.holder_key_id),
        Holder.blind_index_key_id.is_distinct_from(crypto.blind_index_key_id),
    )


def key_status(*, session: Session, crypto: HolderCrypto) -> KeyStatus:
    """Count the holder rows by the keys that sealed and indexed them."""
    rows = session.execute(
        select(Holder.holder_key_id, Holder.blind_index_key_id, func.count()).group_by(
            Holder.holder_key_id, Holder.blind_index_key_id
        )
    ).all()
    return KeyStatus(
        holder_key_id=crypto.holder_key_id,
        blind_index_key_id=crypto.blind_index_key_id,
        old_holder_key_ids=crypto.old_holder_key_ids,
        old_blind_index_key_ids=crypto.old_blind_index_key_ids,
        rows_by_keys={(h, b): int(n) for h, b, n in rows},
    )


def rotate_holder_keys(
    *,
    sessions: sessionmaker[Session],
    crypto: HolderCrypto,
    batch_size: int = DEFAULT_BATCH,
    on_batch: Callable[[int], None] | None = None,
) -> RotationResult:
    """Re-seal every holder row not under the current keys, ``batch_size`` rows per commit.

    ``on_batch`` is called with the number of rows of each committed batch. Raises
    :class:`HolderDataError` (naming the row id) when a row was sealed with a key that is
    not configured, and :class:`ConflictError` when two rows turn out to hold the same ID
    number; the batch in hand is then rolled back, the earlier ones stay done.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    started = time.perf_counter()
    resealed = batches = remaining = 0
    for _ in range(_PASSES):
        after = 0
        while True:
            with sessions() as session:
                rows = session.scalars(
                    select(Holder)
                    .where(Holder.id > after, _stale(crypto))
                    .order_by(Holder.id)
                    .limit(batch_size)
                    .with_for_update()
                ).all()
                if not rows:
                    break
                for holder in rows:
                    try:
                        reseal_holder(crypto=crypto, holder=holder)
                    except HolderDataError as exc:
                        raise HolderDataError(f"holder row {holder.id}: {exc}") from None
                ids = [h.id for h in rows]
                try:
                    session.commit()
                except IntegrityError:
                    session.rollback()
                    raise _collision(session, crypto, ids) from None
            after = ids[-1]
            resealed += len(ids)
            batches += 1
            _log.info("re-sealed %d holder rows (%d so far)", len(ids), resealed)
            if on_batch is not None:
                on_batch(len(ids))
        with sessions() as session:
            remaining = (
                session.scalar(select(func.count()).select_from(Holder).where(_stale(crypto))) or 0
            )
        if not remaining:
            break
    return RotationResult(
        resealed=resealed,
        batches=batches,
        remaining=remaining,
        seconds=time.perf_counter() - started,
    )


def _collision(session: Session, crypto: HolderCrypto, ids: list[int]) -> ConflictError:
    """Which row of a failed batch has the same ID number as another row, by row ids."""
    for holder_id in ids:
        holder = session.get(Holder, holder_id)
        if holder is None:
            continue
        index = crypto.blind_index(holder.id_type, reveal_holder_id(crypto=crypto, holder=holder))
        other = session.scalar(
            select(Holder.id).where(Holder.blind_index == index, Holder.id != holder_id)
        )
        if other is not None:
            return ConflictError(
                f"holder rows {holder_id} and {other} hold the same ID number (created under "
                "two different current keys, e.g. while not every process had the new key): "
                "merge them, then run the rotation again"
            )
    return ConflictError("a batch of holder rows collided with a concurrent change; run again")
