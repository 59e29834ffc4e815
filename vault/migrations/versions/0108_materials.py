"""materials: the material catalogue (材料目录), deposited materials, their reuse permissions,
and the material an access-log row concerns

Revision ID: 0108_materials
Revises: 0107_wallet_credentials
Create Date: 2026-12-07 01:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0108_materials"
down_revision: str | None = "0107_wallet_credentials"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "material_types",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("holder_kinds", sa.JSON(), nullable=False),
        sa.Column("validity", sa.String(length=10), nullable=False),
        sa.Column("validity_months", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(validity = 'period') = (validity_months IS NOT NULL)",
            name=op.f("ck_material_types_validity_months"),
        ),
        sa.CheckConstraint(
            "validity IN ('document', 'period')", name=op.f("ck_material_types_validity")
        ),
        sa.CheckConstraint(
            "validity_months IS NULL OR validity_months >= 1",
            name=op.f("ck_material_types_months_positive"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_material_types")),
        sa.UniqueConstraint("code", name=op.f("uq_material_types_code")),
    )
    op.create_table(
        "material_permissions",
        sa.Column("department_id", _ID, nullable=False),
        sa.Column("material_type_id", _ID, nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_material_permissions_department_id_departments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["material_type_id"],
            ["material_types.id"],
            name=op.f("fk_material_permissions_material_type_id_material_types"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "department_id", "material_type_id", name=op.f("pk_material_permissions")
        ),
    )
    op.create_index(
        op.f("ix_material_permissions_material_type_id"),
        "material_permissions",
        ["material_type_id"],
    )
    _create_materials()
    with op.batch_alter_table("access_events") as batch:
        batch.add_column(sa.Column("material_id", _ID, nullable=True))
        batch.create_foreign_key(
            op.f("fk_access_events_material_id_materials"),
            "materials",
            ["material_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch.create_index(op.f("ix_access_events_material_id"), ["material_id"])


def _create_materials() -> None:
    op.create_table(
        "materials",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column("holder_id", _ID, nullable=False),
        sa.Column("material_type_id", _ID, nullable=False),
        sa.Column("source_sha256", sa.String(length=64), nullable=False),
        sa.Column("media_type", sa.String(length=20), nullable=False),
        sa.Column("source_size", sa.Integer(), nullable=False),
        sa.Column("blob_sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("department_id", _ID, nullable=False),
        sa.Column("clerk", sa.String(length=100), nullable=False),
        sa.Column("purpose", sa.String(length=200), nullable=False),
        sa.Column("case_no", sa.String(length=100), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("document_valid_until", sa.Date(), nullable=True),
        sa.Column("usable_until", sa.Date(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("state_changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "media_type IN ('image/jpeg', 'image/png', 'application/pdf')",
            name=op.f("ck_materials_media_type"),
        ),
        sa.CheckConstraint(
            "state IN ('current', 'superseded', 'withdrawn')", name=op.f("ck_materials_state")
        ),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_materials_department_id_departments"),
        ),
        sa.ForeignKeyConstraint(
            ["holder_id"],
            ["holders.id"],
            name=op.f("fk_materials_holder_id_holders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["material_type_id"],
            ["material_types.id"],
            name=op.f("fk_materials_material_type_id_material_types"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_materials")),
        sa.UniqueConstraint(
            "holder_id",
            "material_type_id",
            "source_sha256",
            name=op.f("uq_materials_holder_id_material_type_id_source_sha256"),
        ),
    )
    op.create_index(op.f("ix_materials_department_id"), "materials", ["department_id"])
    op.create_index("ix_materials_holder_type", "materials", ["holder_id", "material_type_id"])
    op.create_index(op.f("ix_materials_public_id"), "materials", ["public_id"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("access_events") as batch:
        batch.drop_index(op.f("ix_access_events_material_id"))
        batch.drop_constraint(op.f("fk_access_events_material_id_materials"), type_="foreignkey")
        batch.drop_column("material_id")
    op.drop_index(op.f("ix_materials_public_id"), table_name="materials")
    op.drop_index("ix_materials_holder_type", table_name="materials")
    op.drop_index(op.f("ix_materials_department_id"), table_name="materials")
    op.drop_table("materials")
    op.drop_index(
        op.f("ix_material_permissions_material_type_id"), table_name="material_permissions"
    )
    op.drop_table("material_permissions")
    op.drop_table("material_types")
