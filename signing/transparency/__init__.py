"""A tamper-evident transparency log, as a library (no database): RFC 9162 Merkle trees.

- :mod:`~signing.transparency.merkle`: leaf and node hashing, :class:`MerkleTree` (incremental,
  stored subtree hashes), inclusion (``PATH``) and consistency (``PROOF``) proofs.
- :mod:`~signing.transparency.proofs`: proof verification, step by step as RFC 9162 2.1.3.2
  and 2.1.4.2.
- :mod:`~signing.transparency.note`: C2SP signed notes (parse, format, key IDs).
- :mod:`~signing.transparency.checkpoint`: C2SP tlog-checkpoint bodies in signed-note
  envelopes with an Ed25519 log key (:class:`LogSigner`, :class:`LogVerifier`).
- :mod:`~signing.transparency.event`: canonical leaf bytes of an event (:class:`LogEvent`).
- :mod:`~signing.transparency.audit`: offline audit of an export against checkpoints.
- :mod:`~signing.transparency.copy_proof`: :class:`CopyLogProof`, the proof a certified copy
  carries.
- :mod:`~signing.transparency.cosignature`: witness cosignatures (C2SP tlog-cosignature,
  Ed25519 ``cosignature/v1``): sign, verify, require a quorum.
- :mod:`~signing.transparency.witness`: the C2SP tlog-witness ``add-checkpoint`` message and
  a witness's checks (no storage, no HTTP).

Every failed check raises :class:`signing.errors.LogVerificationError` (malformed input:
its subclass :class:`signing.errors.LogFormatError`).
"""

from signing.transparency.audit import AuditProblem, AuditResult, ExportedEntry, audit_entries
from signing.transparency.checkpoint import (
    Checkpoint,
    LogKeyring,
    LogSigner,
    LogVerifier,
    SignedCheckpoint,
)
from signing.transparency.copy_proof import (
    COPY_LOG_PROOF_FILENAME,
    COPY_LOG_PROOF_FORMAT,
    COPY_LOG_PROOF_MEDIA_TYPE,
    CopyLogProof,
    VerifiedCopyLogProof,
)
from signing.transparency.event import LogEvent, canonical_json, format_time, parse_time
from signing.transparency.merkle import EMPTY_ROOT, HASH_SIZE, MerkleTree, leaf_hash, node_hash
from signing.transparency.note import NoteSignature, SignedNote
from signing.transparency.proofs import (
    root_from_inclusion_proof,
    verify_consistency,
    verify_inclusion,
)

__all__ = [
    "COPY_LOG_PROOF_FILENAME",
    "COPY_LOG_PROOF_FORMAT",
    "COPY_LOG_PROOF_MEDIA_TYPE",
    "EMPTY_ROOT",
    "HASH_SIZE",
    "AuditProblem",
    "AuditResult",
    "Checkpoint",
    "CopyLogProof",
    "ExportedEntry",
    "LogEvent",
    "LogKeyring",
    "LogSigner",
    "LogVerifier",
    "MerkleTree",
    "NoteSignature",
    "SignedCheckpoint",
    "SignedNote",
    "VerifiedCopyLogProof",
    "audit_entries",
    "canonical_json",
    "format_time",
    "leaf_hash",
    "node_hash",
    "parse_time",
    "root_from_inclusion_proof",
    "verify_consistency",
    "verify_inclusion",
]
