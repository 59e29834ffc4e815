"""licenses.public_id: the random id the API and the pages show instead of the row id

Revision ID: 0102_license_public_ids
Revises: 0101_journal_keys
Create Date: 2026-12-02 10:40:00

Existing licenses get a random public id each. On SQLite the column is added NOT NULL with
an empty default (SQLite adds no NOT NULL column without one, and rebuilding ``licenses``
would cascade deletes to its versions); every row is then filled, and evault always sets
the id itself. On PostgreSQL the default is dropped again.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0102_license_public_ids"
down_revision: str | None = "0101_journal_keys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _new_public_id() -> str:
    # As vault.models.licenses.new_license_public_id (a migration keeps its own copy).
    return "l_" + secrets.token_urlsafe(16)


def upgrade() -> None:
    op.add_column(
        "licenses",
        sa.Column("public_id", sa.String(length=40), nullable=False, server_default=""),
    )
    bind = op.get_bind()
    ids = [row[0] for row in bind.execute(sa.text("SELECT id FROM licenses"))]
    if ids:
        bind.execute(
            sa.text("UPDATE licenses SET public_id = :public_id WHERE id = :id"),
            [{"id": i, "public_id": _new_public_id()} for i in ids],
        )
    if bind.dialect.name != "sqlite":
        op.alter_column("licenses", "public_id", server_default=None)
    op.create_index(op.f("ix_licenses_public_id"), "licenses", ["public_id"], unique=True)


def downgrade() -> None:
    op.drop_index(op.f("ix_licenses_public_id"), table_name="licenses")
    op.drop_column("licenses", "public_id")  # SQLite >= 3.35 drops a column in place
