"""Tables as JSON lines, the same on SQLite and PostgreSQL.

Each row is one JSON object keyed by column name. Values are encoded by the column's type,
never guessed from the value: bytes as base64, datetimes as ISO 8601 with their UTC offset,
dates as ISO 8601, JSON columns as they are, everything else as the JSON scalar it is. A
logical dump of this kind restores into either backend (a SQLite vault can move to
PostgreSQL by backup and restore).
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
    Table,
    func,
    select,
    text,
)

from vault.db.base import Base, UTCDateTime

__all__ = [
    "Codec",
    "backed_up_tables",
    "count_rows",
    "insert_rows",
    "read_rows",
    "reset_sequences",
]

_BATCH = 500


def backed_up_tables() -> list[Table]:
    """Every table of the models, parents before children (the order to insert in)."""
    import vault.models  # noqa: F401  (complete the metadata)

    return list(Base.metadata.sorted_tables)


class Codec:
    """Encodes and decodes the rows of one table by its columns' types."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self._encode: dict[str, Callable[[Any], Any]] = {}
        self._decode: dict[str, Callable[[Any], Any]] = {}
        for column in table.columns:
            kind = column.type
            if isinstance(kind, LargeBinary):
                self._encode[column.name] = _b64
                self._decode[column.name] = base64.b64decode
            elif isinstance(kind, (UTCDateTime, DateTime)):
                self._encode[column.name] = _iso
                self._decode[column.name] = dt.datetime.fromisoformat
            elif isinstance(kind, Date):
                self._encode[column.name] = _iso
                self._decode[column.name] = dt.date.fromisoformat
            elif isinstance(kind, JSON):
                continue
        self.columns = tuple(c.name for c in table.columns)

    def encode(self, row: dict[str, Any]) -> str:
        out = {
            name: (
                value if value is None or name not in self._encode else self._encode[name](value)
            )
            for name, value in row.items()
        }
        return json.dumps(out, ensure_ascii=False, sort_keys=True, separators=(",", ":"))

    def decode(self, line: str) -> dict[str, Any]:
        raw = json.loads(line)
        if not isinstance(raw, dict) or set(raw) != set(self.columns):
            raise ValueError(f"a row of {self.table.name} does not have its columns")
        return {
            name: (
                value if value is None or name not in self._decode else self._decode[name](value)
            )
            for name, value in raw.items()
        }


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


def _iso(value: dt.date) -> str:
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.isoformat()


def read_rows(conn: Connection, table: Table) -> Iterator[dict[str, Any]]:
    """Every row of ``table`` in primary key order, typed by the models."""
    query = select(table).order_by(*table.primary_key.columns)
    result = conn.execution_options(yield_per=_BATCH).execute(query)
    for row in result.mappings():
        yield dict(row)


def insert_rows(conn: Connection, table: Table, lines: IO[str]) -> int:
    """Insert the encoded rows read from ``lines``; return how many."""
    codec = Codec(table)
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
