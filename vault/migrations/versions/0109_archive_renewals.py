"""archive_renewals: long-term archive renewals of stored licenses (evault ltv renew)

Revision ID: 0109_archive_renewals
Revises: 0108_materials
Create Date: 2026-12-07 01:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

#: Surrogate keys: BIGINT on PostgreSQL, INTEGER (the rowid alias) on SQLite.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

revision: str = "0109_archive_renewals"
down_revision: str | None = "0108_materials"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "archive_renewals",
        sa.Column("id", ID, nullable=False),
        sa.Column("license_version_id", ID, nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("blob_sha256", sa.String(length=64), nullable=False),
        sa.Column("previous_sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("horizon_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("horizon_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("renewed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["license_version_id"],
            ["license_versions.id"],
            name=op.f("fk_archive_renewals_license_version_id_license_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_archive_renewals")),
        sa.UniqueConstraint("blob_sha256", name=op.f("uq_archive_renewals_blob_sha256")),
        sa.UniqueConstraint(
            "license_version_id",
            "sequence",
            name=op.f("uq_archive_renewals_license_version_id_sequence"),
        ),
    )
    op.create_index(
        op.f("ix_archive_renewals_license_version_id"),
        "archive_renewals",
        ["license_version_id"],
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_archive_renewals_license_version_id"), table_name="archive_renewals")
    op.drop_table("archive_renewals")
