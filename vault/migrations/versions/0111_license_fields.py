"""license_fields: surface fields of license types, field permissions, sealed field values

Revision ID: 0111_license_fields
Revises: 0110_company_agents
Create Date: 2026-12-07 02:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

#: Surrogate keys: BIGINT on PostgreSQL, INTEGER (the rowid alias) on SQLite.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

revision: str = "0111_license_fields"
down_revision: str | None = "0110_company_agents"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "license_type_fields",
        sa.Column("license_type_id", ID, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("max_length", sa.Integer(), nullable=True),
        sa.Column("choices", sa.Text(), nullable=True),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('string', 'date', 'enum', 'id_number')",
            name=op.f("ck_license_type_fields_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["license_type_id"],
            ["license_types.id"],
            name=op.f("fk_license_type_fields_license_type_id_license_types"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("license_type_id", "name", name=op.f("pk_license_type_fields")),
    )
    op.create_table(
        "field_permissions",
        sa.Column("department_id", ID, nullable=False),
        sa.Column("license_type_id", ID, nullable=False),
        sa.Column("field_name", sa.String(length=64), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_field_permissions_department_id_departments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["license_type_id"],
            ["license_types.id"],
            name=op.f("fk_field_permissions_license_type_id_license_types"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "department_id", "license_type_id", "field_name", name=op.f("pk_field_permissions")
        ),
    )
    op.create_index(
        op.f("ix_field_permissions_license_type_id"), "field_permissions", ["license_type_id"]
    )
    op.create_table(
        "license_field_values",
        sa.Column("license_id", ID, nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["license_id"],
            ["licenses.id"],
            name=op.f("fk_license_field_values_license_id_licenses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("license_id", name=op.f("pk_license_field_values")),
    )


def downgrade() -> None:
    op.drop_table("license_field_values")
    op.drop_index(op.f("ix_field_permissions_license_type_id"), table_name="field_permissions")
    op.drop_table("field_permissions")
    op.drop_table("license_type_fields")
