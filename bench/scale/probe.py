"""Time the department read path on a filled database and check its query plans.

The probes call the vault's own services, as the API's routes do:

- search by holder: ``search_for_department`` (one query: the holder's licenses by blind
  index with their current versions and the standing permission) and, for each license
  found, the holder's decrypted name (what ``GET``/``search`` answers carry);
- get by id: ``read_license_for_department`` and the same decryption.

The services log every read and commit it (as in production), so each probe writes its
access-log row and transparency-log leaf. Samples are random holders and licenses.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.orm import Session

from bench.scale.fill import (
    BENCH_CRYPTO,
    USER_DEPARTMENT,
    citizen_id,
    public_id_of,
    sqlalchemy_url,
)
from schemas.identifiers import parse_holder_id
from vault.db.base import utcnow
from vault.db.engine import make_engine
from vault.db.partitioning import is_partition
from vault.services.access import UseContext, read_license_for_department, search_for_department
from vault.services.holders import holder_name
from vault.services.license_records import (
    OF_HOLDER_FOR_DEPARTMENT,
    ONE_FOR_DEPARTMENT,
    LicenseRecord,
)

__all__ = [
    "INDEXED_TABLES",
    "PlanCheck",
    "Probe",
    "database_figures",
]

#: The large tables: every read of them must go through an index.
INDEXED_TABLES = frozenset({"holders", "licenses", "license_versions"})
_INDEX_NODES = frozenset({"Index Scan", "Index Only Scan", "Bitmap Heap Scan"})
_USE = UseContext("scale benchmark", "BENCH-0001")


@dataclass(frozen=True)
class PlanCheck:
    """One SELECT of a probe, explained: which scans touched which table."""

    statement: str
    scans: tuple[tuple[str, str, str | None], ...]  # (table, node type, index name)
    indexes: frozenset[str]  # every index the plan reads (incl. Bitmap Index Scan)
    execution_ms: float
    shared_hit: int
    shared_read: int

    @property
    def uses_indexes(self) -> bool:
        return all(node in _INDEX_NODES for table, node, _ in self.scans if table in INDEXED_TABLES)


def _table_of(relation: str) -> str:
    """The table a scanned relation belongs to (``licenses`` for partition ``licenses_p3``)."""
    return relation.rsplit("_p", 1)[0] if is_partition(relation) else relation


def _partition_indexes(conn: Connection) -> dict[str, str]:
    """A partition's index -> the partitioned table's index it is part of."""
    rows = conn.execute(
        text(
            "SELECT c.relname, p.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
            " JOIN pg_class p ON p.oid = i.inhparent WHERE c.relkind = 'i'"
        )
    )
    return {str(child): str(parent) for child, parent in rows}


def _walk(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from _walk(child)


class Probe:
    """Random reads against one filled database."""

    def __init__(self, base: str, database: str, *, seed: int = 1) -> None:
        self.database = database
        self.engine: Engine = make_engine(sqlalchemy_url(base, database), pool_size=2)
        with self.engine.connect() as conn:
            self.holders = int(conn.execute(text("SELECT count(*) FROM holders")).scalar_one())
            self.licenses = int(conn.execute(text("SELECT max(id) FROM licenses")).scalar_one())
        self._rnd = random.Random(seed)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _session(self) -> Iterator[Session]:
        session = Session(self.engine)
        try:
            yield session
        finally:
            session.rollback()
            session.close()

    def _describe(self, records: list[LicenseRecord]) -> int:
        for record in records:
            holder_name(crypto=BENCH_CRYPTO, name_ciphertext=record.holder_name_ciphertext)
        return len(records)

    def search_once(self, holder: int | None = None) -> int:
        """Search one (random) holder's licenses; returns how many were found."""
        h = self._rnd.randrange(self.holders) if holder is None else holder
        with self._session() as session:
            found = search_for_department(
                session=session,
                crypto=BENCH_CRYPTO,
                department_id=USER_DEPARTMENT,
                holder_id=citizen_id(h),
                holder_id_type=None,
                use=_USE,
            )
            return self._describe(found)

    def get_once(self, license_id: int | None = None) -> int:
        """Read one (random) license's metadata."""
        lid = self._rnd.randrange(self.licenses) + 1 if license_id is None else license_id
        with self._session() as session:
            record = read_license_for_department(
                session=session,
                department_id=USER_DEPARTMENT,
                public_id=public_id_of(lid),
                use=_USE,
            )
            return self._describe([record])

    def reads(self, holder: int | None = None, license_id: int | None = None) -> int:
        """The search's and the get's read statements, run through SQLAlchemy for
        :meth:`explain`: on PostgreSQL the services send them past SQLAlchemy, on the
        driver's cursor (``vault.services.logged_read``), where no event sees them. The rows
        found (both reads find some)."""
        h = self._rnd.randrange(self.holders) if holder is None else holder
        lid = self._rnd.randrange(self.licenses) + 1 if license_id is None else license_id
        parsed = parse_holder_id(citizen_id(h), None)
        indexes = list(BENCH_CRYPTO.blind_indexes(parsed.id_type.value, parsed))
        now = utcnow()
        with self.engine.connect() as conn:
            searched = conn.execute(
                OF_HOLDER_FOR_DEPARTMENT,
                {"department_id": USER_DEPARTMENT, "blind_indexes": indexes, "now": now},
            ).all()
            got = conn.execute(
                ONE_FOR_DEPARTMENT,
                {"department_id": USER_DEPARTMENT, "public_id": public_id_of(lid), "now": now},
            ).all()
        return len(searched) + len(got)

    def explain(self, fn: Callable[[], object]) -> list[PlanCheck]:
        """Run ``fn`` once, then EXPLAIN (ANALYZE, BUFFERS) every SELECT it issued."""
        seen: list[tuple[str, Any]] = []

        def record(_c: Any, _cur: Any, statement: str, params: Any, _ctx: Any, _m: Any) -> None:
            if statement.lstrip().upper().startswith("SELECT"):
                seen.append((statement, params))

        event.listen(self.engine, "before_cursor_execute", record)
        try:
            fn()
        finally:
            event.remove(self.engine, "before_cursor_execute", record)
        checks: list[PlanCheck] = []
        with self.engine.connect() as conn:
            parents = _partition_indexes(conn)
            for statement, params in seen:
                raw = conn.exec_driver_sql(
                    "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement, params
                ).scalar_one()
                plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]
                nodes = list(_walk(plan["Plan"]))
                scans = tuple(
                    (_table_of(n["Relation Name"]), n["Node Type"], n.get("Index Name"))
                    for n in nodes
                    if "Relation Name" in n
                )
                names = [n["Index Name"] for n in nodes if "Index Name" in n]
                used = frozenset(parents.get(name, name) for name in names)
                top = plan["Plan"]
                checks.append(
                    PlanCheck(
                        statement=" ".join(statement.split())[:160],
                        scans=scans,
                        indexes=used,
                        execution_ms=float(plan["Execution Time"]),
                        shared_hit=int(top.get("Shared Hit Blocks", 0)),
                        shared_read=int(top.get("Shared Read Blocks", 0)),
                    )
                )
            conn.rollback()
        return checks


def database_figures(base: str, database: str) -> dict[str, int]:
    """Sizes in bytes: the whole database and each large table (with indexes and TOAST)."""
    engine = make_engine(sqlalchemy_url(base, database))
    try:
        with engine.connect() as conn:
            out = {
                "database": int(
                    conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
                )
            }
            for table in sorted(INDEXED_TABLES):
                out[table] = int(
                    conn.execute(text(f"SELECT pg_total_relation_size('{table}')")).scalar_one()
                )
            out["licenses_count"] = int(
                conn.execute(text("SELECT count(*) FROM licenses")).scalar_one()
            )
            out["holders_count"] = int(
                conn.execute(text("SELECT count(*) FROM holders")).scalar_one()
            )
    finally:
        engine.dispose()
    return out


def time_calls(fn: Callable[[], object], rounds: int) -> list[float]:
    """Seconds per call, ``rounds`` calls."""
    out = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out
