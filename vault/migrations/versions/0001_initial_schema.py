"""initial schema: catalog, holders, licenses, transparency log

Revision ID: 0001
Revises:
Create Date: 2026-11-22 00:32:54.346729
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

#: Surrogate keys: BIGINT on PostgreSQL, INTEGER (the rowid alias) on SQLite.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "departments",
        sa.Column("id", ID, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("credit_code", sa.String(length=18), nullable=False),
        sa.Column("is_issuer", sa.Boolean(), nullable=False),
        sa.Column("is_user", sa.Boolean(), nullable=False),
        sa.Column("oauth_client_id", sa.String(length=100), nullable=True),
        sa.Column("oauth_secret_hash", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_departments")),
        sa.UniqueConstraint("credit_code", name=op.f("uq_departments_credit_code")),
        sa.UniqueConstraint("oauth_client_id", name=op.f("uq_departments_oauth_client_id")),
    )
    op.create_table(
        "holders",
        sa.Column("id", ID, nullable=False),
        sa.Column("id_type", sa.String(length=3), nullable=False),
        sa.Column("blind_index", sa.LargeBinary(length=32), nullable=False),
        sa.Column("id_ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("name_ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("masked_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("id_type IN ('111', '001')", name=op.f("ck_holders_id_type")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_holders")),
        sa.UniqueConstraint("blind_index", name=op.f("uq_holders_blind_index")),
    )
    op.create_table(
        "license_types",
        sa.Column("id", ID, nullable=False),
        sa.Column("code", sa.String(length=21), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("holder_kind", sa.String(length=3), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "holder_kind IN ('111', '001')", name=op.f("ck_license_types_holder_kind")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_license_types")),
        sa.UniqueConstraint("code", name=op.f("uq_license_types_code")),
    )
    op.create_table(
        "log_checkpoints",
        sa.Column("id", ID, nullable=False),
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("root_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signed_note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_log_checkpoints")),
    )
    op.create_index(
        op.f("ix_log_checkpoints_tree_size"), "log_checkpoints", ["tree_size"], unique=False
    )

    op.create_table(
        "log_entries",
        sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event_type", sa.String(length=50), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("idx", name=op.f("pk_log_entries")),
    )
    op.create_index(op.f("ix_log_entries_event_type"), "log_entries", ["event_type"], unique=False)

    op.create_table(
        "license_type_issuers",
        sa.Column("license_type_id", ID, nullable=False),
        sa.Column("department_id", ID, nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_license_type_issuers_department_id_departments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["license_type_id"],
            ["license_types.id"],
            name=op.f("fk_license_type_issuers_license_type_id_license_types"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "license_type_id", "department_id", name=op.f("pk_license_type_issuers")
        ),
    )
    op.create_index(
        op.f("ix_license_type_issuers_department_id"),
        "license_type_issuers",
        ["department_id"],
        unique=False,
    )

    op.create_table(
        "licenses",
        sa.Column("id", ID, nullable=False),
        sa.Column("license_type_id", ID, nullable=False),
        sa.Column("issuer_department_id", ID, nullable=False),
        sa.Column("number", sa.String(length=100), nullable=False),
        sa.Column("holder_id", ID, nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("current_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('有效', '暂扣', '撤销', '注销', '吊销')", name=op.f("ck_licenses_status")
        ),
        sa.ForeignKeyConstraint(
            ["holder_id"], ["holders.id"], name=op.f("fk_licenses_holder_id_holders")
        ),
        sa.ForeignKeyConstraint(
            ["issuer_department_id"],
            ["departments.id"],
            name=op.f("fk_licenses_issuer_department_id_departments"),
        ),
        sa.ForeignKeyConstraint(
            ["license_type_id"],
            ["license_types.id"],
            name=op.f("fk_licenses_license_type_id_license_types"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_licenses")),
        sa.UniqueConstraint(
            "license_type_id",
            "issuer_department_id",
            "number",
            name=op.f("uq_licenses_license_type_id_issuer_department_id_number"),
        ),
    )
    op.create_index(op.f("ix_licenses_holder_id"), "licenses", ["holder_id"], unique=False)
    op.create_index(
        op.f("ix_licenses_issuer_department_id"), "licenses", ["issuer_department_id"], unique=False
    )

    op.create_table(
        "seal_certificates",
        sa.Column("id", ID, nullable=False),
        sa.Column("department_id", ID, nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=True),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "length(fingerprint) = 64", name=op.f("ck_seal_certificates_fingerprint_length")
        ),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_seal_certificates_department_id_departments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seal_certificates")),
        sa.UniqueConstraint("fingerprint", name=op.f("uq_seal_certificates_fingerprint")),
    )
    op.create_index(
        op.f("ix_seal_certificates_department_id"),
        "seal_certificates",
        ["department_id"],
        unique=False,
    )

    op.create_table(
        "standing_permissions",
        sa.Column("department_id", ID, nullable=False),
        sa.Column("license_type_id", ID, nullable=False),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_standing_permissions_department_id_departments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["license_type_id"],
            ["license_types.id"],
            name=op.f("fk_standing_permissions_license_type_id_license_types"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "department_id", "license_type_id", name=op.f("pk_standing_permissions")
        ),
    )
    op.create_index(
        op.f("ix_standing_permissions_license_type_id"),
        "standing_permissions",
        ["license_type_id"],
        unique=False,
    )

    op.create_table(
        "license_versions",
        sa.Column("id", ID, nullable=False),
        sa.Column("license_id", ID, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("blob_sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("license_identifier", sa.String(length=120), nullable=True),
        sa.Column("issuer_name", sa.String(length=200), nullable=False),
        sa.Column("issue_date", sa.Date(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("change_reason", sa.String(length=200), nullable=True),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.Column("report_json", sa.Text(), nullable=False),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("pushed_by_department_id", ID, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["license_id"],
            ["licenses.id"],
            name=op.f("fk_license_versions_license_id_licenses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["pushed_by_department_id"],
            ["departments.id"],
            name=op.f("fk_license_versions_pushed_by_department_id_departments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_license_versions")),
        sa.UniqueConstraint("blob_sha256", name=op.f("uq_license_versions_blob_sha256")),
        sa.UniqueConstraint(
            "license_id", "version", name=op.f("uq_license_versions_license_id_version")
        ),
    )
    op.create_table(
        "status_changes",
        sa.Column("id", ID, nullable=False),
        sa.Column("license_id", ID, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("from_status", sa.String(length=8), nullable=False),
        sa.Column("to_status", sa.String(length=8), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("changed_by_department_id", ID, nullable=True),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "from_status IN ('有效', '暂扣', '撤销', '注销', '吊销')",
            name=op.f("ck_status_changes_from_status"),
        ),
        sa.CheckConstraint(
            "to_status IN ('有效', '暂扣', '撤销', '注销', '吊销')",
            name=op.f("ck_status_changes_to_status"),
        ),
        sa.ForeignKeyConstraint(
            ["changed_by_department_id"],
            ["departments.id"],
            name=op.f("fk_status_changes_changed_by_department_id_departments"),
        ),
        sa.ForeignKeyConstraint(
            ["license_id"],
            ["licenses.id"],
            name=op.f("fk_status_changes_license_id_licenses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_changes")),
    )
    op.create_index(
        op.f("ix_status_changes_license_id"), "status_changes", ["license_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_status_changes_license_id"), table_name="status_changes")

    op.drop_table("status_changes")
    op.drop_table("license_versions")
    op.drop_index(
        op.f("ix_standing_permissions_license_type_id"), table_name="standing_permissions"
    )

    op.drop_table("standing_permissions")
    op.drop_index(op.f("ix_seal_certificates_department_id"), table_name="seal_certificates")

    op.drop_table("seal_certificates")
    op.drop_index(op.f("ix_licenses_issuer_department_id"), table_name="licenses")
    op.drop_index(op.f("ix_licenses_holder_id"), table_name="licenses")

    op.drop_table("licenses")
    op.drop_index(op.f("ix_license_type_issuers_department_id"), table_name="license_type_issuers")

    op.drop_table("license_type_issuers")
    op.drop_index(op.f("ix_log_entries_event_type"), table_name="log_entries")

    op.drop_table("log_entries")
    op.drop_index(op.f("ix_log_checkpoints_tree_size"), table_name="log_checkpoints")

    op.drop_table("log_checkpoints")
    op.drop_table("license_types")
    op.drop_table("holders")
    op.drop_table("departments")
