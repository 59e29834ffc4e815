"""The C2SP tlog-witness protocol's messages and a witness's checks, without storage or HTTP.

``POST <prefix>/add-checkpoint`` carries (c2sp.org/tlog-witness)::

    old <size of the previous checkpoint the client thinks the witness cosigned>
    <base64 hash of the consistency proof from that size>   (0 to 63 lines)
    <blank line>
    <the new checkpoint, a signed note>

:class:`AddCheckpoint` parses and formats that body. :func:`check_signed` and
:func:`check_consistent` are the witness's checks, in the spec's order; each refusal is a
:class:`WitnessRefusal` whose :class:`Refusal` kind the HTTP layer turns into the spec's
status code (400, 403, 404, 409 with the witness's size, 422). Storing the latest
cosigned checkpoint atomically with those checks is the caller's business.
"""

from __future__ import annotations

import enum
import hmac
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from signing.errors import LogFormatError, LogVerificationError
from signing.transparency.checkpoint import Checkpoint, LogVerifier, SignedCheckpoint
from signing.transparency.merkle import EMPTY_ROOT
from signing.transparency.note import MAX_NOTE_SIZE, SignedNote, b64decode
from signing.transparency.proofs import verify_consistency

__all__ = [
    "MAX_PROOF_LINES",
    "SIZE_CONTENT_TYPE",
    "AddCheckpoint",
    "Refusal",
    "WitnessRefusal",
    "WitnessedState",
    "check_consistent",
    "check_signed",
]

#: A client must not send more consistency proof lines than this.
MAX_PROOF_LINES = 63
#: Content type of a 409 answer (the witness's tree size and a newline).
SIZE_CONTENT_TYPE = "text/x.tlog.size"
_OLD = re.compile(r"old (0|[1-9][0-9]{0,19})")


class Refusal(enum.Enum):
    """Why a witness refuses a checkpoint; the value is the HTTP status the spec gives."""

    MALFORMED = 400
    BAD_SIGNATURE = 403
    UNKNOWN_LOG = 404
    CONFLICT = 409
    INCONSISTENT = 422


class WitnessRefusal(LogVerificationError):
    """The witness does not cosign; ``kind`` says why, ``size`` is its size on a conflict."""

    def __init__(self, kind: Refusal, message: str, size: int | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.size = size


@dataclass(frozen=True)
class AddCheckpoint:
    """An add-checkpoint request: the old size, the consistency proof, the checkpoint note."""

    old_size: int
    proof: tuple[bytes, ...]
    checkpoint: str

    def body(self) -> bytes:
        lines = [f"old {self.old_size}"]
        lines.extend(_b64(h) for h in self.proof)
        return ("\n".join(lines) + "\n\n" + self.checkpoint).encode("utf-8")

    @classmethod
    def parse(cls, body: bytes) -> AddCheckpoint:
        """Parse a request body; anything malformed is a MALFORMED refusal."""
        if len(body) > MAX_NOTE_SIZE + (MAX_PROOF_LINES + 1) * 64:
            raise WitnessRefusal(Refusal.MALFORMED, "the request body is too large")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise WitnessRefusal(Refusal.MALFORMED, "the request body is not UTF-8") from None
        head, sep, note = text.partition("\n\n")
        lines = head.split("\n")
        old = _OLD.fullmatch(lines[0])
        if not sep or old is None:
            raise WitnessRefusal(Refusal.MALFORMED, "the body does not start with 'old <size>'")
        if len(lines) - 1 > MAX_PROOF_LINES:
            raise WitnessRefusal(Refusal.MALFORMED, "more than 63 consistency proof lines")
        try:
            proof = tuple(b64decode(x, "a consistency proof line") for x in lines[1:])
        except LogFormatError as exc:
            raise WitnessRefusal(Refusal.MALFORMED, str(exc)) from None
        if any(len(h) != 32 for h in proof):
            raise WitnessRefusal(Refusal.MALFORMED, "a consistency proof hash is not 32 bytes")
        return cls(old_size=int(old.group(1)), proof=proof, checkpoint=note)


@dataclass(frozen=True)
class WitnessedState:
    """The latest checkpoint a witness cosigned for one log."""

    size: int
    root_hash: bytes
    #: The checkpoint note as cosigned (log signatures and the witness's cosignature).
    note: str


def _b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode("ascii")


def _origin(note: str) -> str:
    try:
        return Checkpoint.parse_body(SignedNote.parse(note).text).origin
    except LogFormatError as exc:
        raise WitnessRefusal(Refusal.MALFORMED, f"not a checkpoint: {exc}") from None


def check_signed(request: AddCheckpoint, logs: Mapping[str, LogVerifier]) -> SignedCheckpoint:
    """Steps 1-3: a checkpoint of a known log (404), signed by its key (403), old <= size (400)."""
    origin = _origin(request.checkpoint)
    verifier = logs.get(origin)
    if verifier is None:
        raise WitnessRefusal(Refusal.UNKNOWN_LOG, f"unknown log origin {origin!r}")
    try:
        signed = verifier.verify(request.checkpoint, origin=origin)
    except LogFormatError as exc:
        raise WitnessRefusal(Refusal.MALFORMED, f"not a checkpoint: {exc}") from None
    except LogVerificationError as exc:
        raise WitnessRefusal(Refusal.BAD_SIGNATURE, str(exc)) from None
    if request.old_size > signed.checkpoint.size:
        raise WitnessRefusal(
            Refusal.MALFORMED,
            f"old size {request.old_size} is larger than the checkpoint's {signed.checkpoint.size}",
        )
    return signed


def check_consistent(
    request: AddCheckpoint, signed: SignedCheckpoint, latest: WitnessedState | None
) -> None:
    """Steps 4-6 against the witness's latest state: old size (409), then the proof (422)."""
    current = 0 if latest is None else latest.size
    if request.old_size != current:
        raise WitnessRefusal(
            Refusal.CONFLICT,
            f"old size {request.old_size} is not the witness's size {current}",
            size=current,
        )
    new = signed.checkpoint
    if new.size == 0 and not hmac.compare_digest(new.root_hash, EMPTY_ROOT):
        raise WitnessRefusal(Refusal.INCONSISTENT, "a checkpoint of size 0 has another root")
    if latest is None or request.old_size == 0:
        if request.proof:
            raise WitnessRefusal(Refusal.INCONSISTENT, "a proof from size 0 must be empty")
        return
    _check_proof(request.proof, latest, new)


def _check_proof(proof: Sequence[bytes], latest: WitnessedState, new: Checkpoint) -> None:
    if new.size == latest.size:
        if not hmac.compare_digest(new.root_hash, latest.root_hash):
            raise WitnessRefusal(
                Refusal.INCONSISTENT,
                f"a checkpoint of size {new.size} with another root than the one cosigned (a fork)",
            )
        if proof:
            raise WitnessRefusal(
                Refusal.INCONSISTENT, "a proof between checkpoints of the same size must be empty"
            )
        return
    try:
        verify_consistency(
            first=latest.size,
            second=new.size,
            first_hash=latest.root_hash,
            second_hash=new.root_hash,
            consistency_path=proof,
        )
    except LogVerificationError as exc:
        raise WitnessRefusal(Refusal.INCONSISTENT, str(exc)) from None
