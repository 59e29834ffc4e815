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

The same proof is also written as a C2SP tlog-proof (:meth:`CopyLogProof.to_tlog_proof`,
c2sp.org/tlog-proof), which tools the vault's operator did not write can read::

    c2sp.org/tlog-proof@v1
    extra <base64 leaf data>             # the canonical event: the record the proof is for
    index 41
    <base64 hash>                        # the inclusion proof, leaf's sibling first
    ...
    <blank line>
    <signed checkpoint note, verbatim>
"""

from __future__ import annotations

import base64
import hmac
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from signing.errors import LogFormatError, LogVerificationError
from signing.transparency.checkpoint import LogKeyring, LogVerifier, SignedCheckpoint
from signing.transparency.cosignature import Cosignature, CosignatureVerifier, verify_cosignatures
from signing.transparency.event import LogEvent
from signing.transparency.merkle import HASH_SIZE, leaf_hash
from signing.transparency.note import b64decode
from signing.transparency.proofs import verify_inclusion

__all__ = [
    "COPY_LOG_PROOF_FILENAME",
    "COPY_LOG_PROOF_FORMAT",
    "COPY_LOG_PROOF_MEDIA_TYPE",
    "TLOG_PROOF_FILENAME",
    "TLOG_PROOF_HEADER",
    "TLOG_PROOF_MEDIA_TYPE",
    "CopyLogProof",
    "VerifiedCopyLogProof",
]

COPY_LOG_PROOF_FORMAT = "evault-log-proof/1"
#: Suggested name and media type when the proof is embedded in a PDF as a file attachment.
COPY_LOG_PROOF_FILENAME = "evault-log-proof.json"
COPY_LOG_PROOF_MEDIA_TYPE = "application/vnd.evault.log-proof+json"
#: First line of a C2SP tlog-proof.
TLOG_PROOF_HEADER = "c2sp.org/tlog-proof@v1"
#: Name and media type of the tlog-proof form in a PDF (the spec's file extension).
TLOG_PROOF_FILENAME = "evault-log-proof.tlog-proof"
TLOG_PROOF_MEDIA_TYPE = "text/plain"
_INDEX = re.compile(r"index (0|[1-9][0-9]{0,19})")


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
    #: The witness cosignatures checked on that checkpoint (those asked for that verify).
    cosignatures: tuple[Cosignature, ...] = ()


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

    def to_tlog_proof(self) -> str:
        """The proof as a C2SP tlog-proof, the leaf data on its ``extra`` line."""
        lines = [TLOG_PROOF_HEADER, f"extra {_b64(self.leaf)}", f"index {self.index}"]
        lines.extend(_b64(h) for h in self.inclusion_proof)
        return "\n".join(lines) + "\n\n" + self.checkpoint

    @classmethod
    def from_tlog_proof(cls, text: str | bytes) -> CopyLogProof:
        """Parse a tlog-proof whose ``extra`` line holds the leaf (as :meth:`to_tlog_proof`)."""
        if isinstance(text, bytes):
            try:
                text = text.decode("utf-8")
            except UnicodeDecodeError:
                raise LogFormatError("tlog-proof: not UTF-8") from None
        head, sep, checkpoint = text.partition("\n\n")
        lines = head.split("\n")
        if not sep or lines[0] != TLOG_PROOF_HEADER:
            raise LogFormatError(f"tlog-proof: the first line is not {TLOG_PROOF_HEADER}")
        if len(lines) < 3 or not lines[1].startswith("extra "):
            raise LogFormatError("tlog-proof: no 'extra' line with the logged event")
        index = _INDEX.fullmatch(lines[2])
        if index is None:
            raise LogFormatError("tlog-proof: the third line is not 'index <decimal>'")
        return cls(
            index=int(index.group(1)),
            leaf=b64decode(lines[1][len("extra ") :], "tlog-proof: the extra data"),
            checkpoint=checkpoint,
            inclusion_proof=tuple(b64decode(h, "tlog-proof: a proof hash") for h in lines[3:]),
        )

    def verify(
        self,
        verifier: LogVerifier | LogKeyring,
        *,
        origin: str | None = None,
        witnesses: Sequence[CosignatureVerifier] = (),
        required: int | None = None,
    ) -> VerifiedCopyLogProof:
        """Check everything offline; raise :class:`LogVerificationError` when anything fails.

        With ``witnesses``, the checkpoint must also carry valid cosignatures
        (c2sp.org/tlog-cosignature) of at least ``required`` of them (default: all).
        """
        signed = verifier.verify(self.checkpoint, origin=origin)
        cosignatures = verify_cosignatures(
            self.checkpoint, witnesses, len(witnesses) if required is None else required
        )
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
        return VerifiedCopyLogProof(event=event, checkpoint=signed, cosignatures=cosignatures)
