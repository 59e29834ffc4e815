"""Fill a PostgreSQL database with synthetic licenses in the vault's real schema.

The schema is made by the vault's own Alembic migrations. For speed the loader drops the
indexes and the primary, unique and foreign keys of the tables it fills, streams rows with
``COPY`` (psycopg), then recreates every one of them from the definitions it read before
and checks that the schema is exactly what the migrations made.

Metadata only: each license has one version whose ``blob_sha256`` is unique (the schema
requires it) but names no stored blob; no PDF is written. Holder rows are real: the ID
number (a valid 公民身份号码) and the name are AES-256-GCM ciphertexts and the blind index
is HMAC-SHA256, made by :class:`vault.crypto.HolderCrypto` under fixed bench-only keys, so
that a probe can find holder ``h`` by computing its ID number again.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import psycopg

from schemas.identifiers import (
    citizen_id_check_char,
    credit_code_check_char,
    organization_code_check_char,
)
from schemas.report import (
    Coverage,
    Indication,
    RevocationStatus,
    SignatureKind,
    SignatureReport,
    VerificationReport,
)
from vault.crypto import HolderCrypto

__all__ = [
    "BENCH_CRYPTO",
    "FillResult",
    "admin_conninfo",
    "citizen_id",
    "conninfo",
    "create_database",
    "database_exists",
    "drop_database",
    "fill",
    "sqlalchemy_url",
]

#: Bench-only keys (never used outside benchmarks): derived from fixed labels.
BENCH_CRYPTO = HolderCrypto(
    hashlib.sha256(b"evault bench scale: holder key").digest(),
    hashlib.sha256(b"evault bench scale: blind index key").digest(),
)

ISSUERS = 30
TYPES_PER_ISSUER = 2
#: The using department (id ISSUERS + 1): standing permission for every license type.
USER_DEPARTMENT = ISSUERS + 1
_REGIONS = ("110105", "310104", "440106", "330106", "510107", "420106", "320102", "610113")
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"
_STATUSES = ("有效",) * 96 + ("注销", "吊销", "暂扣", "撤销")  # by license id % 100
_EPOCH = dt.date(1950, 1, 1)
_TABLES = ("holders", "licenses", "license_versions")
_COPY_CHUNK = 1 << 20


def admin_conninfo(base: str) -> str:
    return f"{base} dbname=postgres"


def conninfo(base: str, database: str) -> str:
    return f"{base} dbname={database}"


def sqlalchemy_url(base: str, database: str) -> str:
    """A SQLAlchemy URL for ``base`` (libpq key=value) and ``database``."""
    parts = dict(item.split("=", 1) for item in base.split())
    user = parts.get("user", "postgres")
    host = parts.get("host", "127.0.0.1")
    port = parts.get("port", "5432")
    return f"postgresql+psycopg://{user}@{host}:{port}/{database}"


def database_exists(base: str, database: str) -> bool:
    with psycopg.connect(admin_conninfo(base), autocommit=True) as conn:
        row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone()
    return row is not None


def create_database(base: str, database: str) -> None:
    """Drop ``database`` if it exists and create it empty."""
    if not database.replace("_", "").isalnum():
        raise ValueError(f"unsafe database name {database!r}")
    with psycopg.connect(admin_conninfo(base), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{database}"')


def drop_database(base: str, database: str) -> None:
    """Drop ``database`` if it exists (test teardown)."""
    if not database.replace("_", "").isalnum():
        raise ValueError(f"unsafe database name {database!r}")
    with psycopg.connect(admin_conninfo(base), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def citizen_id(h: int) -> str:
    """The (valid, GB 11643) 公民身份号码 of synthetic holder ``h`` (0 <= h < 160 million)."""
    day, rest = h % 20000, h // 20000
    seq, region = rest % 1000, rest // 1000
    born = _EPOCH + dt.timedelta(days=day)
    body = f"{_REGIONS[region]}{born:%Y%m%d}{seq:03d}"
    return body + citizen_id_check_char(body)


def _credit_code(n: int) -> str:
    """A valid 统一社会信用代码 (both checks) for ``n`` < 10 million."""
    organization = f"M{n:07d}"
    body = f"91350100{organization}{organization_code_check_char(organization)}"
    return body + credit_code_check_char(body)


def _name(h: int) -> str:
    return _SURNAMES[h % 20] + _GIVEN[(h // 20) % 24] + _GIVEN[(h // 480) % 24]


def _report_template() -> str:
    """A VerificationReport as intake stores it (one PAdES B-T seal, passed)."""
    at = dt.datetime(2024, 5, 1, 8, 0, tzinfo=dt.UTC)
    report = VerificationReport(
        file="license.pdf",
        sha256="@SHA@",
        size=48213,
        checked_at=at,
        indication=Indication.TOTAL_PASSED,
        signatures=[
            SignatureReport(
                field_name="Signature1",
                kind=SignatureKind.SIGNATURE,
                signer_subject="CN=发证部门电子印章,O=某市市场监督管理局,C=CN",
                signer_fingerprint="ab" * 32,
                signer_credit_code="11430000006122244L",
                signing_time=at,
                timestamp_time=at,
                pades_level="B-T",
                intact=True,
                covers_whole_file=True,
                coverage=Coverage.ENTIRE_FILE,
                modified_after_signing=False,
                modification_level="NONE",
                chain_trusted=True,
                revocation=RevocationStatus.GOOD,
                indication=Indication.TOTAL_PASSED,
            )
        ],
    )
    text = json.dumps(report.model_dump(mode="json"), ensure_ascii=False, separators=(",", ":"))
    return text.replace("\\", "\\\\")  # COPY text format


def _bytea(data: bytes) -> str:
    return "\\\\x" + data.hex()


@dataclass(frozen=True)
class FillResult:
    database: str
    licenses: int
    holders: int
    seconds_load: float
    seconds_index: float
    bytes_total: int


def _copy(conn: psycopg.Connection, sql: str, lines: Iterator[str]) -> None:
    with conn.cursor() as cur, cur.copy(sql) as copy:
        buf: list[str] = []
        size = 0
        for line in lines:
            buf.append(line)
            size += len(line)
            if size >= _COPY_CHUNK:
                copy.write("".join(buf))
                buf.clear()
                size = 0
        if buf:
            copy.write("".join(buf))


def _catalog_rows(conn: psycopg.Connection, now: str) -> None:
    with conn.cursor() as cur:
        for d in range(1, ISSUERS + 2):
            is_issuer = d <= ISSUERS
            name = f"第{d}发证部门" if is_issuer else "用证部门(bench)"
            cur.execute(
                "INSERT INTO departments (id, name, credit_code, is_issuer, is_user, created_at)"
                " VALUES (%s, %s, %s, %s, %s, %s)",
                (d, name, _credit_code(d), is_issuer, not is_issuer, now),
            )
        for t in range(1, ISSUERS * TYPES_PER_ISSUER + 1):
            issuer = (t - 1) % ISSUERS + 1
            cur.execute(
                "INSERT INTO license_types (id, code, name, holder_kind, created_at)"
                " VALUES (%s, %s, %s, '111', %s)",
                (t, f"{_credit_code(issuer)}{t:03d}", f"证照类型{t}", now),
            )
            cur.execute(
                "INSERT INTO license_type_issuers (license_type_id, department_id, added_at)"
                " VALUES (%s, %s, %s)",
                (t, issuer, now),
            )
            cur.execute(
                "INSERT INTO standing_permissions (department_id, license_type_id, granted_at)"
                " VALUES (%s, %s, %s)",
                (USER_DEPARTMENT, t, now),
            )
        for table in ("departments", "license_types"):
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                f" (SELECT max(id) FROM {table}))"
            )


_HOLDER_COLUMNS = (
    "id, id_type, blind_index, id_ciphertext, name_ciphertext, masked_id, created_at, "
    "updated_at, holder_key_id, blind_index_key_id"
)


def _holder_lines(holders: int, now: str) -> Iterator[str]:
    crypto = BENCH_CRYPTO
    for h in range(holders):
        number = citizen_id(h)
        yield (
            f"{h + 1}\t111\t{_bytea(crypto.blind_index('111', number))}\t"
            f"{_bytea(crypto.encrypt(number, purpose='id'))}\t"
            f"{_bytea(crypto.encrypt(_name(h), purpose='name'))}\t"
            f"{number[:6]}********{number[-4:]}\t{now}\t{now}\t"
            f"{crypto.holder_key_id}\t{crypto.blind_index_key_id}\n"
        )


def _blind_indexes(holders: int) -> list[bytes]:
    """The blind index of each holder (row id - 1): the licenses' partition key."""
    return [BENCH_CRYPTO.blind_index("111", citizen_id(h)) for h in range(holders)]


