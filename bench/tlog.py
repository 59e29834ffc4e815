"""Transparency log: appends and proofs at 100k entries, ours vs recomputing the tree.

Ours is :class:`signing.transparency.MerkleTree` (stored perfect-subtree hashes). The baseline
keeps only the leaf hashes and evaluates RFC 9162's recursive MTH / PATH / PROOF definitions
over them on every call, which is what a log without stored subtrees has to do. Database
figures time :func:`vault.log.append.append_event` with a commit per event against a plain
INSERT of the same row (no lock, no hashing), and the cold load of a 100k-entry log into a
:class:`vault.log.proofs.LogTreeCache`.

Run alone: ``.venv/bin/python -m bench.tlog [--rounds N] [--size N]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import hashlib
import random
import sys
import tempfile
from pathlib import Path

from bench.harness import Row, Stats, compare, format_table, machine, single
from signing.transparency import LogEvent, MerkleTree, leaf_hash

SIZE = 100_000


def _k(n: int) -> int:
    return 1 << ((n - 1).bit_length() - 1)


def naive_mth(h: list[bytes], lo: int, hi: int) -> bytes:
    n = hi - lo
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return h[lo]
    k = _k(n)
    return hashlib.sha256(b"\x01" + naive_mth(h, lo, lo + k) + naive_mth(h, lo + k, hi)).digest()


def naive_path(h: list[bytes], m: int, lo: int, hi: int) -> list[bytes]:
    n = hi - lo
    if n == 1:
        return []
    k = _k(n)
    if m < k:
        return [*naive_path(h, m, lo, lo + k), naive_mth(h, lo + k, hi)]
    return [*naive_path(h, m - k, lo + k, hi), naive_mth(h, lo, lo + k)]


def naive_subproof(h: list[bytes], m: int, lo: int, hi: int, b: bool) -> list[bytes]:
    n = hi - lo
    if m == n:
        return [] if b else [naive_mth(h, lo, hi)]
    k = _k(n)
    if m <= k:
        return [*naive_subproof(h, m, lo, lo + k, b), naive_mth(h, lo + k, hi)]
    return [*naive_subproof(h, m - k, lo + k, hi, False), naive_mth(h, lo, lo + k)]


def _micro(row: Row) -> Row:
    """The same row in microseconds (our side is far below a millisecond)."""

    def scale(s: Stats | None) -> Stats | None:
        return None if s is None else Stats(s.median_ms * 1000, s.p95_ms * 1000, s.rounds)

    ours = scale(row.ours)
    assert ours is not None
    return dataclasses.replace(row, ours=ours, baseline=scale(row.baseline), unit="µs")


def _memory_rows(rounds: int, size: int) -> list[Row]:
    rng = random.Random(9162)
    hashes = [leaf_hash(i.to_bytes(8, "big")) for i in range(size)]
    tree = MerkleTree(hashes)
    naive = list(hashes)
    assert tree.root() == naive_mth(naive, 0, size)
    counter = [size]

    def ours_append() -> bytes:
        h = leaf_hash(counter[0].to_bytes(8, "big"))
        counter[0] += 1
        tree.append_hash(h)
        return tree.root()

    def naive_append() -> bytes:
        naive.append(leaf_hash(len(naive).to_bytes(8, "big")))
        return naive_mth(naive, 0, len(naive))

    label = f"{size // 1000}k"
    rows = [
        compare(
            f"tlog: append + new root at {label}",
            ours_append,
            naive_append,
            baseline_name="recompute MTH",
            rounds=rounds,
        )
    ]
    n = size  # proofs against a fixed size, while the trees keep growing above it
    rows.append(
        compare(
            f"tlog: inclusion proof at {label}",
            lambda: tree.inclusion_proof(rng.randrange(n), n),
            lambda: naive_path(naive, rng.randrange(n), 0, n),
            baseline_name="recompute PATH",
            rounds=rounds,
        )
    )
    rows.append(
        compare(
            f"tlog: consistency proof {size // 2000}k->{label}",
            lambda: tree.consistency_proof(n // 2 + 1, n),
            lambda: naive_subproof(naive, n // 2 + 1, 0, n, True),
            baseline_name="recompute PROOF",
            rounds=rounds,
        )
    )
    rows = [_micro(r) for r in rows]
    rows.append(
        single(f"tlog: build tree of {label} leaf hashes", lambda: MerkleTree(hashes), rounds=5)
    )
    return rows


def _database_rows(rounds: int, size: int) -> list[Row]:
    from sqlalchemy import insert

    from vault.db import make_engine, make_session_factory
    from vault.log.append import append_event
    from vault.log.proofs import LogTreeCache
    from vault.migrations import upgrade
    from vault.models.log import LogEntry

    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(url)
        engine = make_engine(url)
        sessions = make_session_factory(engine)
        start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
        batch = []
        for i in range(size):
            ev = LogEvent(
                idx=i,
                time=start + dt.timedelta(milliseconds=i),
                event_type="license.read",
                payload={"holder_bi": f"{i:064x}", "case": f"C{i}", "dept": "D1"},
            )
            batch.append(
                {
                    "idx": i,
                    "created_at": ev.time,
                    "event_type": ev.event_type,
                    "payload": ev.payload_bytes(),
                    "leaf_hash": ev.leaf_hash(),
                }
            )
        with sessions() as s:
            s.execute(insert(LogEntry), batch)
            s.commit()
        label = f"{size // 1000}k"

        def cold_load() -> int:
            with sessions() as s:
                return LogTreeCache().tree(s).size

        rows.append(single(f"tlog: cold load of {label} entries (SQLite)", cold_load, rounds=3))
        plain_idx = [0]  # negative indexes: never in the way of append_event's max + 1

        def ours() -> None:
            with sessions() as s:
                append_event(
                    session=s,
                    event_type="license.read",
                    payload={"holder_bi": "ab" * 32, "case": "C", "dept": "D1"},
                )
                s.commit()

        def plain() -> None:
            plain_idx[0] -= 1
            with sessions() as s:
                s.add(
                    LogEntry(
                        idx=plain_idx[0],
                        created_at=start,
                        event_type="license.read",
                        payload=b"{}",
                        leaf_hash=bytes(32),
                    )
                )
                s.commit()

        rows.append(
            compare(
                f"tlog: append_event + commit at {label} (SQLite)",
                ours,
                plain,
                baseline_name="plain INSERT + commit",
                rounds=rounds,
            )
        )
        engine.dispose()
    return rows


def run(rounds: int, size: int = SIZE) -> list[Row]:
    return _memory_rows(rounds, size) + _database_rows(rounds, size)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.tlog")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--size", type=int, default=SIZE)
    args = parser.parse_args(argv)
    rows = run(args.rounds, args.size)
    print(f"{machine()}, {args.rounds} rounds\n\n{format_table(rows)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
