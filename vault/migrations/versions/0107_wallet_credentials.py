"""wallet_credentials: SD-JWT VC offers, nonces and issued credentials (status lists)

Revision ID: 0107_wallet_credentials
Revises: 0105_license_file_format
Create Date: 2026-12-07 01:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0107_wallet_credentials"
down_revision: str | None = "0105_license_file_format"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIME = sa.DateTime(timezone=True)


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}")
    )


def upgrade() -> None:
    op.create_table(
        "credential_offers",
        sa.Column("id", ID, nullable=False),
        sa.Column("holder_id", ID, nullable=False),
        sa.Column("license_id", ID, nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("tx_code_hash", sa.String(length=64), nullable=True),
        sa.Column("tx_code_failures", sa.Integer(), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("expires_at", TIME, nullable=False),
        sa.Column("redeemed_at", TIME, nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=True),
        sa.Column("token_expires_at", TIME, nullable=True),
        sa.Column("issued_at", TIME, nullable=True),
        _fk("credential_offers", "holder_id", "holders"),
        _fk("credential_offers", "license_id", "licenses"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credential_offers")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_credential_offers_code_hash")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_credential_offers_token_hash")),
    )
    for column in ("holder_id", "license_id", "expires_at"):
        op.create_index(op.f(f"ix_credential_offers_{column}"), "credential_offers", [column])
    op.create_table(
        "credential_nonces",
        sa.Column("nonce_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("nonce_hash", name=op.f("pk_credential_nonces")),
    )
    op.create_index(op.f("ix_credential_nonces_expires_at"), "credential_nonces", ["expires_at"])
    op.create_table(
        "issued_credentials",
        sa.Column("id", ID, nullable=False),
        sa.Column("offer_id", ID, nullable=False),
        sa.Column("holder_id", ID, nullable=False),
        sa.Column("license_id", ID, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status_list", sa.Integer(), nullable=False),
        sa.Column("status_idx", sa.Integer(), nullable=False),
        sa.Column("holder_key_thumbprint", sa.String(length=64), nullable=False),
        sa.Column("issued_at", TIME, nullable=False),
        sa.Column("expires_at", TIME, nullable=True),
        _fk("issued_credentials", "offer_id", "credential_offers"),
        _fk("issued_credentials", "holder_id", "holders"),
        _fk("issued_credentials", "license_id", "licenses"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issued_credentials")),
        sa.UniqueConstraint("offer_id", name=op.f("uq_issued_credentials_offer_id")),
        sa.UniqueConstraint(
            "status_list", "status_idx", name=op.f("uq_issued_credentials_status_list_status_idx")
        ),
    )
    for column in ("holder_id", "license_id"):
        op.create_index(op.f(f"ix_issued_credentials_{column}"), "issued_credentials", [column])


def downgrade() -> None:
    op.drop_table("issued_credentials")
    op.drop_table("credential_nonces")
    op.drop_table("credential_offers")