def holder_of(i: int, holders: int, seed: int) -> int:
    """The holder row id (1-based) of license ``i``: pseudo-random, the same on every run."""
    return (i * 2654435761 + seed) % holders + 1


_DAYS = 9000


def _dates() -> list[tuple[str, str, str]]:
    """For each of the 9000 issue days: (year, issue date, valid until)."""
    out = []
    for k in range(_DAYS):
        issued = _EPOCH + dt.timedelta(days=20000 + k)
        out.append((str(issued.year), str(issued), str(issued + dt.timedelta(days=3650))))
    return out


def _license_rows(licenses: int, holders: int, seed: int) -> Iterator[tuple[int, int, int, str]]:
    """(license id, license type id, holder row id, status) in id order, the same each run."""
    rnd = random.Random(seed)
    types = ISSUERS * TYPES_PER_ISSUER
    statuses = _STATUSES
    for i in range(1, licenses + 1):
        yield i, int(rnd.random() * types) + 1, holder_of(i, holders, seed), statuses[i % 100]


def public_id_of(i: int) -> str:
    """The public id of synthetic license ``i``: random-looking, the same each run."""
    digest = hashlib.sha256(b"evault bench license %d" % i).digest()[:16]
    return "l_" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _license_lines(
    rows: Iterator[tuple[int, int, int, str]], blind_indexes: list[bytes]
) -> Iterator[str]:
    dates = _dates()
    for i, t, holder, status in rows:
        year, issued, _ = dates[i % _DAYS]
        issuer = (t - 1) % ISSUERS + 1
        yield (
            f"{i}\t{public_id_of(i)}\t{t}\t{issuer}\t{year}{t:03d}{i:010d}\t{holder}\t"
            f"{status}\t1\t{issued} 09:00:00+00\t{issued} 09:00:00+00\t"
            f"{_bytea(blind_indexes[holder - 1])}\n"
        )


