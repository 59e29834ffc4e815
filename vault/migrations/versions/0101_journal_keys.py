"""bulk import journal (import_runs, import_journal); key ids on holder rows

Revision ID: 0101_journal_keys
Revises: 0100_api
Create Date: 2026-11-22 03:11:48.820074

The key id columns start NULL on existing rows: which keys sealed them is not known to a
migration. ``evault keys rotate`` fills them (re-sealing each row under the current keys).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

#: Surrogate keys: BIGINT on PostgreSQL, INTEGER (the rowid alias) on SQLite.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

revision: str = "0101_journal_keys"
down_revision: str | None = "0100_api"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "import_runs",
        sa.Column("id", ID, nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("retry_refused", sa.Boolean(), nullable=False),
        sa.Column("intake_digest", sa.String(length=64), nullable=False),
        sa.Column("files", sa.Integer(), nullable=False),
        sa.Column("ingested", sa.Integer(), nullable=False),
        sa.Column("duplicates", sa.Integer(), nullable=False),
        sa.Column("refused", sa.Integer(), nullable=False),
        sa.Column("settled_before", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "state IN ('running', 'finished', 'interrupted')", name=op.f("ck_import_runs_state")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_runs")),
    )
    op.create_table(
        "import_journal",
        sa.Column("id", ID, nullable=False),
        sa.Column("run_id", ID, nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("metadata_digest", sa.String(length=64), nullable=True),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("license_id", ID, nullable=True),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "outcome IN ('ingested', 'duplicate', 'refused')",
            name=op.f("ck_import_journal_outcome"),
        ),
        sa.ForeignKeyConstraint(
            ["license_id"],
            ["licenses.id"],
            name=op.f("fk_import_journal_license_id_licenses"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["import_runs.id"],
            name=op.f("fk_import_journal_run_id_import_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_journal")),
    )
    with op.batch_alter_table("import_journal", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_import_journal_run_id"), ["run_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_import_journal_sha256"), ["sha256"], unique=False)

    with op.batch_alter_table("holders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("holder_key_id", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("blind_index_key_id", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("holders", schema=None) as batch_op:
        batch_op.drop_column("blind_index_key_id")
        batch_op.drop_column("holder_key_id")

    with op.batch_alter_table("import_journal", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_import_journal_sha256"))
        batch_op.drop_index(batch_op.f("ix_import_journal_run_id"))

    op.drop_table("import_journal")
    op.drop_table("import_runs")
