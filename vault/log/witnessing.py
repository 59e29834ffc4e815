"""The vault as a witness client: it submits each new checkpoint to the configured witnesses.

Each witness (``settings.witnesses``: ``"<submission URL prefix> <witness vkey>"``) gets
``POST <prefix>/add-checkpoint`` per C2SP tlog-witness with the size the vault last saw it
cosign (0 at first), the consistency proof from there and the signed checkpoint. A 409
answer names the witness's size: the vault resends with the proof from that size. The
cosignature lines of the answer that verify with the witness's configured key are added to
the stored checkpoint's note (``log_checkpoints.signed_note``), so the checkpoint endpoints
and the copies carry the cosigned checkpoint; lines of other keys are ignored.

A witness that is down, slow (``settings.witness_timeout_seconds``) or refuses is logged
(WARNING on ``evault.witnessing``) and skipped (one that did not answer is not asked again
for :data:`RETRY_AFTER` seconds, so copies do not each wait for its timeout): the
checkpoint is served and copies are made with the cosignatures that could be had, and
``evault verify --witness-key`` tells whether a copy has the ones its reader requires.

No database transaction is open while a witness is asked (SQLite's writers would wait on
it): the checkpoint and the tree are read, the transaction ends, the witnesses are asked,
then the cosignatures are written in a new one.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from signing.errors import KeySourceError, LogFormatError
from signing.transparency.cosignature import CosignatureVerifier
from signing.transparency.note import NoteSignature, SignedNote
from signing.transparency.witness import SIZE_CONTENT_TYPE, AddCheckpoint
from vault.errors import ConfigError, VaultError
from vault.log.checkpoints import latest_checkpoint
from vault.log.proofs import LogTreeCache, log_tree
from vault.models.log import LogCheckpoint

__all__ = [
    "RETRY_AFTER",
    "WitnessAhead",
    "WitnessClient",
    "WitnessFailed",
    "witness_clients",
    "witness_latest_and_commit",
]

_log = logging.getLogger("evault.witnessing")
_MAX_ANSWER = 1 << 16
#: Rounds of "a witness has cosigned a larger checkpoint: take the newest" before giving up.
_ROUNDS = 3
#: After a witness was unreachable, it is not asked again for this long (seconds), so that
#: copies do not each wait for its timeout.
RETRY_AFTER = 30.0


class WitnessFailed(VaultError):
    """A witness did not cosign (unreachable, refused, or answered nonsense)."""


class WitnessAhead(WitnessFailed):
    """The witness already cosigned a checkpoint larger than the one offered."""

    def __init__(self, name: str, size: int) -> None:
        super().__init__(f"witness {name} has cosigned a larger checkpoint (size {size})")
        self.size = size


@dataclass
class WitnessClient:
    """One witness: its submission prefix, its key, and the size it last reported."""

    url: str
    verifier: CosignatureVerifier
    timeout: float = 5.0
    #: The size of the latest checkpoint this witness is known to have cosigned.
    known_size: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._down_until = 0.0

    @property
    def name(self) -> str:
        return self.verifier.name

    @classmethod
    def parse(cls, spec: str, timeout: float = 5.0) -> WitnessClient:
        """``"<URL prefix> <vkey>"`` as in ``settings.witnesses``."""
        parts = spec.split()
        if len(parts) != 2 or urlsplit(parts[0]).scheme not in ("http", "https"):
            raise ConfigError(f"witness {spec!r}: expected '<http(s) URL prefix> <witness vkey>'")
        try:
            verifier = CosignatureVerifier.from_vkey(parts[1])
        except (KeySourceError, LogFormatError) as exc:
            raise ConfigError(f"witness {parts[0]}: {exc}") from None
        return cls(url=parts[0].rstrip("/"), verifier=verifier, timeout=timeout)

    def cosign(
        self, note: str, size: int, proof: Callable[[int], Sequence[bytes]]
    ) -> NoteSignature:
        """This witness's verified cosignature of the checkpoint ``note`` of ``size`` leaves."""
        with self._lock:  # one submission at a time per witness from this process
            if time.monotonic() < self._down_until:
                raise WitnessFailed(f"witness {self.name} was unreachable: not asked for now")
            for _ in range(2):  # the second try follows a 409 with the witness's size
                old = self.known_size if self.known_size <= size else size
                request = AddCheckpoint(old_size=old, proof=tuple(proof(old)), checkpoint=note)
                status, body = self._post(request.body())
                if status == 200:
                    self.known_size = size
                    return self._verified(note, body)
                if status != 409:
                    raise WitnessFailed(f"witness {self.name} refused ({status}): {body[:200]!r}")
                self.known_size = self._size_of(body)
                if self.known_size > size:
                    raise WitnessAhead(self.name, self.known_size)
            raise WitnessFailed(f"witness {self.name} keeps answering 409")

    def _post(self, body: bytes) -> tuple[int, bytes]:
        request = urllib.request.Request(  # noqa: S310 - parse() allows http(s) only
            f"{self.url}/add-checkpoint",
            data=body,
            method="POST",
            headers={"Content-Type": "text/plain; charset=utf-8"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:  # noqa: S310
                return int(answer.status), answer.read(_MAX_ANSWER)
        except urllib.error.HTTPError as exc:
            with exc:
                if exc.code == 409 and exc.headers.get_content_type() != SIZE_CONTENT_TYPE:
                    raise WitnessFailed(f"witness {self.name}: 409 without a size") from None
                return int(exc.code), exc.read(_MAX_ANSWER)
        except (urllib.error.URLError, OSError) as exc:
            self._down_until = time.monotonic() + RETRY_AFTER
            raise WitnessFailed(f"witness {self.name} is unreachable: {exc}") from None

    def _size_of(self, body: bytes) -> int:
        text = body.decode("ascii", "replace")
        if not text.endswith("\n") or not text[:-1].isdigit():
            raise WitnessFailed(f"witness {self.name}: a 409 whose body is not a size")
        return int(text[:-1])

    def _verified(self, note: str, answer: bytes) -> NoteSignature:
        """The answer's line by this witness that verifies (others are ignored)."""
        try:
            lines = SignedNote.parse(note.encode("utf-8") + answer)
        except LogFormatError as exc:
            raise WitnessFailed(f"witness {self.name} answered no signature lines: {exc}") from None
        for sig in lines.signatures:
            if self.verifier.matches(sig):
                self.verifier.verify_line(sig, lines.text)
                return sig
        raise WitnessFailed(f"witness {self.name} answered no cosignature by its key")


def witness_clients(specs: Sequence[str], timeout: float) -> tuple[WitnessClient, ...]:
    """Clients for ``settings.witnesses``; a malformed entry is a :class:`ConfigError`."""
    return tuple(WitnessClient.parse(spec, timeout) for spec in specs)


def _has(note: str, client: WitnessClient) -> bool:
    return any(client.verifier.matches(s) for s in SignedNote.parse(note).signatures)


def _cosign_once_and_commit(
    session: Session, clients: Sequence[WitnessClient], cache: LogTreeCache | None
) -> tuple[LogCheckpoint | None, bool]:
    """Ask every witness lacking from the latest checkpoint; (that row, a witness is ahead)."""
    row = latest_checkpoint(session=session)
    if row is None:
        return None, False
    note, size, row_id = row.signed_note, row.tree_size, row.id
    tree = log_tree(session=session, cache=cache)
    session.commit()  # no transaction while the witnesses are asked
    lines: list[NoteSignature] = []
    ahead = False
    for client in clients:
        if _has(note, client):
            continue
        try:
            lines.append(client.cosign(note, size, lambda old: tree.consistency_proof(old, size)))
        except WitnessAhead as exc:
            ahead = True
            _log.info("%s; taking the newest checkpoint", exc)
        except WitnessFailed as exc:
            _log.warning("checkpoint of size %d not cosigned: %s", size, exc)
    # Read again, locked (PostgreSQL): another worker may have added another witness's line.
    row = session.get(LogCheckpoint, row_id, populate_existing=True, with_for_update=bool(lines))
    assert row is not None  # checkpoints are never deleted
    if lines:
        row.signed_note = SignedNote.parse(row.signed_note).with_signatures(tuple(lines)).format()
        session.commit()
    return row, ahead


def witness_latest_and_commit(
    *,
    session: Session,
    clients: Sequence[WitnessClient],
    cache: LogTreeCache | None = None,
    lock: threading.Lock | None = None,
) -> LogCheckpoint | None:
    """Have the latest stored checkpoint cosigned by the witnesses; it, as stored after.

    When a witness has already cosigned a larger checkpoint (another worker's), the newest
    stored one is taken and offered instead, a few times at most. Commits (call it with no
    transaction open: it may wait for ``lock``).

    ``lock`` (one per process) makes callers take turns: one that waited reads the latest
    checkpoint only then, usually finds it cosigned by the one before it, and asks no
    witness; so concurrent copies share a round trip instead of queueing one each.
    """
    session.commit()
    with lock if lock is not None else contextlib.nullcontext():
        row: LogCheckpoint | None = None
        for _ in range(_ROUNDS):
            row, ahead = _cosign_once_and_commit(session, clients, cache)
            if not ahead:
                break
        session.commit()
        return row
