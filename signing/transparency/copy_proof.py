"""The log proof a certified copy carries: its entry, a signed checkpoint, an inclusion proof.

JSON form (``application/vnd.evault.log-proof+json``, UTF-8)::

    {
      "format": "evault-log-proof/1",
      "index": 41,                        # the copy's log entry index
      "leaf": "<base64 leaf data>",       # canonical event bytes (signing.transparency.event)
      "leaf_hash": "<base64 SHA-256(0x00 || leaf)>",
      "checkpoint": "<signed checkpoint note text>",
      "inclusion_proof": ["<base64 hash>", ...]   # RFC 9162 PATH(index, D[checkpoint size])
    }

:meth:`CopyLogProof.verify` needs nothing but the log's public key: it checks the
checkpoint's signature, that the leaf hash is the leaf's, that the leaf's own index is
``index``, and the inclusion proof against the checkpoint's root.
"""

from __future__ import annotations

import base64
import hmac
import json
from dataclasses import dataclass
from typing import Any

from signing.errors import LogFormatError, LogVerificationError
from signing.transparency.checkpoint import LogVerifier, SignedCheckpoint
from signing.transparency.event import LogEvent
from signing.transparency.merkle import HASH_SIZE, leaf_hash
from signing.transparency.note import b64decode
from signing.transparency.proofs import verify_inclusion

__all__ = [
    "COPY_LOG_PROOF_FILENAME",
    "COPY_LOG_PROOF_FORMAT",
    "COPY_LOG_PROOF_MEDIA_TYPE",
    "CopyLogProof",
    "VerifiedCopyLogProof",
]

COPY_LOG_PROOF_FORMAT = "evault-log-proof/1"
#: Suggested name and media type when the proof is embedded in a PDF as a file attachment.
COPY_LOG_PROOF_FILENAME = "evault-log-proof.json"
COPY_LOG_PROOF_MEDIA_TYPE = "application/vnd.evault.log-proof+json"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise LogFormatError(f"log proof: {what} is a base64 string")
    return b64decode(value, f"log proof: {what}")


@dataclass(frozen=True)
class VerifiedCopyLogProof:
    """What a verified proof establishes."""

    #: The logged event (its type, time and payload).
    event: LogEvent
    #: The checkpoint the event is proven to be included in.
    checkpoint: SignedCheckpoint


@dataclass(frozen=True)
class CopyLogProof:
    """A log entry with an inclusion proof against a signed checkpoint."""

    index: int
    #: Canonical leaf data (see :class:`signing.transparency.event.LogEvent`).
    leaf: bytes
    #: The signed checkpoint note, verbatim.
    checkpoint: str
    #: RFC 9162 inclusion path of ``index`` in the checkpoint's tree.
    inclusion_proof: tuple[bytes, ...]

    def __post_init__(self) -> None:
        if self.index < 0:
            raise LogFormatError("log proof: the index cannot be negative")
        for h in self.inclusion_proof:
            if len(h) != HASH_SIZE:
                raise LogFormatError(f"log proof: a proof hash has {HASH_SIZE} bytes")

    @property
    def leaf_hash(self) -> bytes:
        return leaf_hash(self.leaf)

    def to_json(self) -> str:
        """Compact JSON (the form embedded in a copy)."""
        return json.dumps(
            {
                "format": COPY_LOG_PROOF_FORMAT,
                "index": self.index,
                "leaf": _b64(self.leaf),
                "leaf_hash": _b64(self.leaf_hash),
                "checkpoint": self.checkpoint,
                "inclusion_proof": [_b64(h) for h in self.inclusion_proof],
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> CopyLogProof:
        """Parse :meth:`to_json` output; a malformed proof raises :class:`LogFormatError`."""
        try:
            obj = json.loads(text)
        except (ValueError, UnicodeDecodeError):
            raise LogFormatError("log proof: not JSON") from None
        if not isinstance(obj, dict) or obj.get("format") != COPY_LOG_PROOF_FORMAT:
            raise LogFormatError(f"log proof: format is not {COPY_LOG_PROOF_FORMAT!r}")
        index = obj.get("index")
        if not isinstance(index, int) or isinstance(index, bool):
            raise LogFormatError("log proof: index is an integer")
        checkpoint = obj.get("checkpoint")
        if not isinstance(checkpoint, str):
            raise LogFormatError("log proof: checkpoint is the signed note text")
        path = obj.get("inclusion_proof")
        if not isinstance(path, list):
            raise LogFormatError("log proof: inclusion_proof is a list of base64 hashes")
        proof = cls(
            index=index,
            leaf=_unb64(obj.get("leaf"), "leaf"),
            checkpoint=checkpoint,
            inclusion_proof=tuple(_unb64(h, "a proof hash") for h in path),
        )
        if "leaf_hash" in obj and not hmac.compare_digest(
            _unb64(obj["leaf_hash"], "leaf_hash"), proof.leaf_hash
        ):
            raise LogVerificationError("log proof: leaf_hash is not the hash of the leaf")
        return proof

    def verify(self, verifier: LogVerifier, *, origin: str | None = None) -> VerifiedCopyLogProof:
        """Check everything offline; raise :class:`LogVerificationError` when anything fails."""
        signed = verifier.verify(self.checkpoint, origin=origin)
        event = LogEvent.from_leaf_data(self.leaf)
        if event.idx != self.index:
            raise LogVerificationError(
                f"log proof: the leaf says index {event.idx}, the proof says {self.index}"
            )
        verify_inclusion(
            leaf_index=self.index,
            tree_size=signed.checkpoint.size,
            leaf_hash=self.leaf_hash,
            inclusion_path=self.inclusion_proof,
            root_hash=signed.checkpoint.root_hash,
        )
        return VerifiedCopyLogProof(event=event, checkpoint=signed)
