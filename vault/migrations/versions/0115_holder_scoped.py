"""holder_scoped: every table of one holder's rows carries the holder's blind index

Revision ID: 0115_holder_scoped
Revises: 0114_agents_portal
Create Date: 2026-12-07 14:10:00

The tables whose rows belong to one holder (versions, status changes, field values,
certified copies, grants and their uses, the wallet's offers and credentials, company
spaces and agents, case references, archive renewals) get ``holder_blind_index``
(``bytea``, NOT NULL), the same column and value as their license's or holder's, so that a
distributed PostgreSQL (Citus) can colocate them with the holder (distribution column =
the blind index). Existing rows are filled from their parent in place (one transaction).

They refer to their parent by ``(id, holder_blind_index)`` with ``ON UPDATE CASCADE``: a
blind-index key rotation moves every row with its holder, and the foreign key itself
guarantees that a row's blind index is its parent's. Those foreign keys are real on
PostgreSQL too: they replace the triggers 0112 and 0114 made for the foreign keys by id
alone to a partitioned table. The four parents that are not partitioned (versions,
grants, offers, company spaces) get ``UNIQUE (id, holder_blind_index)`` as the target.

What still refers by id alone (triggers on PostgreSQL, as 0112 made them): the import
journal's license (a journal entry belongs to an import run, not to a holder), and the
references to another holder (a company's representative, an agent, the agent of an
access event). docs/scaling.md says what each choice means for Citus.

The downgrade restores 0114's schema exactly (columns, keys, triggers, functions).
"""

# ruff: noqa: S608 - every name put into SQL here is a constant of this file
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0115_holder_scoped"
down_revision: str | None = "0114_agents_portal"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMN = "holder_blind_index"
#: How each table's new column is filled: (table, the column naming the parent, parent),
#: parents before the tables filled from them.
FILL = (
    ("license_versions", "license_id", "licenses"),
    ("status_changes", "license_id", "licenses"),
    ("license_field_values", "license_id", "licenses"),
    ("certified_copies", "holder_id", "holders"),
    ("grants", "holder_id", "holders"),
    ("credential_offers", "holder_id", "holders"),
    ("issued_credentials", "holder_id", "holders"),
    ("company_spaces", "company_id", "holders"),
    ("case_licenses", "holder_id", "holders"),
    ("archive_renewals", "license_version_id", "license_versions"),
    ("grant_uses", "grant_id", "grants"),
    ("company_agents", "space_id", "company_spaces"),
)
#: Tables not partitioned that become the target of a composite foreign key.
TARGETS = ("license_versions", "grants", "credential_offers", "company_spaces")
#: The composite foreign keys: (table, column, parent, on delete, what 0114 had instead:
#: ``0112`` or ``0114`` a trigger made by that migration, ``fk`` a foreign key by id).
FOREIGN_KEYS = (
    ("license_versions", "license_id", "licenses", "CASCADE", "0112"),
    ("status_changes", "license_id", "licenses", "CASCADE", "0112"),
    ("license_field_values", "license_id", "licenses", "CASCADE", "0112"),
    ("certified_copies", "license_id", "licenses", "CASCADE", "0112"),
    ("certified_copies", "holder_id", "holders", "NO ACTION", "0112"),
    ("certified_copies", "material_id", "materials", "CASCADE", "0114"),
    ("credential_offers", "holder_id", "holders", "NO ACTION", "0112"),
    ("credential_offers", "license_id", "licenses", "NO ACTION", "0112"),
    ("issued_credentials", "holder_id", "holders", "NO ACTION", "0112"),
    ("issued_credentials", "license_id", "licenses", "NO ACTION", "0112"),
    ("issued_credentials", "offer_id", "credential_offers", "NO ACTION", "fk"),
    ("grants", "holder_id", "holders", "CASCADE", "0112"),
    ("grant_uses", "grant_id", "grants", "CASCADE", "fk"),
    ("company_spaces", "company_id", "holders", "CASCADE", "0112"),
    ("company_agents", "space_id", "company_spaces", "CASCADE", "fk"),
    ("case_licenses", "license_id", "licenses", "CASCADE", "0114"),
    ("case_licenses", "holder_id", "holders", "CASCADE", "0114"),
    ("archive_renewals", "license_version_id", "license_versions", "CASCADE", "fk"),
)
#: 0112's foreign keys by id alone to a partitioned table (kept by triggers on
#: PostgreSQL), in 0112's order: (table, column, parent, on delete).
EMULATED_0112 = (
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
)
_REPLACED = {(t, c) for t, c, _, _, was in FOREIGN_KEYS if was == "0112"}
#: What stays a trigger after this migration.
EMULATED = tuple(e for e in EMULATED_0112 if (e[0], e[1]) not in _REPLACED)


def _name(table: str, column: str, parent: str) -> str:
    return f"fk_{table}_{column}_{parent}"


def _source(parent: str) -> str:
    """The parent's blind-index column."""
    return "blind_index" if parent == "holders" else COLUMN


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


def _deleted_function(parent: str, emulated: Sequence[tuple[str, str, str, str]]) -> str:
    """0112's trigger function on a parent's deletion, for the foreign keys ``emulated``
    (the same text as 0112 made for its list)."""
    steps = []
    for table, column, p, on_delete in emulated:
        if p != parent:
            continue
        name = _name(table, column, parent)
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
    return f"""
CREATE OR REPLACE FUNCTION {parent}_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- a key rotation moves the row to another partition (a delete and an insert)
    IF EXISTS (SELECT 1 FROM {parent} WHERE id = OLD.id) THEN RETURN NULL; END IF;
    {body}
    RETURN NULL;
END $$;"""


