"""A transparency-log witness (C2SP tlog-witness) with its state in SQLite.

:class:`WitnessService` answers ``add-checkpoint`` requests: it checks the log's signature
and the consistency proof against the latest checkpoint it cosigned for that log
(:mod:`signing.transparency.witness`), then stores the new one and returns its Ed25519
cosignature (c2sp.org/tlog-cosignature). Reading the latest state, checking and storing
happen in one ``BEGIN IMMEDIATE`` transaction, so two requests can never roll the stored
size back (the race the spec describes); the file is written in WAL mode with
``synchronous=FULL``, so a cosigned checkpoint is on disk before its cosignature leaves.

A validly signed checkpoint that does not extend what the witness cosigned is evidence
that the log forked: it is logged at ERROR on ``evault.witness`` and kept in the
``evidence`` table (with the checkpoint the witness had cosigned) for the operator.

The witness knows nothing of the vault's database: it is a separate role, run by someone
other than the vault's operator (``evault witness serve``).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from signing.transparency.checkpoint import LogVerifier, SignedCheckpoint
from signing.transparency.cosignature import CosignatureSigner
from signing.transparency.note import NoteSignature, SignedNote
from signing.transparency.witness import (
    AddCheckpoint,
    Refusal,
    WitnessedState,
    WitnessRefusal,
    check_consistent,
    check_signed,
)
from vault.errors import ConfigError, VaultError

__all__ = ["Evidence", "WitnessService", "WitnessStateError", "origin_hash", "read_evidence"]

_log = logging.getLogger("evault.witness")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS witnessed (
    origin TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    root_hash BLOB NOT NULL,
    note TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS evidence (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    origin TEXT NOT NULL,
    seen_at INTEGER NOT NULL,
    reason TEXT NOT NULL,
    cosigned_note TEXT,
    offered_request TEXT NOT NULL
);
"""


class WitnessStateError(VaultError):
    """The witness's state file could not be read or written (nothing was cosigned)."""


