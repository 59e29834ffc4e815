"""agents_portal: certified copies (加注件) of materials as well as of licenses

A copy is of one license version or of one material (电子材料), never both: the copy row
names the material, and its license columns are empty.

Revision ID: 0112_agents_portal
Revises: 0111_license_fields
Create Date: 2026-12-07 04:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

#: Surrogate keys: BIGINT on PostgreSQL, INTEGER (the rowid alias) on SQLite.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

revision: str = "0112_agents_portal"
down_revision: str | None = "0111_license_fields"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("certified_copies", schema=None) as batch_op:
        batch_op.add_column(sa.Column("material_id", ID, nullable=True))
        batch_op.alter_column("license_id", existing_type=ID, nullable=True)
        batch_op.alter_column("license_version", existing_type=sa.Integer(), nullable=True)
        batch_op.create_foreign_key(
            batch_op.f("fk_certified_copies_material_id_materials"),
            "materials",
            ["material_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_index(
            batch_op.f("ix_certified_copies_material_id"), ["material_id"], unique=False
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_certified_copies_of_one"),
            "(license_id IS NULL) <> (material_id IS NULL) "
            "AND (license_id IS NULL) = (license_version IS NULL)",
        )


def downgrade() -> None:
    op.execute("DELETE FROM certified_copies WHERE material_id IS NOT NULL")
    with op.batch_alter_table("certified_copies", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_certified_copies_of_one"), type_="check")
        batch_op.drop_index(batch_op.f("ix_certified_copies_material_id"))
        batch_op.drop_constraint(
            batch_op.f("fk_certified_copies_material_id_materials"), type_="foreignkey"
        )
        batch_op.drop_column("material_id")
        batch_op.alter_column("license_version", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("license_id", existing_type=ID, nullable=False)
