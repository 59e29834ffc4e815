"""agents_portal: certified copies (加注件) of materials; licenses referenced in cases

A copy is of one license version or of one material (电子材料), never both: the copy row
names the material, and its license columns are empty. ``case_licenses``: a sealed license
version a using department referenced as a material of one of its cases.

On PostgreSQL ``holders``, ``licenses`` and ``materials`` are partitioned (0112_partition):
a foreign key to them by id alone cannot exist there, so, as 0112 does for the older
tables, triggers keep the rule (``fk_<table>_<column>_<parent>``: the parent must exist;
its deletion cascades). On SQLite they are real foreign keys.

Revision ID: 0114_agents_portal
Revises: 0113_read_path_rate_limits
Create Date: 2026-12-07 04:00:00
"""

# ruff: noqa: S608 - every name put into SQL here is a constant of this file
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

#: Surrogate keys: BIGINT on PostgreSQL, INTEGER (the rowid alias) on SQLite.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

revision: str = "0114_agents_portal"
down_revision: str | None = "0113_read_path_rate_limits"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


#: Foreign keys by id alone to a partitioned table, cascading: (table, column, parent).
EMULATED = [
    ("certified_copies", "material_id", "materials"),
    ("case_licenses", "license_id", "licenses"),
    ("case_licenses", "holder_id", "holders"),
]


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _case_licenses_table(*, real_fks: bool) -> None:
    fks = [
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
    ]
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
        *(fks if real_fks else []),
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


def _copies_of_materials(*, real_fks: bool) -> None:
    with op.batch_alter_table("certified_copies", schema=None) as batch_op:
        batch_op.add_column(sa.Column("material_id", ID, nullable=True))
        batch_op.alter_column("license_id", existing_type=ID, nullable=True)
        batch_op.alter_column("license_version", existing_type=sa.Integer(), nullable=True)
        if real_fks:
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


def _triggers() -> list[str]:
    """0112's emulated foreign keys for the new columns: a child must name an existing
    parent; a parent's deletion (not a key rotation's move) deletes its children."""
    out = []
    for table, column, parent in EMULATED:
        name = f"fk_{table}_{column}_{parent}"
        out.append(
            f"""
CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM {parent} WHERE id = NEW.{column} FOR KEY SHARE;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation', CONSTRAINT = '{name}',
            MESSAGE = 'insert or update on table "{table}" violates foreign key "{name}"',
            DETAIL = format('Key ({column})=(%s) is not present in table "{parent}".',
                            NEW.{column});
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER {name} AFTER INSERT OR UPDATE OF {column} ON {table}
    FOR EACH ROW WHEN (NEW.{column} IS NOT NULL) EXECUTE FUNCTION {name}();
CREATE FUNCTION {name}_parent() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM {parent} WHERE id = OLD.id) THEN RETURN NULL; END IF;
    DELETE FROM {table} WHERE {column} = OLD.id;
    RETURN NULL;
END $$;
CREATE TRIGGER {name}_parent AFTER DELETE ON {parent}
    FOR EACH ROW EXECUTE FUNCTION {name}_parent();"""
        )
    return out


def upgrade() -> None:
    postgresql = _postgresql()
    _case_licenses_table(real_fks=not postgresql)
    _copies_of_materials(real_fks=not postgresql)
    if postgresql:
        for statement in _triggers():
            op.execute(statement)


def downgrade() -> None:
    postgresql = _postgresql()
    if postgresql:
        for table, column, parent in EMULATED:
            name = f"fk_{table}_{column}_{parent}"
            op.execute(f"DROP TRIGGER {name}_parent ON {parent}")
            op.execute(f"DROP FUNCTION {name}_parent()")
            op.execute(f"DROP TRIGGER {name} ON {table}")
            op.execute(f"DROP FUNCTION {name}()")
    op.drop_index(op.f("ix_case_licenses_license_id"), table_name="case_licenses")
    op.drop_index("ix_case_licenses_department_case", table_name="case_licenses")
    op.drop_table("case_licenses")
    op.execute("DELETE FROM certified_copies WHERE material_id IS NOT NULL")
    with op.batch_alter_table("certified_copies", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_certified_copies_of_one"), type_="check")
        batch_op.drop_index(batch_op.f("ix_certified_copies_material_id"))
        if not postgresql:
            batch_op.drop_constraint(
                batch_op.f("fk_certified_copies_material_id_materials"), type_="foreignkey"
            )
        batch_op.drop_column("material_id")
        batch_op.alter_column("license_version", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("license_id", existing_type=ID, nullable=False)