def _version_lines(
    rows: Iterator[tuple[int, int, int, str]], blind_indexes: list[bytes]
) -> Iterator[str]:
    template = _report_template()
    dates = _dates()
    codes = {d: _credit_code(d) for d in range(1, ISSUERS + 1)}
    sha256 = hashlib.sha256
    for i, t, holder, _ in rows:
        year, issued, until = dates[i % _DAYS]
        issuer = (t - 1) % ISSUERS + 1
        number = f"{year}{t:03d}{i:010d}"
        sha = sha256(number.encode()).hexdigest()
        code = codes[issuer]
        yield (
            f"{i}\t{i}\t1\t{sha}\t48213\t证照类型{t}\t1.2.156.3005.2.{code}{t:03d}.{code}."
            f"{number}.001.U\t第{issuer}发证部门\t{issued}\t{issued}\t{until}\t\\N\t{{}}\t"
            f"{template.replace('@SHA@', sha)}\t{issued} 09:00:00+00\t{issuer}\t"
            f"{issued} 09:00:00+00\t{_bytea(blind_indexes[holder - 1])}\n"
        )


@dataclass(frozen=True)
class _Schema:
    constraints: tuple[tuple[str, str, str, str], ...]  # (table, name, type, definition)
    indexes: tuple[tuple[str, str], ...]  # (name, definition)


def _read_schema(conn: psycopg.Connection) -> _Schema:
    tables = list(_TABLES)
    constraints = conn.execute(
        """
        SELECT c.conrelid::regclass::text, c.conname, c.contype::text, pg_get_constraintdef(c.oid)
        FROM pg_constraint c
        WHERE c.contype IN ('p', 'u', 'f') AND c.conparentid = 0
          AND (c.conrelid::regclass::text = ANY(%s) OR c.confrelid::regclass::text = ANY(%s))
        ORDER BY 1, 2
        """,
        (tables, tables),
    ).fetchall()
    indexes = conn.execute(
        """
        SELECT i.indexname, i.indexdef FROM pg_indexes i
        WHERE i.schemaname = 'public' AND i.tablename = ANY(%s)
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
        ORDER BY 1
        """,
        (tables,),
    ).fetchall()
    return _Schema(tuple(constraints), tuple(indexes))


