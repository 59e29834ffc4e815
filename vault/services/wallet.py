"""Holders take a license into a wallet: OpenID4VCI 1.0, pre-authorized code flow.

1. The holder (logged in) makes an offer for one of its licenses (:func:`create_offer`):
   a single-use pre-authorized code, and by default a 6-digit transaction code the holder
   types into the wallet (so a photographed QR alone is useless). Logged in its access log.
2. The wallet redeems the code at the token endpoint (:func:`redeem_code`) for an access
   token good for one credential, fetches a ``c_nonce`` (:func:`new_nonce`), and sends a
   proof JWT signed with its key (:func:`issue_credential`): the credential is bound to
   that key (``cnf.jwk``), gets a random place in a status list, and the issuance is logged
   in the holder's access log.

Only SHA-256 hashes of codes, tokens and nonces are stored. The holder's ID number is never
in a credential: only its masked form (a selectively disclosable claim); see
docs/holders.md for why.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from jwcrypto import jwk
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from signing.credentials.keys import CredentialKey
from signing.credentials.sdjwt import issue_sd_jwt_vc
from signing.credentials.tokens import check_proof, proof_nonce
from signing.errors import CredentialError
from vault.crypto import HolderCrypto
from vault.db.base import utcnow
from vault.errors import ConflictError, VaultError
from vault.models import CredentialNonce, CredentialOffer, Holder, IssuedCredential, License
from vault.services.access import current_version, holder_license, record_event
from vault.services.holders import holder_name
from vault.services.license_records import record_of
from vault.services.lifecycle import effective_status
from vault.services.status_lists import allocate_index, credential_claims, credential_expiry

__all__ = [
    "NONCE_TTL",
    "OFFER_TTL",
    "TOKEN_TTL",
    "CredentialRequestRefused",
    "NewOffer",
    "RedeemedCode",
    "create_offer",
    "issue_credential",
    "new_nonce",
    "redeem_code",
]

OFFER_TTL = dt.timedelta(minutes=10)
TOKEN_TTL = dt.timedelta(minutes=5)
NONCE_TTL = dt.timedelta(minutes=5)
MAX_TX_CODE_FAILURES = 5


class CredentialRequestRefused(VaultError):
    """A wallet's request refused, with its OAuth / OpenID4VCI ``error`` code."""

    def __init__(self, error: str, detail: str) -> None:
        super().__init__(detail)
        self.error = error


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class NewOffer:
    """An offer as the holder is shown it once: the code and transaction code in clear."""

    pre_authorized_code: str
    tx_code: str | None
    expires_at: dt.datetime
    license_public_id: str


@dataclass(frozen=True)
class RedeemedCode:
    access_token: str
    expires_in: int


def create_offer(
    *,
    session: Session,
    holder: Holder,
    public_id: str,
    tx_code: bool = True,
    now: dt.datetime | None = None,
) -> NewOffer:
    """An offer for the holder's license ``public_id`` (valid and current only); flushes."""
    now = now or utcnow()
    license = holder_license(session=session, holder=holder, public_id=public_id)
    status = effective_status(license=license, version=current_version(session, license), now=now)
    if not status.usable:
        raise ConflictError(
            f"license {public_id} is {status.status.value}: no credential can be issued for it"
        )
    code = secrets.token_urlsafe(32)
    pin = f"{secrets.randbelow(10**6):06d}" if tx_code else None
    offer = CredentialOffer(
        holder_id=holder.id,
        license_id=license.id,
        holder_blind_index=license.holder_blind_index,
        code_hash=_hash(code),
        tx_code_hash=_hash(pin) if pin else None,
        tx_code_failures=0,
        created_at=now,
        expires_at=now + OFFER_TTL,
    )
    session.add(offer)
    session.flush()
    record_event(
        session=session,
        action="credential_offer",
        outcome="allowed",
        actor="holder",
        holder_id=holder.id,
        basis="owner",
        license_id=license.id,
        now=now,
    )
    return NewOffer(code, pin, offer.expires_at, license.public_id)


def redeem_code(
    *, session: Session, code: str, tx_code: str | None, now: dt.datetime | None = None
) -> RedeemedCode:
    """Exchange a pre-authorized code (and its transaction code) for an access token;
    flushes (a wrong transaction code is counted even though the call is refused)."""
    now = now or utcnow()
    offer = session.scalars(
        select(CredentialOffer).where(CredentialOffer.code_hash == _hash(code)).with_for_update()
    ).one_or_none()
    if offer is None or offer.redeemed_at is not None or offer.expires_at <= now:
        raise CredentialRequestRefused(
            "invalid_grant", "the pre-authorized code is unknown, used or expired"
        )
    if offer.tx_code_hash is not None:
        if not tx_code:
            raise CredentialRequestRefused("invalid_request", "this offer needs its tx_code")
        if not secrets.compare_digest(_hash(tx_code), offer.tx_code_hash):
            offer.tx_code_failures += 1
            if offer.tx_code_failures >= MAX_TX_CODE_FAILURES:
                offer.expires_at = now  # too many guesses: the offer is dead
            session.flush()
            raise CredentialRequestRefused("invalid_grant", "wrong tx_code")
    token = secrets.token_urlsafe(32)
    offer.redeemed_at = now
    offer.token_hash = _hash(token)
    offer.token_expires_at = now + TOKEN_TTL
    session.flush()
    return RedeemedCode(token, int(TOKEN_TTL.total_seconds()))


