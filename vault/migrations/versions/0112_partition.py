"""partition: holder data partitioned by the holder's blind index (PostgreSQL)

Revision ID: 0112_partition
Revises: 0111_license_fields
Create Date: 2026-12-07 03:40:00

On PostgreSQL, ``holders``, ``licenses``, ``materials`` and ``access_events`` become
``PARTITION BY HASH`` of the holder's blind index, 8 partitions each (``<table>_p0`` ...
``_p7``); a distributed PostgreSQL (Citus) takes the same schema with the blind index as
distribution column. The three holder-data tables get ``holder_blind_index`` (copied from
their holder; 32 zero bytes for an access event about no holder), every primary and
unique key includes the partition key, and they refer to their holder (an access event
also to its license or material) by ``(id, blind index)`` with ``ON UPDATE CASCADE``.
Foreign keys from other tables to holders or licenses by id alone cannot exist on
PostgreSQL: triggers keep the same rule (``fk_<table>_<column>_<parent>``: the parent must
exist; its deletion cascades, sets null or is refused as the foreign key said). Existing
rows are copied into the partitioned tables in place (one transaction).

On SQLite nothing is partitioned: the same columns, unique keys and composite foreign keys
are made by rebuilding the tables (env.py turns foreign keys off around migrations on
SQLite and checks them afterwards).

docs/scaling.md explains each choice.
"""

# ruff: noqa: S608 - every name put into SQL here is a constant of this file
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0112_partition"
down_revision: str | None = "0111_license_fields"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PARTS = 8
NO_HOLDER_SQL = "'\\x" + "00" * 32 + "'::bytea"
#: (table, partition key) in the order they are converted (parents first).
TABLES = (
    ("holders", "blind_index"),
    ("licenses", "holder_blind_index"),
    ("materials", "holder_blind_index"),
    ("access_events", "holder_blind_index"),
)
#: How the new column is filled from the old table ``o`` (holders as ``h``).
FILL = {
    "licenses": "SELECT o.*, h.blind_index FROM {old} o JOIN holders h ON h.id = o.holder_id",
    "materials": "SELECT o.*, h.blind_index FROM {old} o JOIN holders h ON h.id = o.holder_id",
    "access_events": (
        "SELECT o.*, coalesce(h.blind_index, " + NO_HOLDER_SQL + ") FROM {old} o "
        "LEFT JOIN holders h ON h.id = o.holder_id"
    ),
}

