"""持证主体: holders, keyed by a blind index of their ID number, stored encrypted."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from vault.db.base import Base, IdType, UTCDateTime, utcnow

__all__ = ["Holder"]


class Holder(Base):
    """A citizen (公民身份号码) or an organisation (统一社会信用代码).

    ``blind_index`` is HMAC-SHA256 of the type and number under the blind-index key: the
    only way to find a holder. The number and the name are AES-256-GCM ciphertexts;
    ``masked_id`` (110105********002X) is what may be shown.

    ``holder_key_id`` and ``blind_index_key_id`` name the keys (:func:`vault.crypto.key_id`)
    the row was sealed and indexed with; NULL for rows written before key ids existed.
    ``evault keys rotate`` moves every row to the current keys.

    On PostgreSQL the table is hash-partitioned by ``blind_index`` (the primary key is
    ``(id, blind_index)``); licenses, materials and access events carry it as
    ``holder_blind_index`` and refer to their holder by both (:mod:`vault.db.partitioning`).
    """

    __tablename__ = "holders"
    __table_args__ = (
        CheckConstraint("id_type IN ('111', '001')", name="id_type"),
        UniqueConstraint("id", "blind_index"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    id_type: Mapped[str] = mapped_column(String(3))
    blind_index: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    id_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    name_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    masked_id: Mapped[str] = mapped_column(String(32))
    holder_key_id: Mapped[str | None] = mapped_column(String(16))
    blind_index_key_id: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"Holder(id={self.id}, id_type={self.id_type!r}, masked_id={self.masked_id!r})"
