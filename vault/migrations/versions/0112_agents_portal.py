"""agents_portal: certified copies (加注件) of materials; licenses referenced in cases

A copy is of one license version or of one material (电子材料), never both: the copy row
names the material, and its license columns are empty. ``case_licenses``: a sealed license
version a using department referenced as a material of one of its cases.

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
    op.create_table(
        "case_licenses",
        sa.Column("id", ID, nullable=False),
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column("department_id", ID, nullable=False),
        sa.Column("case_no", sa.String(length=100), nullable=False),
        sa.Column("purpose", sa.String(length=200), nullable=False),
        sa.Column("license_id", ID, nullable=False),
        sa.Column("license_version", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("holder_id", ID, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_case_licenses_department_id_departments"),
        ),
        sa.ForeignKeyConstraint(
            ["holder_id"],
            ["holders.id"],
            name=op.f("fk_case_licenses_holder_id_holders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["license_id"],
            ["licenses.id"],
            name=op.f("fk_case_licenses_license_id_licenses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_licenses")),
        sa.UniqueConstraint("public_id", name=op.f("uq_case_licenses_public_id")),
        sa.UniqueConstraint(
            "department_id",
            "case_no",
            "license_id",
            "license_version",
            name=op.f("uq_case_licenses_reference"),
        ),
    )
    op.create_index(
        "ix_case_licenses_department_case",
        "case_licenses",
        ["department_id", "case_no"],
        unique=False,
    )
    op.create_index(
        op.f("ix_case_licenses_license_id"), "case_licenses", ["license_id"], unique=False
    )
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
    op.drop_index(op.f("ix_case_licenses_license_id"), table_name="case_licenses")
    op.drop_index("ix_case_licenses_department_case", table_name="case_licenses")
    op.drop_table("case_licenses")
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