#: Keys and indexes of the partitioned tables (name, definition), after the copy.
PARTITIONED_KEYS = {
    "holders": [
        ("pk_holders", "PRIMARY KEY (id, blind_index)"),
        ("uq_holders_blind_index", "UNIQUE (blind_index)"),
    ],
    "licenses": [
        ("pk_licenses", "PRIMARY KEY (id, holder_blind_index)"),
        (
            "uq_licenses_type_issuer_number_holder",
            "UNIQUE (license_type_id, issuer_department_id, number, holder_blind_index)",
        ),
    ],
    "materials": [
        ("pk_materials", "PRIMARY KEY (id, holder_blind_index)"),
        (
            "uq_materials_holder_type_source",
            "UNIQUE (holder_id, material_type_id, source_sha256, holder_blind_index)",
        ),
    ],
    "access_events": [("pk_access_events", "PRIMARY KEY (id, holder_blind_index)")],
}
PARTITIONED_INDEXES = [
    "CREATE UNIQUE INDEX ix_licenses_public_id ON licenses (public_id, holder_blind_index)",
    "CREATE INDEX ix_licenses_holder_id ON licenses (holder_id)",
    "CREATE INDEX ix_licenses_issuer_department_id ON licenses (issuer_department_id)",
    "CREATE UNIQUE INDEX ix_materials_public_id ON materials (public_id, holder_blind_index)",
    "CREATE INDEX ix_materials_department_id ON materials (department_id)",
    "CREATE INDEX ix_materials_holder_type ON materials (holder_id, material_type_id)",
    "CREATE INDEX ix_access_events_department_id ON access_events (department_id)",
    "CREATE INDEX ix_access_events_holder_at ON access_events (holder_id, at)",
    "CREATE INDEX ix_access_events_license_id ON access_events (license_id)",
    "CREATE INDEX ix_access_events_material_id ON access_events (material_id)",
]
_HOLDER = "(holder_id, holder_blind_index) REFERENCES holders (id, blind_index)"
PARTITIONED_FKS = [
    ("licenses", "fk_licenses_holder_id_holders", f"FOREIGN KEY {_HOLDER} ON UPDATE CASCADE"),
    (
        "licenses",
        "fk_licenses_issuer_department_id_departments",
        "FOREIGN KEY (issuer_department_id) REFERENCES departments (id)",
    ),
    (
        "licenses",
        "fk_licenses_license_type_id_license_types",
        "FOREIGN KEY (license_type_id) REFERENCES license_types (id)",
    ),
    (
        "materials",
        "fk_materials_holder_id_holders",
        f"FOREIGN KEY {_HOLDER} ON DELETE CASCADE ON UPDATE CASCADE",
    ),
    (
        "materials",
        "fk_materials_department_id_departments",
        "FOREIGN KEY (department_id) REFERENCES departments (id)",
    ),
    (
        "materials",
        "fk_materials_material_type_id_material_types",
        "FOREIGN KEY (material_type_id) REFERENCES material_types (id)",
    ),
    (
        "access_events",
        "fk_access_events_holder_id_holders",
        f"FOREIGN KEY {_HOLDER} ON DELETE CASCADE ON UPDATE CASCADE",
    ),
    (
        "access_events",
        "fk_access_events_license_id_licenses",
        "FOREIGN KEY (license_id, holder_blind_index) REFERENCES licenses (id, holder_blind_index)"
        " ON DELETE CASCADE ON UPDATE CASCADE",
    ),
    (
        "access_events",
        "fk_access_events_material_id_materials",
        "FOREIGN KEY (material_id, holder_blind_index) "
        "REFERENCES materials (id, holder_blind_index) ON DELETE CASCADE ON UPDATE CASCADE",
    ),
    (
        "access_events",
        "fk_access_events_department_id_departments",
        "FOREIGN KEY (department_id) REFERENCES departments (id)",
    ),
    (
        "access_events",
        "fk_access_events_grant_id_grants",
        "FOREIGN KEY (grant_id) REFERENCES grants (id) ON DELETE SET NULL",
    ),
]
#: Foreign keys by id alone to a partitioned table: (table, column, parent, on delete).
EMULATED = [
    ("license_versions", "license_id", "licenses", "CASCADE"),
    ("status_changes", "license_id", "licenses", "CASCADE"),
    ("license_field_values", "license_id", "licenses", "CASCADE"),
    ("certified_copies", "license_id", "licenses", "CASCADE"),
    ("certified_copies", "holder_id", "holders", "NO ACTION"),
    ("import_journal", "license_id", "licenses", "SET NULL"),
    ("credential_offers", "holder_id", "holders", "NO ACTION"),
    ("credential_offers", "license_id", "licenses", "NO ACTION"),
    ("issued_credentials", "holder_id", "holders", "NO ACTION"),
    ("issued_credentials", "license_id", "licenses", "NO ACTION"),
    ("grants", "holder_id", "holders", "CASCADE"),
    ("company_spaces", "company_id", "holders", "CASCADE"),
    ("company_spaces", "representative_id", "holders", "CASCADE"),
    ("company_agents", "agent_id", "holders", "CASCADE"),
    ("access_events", "agent_id", "holders", "SET NULL"),
]

#: 0111's keys, indexes and foreign keys of the four tables, for the downgrade.
ORIGINAL_KEYS = {
    "holders": [
        ("pk_holders", "PRIMARY KEY (id)"),
        ("uq_holders_blind_index", "UNIQUE (blind_index)"),
    ],
    "licenses": [
        ("pk_licenses", "PRIMARY KEY (id)"),
        (
            "uq_licenses_license_type_id_issuer_department_id_number",
            "UNIQUE (license_type_id, issuer_department_id, number)",
        ),
    ],
    "materials": [
        ("pk_materials", "PRIMARY KEY (id)"),
        (
            "uq_materials_holder_id_material_type_id_source_sha256",
            "UNIQUE (holder_id, material_type_id, source_sha256)",
        ),
    ],
    "access_events": [("pk_access_events", "PRIMARY KEY (id)")],
}
ORIGINAL_INDEXES = [d.replace(", holder_blind_index)", ")") for d in PARTITIONED_INDEXES]
_ORIGINAL_ACTIONS = {
    ("licenses", "holder_id"): "",
    ("materials", "holder_id"): " ON DELETE CASCADE",
    ("access_events", "holder_id"): " ON DELETE CASCADE",
    ("access_events", "license_id"): " ON DELETE CASCADE",
    ("access_events", "material_id"): " ON DELETE CASCADE",
}


