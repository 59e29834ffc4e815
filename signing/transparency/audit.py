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
from dataclasses import dataclass
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
    by_size: dict[int, SignedCheckpoint] = {}
    for signed in sorted(checkpoints, key=lambda s: s.checkpoint.size):
        cp = signed.checkpoint
        seen = by_size.get(cp.size)
        if seen is not None and not hmac.compare_digest(seen.checkpoint.root_hash, cp.root_hash):
            return AuditResult(
                entries_checked=0,
                checkpoints_matched=(),
                problem=AuditProblem(
                    index=max(cp.size - 1, 0),
                    reason=f"two signed checkpoints give different roots for size {cp.size} "
                    "(the log forked)",
                ),
                root_hash=MerkleTree().root(),
            )
        by_size[cp.size] = signed
    sizes = sorted(by_size)
    tree = MerkleTree()
    matched: list[int] = []

    def result(problem: AuditProblem | None) -> AuditResult:
        return AuditResult(
            entries_checked=tree.size,
            checkpoints_matched=tuple(matched),
            problem=problem,
            root_hash=tree.root(),
        )

    def check_size(n: int) -> AuditProblem | None:
        cp = by_size[n].checkpoint
        if hmac.compare_digest(tree.root(n), cp.root_hash):
            matched.append(n)
            return None
        start = matched[-1] if matched else 0
        return AuditProblem(
            index=start,
            reason=f"entries {start}..{n - 1} do not reproduce the signed root of the "
            f"checkpoint of size {n}: entry {start} or a later one up to {n - 1} was altered",
        )

    if 0 in by_size and (problem := check_size(0)) is not None:
        return result(problem)
    for entry in entries:
        expected = tree.size
        idx = entry.event.idx
        if idx > expected:
            return result(
                AuditProblem(index=expected, reason=f"entry {expected} is missing (next is {idx})")
            )
        if idx < expected:
            return result(
                AuditProblem(
                    index=idx,
                    reason=f"entry {idx} is duplicated or out of order after {expected - 1}",
                )
            )
        computed = entry.event.leaf_hash()
        if entry.recorded_leaf_hash is not None and not hmac.compare_digest(
            computed, entry.recorded_leaf_hash
        ):
            return result(
                AuditProblem(
                    index=idx,
                    reason=f"entry {idx} was altered: its content does not give its recorded "
                    "leaf hash",
                )
            )
        tree.append_hash(computed)
        if tree.size in by_size and (problem := check_size(tree.size)) is not None:
            return result(problem)
    beyond = [n for n in sizes if n > tree.size]
    if beyond:
        return result(
            AuditProblem(
                index=tree.size,
                reason=f"entry {tree.size} is missing: a signed checkpoint covers "
                f"{beyond[-1]} entries, the export ends after {tree.size}",
            )
        )
    # Every checkpoint matched the re-computed tree, so they are consistent with each other;
    # check it the RFC 9162 way as well, between each pair of successive checkpoints.
    for first, second in itertools.pairwise(sizes):
        try:
            verify_consistency(
                first=first,
                second=second,
                first_hash=by_size[first].checkpoint.root_hash,
                second_hash=by_size[second].checkpoint.root_hash,
                consistency_path=tree.consistency_proof(first, second),
            )
        except LogVerificationError as exc:  # pragma: no cover - implied by the roots
            return result(AuditProblem(index=first, reason=str(exc)))
    return result(None)