def _drop_keys(conn: psycopg.Connection, schema: _Schema) -> None:
    for table, name, _, _ in sorted(schema.constraints, key=lambda c: c[2] != "f"):
        conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _ in schema.indexes:
        conn.execute(f'DROP INDEX "{name}"')


def _restore_keys(conn: psycopg.Connection, schema: _Schema) -> None:
    conn.execute("SET maintenance_work_mem = '1GB'")
    order = {"p": 0, "u": 1, "f": 3}
    for table, name, _, definition in sorted(schema.constraints, key=lambda c: order[c[2]]):
        conn.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        conn.commit()
    for _, definition in schema.indexes:
        # a partitioned table's index reads "ON ONLY t": made so, its partitions would lack it
        conn.execute(definition.replace(" ON ONLY ", " ON ", 1))
        conn.commit()


def fill(
    *,
    base: str,
    database: str,
    licenses: int,
    holders: int,
    seed: int = 8,
    progress: Callable[[str], None] = lambda _: None,
) -> FillResult:
    """Create ``database`` afresh (migrations), fill it, rebuild its indexes, VACUUM ANALYZE."""
    from vault.migrations import upgrade

    if holders < 1 or licenses < 1:
        raise ValueError("licenses and holders must be positive")
    if holders > 160_000_000:
        raise ValueError("at most 160 million synthetic holders")
    create_database(base, database)
    upgrade(sqlalchemy_url(base, database))
    now = "2025-01-01 00:00:00+00"
    started = time.perf_counter()
    with psycopg.connect(conninfo(base, database)) as conn:
        conn.execute("SET synchronous_commit = off")
        schema = _read_schema(conn)
        _catalog_rows(conn, now)
        _drop_keys(conn, schema)  # foreign keys too: they are checked at once after the load
        conn.commit()
        progress(f"holders: {holders:,}")
        _copy(conn, f"COPY holders ({_HOLDER_COLUMNS}) FROM STDIN", _holder_lines(holders, now))
        conn.commit()
        progress(f"licenses and versions: {licenses:,}")
        cols_l = (
            "id, public_id, license_type_id, issuer_department_id, number, holder_id, status,"
            " current_version, created_at, updated_at, holder_blind_index"
        )
        indexes = _blind_indexes(holders)
        _copy(
            conn,
            f"COPY licenses ({cols_l}) FROM STDIN",
            _license_lines(_license_rows(licenses, holders, seed), indexes),
        )
        conn.commit()
        cols_v = (
            "id, license_id, version, blob_sha256, size, name, license_identifier, issuer_name,"
            " issue_date, valid_from, valid_until, change_reason, extra, report_json,"
            " verified_at, pushed_by_department_id, created_at, holder_blind_index"
        )
        _copy(
            conn,
            f"COPY license_versions ({cols_v}) FROM STDIN",
            _version_lines(_license_rows(licenses, holders, seed), indexes),
        )
        del indexes
        conn.commit()
        loaded = time.perf_counter()
        progress(f"loaded in {loaded - started:.1f} s")
        progress("indexes and keys")
        _restore_keys(conn, schema)
        for table in _TABLES:
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                f" (SELECT max(id) FROM {table}))"
            )
        conn.commit()
        orphans = conn.execute(
            "SELECT count(*) FROM license_versions v WHERE NOT EXISTS"
            " (SELECT 1 FROM licenses l WHERE l.id = v.license_id)"
        ).fetchone()
        if orphans is None or orphans[0]:
            raise RuntimeError("versions without their license after the load")
        rebuilt = _read_schema(conn)
        conn.commit()
        if rebuilt != schema:
            raise RuntimeError("the rebuilt schema differs from the migrations' schema")
        conn.autocommit = True
        progress("vacuum analyze")
        for table in _TABLES:
            conn.execute(f"VACUUM (ANALYZE) {table}")
        indexed = time.perf_counter()
        size = conn.execute("SELECT pg_database_size(current_database())").fetchone()
    return FillResult(
        database=database,
        licenses=licenses,
        holders=holders,
        seconds_load=loaded - started,
        seconds_index=indexed - loaded,
        bytes_total=int(size[0]) if size else 0,
    )
