"""A lock on a key, held across several transactions: one request of a kind at a time.

Some work must not run twice at once for the same thing, yet cannot stay inside one
transaction: making a certified copy commits its log entry, seals for tens of milliseconds
holding no database lock, then commits the copy. :func:`key_lock` serializes such work per
key (two identical copy requests wait for each other; different ones do not), across
threads and processes:

- PostgreSQL: a session-level advisory lock (``pg_advisory_lock(int4, int4)``, its own key
  space apart from the single-``bigint`` transaction locks of the transparency log) on a
  connection of its own, which the work's session is bound to, so the work needs no second
  connection. It is unlocked at the end; if unlocking fails the connection is discarded,
  which ends the lock with it. A lock not obtained within ``wait`` seconds
  (``lock_timeout``) raises :class:`~vault.errors.ConflictError`.
- SQLite: a lock per key in this process (threads), plus a POSIX record lock on one byte of
  ``<database>-locks`` (other processes on the same machine; SQLite never spans machines).

Keys are hashed (SHA-256) into the lock's number: two different keys share a lock with
negligible probability, and then only wait for each other.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from vault.errors import ConflictError, DatabaseUnavailable

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: threads of one process only
    fcntl = None  # type: ignore[assignment]

__all__ = ["LOCK_WAIT_SECONDS", "key_lock"]

#: How long :func:`key_lock` waits for a lock another request holds.
LOCK_WAIT_SECONDS = 30.0

_LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL: lock_timeout expired
_POLL_SECONDS = (0.002, 0.05)  # first and longest pause between tries of a file lock


def _digest(parts: tuple[object, ...]) -> bytes:
    encoded = json.dumps(parts, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(encoded.encode("utf-8")).digest()


@contextlib.contextmanager
def key_lock(session: Session, *key: object, wait: float = LOCK_WAIT_SECONDS) -> Iterator[Session]:
    """Hold the lock on ``key`` (JSON-serializable parts); yield the session to work in.

    ``session`` is committed first, so that no connection or database lock is held while
    waiting (on SQLite every transaction holds the write lock the lock's holder needs).
    On PostgreSQL the yielded session is a new one bound to the lock's connection; on SQLite
    it is ``session``. Objects loaded through either stay usable after the block
    (``expire_on_commit=False``).
    """
    session.commit()
    digest = _digest(key)
    engine = session.get_bind().engine
    if engine.dialect.name == "postgresql":
        with _advisory_lock(engine, digest, wait) as connection:
            locked = Session(bind=connection, expire_on_commit=False)
            try:
                yield locked
            finally:
                locked.close()
        return
    database = engine.url.database
    path = None
    if database and database != ":memory:" and not database.startswith("file:"):
        path = Path(database).with_name(Path(database).name + "-locks")
    with _LOCAL.hold(path, int.from_bytes(digest[:8], "big") >> 2, wait):
        yield session


def _timeout(wait: float) -> ConflictError:
    return ConflictError(
        f"an identical request is still being served (waited {wait:g} s): try again"
    )


@contextlib.contextmanager
def _advisory_lock(engine: Engine, digest: bytes, wait: float) -> Iterator[Connection]:
    """The lock on ``digest`` held by a connection of its own, which is yielded.

    Locking and unlocking run in autocommit mode: one round trip each, no BEGIN or COMMIT
    (the lock is session-level); ``lock_timeout`` is set for the locking statement only.
    """
    high = int.from_bytes(digest[:4], "big", signed=True)
    low = int.from_bytes(digest[4:8], "big", signed=True)
    connection = engine.connect()
    default_isolation = connection.default_isolation_level
    try:
        connection.execution_options(isolation_level="AUTOCOMMIT")
        connection.execute(_LOCK, {"ms": str(round(wait * 1000)), "high": high, "low": low})
        connection.commit()  # ends SQLAlchemy's own transaction; nothing is sent in autocommit
        connection.execution_options(isolation_level=default_isolation)
    except DatabaseUnavailable:
        connection.close()
        raise
    except DBAPIError as exc:
        connection.close()
        if getattr(exc.orig, "sqlstate", None) == _LOCK_NOT_AVAILABLE:
            raise _timeout(wait) from None
        raise
    try:
        yield connection
    finally:
        try:
            if connection.in_transaction():
                connection.rollback()
            connection.execution_options(isolation_level="AUTOCOMMIT")
            connection.execute(_UNLOCK, {"high": high, "low": low})
            connection.commit()
        except Exception:  # a broken connection: discarding it ends its lock
            connection.invalidate()
        finally:
            connection.close()  # back to the pool, in its default isolation level


#: The subquery runs first: lock_timeout applies to this statement's own transaction.
_LOCK = text(
    "SELECT pg_advisory_lock(:high, :low)"
    " FROM (SELECT set_config('lock_timeout', :ms, true)) AS timeout"
)
_UNLOCK = text("SELECT pg_advisory_unlock(:high, :low)")


class _LocalLocks:
    """Per-key locks for SQLite: a threading lock per key, then a byte of a lock file.

    POSIX record locks belong to the process, so the threading lock comes first (one thread
    per key and process asks for the file lock) and the file stays open for the process's
    life (closing any descriptor of a file drops the process's record locks on it).
    """

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[tuple[Path | None, int], tuple[threading.Lock, int]] = {}
        self._files: dict[Path, int] = {}

    @contextlib.contextmanager
    def hold(self, path: Path | None, offset: int, wait: float) -> Iterator[None]:
        deadline = time.monotonic() + wait
        slot = (path, offset)
        with self._guard:
            lock, users = self._locks.get(slot, (threading.Lock(), 0))
            self._locks[slot] = (lock, users + 1)
        try:
            if not lock.acquire(timeout=wait):
                raise _timeout(wait)
            try:
                if path is None or fcntl is None:
                    yield
                else:
                    descriptor = self._file(path)
                    self._lock_byte(descriptor, offset, deadline, wait)
                    try:
                        yield
                    finally:
                        fcntl.lockf(descriptor, fcntl.LOCK_UN, 1, offset)
            finally:
                lock.release()
        finally:
            with self._guard:
                lock, users = self._locks[slot]
                if users == 1:
                    del self._locks[slot]
                else:
                    self._locks[slot] = (lock, users - 1)

    def _file(self, path: Path) -> int:
        with self._guard:
            descriptor = self._files.get(path)
            if descriptor is None:
                descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
                self._files[path] = descriptor
            return descriptor

    @staticmethod
    def _lock_byte(descriptor: int, offset: int, deadline: float, wait: float) -> None:
        assert fcntl is not None
        pause = _POLL_SECONDS[0]
        while True:
            try:
                fcntl.lockf(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, offset)
                return
            except OSError:  # held by another process
                if time.monotonic() >= deadline:
                    raise _timeout(wait) from None
                time.sleep(pause)
                pause = min(pause * 2, _POLL_SECONDS[1])


#: This process's SQLite key locks (threads share them; a lock file per database).
_LOCAL = _LocalLocks()
