"""grants and share codes, certified copies, access log (用证记录), department scopes

Revision ID: 0100_api
Revises: 0001
Create Date: 2026-11-22 00:33:41.387756
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

#: Surrogate keys: BIGINT on PostgreSQL, INTEGER (the rowid alias) on SQLite.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

revision: str = "0100_api"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "department_scopes",
        sa.Column("department_id", ID, nullable=False),
        sa.Column("scope", sa.String(length=40), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_department_scopes_department_id_departments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("department_id", "scope", name=op.f("pk_department_scopes")),
    )
    op.create_table(
        "grants",
        sa.Column("id", ID, nullable=False),
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column("holder_id", ID, nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("department_id", ID, nullable=True),
        sa.Column("license_types", sa.JSON(), nullable=False),
        sa.Column("purpose", sa.String(length=200), nullable=True),
        sa.Column("uses_allowed", sa.Integer(), nullable=True),
        sa.Column("code_hash", sa.LargeBinary(length=32), nullable=True),
        sa.Column("redeemed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind IN ('consent', 'share_code')", name=op.f("ck_grants_kind")),
        sa.CheckConstraint(
            "uses_allowed IS NULL OR uses_allowed >= 1", name=op.f("ck_grants_uses_allowed")
        ),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_grants_department_id_departments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["holder_id"],
            ["holders.id"],
            name=op.f("fk_grants_holder_id_holders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grants")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_grants_code_hash")),
        sa.UniqueConstraint("public_id", name=op.f("uq_grants_public_id")),
    )
    with op.batch_alter_table("grants", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_grants_department_id"), ["department_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_grants_holder_id"), ["holder_id"], unique=False)

    op.create_table(
        "access_events",
        sa.Column("id", ID, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("holder_id", ID, nullable=True),
        sa.Column("department_id", ID, nullable=True),
        sa.Column("actor", sa.String(length=12), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("outcome", sa.String(length=8), nullable=False),
        sa.Column("basis", sa.String(length=20), nullable=True),
        sa.Column("grant_id", ID, nullable=True),
        sa.Column("license_id", ID, nullable=True),
        sa.Column("copy_id", sa.String(length=32), nullable=True),
        sa.Column("purpose", sa.String(length=200), nullable=True),
        sa.Column("case_no", sa.String(length=100), nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("log_index", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "outcome IN ('allowed', 'denied')", name=op.f("ck_access_events_outcome")
        ),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_access_events_department_id_departments"),
        ),
        sa.ForeignKeyConstraint(
            ["grant_id"],
            ["grants.id"],
            name=op.f("fk_access_events_grant_id_grants"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["holder_id"],
            ["holders.id"],
            name=op.f("fk_access_events_holder_id_holders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["license_id"],
            ["licenses.id"],
            name=op.f("fk_access_events_license_id_licenses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_events")),
    )
    with op.batch_alter_table("access_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_access_events_department_id"), ["department_id"], unique=False
        )
        batch_op.create_index("ix_access_events_holder_at", ["holder_id", "at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_access_events_license_id"), ["license_id"], unique=False
        )

    op.create_table(
        "certified_copies",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("license_id", ID, nullable=False),
        sa.Column("license_version", sa.Integer(), nullable=False),
        sa.Column("holder_id", ID, nullable=False),
        sa.Column("department_id", ID, nullable=True),
        sa.Column("requested_by", sa.String(length=12), nullable=False),
        sa.Column("purpose", sa.String(length=200), nullable=False),
        sa.Column("case_no", sa.String(length=100), nullable=True),
        sa.Column("blob_sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("made_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "requested_by IN ('department', 'holder')",
            name=op.f("ck_certified_copies_requested_by"),
        ),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_certified_copies_department_id_departments"),
        ),
        sa.ForeignKeyConstraint(
            ["holder_id"], ["holders.id"], name=op.f("fk_certified_copies_holder_id_holders")
        ),
        sa.ForeignKeyConstraint(
            ["license_id"],
            ["licenses.id"],
            name=op.f("fk_certified_copies_license_id_licenses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certified_copies")),
    )
    with op.batch_alter_table("certified_copies", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_certified_copies_holder_id"), ["holder_id"], unique=False
        )
        batch_op.create_index(
            "ix_certified_copies_reuse",
            ["license_id", "department_id", "purpose", "case_no"],
            unique=False,
        )

    op.create_table(
        "grant_uses",
        sa.Column("id", ID, nullable=False),
        sa.Column("grant_id", ID, nullable=False),
        sa.Column("case_no", sa.String(length=100), nullable=False),
        sa.Column("first_used_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["grant_id"],
            ["grants.id"],
            name=op.f("fk_grant_uses_grant_id_grants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grant_uses")),
        sa.UniqueConstraint("grant_id", "case_no", name=op.f("uq_grant_uses_grant_id_case_no")),
    )


def downgrade() -> None:
    op.drop_table("grant_uses")
    with op.batch_alter_table("certified_copies", schema=None) as batch_op:
        batch_op.drop_index("ix_certified_copies_reuse")
        batch_op.drop_index(batch_op.f("ix_certified_copies_holder_id"))

    op.drop_table("certified_copies")
    with op.batch_alter_table("access_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_events_license_id"))
        batch_op.drop_index("ix_access_events_holder_at")
        batch_op.drop_index(batch_op.f("ix_access_events_department_id"))

    op.drop_table("access_events")
    with op.batch_alter_table("grants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_grants_holder_id"))
        batch_op.drop_index(batch_op.f("ix_grants_department_id"))

    op.drop_table("grants")
    op.drop_table("department_scopes")
