"""What the credential routes and pages share: the key, the issuer's URLs, the offer's wire
form, the metadata documents and the online verifier."""

from __future__ import annotations

import datetime as dt
import json
import urllib.parse
from typing import Any

from sqlalchemy.orm import Session

from api.context import ApiContext
from api.errors import ApiError
from api.wallet_models import CredentialOfferOut
from signing.credentials.keys import CredentialKey
from signing.credentials.sdjwt import SD_JWT_VC_TYP, verify_presentation
from signing.credentials.verdict import CredentialVerdict, judge
from vault.errors import NotFound
from vault.services.status_lists import status_list_token, vct_uri
from vault.services.wallet import NewOffer

__all__ = [
    "CONFIGURATION_ID",
    "PRE_AUTH_GRANT",
    "credential_key",
    "issuer_metadata",
    "issuer_url",
    "offer_out",
    "type_metadata",
    "verify_online",
]

CONFIGURATION_ID = "evault_license"
PRE_AUTH_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"

#: The license fields a credential carries, each a Disclosure, with their names for people.
FIELDS: dict[str, tuple[str, str]] = {
    "license_name": ("证照名称", "License name"),
    "license_type_code": ("证照类型代码", "License type code"),
    "license_type_name": ("证照类型", "License type"),
    "license_number": ("证照编号", "License number"),
    "license_identifier": ("证照标识", "License identifier"),
    "license_id": ("库内编号", "Vault license id"),
    "license_version": ("版本", "Version"),
    "issuer_name": ("颁发机构", "Issuer"),
    "issuer_code": ("颁发机构代码", "Issuer code"),
    "issue_date": ("颁发日期", "Issue date"),
    "valid_from": ("有效期起始", "Valid from"),
    "valid_until": ("有效期截止", "Valid until"),
    "holder_name": ("持证主体", "Holder"),
    "holder_id_type": ("持证主体代码类型", "Holder ID type"),
    "holder_id_masked": ("持证主体代码 (部分隐藏)", "Holder ID (masked)"),
    "license_status": ("签发时证照状态", "Status when issued"),
}


class _NotConfigured(ApiError):
    def __init__(self) -> None:
        super().__init__(
            404,
            "credentials-not-configured",
            "Credential issuance is not configured",
            "this vault issues no SD-JWT credentials (EVAULT_CREDENTIAL_KEY is not set)",
        )


def credential_key(ctx: ApiContext) -> CredentialKey:
    """The vault's credential key (loaded once per app), or a 404 problem when unset."""
    key = ctx.credential_key.get()
    if key is None:
        raise _NotConfigured()
    return key


def issuer_url(ctx: ApiContext) -> str:
    """The Credential Issuer Identifier: the public base URL."""
    return ctx.settings.public_base_url.rstrip("/")


def offer_out(ctx: ApiContext, offer: NewOffer) -> CredentialOfferOut:
    grant: dict[str, Any] = {"pre-authorized_code": offer.pre_authorized_code}
    if offer.tx_code is not None:
        grant["tx_code"] = {
            "input_mode": "numeric",
            "length": len(offer.tx_code),
            "description": "电子证照库页面上显示的 6 位数字 / the 6 digits shown by the vault",
        }
    document = {
        "credential_issuer": issuer_url(ctx),
        "credential_configuration_ids": [CONFIGURATION_ID],
        "grants": {PRE_AUTH_GRANT: grant},
    }
    encoded = urllib.parse.quote(json.dumps(document, separators=(",", ":")), safe="")
    return CredentialOfferOut(
        credential_offer=document,
        offer_link=f"openid-credential-offer://?credential_offer={encoded}",
        tx_code=offer.tx_code,
        expires_at=offer.expires_at,
        license_id=offer.license_public_id,
    )


def _claims() -> list[dict[str, Any]]:
    return [
        {
            "path": [name],
            "display": [{"name": zh, "locale": "zh-CN"}, {"name": en, "locale": "en"}],
            "sd": "always",
        }
        for name, (zh, en) in FIELDS.items()
    ]


def issuer_metadata(ctx: ApiContext) -> dict[str, Any]:
    """``/.well-known/openid-credential-issuer`` (OpenID4VCI 1.0 section 12.2)."""
    base = issuer_url(ctx)
    credential_key(ctx)  # 404 when not configured
    return {
        "credential_issuer": base,
        "credential_endpoint": f"{base}/oid4vci/credential",
        "nonce_endpoint": f"{base}/oid4vci/nonce",
        "display": [{"name": ctx.settings.vault_name, "locale": "zh-CN"}],
        "credential_configurations_supported": {
            CONFIGURATION_ID: {
                "format": SD_JWT_VC_TYP,
                "vct": vct_uri(base),
                "cryptographic_binding_methods_supported": ["jwk"],
                "credential_signing_alg_values_supported": ["ES256"],
                "proof_types_supported": {"jwt": {"proof_signing_alg_values_supported": ["ES256"]}},
                "credential_metadata": {
                    "display": [
                        {"name": "电子证照", "locale": "zh-CN"},
                        {"name": "Electronic license", "locale": "en"},
                    ],
                    "claims": [{"path": c["path"], "display": c["display"]} for c in _claims()],
                },
            }
        },
    }


def type_metadata(ctx: ApiContext) -> dict[str, Any]:
    """The SD-JWT VC type metadata served at the ``vct`` URL."""
    return {
        "vct": vct_uri(issuer_url(ctx)),
        "name": "电子证照 (electronic license)",
        "description": "A license held in the vault; every field is selectively disclosable. "
        "The holder's ID number is not in it, only its masked form.",
        "display": [
            {"locale": "zh-CN", "name": "电子证照"},
            {"locale": "en", "name": "Electronic license"},
        ],
        "claims": _claims(),
    }


def verify_online(
    ctx: ApiContext, session: Session, *, presentation: str, nonce: str, audience: str
) -> CredentialVerdict:
    """Verify a presentation against this vault's key and its own status lists."""
    key = credential_key(ctx)
    now = dt.datetime.now(dt.UTC)
    trusted = [key.public_jwk()]
    check = verify_presentation(
        presentation, trusted_keys=trusted, audience=audience, nonce=nonce, now=now
    )
    token, problem = None, None
    prefix = f"{issuer_url(ctx)}/credentials/status/"
    if check.valid and check.status is not None:
        number = check.status.uri.removeprefix(prefix)
        if check.status.uri.startswith(prefix) and number.isdigit():
            try:
                token = status_list_token(
                    session=session,
                    key=key,
                    number=int(number),
                    issuer_url=issuer_url(ctx),
                    now=now,
                )
            except NotFound:
                problem = "the credential's status list does not exist"
        else:
            problem = "the status list is not this vault's"
    return judge(check, status_token=token, trusted_keys=trusted, now=now, fetch_problem=problem)
