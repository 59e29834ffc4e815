"""license_file_format: each license version records its file's format (PDF or OFD)

Revision ID: 0105_license_file_format
Revises: 0104_idempotent_answers
Create Date: 2026-12-07 01:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0105_license_file_format"
down_revision: str | None = "0104_idempotent_answers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Every version stored before OFD intake existed is a PDF.
    with op.batch_alter_table("license_versions") as batch:
        batch.add_column(
            sa.Column("file_format", sa.String(length=8), nullable=False, server_default="PDF")
        )
        batch.create_check_constraint(
            op.f("ck_license_versions_file_format"), "file_format IN ('PDF', 'OFD')"
        )


def downgrade() -> None:
    with op.batch_alter_table("license_versions") as batch:
        batch.drop_constraint(op.f("ck_license_versions_file_format"), type_="check")
        batch.drop_column("file_format")
