"""Tables as JSON lines, the same on SQLite and PostgreSQL.

Each row is one JSON object keyed by column name. Values are encoded by the column's kind,
never guessed from the value: bytes as base64, datetimes as ISO 8601 with their UTC offset,
dates as ISO 8601, JSON columns as they are, everything else as the JSON scalar it is. The
tables are read from the database itself (reflected, at whatever schema revision it is), and
the manifest records each table's columns and kinds: a backup describes itself, restores
into either backend (a SQLite vault moves to PostgreSQL by backup and restore), and an old
backup restores with a newer evault (into its own revision, then migrated).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Callable, Iterator
from typing import IO, Any

from sqlalchemy import (
    JSON,
    Connection,
    Date,
    DateTime,
    LargeBinary,
    MetaData,
    Table,
    func,
    select,
    text,
)

from vault.db.partitioning import is_partition

__all__ = [
    "Codec",
    "blob_reference_names",
    "column_kinds",
    "count_rows",
    "insert_rows",
    "read_rows",
    "reflect_tables",
    "reset_sequences",
]

_BATCH = 500
_SKIPPED = frozenset({"alembic_version"})

#: Kind of a column -> (encode to JSON, decode from JSON).
_CODECS: dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any]]] = {
    "bytes": (lambda v: base64.b64encode(v).decode("ascii"), base64.b64decode),
    "datetime": (lambda v: _iso(v), dt.datetime.fromisoformat),
    "date": (lambda v: v.isoformat(), dt.date.fromisoformat),
}


def reflect_tables(conn: Connection) -> list[Table]:
    """The database's tables (but Alembic's own, and the partitions of a partitioned table:
    their rows are the table's), parents before children.

    Parents first as the models declare them: on PostgreSQL some of their foreign keys are
    triggers (:mod:`vault.db.partitioning`), which reflection does not see.
    """
    from vault.models import Base

    metadata = MetaData()
    metadata.reflect(bind=conn)
    order = {t.name: i for i, t in enumerate(Base.metadata.sorted_tables)}
    tables = [
        t for t in metadata.sorted_tables if t.name not in _SKIPPED and not is_partition(t.name)
    ]
    return sorted(tables, key=lambda t: order.get(t.name, -1))


def column_kinds(table: Table) -> dict[str, str]:
    """Each column's kind: ``bytes``, ``datetime``, ``date``, ``json`` or ``value``."""
    kinds: dict[str, str] = {}
    for column in table.columns:
        kind = column.type
        if isinstance(kind, LargeBinary):
            kinds[column.name] = "bytes"
        elif isinstance(kind, DateTime):
            kinds[column.name] = "datetime"
        elif isinstance(kind, Date):
            kinds[column.name] = "date"
        elif isinstance(kind, JSON):
            kinds[column.name] = "json"
        else:
            kinds[column.name] = "value"
    return kinds


def blob_reference_names() -> dict[str, list[str]]:
    """Per table, the columns that hold a blob's SHA-256 (``info={"blob_ref": True}``)."""
    from vault.services.gc import blob_reference_columns

    refs: dict[str, list[str]] = {}
    for column in blob_reference_columns():
        refs.setdefault(column.table.name, []).append(column.name)
    return refs


class Codec:
    """Encodes and decodes the rows of one table by its columns' kinds."""

    def __init__(self, name: str, kinds: dict[str, str]) -> None:
        self.name = name
        self.columns = frozenset(kinds)
        self._encode = {c: _CODECS[k][0] for c, k in kinds.items() if k in _CODECS}
        self._decode = {c: _CODECS[k][1] for c, k in kinds.items() if k in _CODECS}

    def encode(self, row: dict[str, Any]) -> str:
        out = {
            name: value if value is None or name not in self._encode else self._encode[name](value)
            for name, value in row.items()
        }
        return json.dumps(out, ensure_ascii=False, sort_keys=True, separators=(",", ":"))

    def decode(self, line: str) -> dict[str, Any]:
        raw = json.loads(line)
        if not isinstance(raw, dict) or set(raw) != self.columns:
            raise ValueError(f"a row of {self.name} does not have its columns")
        return {
            name: value if value is None or name not in self._decode else self._decode[name](value)
            for name, value in raw.items()
        }


def _iso(value: dt.datetime) -> str:
    """UTC with its offset (SQLite keeps naive UTC: mark it)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat()


def read_rows(conn: Connection, table: Table) -> Iterator[dict[str, Any]]:
    """Every row of ``table`` in primary key order, typed by the models."""
    query = select(table).order_by(*table.primary_key.columns)
    result = conn.execution_options(yield_per=_BATCH).execute(query)
    for row in result.mappings():
        yield dict(row)


def insert_rows(conn: Connection, table: Table, codec: Codec, lines: IO[str]) -> int:
    """Insert the encoded rows read from ``lines``; return how many."""
    batch: list[dict[str, Any]] = []
    count = 0
    for line in lines:
        if not line.strip():
            continue
        batch.append(codec.decode(line))
        if len(batch) >= _BATCH:
            conn.execute(table.insert(), batch)
            count += len(batch)
            batch = []
    if batch:
        conn.execute(table.insert(), batch)
        count += len(batch)
    return count


def count_rows(conn: Connection, table: Table) -> int:
    return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def reset_sequences(conn: Connection, tables: list[Table]) -> None:
    """On PostgreSQL, move each serial key's sequence past the restored rows' ids."""
    if conn.dialect.name != "postgresql":
        return  # SQLite's INTEGER PRIMARY KEY continues after the largest rowid
    for table in tables:
        for column in table.primary_key.columns:
            if not column.autoincrement or column.type.python_type is not int:
                continue
            sequence = conn.execute(
                text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table.name, "c": column.name}
            ).scalar_one_or_none()
            if sequence is None:
                continue
            conn.execute(
                text(
                    f"SELECT setval(:s, COALESCE((SELECT MAX({column.name}) FROM "  # noqa: S608
                    f'"{table.name}"), 0) + 1, false)'
                ),
                {"s": sequence},
            )