def _child_trigger(table: str, column: str, parent: str) -> str:
    """0112's (and 0114's) trigger on the child: its parent must exist."""
    name = _name(table, column, parent)
    return f"""
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


def _parent_trigger_0114(table: str, column: str, parent: str) -> str:
    """0114's trigger on the parent: its deletion (not a key rotation's move) cascades."""
    name = _name(table, column, parent)
    return f"""
CREATE FUNCTION {name}_parent() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM {parent} WHERE id = OLD.id) THEN RETURN NULL; END IF;
    DELETE FROM {table} WHERE {column} = OLD.id;
    RETURN NULL;
END $$;
CREATE TRIGGER {name}_parent AFTER DELETE ON {parent}
    FOR EACH ROW EXECUTE FUNCTION {name}_parent();"""


def _composite(table: str, column: str, parent: str, on_delete: str) -> str:
    action = "" if on_delete == "NO ACTION" else f" ON DELETE {on_delete}"
    return (
        f"ALTER TABLE {table} ADD CONSTRAINT {_name(table, column, parent)} "
        f"FOREIGN KEY ({column}, {COLUMN}) REFERENCES {parent} (id, {_source(parent)})"
        f"{action} ON UPDATE CASCADE"
    )


def _upgrade_postgresql() -> None:
    op.execute("SET LOCAL statement_timeout = 0")  # the fill takes as long as it takes
    for table, column, parent in FILL:
        op.execute(f"ALTER TABLE {table} ADD COLUMN {COLUMN} bytea")
        op.execute(
            f"UPDATE {table} t SET {COLUMN} = p.{_source(parent)} FROM {parent} p "
            f"WHERE p.id = t.{column}"
        )
        # a row whose parent is missing stays NULL, and this refuses it
        op.execute(f"ALTER TABLE {table} ALTER COLUMN {COLUMN} SET NOT NULL")
    for table, column, parent, _, was in FOREIGN_KEYS:
        name = _name(table, column, parent)
        if was == "fk":
            op.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
            continue
        op.execute(f"DROP TRIGGER {name} ON {table}")
        op.execute(f"DROP FUNCTION {name}()")
        if was == "0114":
            op.execute(f"DROP TRIGGER {name}_parent ON {parent}")
            op.execute(f"DROP FUNCTION {name}_parent()")
    for parent in ("holders", "licenses"):
        op.execute(_deleted_function(parent, EMULATED))
    for table in TARGETS:
        op.execute(
            f"ALTER TABLE {table} ADD CONSTRAINT uq_{table}_id_{COLUMN} UNIQUE (id, {COLUMN})"
        )
    for table, column, parent, on_delete, _ in FOREIGN_KEYS:
        op.execute(_composite(table, column, parent, on_delete))
    op.execute("ANALYZE " + ", ".join(t for t, _, _ in FILL))


def _downgrade_postgresql() -> None:
    op.execute("SET LOCAL statement_timeout = 0")
    for table, column, parent, _, _ in FOREIGN_KEYS:
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT {_name(table, column, parent)}")
    for table in TARGETS:
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT uq_{table}_id_{COLUMN}")
    for table, _, _ in FILL:
        op.execute(f"ALTER TABLE {table} DROP COLUMN {COLUMN}")
    for parent in ("holders", "licenses"):
        op.execute(_deleted_function(parent, EMULATED_0112))
    for table, column, parent, on_delete, was in FOREIGN_KEYS:
        if was == "fk":
            action = "" if on_delete == "NO ACTION" else f" ON DELETE {on_delete}"
            op.execute(
                f"ALTER TABLE {table} ADD CONSTRAINT {_name(table, column, parent)} "
                f"FOREIGN KEY ({column}) REFERENCES {parent} (id){action}"
            )
            continue
        op.execute(_child_trigger(table, column, parent))
        if was == "0114":
            op.execute(_parent_trigger_0114(table, column, parent))


# --- SQLite ------------------------------------------------------------------------------

_BLIND = sa.LargeBinary(length=32)


def _sqlite_foreign_keys(batch: Any, table: str, *, composite: bool) -> None:
    """Remake the table's foreign keys of :data:`FOREIGN_KEYS`: by ``(id, blind index)``
    (``composite``), or by id alone as 0114 had them."""
    for t, column, parent, on_delete, _ in FOREIGN_KEYS:
        if t != table:
            continue
        name = _name(table, column, parent)
        batch.drop_constraint(name, type_="foreignkey")
        batch.create_foreign_key(
            name,
            parent,
            [column, COLUMN] if composite else [column],
            ["id", _source(parent)] if composite else ["id"],
            ondelete=None if on_delete == "NO ACTION" else on_delete,
            onupdate="CASCADE" if composite else None,
        )


def _upgrade_sqlite() -> None:
    for table, column, parent in FILL:
        op.add_column(table, sa.Column(COLUMN, _BLIND, nullable=True))
        op.execute(
            f"UPDATE {table} SET {COLUMN} = (SELECT p.{_source(parent)} FROM {parent} p "
            f"WHERE p.id = {table}.{column})"
        )
    for table, _, _ in FILL:
        with op.batch_alter_table(table) as batch:
            # a row whose parent is missing stays NULL, and the table's copy refuses it
            batch.alter_column(COLUMN, existing_type=_BLIND, nullable=False)
            if table in TARGETS:
                batch.create_unique_constraint(f"uq_{table}_id_{COLUMN}", ["id", COLUMN])
            _sqlite_foreign_keys(batch, table, composite=True)


def _downgrade_sqlite() -> None:
    for table, _, _ in reversed(FILL):
        with op.batch_alter_table(table) as batch:
            _sqlite_foreign_keys(batch, table, composite=False)
            if table in TARGETS:
                batch.drop_constraint(f"uq_{table}_id_{COLUMN}", type_="unique")
            batch.drop_column(COLUMN)
