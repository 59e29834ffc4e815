"""Scale: the department read path at 100 thousand and at 10 million licenses.

``python -m bench.scale fill --licenses 10000000 --holders 1250000 --database evault_scale_10m``
fills a PostgreSQL database in the vault's real schema (see :mod:`bench.scale.fill`);
``python -m bench.scale measure`` times search-by-holder and get-by-id on the small and the
large database interleaved, checks every query plan for index use and reports the size per
million licenses. The harness entry :func:`run` does the same with ``rounds`` samples: it
builds the 100-thousand database when it is missing (about 15 s) and compares it with the
large one when that exists (the 10-million fill is a manual step, never run by tests or CI).

PostgreSQL is given as libpq key=value words in ``EVAULT_BENCH_PG`` (default
``host=127.0.0.1 port=5432 user=postgres``); the large database's name in
``EVAULT_BENCH_SCALE_LARGE`` (default ``evault_scale_10m``).
"""

from __future__ import annotations

import os

from bench.harness import Row, compare, single

__all__ = [
    "DEFAULT_BASE",
    "HOLDERS_PER_LICENSE",
    "LARGE_DATABASE",
    "SMALL_DATABASE",
    "SMALL_LICENSES",
    "base_conninfo",
    "compare_databases",
    "ensure_filled",
    "run",
]

DEFAULT_BASE = "host=127.0.0.1 port=5432 user=postgres"
SMALL_DATABASE = "evault_scale_100k"
SMALL_LICENSES = 100_000
LARGE_DATABASE = "evault_scale_10m"
#: 8 licenses per holder on average: 10 million licenses over 1.25 million holders.
HOLDERS_PER_LICENSE = 1 / 8


def base_conninfo() -> str:
    return os.environ.get("EVAULT_BENCH_PG", DEFAULT_BASE)


def _label(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1_000_000:g}M"
    if n >= 1000:
        return f"{n / 1000:g}k"
    return str(n)


def ensure_filled(base: str, database: str, licenses: int, *, holders: int = 0) -> None:
    """Fill ``database`` (``holders`` default: licenses / 8) unless it already is so filled;
    a filled database made by an older schema is brought to the newest by the migrations."""
    from bench.scale.fill import database_exists, fill, sqlalchemy_url
    from bench.scale.probe import database_figures
    from vault.migrations import upgrade

    holders = holders or max(1, int(licenses * HOLDERS_PER_LICENSE))
    if database_exists(base, database):
        try:
            figures = database_figures(base, database)
        except Exception:
            figures = {}
        if figures.get("licenses_count") == licenses and figures.get("holders_count") == holders:
            upgrade(sqlalchemy_url(base, database))
            return
    fill(base=base, database=database, licenses=licenses, holders=holders)


def compare_databases(base: str, large: str, small: str, rounds: int) -> list[Row]:
    """Search-by-holder and get-by-id on ``large`` against ``small``, interleaved."""
    from bench.scale.probe import Probe

    big, little = Probe(base, large), Probe(base, small)
    try:
        for probe in (big, little):
            checks = probe.explain(probe.reads)
            if not all(c.uses_indexes for c in checks):
                raise RuntimeError(f"{probe.database}: a read path query does not use an index")
        name = f"{_label(big.licenses)} vs {_label(little.licenses)} licenses"
        target = "ratio >= 0.67 (large within 1.5x of small)"
        return [
            compare(
                f"scale: search by holder (service), {name}",
                big.search_once,
                little.search_once,
                baseline_name=f"same at {_label(little.licenses)}",
                rounds=rounds,
                warmup=max(2, rounds // 5),
                target=target,
            ),
            compare(
                f"scale: get license by id (service), {name}",
                big.get_once,
                little.get_once,
                baseline_name=f"same at {_label(little.licenses)}",
                rounds=rounds,
                warmup=max(2, rounds // 5),
                target=target,
            ),
        ]
    finally:
        big.close()
        little.close()


def run(rounds: int) -> list[Row]:
    """Harness entry: the large database against the 100-thousand one (built if missing)."""
    from bench.scale.fill import database_exists
    from bench.scale.probe import Probe

    base = base_conninfo()
    ensure_filled(base, SMALL_DATABASE, SMALL_LICENSES)
    large = os.environ.get("EVAULT_BENCH_SCALE_LARGE", LARGE_DATABASE)
    if database_exists(base, large):
        return compare_databases(base, large, SMALL_DATABASE, rounds)
    probe = Probe(base, SMALL_DATABASE)
    try:
        size = _label(probe.licenses)
        note = f"no {large} database: run `python -m bench.scale fill` for the 10M figure"
        return [
            single(
                f"scale: search by holder (service), {size}",
                probe.search_once,
                rounds=rounds,
                target=note,
            ),
            single(
                f"scale: get license by id (service), {size}",
                probe.get_once,
                rounds=rounds,
                target=note,
            ),
        ]
    finally:
        probe.close()