def _original_fks() -> list[tuple[str, str, str]]:
    out = []
    for table, name, definition in PARTITIONED_FKS:
        column = definition.split("(", 1)[1].split(",", 1)[0].split(")", 1)[0]
        if (table, column) in _ORIGINAL_ACTIONS:
            parent = name.rsplit("_", 1)[1]
            action = _ORIGINAL_ACTIONS[(table, column)]
            definition = f"FOREIGN KEY ({column}) REFERENCES {parent} (id){action}"
        out.append((table, name, definition))
    for table, column, parent, on_delete in EMULATED:
        action = "" if on_delete == "NO ACTION" else f" ON DELETE {on_delete}"
        out.append(
            (
                table,
                f"fk_{table}_{column}_{parent}",
                f"FOREIGN KEY ({column}) REFERENCES {parent} (id){action}",
            )
        )
    return out


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _upgrade_postgresql()
    else:
        _upgrade_sqlite()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _downgrade_postgresql()
    else:
        _downgrade_sqlite()


# --- PostgreSQL --------------------------------------------------------------------------


def _drop_foreign_keys() -> None:
    """Every foreign key from or to the four tables (made again after the conversion)."""
    bind = op.get_bind()
    names = [t for t, _ in TABLES]
    rows = bind.execute(
        sa.text(
            "SELECT conrelid::regclass::text, conname FROM pg_constraint "
            "WHERE contype = 'f' AND conparentid = 0 AND "
            "(conrelid::regclass::text = ANY(:t) OR confrelid::regclass::text = ANY(:t))"
        ),
        {"t": names},
    ).all()
    for table, name in rows:
        op.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')


def _add(table: str, keys: list[tuple[str, str]]) -> None:
    for name, definition in keys:
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")


def _to_partitioned(table: str, key: str) -> None:
    old = f"{table}_unpartitioned"
    op.execute(f"ALTER SEQUENCE {table}_id_seq OWNED BY NONE")
    op.execute(f"ALTER TABLE {table} RENAME TO {old}")
    extra = "" if table == "holders" else ", holder_blind_index bytea NOT NULL"
    op.execute(
        f"CREATE TABLE {table} (LIKE {old} INCLUDING DEFAULTS INCLUDING CONSTRAINTS{extra}) "
        f"PARTITION BY HASH ({key})"
    )
    for i in range(PARTS):
        op.execute(
            f"CREATE TABLE {table}_p{i} PARTITION OF {table} "
            f"FOR VALUES WITH (MODULUS {PARTS}, REMAINDER {i})"
        )
    select = FILL.get(table, "SELECT * FROM {old}").format(old=old)
    op.execute(f"INSERT INTO {table} {select}")
    op.execute(f"DROP TABLE {old}")
    op.execute(f"ALTER SEQUENCE {table}_id_seq OWNED BY {table}.id")
    _add(table, PARTITIONED_KEYS[table])