def new_nonce(*, session: Session, now: dt.datetime | None = None) -> str:
    """A fresh ``c_nonce`` (single use); old ones are swept; flushes."""
    now = now or utcnow()
    session.execute(delete(CredentialNonce).where(CredentialNonce.expires_at <= now))
    nonce = secrets.token_urlsafe(24)
    session.add(CredentialNonce(nonce_hash=_hash(nonce), expires_at=now + NONCE_TTL))
    session.flush()
    return nonce


def _offer_for_token(session: Session, access_token: str, now: dt.datetime) -> CredentialOffer:
    offer = session.scalars(
        select(CredentialOffer)
        .where(CredentialOffer.token_hash == _hash(access_token))
        .with_for_update()
    ).one_or_none()
    if offer is None or offer.token_expires_at is None or offer.token_expires_at <= now:
        raise CredentialRequestRefused("invalid_token", "the access token is unknown or expired")
    if offer.issued_at is not None:
        raise CredentialRequestRefused("invalid_token", "this access token was already used")
    return offer


def _wallet_key(session: Session, proof: str, issuer_url: str, now: dt.datetime) -> dict[str, str]:
    try:
        nonce = proof_nonce(proof)
        used = session.execute(
            delete(CredentialNonce).where(
                CredentialNonce.nonce_hash == _hash(nonce), CredentialNonce.expires_at > now
            )
        )
        if not getattr(used, "rowcount", 0):
            raise CredentialRequestRefused(
                "invalid_nonce", "the proof's nonce is unknown, used or expired: get a new one"
            )
        return check_proof(proof, audience=issuer_url, nonce=nonce, now=now)
    except CredentialError as exc:
        raise CredentialRequestRefused("invalid_proof", str(exc)) from None


def _reserve_entry(session: Session, **values: Any) -> IssuedCredential:
    """Insert the credential's row at a random free status list entry; when a concurrent
    issuance took the same entry first (the unique constraint), draw again."""
    for _ in range(5):
        number, index = allocate_index(session=session)
        row = IssuedCredential(status_list=number, status_idx=index, **values)
        try:
            with session.begin_nested():
                session.add(row)
                session.flush()
        except IntegrityError:
            continue
        return row
    raise ConflictError("no free status list entry could be reserved; try again")


def issue_credential(
    *,
    session: Session,
    key: CredentialKey,
    crypto: HolderCrypto,
    access_token: str,
    proof: str,
    issuer_url: str,
    now: dt.datetime | None = None,
) -> str:
    """The SD-JWT VC for the offer behind ``access_token``, bound to the key of ``proof``;
    flushes (the edge commits)."""
    now = now or utcnow()
    offer = _offer_for_token(session, access_token, now)
    wallet_jwk = _wallet_key(session, proof, issuer_url, now)
    license = session.get_one(License, offer.license_id)
    version = current_version(session, license)
    status = effective_status(license=license, version=version, now=now)
    if not status.usable:
        raise CredentialRequestRefused(
            "credential_request_denied", f"the license is {status.status.value}"
        )
    record = record_of(license, version)
    row = _reserve_entry(
        session,
        offer_id=offer.id,
        holder_id=offer.holder_id,
        license_id=license.id,
        holder_blind_index=offer.holder_blind_index,
        version=version.version,
        holder_key_thumbprint=str(jwk.JWK(**wallet_jwk).thumbprint()),
        issued_at=now,
        expires_at=credential_expiry(record.valid_until),
    )
    clear, disclosable = credential_claims(
        record=record,
        holder_name=holder_name(
            crypto=crypto, name_ciphertext=session.get_one(Holder, offer.holder_id).name_ciphertext
        ),
        issuer_url=issuer_url,
        slot=(row.status_list, row.status_idx),
        status=status.status.value,
        now=now,
    )
    credential = issue_sd_jwt_vc(
        key=key, clear=clear, disclosable=disclosable, holder_jwk=wallet_jwk
    )
    offer.issued_at = now
    session.flush()
    record_event(
        session=session,
        action="credential_issue",
        outcome="allowed",
        actor="holder",
        holder_id=offer.holder_id,
        basis="owner",
        license_id=license.id,
        now=now,
    )
    return credential
