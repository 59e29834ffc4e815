"""SD-JWT VCs a holder took into a wallet: the offers, nonces and issued credentials.

The vault keeps no credential itself (the wallet has it), only what it needs to run the
OpenID4VCI pre-authorized code flow and the status list: secrets only as SHA-256 hex
(pre-authorized codes, transaction codes, access tokens, nonces), and per issued
credential its place in a status list and what it was issued for.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from vault.db.base import Base, IdType, UTCDateTime
from vault.db.partitioning import holder_key

__all__ = ["CredentialNonce", "CredentialOffer", "IssuedCredential"]


class CredentialOffer(Base):
    """A credential offer a holder made for one of its licenses (single use).

    ``code_hash``: the pre-authorized code's SHA-256, redeemed once at the token endpoint
    (``redeemed_at``); ``tx_code_hash``: the transaction code's, when the offer asks for
    one (``tx_code_failures`` wrong guesses end the offer); ``token_hash``: the access
    token the redemption gave, good for one credential until ``token_expires_at``.
    """

    __tablename__ = "credential_offers"
    __table_args__ = (
        UniqueConstraint("id", "holder_blind_index"),
        holder_key("holder_id", "holders"),
        holder_key("license_id", "licenses"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    holder_id: Mapped[int] = mapped_column(IdType, index=True)
    license_id: Mapped[int] = mapped_column(IdType, index=True)
    holder_blind_index: Mapped[bytes] = mapped_column(LargeBinary(32))
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    tx_code_hash: Mapped[str | None] = mapped_column(String(64))
    tx_code_failures: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    redeemed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    token_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    issued_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class CredentialNonce(Base):
    """A ``c_nonce`` the nonce endpoint gave; deleted when a proof uses it."""

    __tablename__ = "credential_nonces"

    nonce_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)


class IssuedCredential(Base):
    """One SD-JWT VC issued: its status list entry and the license version it carries.

    ``status_list``/``status_idx``: the list (``/credentials/status/<list>``) and the index
    in it, drawn at random among the free ones so that indices do not tell the order of
    issuance. Its status is computed from the license's when the list is served.
    """

    __tablename__ = "issued_credentials"
    __table_args__ = (
        UniqueConstraint("status_list", "status_idx"),
        holder_key("offer_id", "credential_offers"),
        holder_key("holder_id", "holders"),
        holder_key("license_id", "licenses"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    offer_id: Mapped[int] = mapped_column(IdType, unique=True)
    holder_id: Mapped[int] = mapped_column(IdType, index=True)
    license_id: Mapped[int] = mapped_column(IdType, index=True)
    holder_blind_index: Mapped[bytes] = mapped_column(LargeBinary(32))
    version: Mapped[int] = mapped_column(Integer)
    status_list: Mapped[int] = mapped_column(Integer)
    status_idx: Mapped[int] = mapped_column(Integer)
    holder_key_thumbprint: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