def _to_plain(table: str) -> None:
    old = f"{table}_partitioned"
    op.execute(f"ALTER SEQUENCE {table}_id_seq OWNED BY NONE")
    op.execute(f"ALTER TABLE {table} RENAME TO {old}")
    op.execute(f"CREATE TABLE {table} (LIKE {old} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
    if table != "holders":
        op.execute(f"ALTER TABLE {table} DROP COLUMN holder_blind_index")
    columns = op.get_bind().execute(
        sa.text(
            "SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute "
            "WHERE attrelid = CAST(:t AS regclass) AND attnum > 0 AND NOT attisdropped"
        ),
        {"t": table},
    )
    names = columns.scalar_one()
    op.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM {old}")
    op.execute(f"DROP TABLE {old}")  # and its partitions
    op.execute(f"ALTER SEQUENCE {table}_id_seq OWNED BY {table}.id")
    _add(table, ORIGINAL_KEYS[table])


def _trigger_functions() -> list[str]:
    """The triggers that keep :data:`EMULATED` (child checks, then parent deletions)."""
    out = []
    for table, column, parent, _ in EMULATED:
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
    FOR EACH ROW WHEN (NEW.{column} IS NOT NULL) EXECUTE FUNCTION {name}();"""
        )
    for parent in ("holders", "licenses"):
        steps = []
        for table, column, p, on_delete in EMULATED:
            if p != parent:
                continue
            name = f"fk_{table}_{column}_{parent}"
            if on_delete == "CASCADE":
                steps.append(f"DELETE FROM {table} WHERE {column} = OLD.id;")
            elif on_delete == "SET NULL":
                steps.append(f"UPDATE {table} SET {column} = NULL WHERE {column} = OLD.id;")
            else:
                steps.append(
                    f"IF EXISTS (SELECT 1 FROM {table} WHERE {column} = OLD.id) THEN "
                    f"RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation', "
                    f"CONSTRAINT = '{name}', MESSAGE = 'delete on table \"{parent}\" violates "
                    f'foreign key "{name}" on table "{table}"\'; END IF;'
                )
        body = "\n    ".join(steps)
        out.append(
            f"""
CREATE FUNCTION {parent}_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- a key rotation moves the row to another partition (a delete and an insert)
    IF EXISTS (SELECT 1 FROM {parent} WHERE id = OLD.id) THEN RETURN NULL; END IF;
    {body}
    RETURN NULL;
END $$;
CREATE TRIGGER {parent}_deleted AFTER DELETE ON {parent}
    FOR EACH ROW EXECUTE FUNCTION {parent}_deleted();"""
        )
    return out


def _upgrade_postgresql() -> None:
    op.execute("SET LOCAL statement_timeout = 0")  # the copy takes as long as it takes
    _drop_foreign_keys()
    for table, key in TABLES:
        _to_partitioned(table, key)
    for statement in PARTITIONED_INDEXES:
        op.execute(statement)
    for table, name, definition in PARTITIONED_FKS:
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
    for statement in _trigger_functions():
        op.execute(statement)
    _analyze()


def _analyze() -> None:
    """Statistics for the new tables: until ANALYZE, the planner guesses (autovacuum
    analyzes partitions, never a partitioned table itself)."""
    op.execute("ANALYZE " + ", ".join(t for t, _ in TABLES))


def _downgrade_postgresql() -> None:
    op.execute("SET LOCAL statement_timeout = 0")
    for table, column, parent, _ in EMULATED:
        name = f"fk_{table}_{column}_{parent}"
        op.execute(f"DROP TRIGGER {name} ON {table}")
        op.execute(f"DROP FUNCTION {name}()")
    for parent in ("holders", "licenses"):
        op.execute(f"DROP TRIGGER {parent}_deleted ON {parent}")
        op.execute(f"DROP FUNCTION {parent}_deleted()")
    _drop_foreign_keys()
    for table, _ in reversed(TABLES):
        _to_plain(table)
    for statement in ORIGINAL_INDEXES:
        op.execute(statement)
    for table, name, definition in _original_fks():
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
    _analyze()


# --- SQLite ------------------------------------------------------------------------------

_BLIND = sa.LargeBinary(length=32)


def _fill_sqlite(table: str) -> None:
    fallback = "x'" + "00" * 32 + "'" if table == "access_events" else "NULL"
    op.execute(
        f"UPDATE {table} SET holder_blind_index = coalesce("
        f"(SELECT blind_index FROM holders WHERE holders.id = {table}.holder_id), {fallback})"
    )


def _sqlite_holder_data(
    table: str, old_unique: str, new_unique: tuple[str, list[str]], *, ondelete: str | None
) -> None:
    """licenses or materials on SQLite: the blind index NOT NULL and in every unique key,
    the foreign key to the holder by (id, blind index)."""
    with op.batch_alter_table(table) as batch:
        batch.alter_column("holder_blind_index", existing_type=_BLIND, nullable=False)
        batch.drop_index(f"ix_{table}_public_id")
        batch.drop_constraint(old_unique, type_="unique")
        batch.drop_constraint(f"fk_{table}_holder_id_holders", type_="foreignkey")
        name, columns = new_unique
        batch.create_unique_constraint(name, [*columns, "holder_blind_index"])
        batch.create_unique_constraint(
            f"uq_{table}_id_holder_blind_index", ["id", "holder_blind_index"]
        )
        batch.create_index(
            f"ix_{table}_public_id", ["public_id", "holder_blind_index"], unique=True
        )
        batch.create_foreign_key(
            f"fk_{table}_holder_id_holders",
            "holders",
            ["holder_id", "holder_blind_index"],
            ["id", "blind_index"],
            ondelete=ondelete,
            onupdate="CASCADE",
        )


def _upgrade_sqlite() -> None:
    with op.batch_alter_table("holders") as batch:
        batch.create_unique_constraint("uq_holders_id_blind_index", ["id", "blind_index"])
    holder = (["holder_id", "holder_blind_index"], ["id", "blind_index"])
    for table in ("licenses", "materials", "access_events"):
        op.add_column(table, sa.Column("holder_blind_index", _BLIND, nullable=True))
        _fill_sqlite(table)
    _sqlite_holder_data(
        "licenses",
        "uq_licenses_license_type_id_issuer_department_id_number",
        (
            "uq_licenses_type_issuer_number_holder",
            ["license_type_id", "issuer_department_id", "number"],
        ),
        ondelete=None,
    )
    _sqlite_holder_data(
        "materials",
        "uq_materials_holder_id_material_type_id_source_sha256",
        ("uq_materials_holder_type_source", ["holder_id", "material_type_id", "source_sha256"]),
        ondelete="CASCADE",
    )
    with op.batch_alter_table("access_events") as batch:
        batch.alter_column("holder_blind_index", existing_type=_BLIND, nullable=False)
        for name, parent, columns, remote in (
            ("fk_access_events_holder_id_holders", "holders", *holder),
            (
                "fk_access_events_license_id_licenses",
                "licenses",
                ["license_id", "holder_blind_index"],
                ["id", "holder_blind_index"],
            ),
            (
                "fk_access_events_material_id_materials",
                "materials",
                ["material_id", "holder_blind_index"],
                ["id", "holder_blind_index"],
            ),
        ):
            batch.drop_constraint(name, type_="foreignkey")
            batch.create_foreign_key(
                name, parent, columns, remote, ondelete="CASCADE", onupdate="CASCADE"
            )


def _downgrade_sqlite() -> None:
    with op.batch_alter_table("access_events") as batch:
        for name, parent, column in (
            ("fk_access_events_holder_id_holders", "holders", "holder_id"),
            ("fk_access_events_license_id_licenses", "licenses", "license_id"),
            ("fk_access_events_material_id_materials", "materials", "material_id"),
        ):
            batch.drop_constraint(name, type_="foreignkey")
            batch.create_foreign_key(name, parent, [column], ["id"], ondelete="CASCADE")
        batch.drop_column("holder_blind_index")
    with op.batch_alter_table("materials") as batch:
        batch.drop_constraint("fk_materials_holder_id_holders", type_="foreignkey")
        batch.drop_index("ix_materials_public_id")
        batch.drop_constraint("uq_materials_id_holder_blind_index", type_="unique")
        batch.drop_constraint("uq_materials_holder_type_source", type_="unique")
        batch.drop_column("holder_blind_index")
        batch.create_unique_constraint(
            "uq_materials_holder_id_material_type_id_source_sha256",
            ["holder_id", "material_type_id", "source_sha256"],
        )
        batch.create_index("ix_materials_public_id", ["public_id"], unique=True)
        batch.create_foreign_key(
            "fk_materials_holder_id_holders", "holders", ["holder_id"], ["id"], ondelete="CASCADE"
        )
    with op.batch_alter_table("licenses") as batch:
        batch.drop_constraint("fk_licenses_holder_id_holders", type_="foreignkey")
        batch.drop_index("ix_licenses_public_id")
        batch.drop_constraint("uq_licenses_id_holder_blind_index", type_="unique")
        batch.drop_constraint("uq_licenses_type_issuer_number_holder", type_="unique")
        batch.drop_column("holder_blind_index")
        batch.create_unique_constraint(
            "uq_licenses_license_type_id_issuer_department_id_number",
            ["license_type_id", "issuer_department_id", "number"],
        )
        batch.create_index("ix_licenses_public_id", ["public_id"], unique=True)
        batch.create_foreign_key("fk_licenses_holder_id_holders", "holders", ["holder_id"], ["id"])
    with op.batch_alter_table("holders") as batch:
        batch.drop_constraint("uq_holders_id_blind_index", type_="unique")
