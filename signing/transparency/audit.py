"""Offline audit of a whole log: re-compute the tree from exported entries, check checkpoints.

The export format is JSON Lines, one entry per line, in index order::

    {"created_at":"2025-01-02T03:04:05.000006Z","event_type":"copy.issued","idx":0,
     "leaf_hash":"<base64>","payload":{...}}

``leaf_hash`` is what the database recorded at append time. It is optional for the audit (the
tree is always re-computed from idx, created_at, event_type and payload) but lets the audit
name the exact entry that was edited afterwards without fixing its hash.

:func:`audit_entries` stops at the first problem: a missing, duplicated or out-of-order
index, an entry whose content does not give its recorded leaf hash, two checkpoints that
sign different roots for one size (a fork), a checkpoint whose root the entries do not
reproduce (the entries after the previous matching checkpoint, up to its size, were
altered), or a checkpoint larger than the export (entries missing at the end).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import itertools
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from signing.errors import LogFormatError, LogVerificationError
from signing.transparency.checkpoint import SignedCheckpoint
from signing.transparency.event import LogEvent, format_time, parse_time
from signing.transparency.merkle import HASH_SIZE, MerkleTree
from signing.transparency.proofs import verify_consistency

__all__ = [
    "AuditProblem",
    "AuditResult",
    "ExportedEntry",
    "audit_entries",
]


@dataclass(frozen=True)
class ExportedEntry:
    """One line of an entries export."""

    event: LogEvent
    #: The leaf hash the database recorded, if the export carries it.
    recorded_leaf_hash: bytes | None = None

    def to_json(self) -> dict[str, Any]:
        """The JSON object of one export line (and of one API entry)."""
        obj: dict[str, Any] = {
            "idx": self.event.idx,
            "created_at": format_time(self.event.time),
            "event_type": self.event.event_type,
            "payload": self.event.payload,
        }
        if self.recorded_leaf_hash is not None:
            obj["leaf_hash"] = base64.b64encode(self.recorded_leaf_hash).decode("ascii")
        return obj

    def to_line(self) -> str:
        """One JSON Lines line (without the newline)."""
        return json.dumps(self.to_json(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def from_json(cls, obj: Any) -> ExportedEntry:
        if not isinstance(obj, dict):
            raise LogFormatError("a log entry is a JSON object")
        missing = {"idx", "created_at", "event_type", "payload"} - set(obj)
        if missing:
            raise LogFormatError(f"a log entry lacks {', '.join(sorted(missing))}")
        idx, created, event_type = obj["idx"], obj["created_at"], obj["event_type"]
        if not isinstance(idx, int) or isinstance(idx, bool):
            raise LogFormatError("a log entry's idx is an integer")
        if not isinstance(created, str) or not isinstance(event_type, str):
            raise LogFormatError(f"log entry {idx}: created_at and event_type are strings")
        recorded: bytes | None = None
        if obj.get("leaf_hash") is not None:
            try:
                recorded = base64.b64decode(str(obj["leaf_hash"]).encode("ascii"), validate=True)
            except (binascii.Error, UnicodeEncodeError):
                raise LogFormatError(f"log entry {idx}: leaf_hash is not base64") from None
            if len(recorded) != HASH_SIZE:
                raise LogFormatError(f"log entry {idx}: leaf_hash has {HASH_SIZE} bytes")
        try:
            event = LogEvent(
                idx=idx, time=parse_time(created), event_type=event_type, payload=obj["payload"]
            )
        except LogFormatError as exc:
            raise LogFormatError(f"log entry {idx}: {exc}") from None
        return cls(event=event, recorded_leaf_hash=recorded)

    @classmethod
    def from_line(cls, line: str) -> ExportedEntry:
        try:
            obj = json.loads(line)
        except ValueError:
            raise LogFormatError("a log entry line is not JSON") from None
        return cls.from_json(obj)


@dataclass(frozen=True)
class AuditProblem:
    """The first thing found wrong."""

    #: The first entry index concerned (None for a problem between checkpoints alone).
    index: int | None
    #: One line saying what is wrong.
    reason: str


@dataclass(frozen=True)
class AuditResult:
    """The outcome of :func:`audit_entries`."""

    #: Entries read and verified up to the problem (or all of them).
    entries_checked: int
    #: Sizes of the checkpoints whose root the entries reproduce.
    checkpoints_matched: tuple[int, ...]
    #: The first problem, or None when everything verified.
    problem: AuditProblem | None
    #: Root of the re-computed tree over the entries checked.
    root_hash: bytes

    @property
    def ok(self) -> bool:
        return self.problem is None


def audit_entries(
    entries: Iterable[ExportedEntry], checkpoints: Sequence[SignedCheckpoint]
) -> AuditResult:
    """Re-compute the tree from ``entries`` (index order) and check it against ``checkpoints``.

    The checkpoints must already have been signature-checked (see
    :meth:`LogVerifier.verify`); they may come in any order and from several sources.
    """
    by_size, fork = _by_size(checkpoints)
    audit = _Audit(by_size)
    if fork is not None:
        return audit.result(fork)
    return audit.result(audit.run(entries))


def _by_size(
    checkpoints: Sequence[SignedCheckpoint],
) -> tuple[dict[int, SignedCheckpoint], AuditProblem | None]:
    """The checkpoints by tree size; the fork when two sign different roots for one size."""
    by_size: dict[int, SignedCheckpoint] = {}
    for signed in sorted(checkpoints, key=lambda s: s.checkpoint.size):
        cp = signed.checkpoint
        seen = by_size.get(cp.size)
        if seen is not None and not hmac.compare_digest(seen.checkpoint.root_hash, cp.root_hash):
            return by_size, AuditProblem(
                index=max(cp.size - 1, 0),
                reason=f"two signed checkpoints give different roots for size {cp.size} "
                "(the log forked)",
            )
        by_size[cp.size] = signed
    return by_size, None


@dataclass
class _Audit:
    """One audit: the tree re-computed so far and the checkpoints it reproduced."""

    by_size: dict[int, SignedCheckpoint]
    tree: MerkleTree = field(default_factory=MerkleTree)
    matched: list[int] = field(default_factory=list)

    def result(self, problem: AuditProblem | None) -> AuditResult:
        return AuditResult(
            entries_checked=self.tree.size,
            checkpoints_matched=tuple(self.matched),
            problem=problem,
            root_hash=self.tree.root(),
        )

    def run(self, entries: Iterable[ExportedEntry]) -> AuditProblem | None:
        """The first problem of the entries against the checkpoints, or None."""
        if 0 in self.by_size and (problem := self._check_size(0)) is not None:
            return problem
        for entry in entries:
            problem = _index_problem(entry.event.idx, self.tree.size)
            if problem is not None:
                return problem
            computed = entry.event.leaf_hash()
            if entry.recorded_leaf_hash is not None and not hmac.compare_digest(
                computed, entry.recorded_leaf_hash
            ):
                return AuditProblem(
                    index=entry.event.idx,
                    reason=f"entry {entry.event.idx} was altered: its content does not give "
                    "its recorded leaf hash",
                )
            self.tree.append_hash(computed)
            size = self.tree.size
            if size in self.by_size and (problem := self._check_size(size)) is not None:
                return problem
        return self._missing_tail() or self._inconsistency()

    def _check_size(self, n: int) -> AuditProblem | None:
        cp = self.by_size[n].checkpoint
        if hmac.compare_digest(self.tree.root(n), cp.root_hash):
            self.matched.append(n)
            return None
        start = self.matched[-1] if self.matched else 0
        return AuditProblem(
            index=start,
            reason=f"entries {start}..{n - 1} do not reproduce the signed root of the "
            f"checkpoint of size {n}: entry {start} or a later one up to {n - 1} was altered",
        )

    def _missing_tail(self) -> AuditProblem | None:
        beyond = [n for n in sorted(self.by_size) if n > self.tree.size]
        if not beyond:
            return None
        return AuditProblem(
            index=self.tree.size,
            reason=f"entry {self.tree.size} is missing: a signed checkpoint covers "
            f"{beyond[-1]} entries, the export ends after {self.tree.size}",
        )

    def _inconsistency(self) -> AuditProblem | None:
        """Every checkpoint matched the re-computed tree, so they are consistent with each
        other; check it the RFC 9162 way as well, between each pair of successive ones."""
        for first, second in itertools.pairwise(sorted(self.by_size)):
            try:
                verify_consistency(
                    first=first,
                    second=second,
                    first_hash=self.by_size[first].checkpoint.root_hash,
                    second_hash=self.by_size[second].checkpoint.root_hash,
                    consistency_path=self.tree.consistency_proof(first, second),
                )
            except LogVerificationError as exc:  # pragma: no cover - implied by the roots
                return AuditProblem(index=first, reason=str(exc))
        return None


def _index_problem(idx: int, expected: int) -> AuditProblem | None:
    """A missing, duplicated or out-of-order index."""
    if idx > expected:
        return AuditProblem(index=expected, reason=f"entry {expected} is missing (next is {idx})")
    if idx < expected:
        return AuditProblem(
            index=idx, reason=f"entry {idx} is duplicated or out of order after {expected - 1}"
        )
    return None
