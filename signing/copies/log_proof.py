"""Read and check the transparency-log proof a certified copy carries, offline.

An OFD copy attaches the same two files and its copy id (``evault-copy.json``), see
:func:`signing.ofd.copy.read_copy_attachments`.

The proof (:class:`signing.transparency.CopyLogProof`) is embedded by
:mod:`signing.copies.appearance` as associated files of the vault seal's appearance, in
the copy's last revision: our JSON (``evault-log-proof.json``) and, in copies made since
issue 17, the same proof as a C2SP tlog-proof (``evault-log-proof.tlog-proof``). Both
forms present must verify and be the same proof; a copy with only the JSON (made before)
still verifies. :func:`check_copy_log_proof` finds it, verifies it with the log's
public key only, and checks that the logged event is this copy's (its ``copy`` field equals
the copy id in the document information dictionary). Whether the revision holding the proof
is covered by the vault's seal is the verification report's business: callers combine both.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from schemas.report import FileFormat
from signing.copies.appearance import LOG_PROOF_FILENAME
from signing.copies.maker import INFO_KEYS
from signing.errors import LogVerificationError
from signing.formats import detect_format
from signing.transparency import CopyLogProof, LogKeyring, LogVerifier
from signing.transparency.copy_proof import TLOG_PROOF_FILENAME
from signing.transparency.cosignature import CosignatureVerifier

__all__ = [
    "LogProofCheck",
    "check_copy_log_proof",
    "read_copy_id",
    "read_embedded_log_proof",
    "read_embedded_tlog_proof",
]


@dataclass(frozen=True)
class LogProofCheck:
    """The verdict on a copy's log proof."""

    #: True when the proof verifies and names this copy.
    verified: bool
    #: Why not, or what was established, in words.
    reason: str
    #: The copy's log entry index, when a proof was found and parsed.
    index: int | None = None
    #: Size of the signed checkpoint the entry is proven to be included in.
    checkpoint_size: int | None = None
    #: The logged event's type (e.g. ``access.copy``).
    event_type: str | None = None
    #: The witnesses whose cosignature of the checkpoint verified (of those asked for).
    cosigned_by: tuple[str, ...] = ()


def _open(pdf: bytes):  # type: ignore[no-untyped-def]
    from pyhanko.pdf_utils.reader import PdfFileReader

    return PdfFileReader(io.BytesIO(pdf), strict=False)


def _embedded_proofs(reader) -> dict[str, bytes]:  # type: ignore[no-untyped-def]
    """The proof files of the last revision, by file name (the first of each name)."""
    found: dict[str, bytes] = {}
    last = reader.xrefs.total_revisions - 1
    for ref in reader.xrefs.explicit_refs_in_revision(last):
        obj = reader.get_object(ref)
        if not isinstance(obj, dict) or obj.get("/Type") != "/Filespec":
            continue
        name = str(obj.get("/F"))
        if name in (LOG_PROOF_FILENAME, TLOG_PROOF_FILENAME) and name not in found:
            found[name] = bytes(obj["/EF"]["/F"].get_object().data)
    return found


def _copy_id(reader) -> str | None:  # type: ignore[no-untyped-def]
    info = reader.trailer_view.get("/Info")
    value = info.get_object().get(INFO_KEYS["copy_id"]) if info is not None else None
    return str(value) if value is not None else None


def _read_ofd(ofd: bytes) -> tuple[dict[str, bytes], str | None]:
    """An OFD copy's attached proof files and the copy id of its evault-copy.json."""
    import json

    from signing.ofd.copy import COPY_INFO_FILENAME, read_copy_attachments

    files = read_copy_attachments(ofd)
    proofs = {n: d for n, d in files.items() if n in (LOG_PROOF_FILENAME, TLOG_PROOF_FILENAME)}
    try:
        copy_id = json.loads(files[COPY_INFO_FILENAME])["copy_id"]
    except (KeyError, ValueError, TypeError):
        return proofs, None
    return proofs, copy_id if isinstance(copy_id, str) else None


def _read(pdf: bytes) -> tuple[dict[str, bytes], str | None]:
    """The embedded proof files and the copy id, from one parse; ({}, None) if unreadable.
    An OFD copy (a ZIP) carries them as attachments (:mod:`signing.ofd.copy`)."""
    if detect_format(pdf) is FileFormat.OFD:
        return _read_ofd(pdf)
    try:
        reader = _open(pdf)
        return _embedded_proofs(reader), _copy_id(reader)
    except Exception:  # any unreadable structure: no usable proof
        return {}, None


def read_copy_id(pdf: bytes) -> str | None:
    """The copy id the file's information dictionary claims (unverified), or None."""
    return _read(pdf)[1]


def read_embedded_log_proof(pdf: bytes) -> bytes | None:
    """The proof's JSON bytes from the copy's last revision, or None when there is none."""
    return _read(pdf)[0].get(LOG_PROOF_FILENAME)


def read_embedded_tlog_proof(pdf: bytes) -> bytes | None:
    """The proof as a C2SP tlog-proof from the copy's last revision, or None."""
    return _read(pdf)[0].get(TLOG_PROOF_FILENAME)


def _parsed(files: dict[str, bytes]) -> CopyLogProof:
    """The proof the files carry; both forms, when both are there, must be the same proof."""
    forms = []
    if LOG_PROOF_FILENAME in files:
        forms.append(CopyLogProof.from_json(files[LOG_PROOF_FILENAME]))
    if TLOG_PROOF_FILENAME in files:
        forms.append(CopyLogProof.from_tlog_proof(files[TLOG_PROOF_FILENAME]))
    if len(forms) == 2 and forms[0] != forms[1]:
        raise LogVerificationError("the JSON and tlog-proof forms of the log proof differ")
    return forms[0]


def _forms(files: dict[str, bytes]) -> str:
    names = {LOG_PROOF_FILENAME: "JSON", TLOG_PROOF_FILENAME: "C2SP tlog-proof"}
    return " and ".join(names[n] for n in names if n in files)


def check_copy_log_proof(
    pdf: bytes,
    verifier: LogVerifier | LogKeyring,
    *,
    origin: str | None = None,
    witnesses: Sequence[CosignatureVerifier] = (),
    required: int | None = None,
) -> LogProofCheck:
    """Find, verify and match the copy's log proof; never raises for a bad file.

    With ``witnesses``, the proof's checkpoint must carry cosignatures of ``required`` of
    them (default: all).
    """
    files, copy_id = _read(pdf)
    if not files:
        return LogProofCheck(False, "the file carries no transparency-log proof")
    try:
        proof = _parsed(files)
        verified = proof.verify(verifier, origin=origin, witnesses=witnesses, required=required)
    except LogVerificationError as exc:  # LogFormatError is a subclass
        return LogProofCheck(False, str(exc))
    size = verified.checkpoint.checkpoint.size
    event = verified.event
    logged_copy = event.payload.get("copy")
    if copy_id is None or logged_copy != copy_id:
        return LogProofCheck(
            False,
            "the logged event is not this copy's (copy ids differ)",
            proof.index,
            size,
            event.event_type,
        )
    cosigned_by = tuple(c.name for c in verified.cosignatures)
    witnessed = f", cosigned by {', '.join(cosigned_by)}" if cosigned_by else ""
    return LogProofCheck(
        True,
        f"log entry {proof.index} ({event.event_type}) is included in the signed "
        f"checkpoint of size {size}{witnessed} ({_forms(files)})",
        proof.index,
        size,
        event.event_type,
        cosigned_by,
    )
