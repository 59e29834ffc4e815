"""company_agents: 法人空间 (a company's legal representative) and its agents (经办人)

Revision ID: 0110_company_agents
Revises: 0109_archive_renewals
Create Date: 2026-12-07 02:05:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

#: Surrogate keys: BIGINT on PostgreSQL, INTEGER (the rowid alias) on SQLite.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

revision: str = "0110_company_agents"
down_revision: str | None = "0109_archive_renewals"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "company_spaces",
        sa.Column("id", ID, nullable=False),
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column("company_id", ID, nullable=False),
        sa.Column("representative_id", ID, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["holders.id"],
            name=op.f("fk_company_spaces_company_id_holders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["representative_id"],
            ["holders.id"],
            name=op.f("fk_company_spaces_representative_id_holders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_company_spaces")),
        sa.UniqueConstraint("company_id", name=op.f("uq_company_spaces_company_id")),
        sa.UniqueConstraint("public_id", name=op.f("uq_company_spaces_public_id")),
    )
    op.create_index(
        op.f("ix_company_spaces_representative_id"),
        "company_spaces",
        ["representative_id"],
        unique=False,
    )
    op.create_table(
        "company_agents",
        sa.Column("id", ID, nullable=False),
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column("space_id", ID, nullable=False),
        sa.Column("agent_id", ID, nullable=False),
        sa.Column("scopes", sa.String(length=200), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("scopes <> ''", name=op.f("ck_company_agents_scopes")),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["holders.id"],
            name=op.f("fk_company_agents_agent_id_holders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["space_id"],
            ["company_spaces.id"],
            name=op.f("fk_company_agents_space_id_company_spaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_company_agents")),
        sa.UniqueConstraint("public_id", name=op.f("uq_company_agents_public_id")),
    )
    op.create_index(
        op.f("ix_company_agents_agent_id"), "company_agents", ["agent_id"], unique=False
    )
    op.create_index(
        op.f("ix_company_agents_space_id"), "company_agents", ["space_id"], unique=False
    )
    with op.batch_alter_table("access_events") as batch:
        batch.add_column(sa.Column("agent_id", ID, nullable=True))
        batch.create_foreign_key(
            op.f("fk_access_events_agent_id_holders"),
            "holders",
            ["agent_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("access_events") as batch:
        batch.drop_constraint(op.f("fk_access_events_agent_id_holders"), type_="foreignkey")
        batch.drop_column("agent_id")
    op.drop_index(op.f("ix_company_agents_space_id"), table_name="company_agents")
    op.drop_index(op.f("ix_company_agents_agent_id"), table_name="company_agents")
    op.drop_table("company_agents")
    op.drop_index(op.f("ix_company_spaces_representative_id"), table_name="company_spaces")
    op.drop_table("company_spaces")