def origin_hash(origin: str) -> str:
    """Lowercase hex SHA-256 of an origin: the monitoring path ``/<origin hash>/checkpoint``."""
    return hashlib.sha256(origin.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Evidence:
    """A refused, validly signed checkpoint kept as proof of the log's misbehaviour."""

    origin: str
    seen_at: int
    reason: str
    #: The checkpoint the witness had cosigned, when it had one.
    cosigned_note: str | None
    #: The request body offered (old size, proof, checkpoint).
    offered_request: str


class WitnessService:
    """A witness: its key, the logs it follows (origin -> log key) and its SQLite state."""

    def __init__(
        self,
        *,
        db_path: Path,
        signer: CosignatureSigner,
        logs: Mapping[str, LogVerifier],
        clock: Callable[[], float] = time.time,
        busy_timeout: float = 30.0,
    ) -> None:
        self._db_path = db_path
        self._busy_timeout = busy_timeout
        self._signer = signer
        self._logs = dict(logs)
        self._clock = clock
        try:
            db_path.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.closing(self._connect()) as db:
                db.execute("PRAGMA journal_mode=WAL")
                db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise ConfigError(f"witness state {db_path}: {exc}") from None

    @property
    def signer(self) -> CosignatureSigner:
        return self._signer

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self._db_path, isolation_level=None, timeout=self._busy_timeout)
        db.execute("PRAGMA synchronous=FULL")
        return db

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; a failure of SQLite itself is a :class:`WitnessStateError`."""
        try:
            with contextlib.closing(self._connect()) as db:
                db.execute("BEGIN IMMEDIATE")
                try:
                    yield db
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
                db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise WitnessStateError(f"witness state {self._db_path}: {exc}") from None

    def add_checkpoint(self, body: bytes) -> str:
        """Check and cosign; the answer's signature lines, or a :class:`WitnessRefusal`."""
        request = AddCheckpoint.parse(body)
        signed = check_signed(request, self._logs)
        origin = signed.checkpoint.origin
        refused: WitnessRefusal | None = None
        with self._transaction() as db:  # the evidence of a refusal is committed too
            latest = _latest(db, origin)
            try:
                check_consistent(request, signed, latest)
            except WitnessRefusal as refusal:
                self._maybe_evidence(db, request, signed, latest, refusal)
                refused = refusal
            else:
                line = self._store(db, signed)
        if refused is not None:
            raise refused
        return line.line()

    def _store(self, db: sqlite3.Connection, signed: SignedCheckpoint) -> NoteSignature:
        """Cosign ``signed`` and record it as the log's latest cosigned checkpoint."""
        timestamp = max(1, int(self._clock()))
        parsed = SignedNote.parse(signed.text)
        line = self._signer.cosign(parsed.text, timestamp)
        checkpoint = signed.checkpoint
        # Kept for monitors: the log's signatures it verified and its own, no unknown line.
        log = self._logs[checkpoint.origin]
        verified = tuple(
            sig
            for sig in parsed.signatures
            if sig.name in signed.signed_by and sig.key_id == log.key_hash(sig.name)
        )
        kept = SignedNote(text=parsed.text, signatures=(*verified, line))
        db.execute(
            "INSERT INTO witnessed (origin, size, root_hash, note, updated_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT(origin) DO UPDATE SET size = excluded.size,"
            " root_hash = excluded.root_hash, note = excluded.note,"
            " updated_at = excluded.updated_at",
            (
                checkpoint.origin,
                checkpoint.size,
                checkpoint.root_hash,
                kept.format(),
                timestamp,
            ),
        )
        return line

    def _maybe_evidence(
        self,
        db: sqlite3.Connection,
        request: AddCheckpoint,
        signed: SignedCheckpoint,
        latest: WitnessedState | None,
        refusal: WitnessRefusal,
    ) -> None:
        new = signed.checkpoint
        same_size_fork = (
            latest is not None and new.size == latest.size and new.root_hash != latest.root_hash
        )
        if refusal.kind is not Refusal.INCONSISTENT and not same_size_fork:
            return  # a stale old size is a client's mistake, not the log's
        reason = (
            f"fork: two checkpoints of size {new.size} with different roots"
            if same_size_fork
            else f"inconsistent: {refusal}"
        )
        db.execute(
            "INSERT INTO evidence (origin, seen_at, reason, cosigned_note, offered_request) "
            "VALUES (?, ?, ?, ?, ?)",
            (
                new.origin,
                int(self._clock()),
                reason,
                None if latest is None else latest.note,
                request.body().decode("utf-8"),
            ),
        )
        _log.error(
            "log %s misbehaves: %s; evidence stored in %s", new.origin, reason, self._db_path
        )

    def latest(self, origin: str) -> WitnessedState | None:
        """The latest checkpoint cosigned for ``origin``, or None."""
        try:
            with contextlib.closing(self._connect()) as db:
                return _latest(db, origin)
        except sqlite3.Error as exc:
            raise WitnessStateError(f"witness state {self._db_path}: {exc}") from None

    def latest_by_hash(self, hex_hash: str) -> WitnessedState | None:
        """The latest cosigned checkpoint of the log whose origin hashes to ``hex_hash``."""
        for origin in self._logs:
            if origin_hash(origin) == hex_hash:
                return self.latest(origin)
        return None

    def evidence(self) -> list[Evidence]:
        """Every stored piece of evidence, oldest first."""
        return read_evidence(self._db_path)


def read_evidence(db_path: Path) -> list[Evidence]:
    """The evidence stored in a witness's state file, oldest first."""
    try:
        with contextlib.closing(sqlite3.connect(db_path)) as db:
            rows = db.execute(
                "SELECT origin, seen_at, reason, cosigned_note, offered_request "
                "FROM evidence ORDER BY id"
            ).fetchall()
    except sqlite3.Error as exc:
        raise ConfigError(f"witness state {db_path}: {exc}") from None
    return [Evidence(*row) for row in rows]


def _latest(db: sqlite3.Connection, origin: str) -> WitnessedState | None:
    row = db.execute(
        "SELECT size, root_hash, note FROM witnessed WHERE origin = ?", (origin,)
    ).fetchone()
    if row is None:
        return None
    return WitnessedState(size=int(row[0]), root_hash=bytes(row[1]), note=str(row[2]))
