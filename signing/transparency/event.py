"""Canonical bytes of a log event: the data of one Merkle leaf.

A leaf is the canonical JSON (keys sorted, no whitespace, UTF-8, no floats) of::

    {"idx": <index>, "payload": {...}, "time": "YYYY-MM-DDTHH:MM:SS.ffffffZ",
     "type": "<event type>", "v": 1}

The index and time are inside the leaf, so moving, re-dating or swapping rows changes the
leaf hash. The payload is the caller's: it must never hold a holder ID number in clear; pass
the blind index (keyed hash) instead. Floats are refused because their text form is not
canonical across implementations; use integers or strings.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from signing.errors import LogFormatError
from signing.transparency.merkle import leaf_hash

__all__ = [
    "LEAF_VERSION",
    "LogEvent",
    "canonical_json",
    "format_time",
    "parse_time",
]

LEAF_VERSION = 1
_EVENT_TYPE = re.compile(r"^[a-z][a-z0-9_.:-]{0,49}$")
_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")


def _check_value(value: Any, where: str) -> None:
    if value is None or isinstance(value, bool | str):
        return
    if isinstance(value, int):
        return
    if isinstance(value, float):
        raise LogFormatError(f"{where}: floats are not canonical; use an integer or a string")
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _check_value(item, f"{where}[{i}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise LogFormatError(f"{where}: object keys must be strings")
            _check_value(item, f"{where}.{key}")
        return
    raise LogFormatError(f"{where}: {type(value).__name__} is not a JSON value")


def _dumps(value: Any) -> bytes:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def canonical_json(value: Any) -> bytes:
    """Sorted-key, compact, UTF-8 JSON of ``value`` (str, int, bool, None, lists, dicts)."""
    _check_value(value, "value")
    return _dumps(value)


def format_time(moment: datetime) -> str:
    """UTC with microseconds, e.g. ``2025-01-02T03:04:05.000006Z``; naive means UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> datetime:
    """The inverse of :func:`format_time` (an aware UTC datetime)."""
    if not _TIME.match(text):
        raise LogFormatError(f"time {text!r} is not YYYY-MM-DDTHH:MM:SS.ffffffZ")
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    except ValueError:
        raise LogFormatError(f"time {text!r} is not a real date and time") from None


@dataclass(frozen=True)
class LogEvent:
    """One event of the log, before or after it was given its index."""

    #: Position in the log (0, 1, 2, ...).
    idx: int
    #: When it was appended (aware, UTC; microsecond precision).
    time: datetime
    #: What happened, e.g. ``license.intake``, ``copy.issued``, ``grant.revoked``.
    event_type: str
    #: What it happened to; JSON values, no floats, no holder ID in clear.
    payload: dict[str, Any]

    def __post_init__(self) -> None:
        if self.idx < 0:
            raise LogFormatError(f"a log index cannot be negative ({self.idx})")
        if not _EVENT_TYPE.match(self.event_type):
            raise LogFormatError(
                f"event type {self.event_type!r} is not lower-case [a-z0-9_.:-], 1-50 characters"
            )
        if not isinstance(self.payload, dict):
            raise LogFormatError("an event payload is a JSON object")
        _check_value(self.payload, "payload")

    def payload_bytes(self) -> bytes:
        """Canonical JSON of the payload alone (what the database keeps)."""
        return _dumps(self.payload)  # checked in __post_init__

    def leaf_data(self) -> bytes:
        """The canonical bytes this event contributes to the tree."""
        return _dumps(  # the payload was checked in __post_init__
            {
                "idx": self.idx,
                "payload": self.payload,
                "time": format_time(self.time),
                "type": self.event_type,
                "v": LEAF_VERSION,
            }
        )

    def leaf_hash(self) -> bytes:
        """RFC 9162 leaf hash of :meth:`leaf_data`."""
        return leaf_hash(self.leaf_data())

    @classmethod
    def from_leaf_data(cls, data: bytes) -> LogEvent:
        """Parse leaf bytes; they must be exactly canonical (re-encoding gives the same bytes)."""
        try:
            obj = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise LogFormatError("a log leaf is not UTF-8 JSON") from None
        if not isinstance(obj, dict) or set(obj) != {"idx", "payload", "time", "type", "v"}:
            raise LogFormatError("a log leaf needs exactly idx, payload, time, type and v")
        if obj["v"] != LEAF_VERSION:
            raise LogFormatError(f"log leaf version {obj['v']!r} is not {LEAF_VERSION}")
        if not isinstance(obj["idx"], int) or isinstance(obj["idx"], bool):
            raise LogFormatError("a log leaf's idx is an integer")
        if not isinstance(obj["type"], str) or not isinstance(obj["time"], str):
            raise LogFormatError("a log leaf's type and time are strings")
        event = cls(
            idx=obj["idx"],
            time=parse_time(obj["time"]),
            event_type=obj["type"],
            payload=obj["payload"],
        )
        if event.leaf_data() != data:
            raise LogFormatError(f"log leaf {event.idx} is not in canonical form")
        return event
