"""Wire models of the SD-JWT credential routes (OpenID4VCI, the verifier)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["CredentialOfferIn", "CredentialOfferOut", "PresentationIn", "PresentationOut"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CredentialOfferIn(_Strict):
    tx_code: bool = Field(
        default=True,
        description="ask the wallet for a 6-digit transaction code (shown to you here) as "
        "well as the QR code; turn off only for a wallet that cannot ask for one",
    )


class CredentialOfferOut(BaseModel):
    credential_offer: dict[str, Any] = Field(description="the OpenID4VCI credential offer")
    offer_link: str = Field(description="openid-credential-offer://?credential_offer=... (QR)")
    tx_code: str | None = Field(description="type this into the wallet when it asks")
    expires_at: dt.datetime
    license_id: str


class PresentationIn(_Strict):
    presentation: str = Field(
        min_length=1, max_length=262144, description="SD-JWT+KB (compact: JWT~disclosures~KB-JWT)"
    )
    nonce: str = Field(min_length=1, max_length=200, description="the nonce you gave the holder")
    audience: str = Field(
        min_length=1, max_length=500, description="the audience (aud) you told the holder"
    )


class PresentationOut(BaseModel):
    accepted: bool = Field(description="valid and not revoked: the credential may be relied on")
    valid: bool = Field(description="issuer signature, disclosures and key binding verify")
    status: str = Field(description="valid, revoked, suspended or unknown (status list)")
    disclosed: dict[str, Any] = Field(description="exactly the fields the holder disclosed")
    disclosed_fields: list[str]
    issuer: str | None
    vct: str | None
    issued_at: str | None
    expires_at: str | None
    problems: list[str] = Field(description="why not accepted (empty when accepted)")
