"""The verification pipeline behind :mod:`signing.verify`.

For each signature and document timestamp in a PDF:

1. finding it (:mod:`signing._verify.discovery`), then our own structural checks of
   /ByteRange and /Contents on the raw bytes;
2. our own CMS integrity check (:mod:`signing._verify.cms_check`);
3. coverage (pyHanko's, which ties the signed range to a revision's xref) and our own
   analysis of later revisions (:mod:`signing._verify.modifications`) instead of pyHanko's
   difference analysis;
4. pyHanko for what it does well: chain building, revocation, signature timestamps,
   against an offline context made from the trust bundle and the document's DSS
   (:mod:`signing._verify.context`);
5. the ETSI EN 319 102-1 style indication, worst first (:mod:`signing._verify.rules`),
   and the file's from its signatures' (:mod:`signing._verify.summary`).

When pyHanko cannot read the file's structure at all, signatures are still found on the
raw bytes and checked (steps 1-2), and the file is reported TOTAL_FAILED/FORMAT_FAILURE.
Nothing here raises on bad input.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import io
import logging
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any

from schemas.report import (
    Coverage,
    FileFormat,
    Indication,
    SignatureKind,
    SubIndication,
    VerificationReport,
)
from signing._loops import run as run_loop
from signing._verify.changes import ChangeKind
from signing._verify.cms_check import check_cms
from signing._verify.context import ContextFactory, ObjectCache, read_dss, validate
from signing._verify.discovery import (
    FoundSignature,
    check_byte_range,
    find_signatures,
    raw_coverage,
    signed_bytes,
)
from signing._verify.fastparse import fast_hex_strings
from signing._verify.limits import rendering_budget
from signing._verify.lru import Lru
from signing._verify.modifications import ChangeVerdict, Permissions, judge_later_revisions
from signing._verify.objects import MIN_PARSE_BUDGET, RevisionObjects
from signing._verify.pdfsig import coverage, docmdp_permission, field_lock, signed_revision
from signing._verify.rules import signature_report
from signing._verify.summary import overall_report, raw_report
from signing.errors import TooManyRevisions
from signing.formats import detect_format

if TYPE_CHECKING:  # pragma: no cover
    from signing._verify.structure import Revision
    from signing.ofd.verifier import OfdVerifier
    from signing.trust import TrustBundle

__all__ = ["Engine", "ObjectCache", "verify_document"]

_LOGGERS = ("pyhanko", "pyhanko_certvalidator", "asn1crypto", "fontTools")
_RECURSION_LIMIT = 4000
_recursion_lock = threading.Lock()


_quiet_lock = threading.Lock()
_quiet_users = 0
_quiet_saved: list[tuple[logging.Logger, int]] = []


@contextmanager
def quiet_loggers() -> Iterator[None]:
    """Keep pyHanko's failure tracebacks out of the output while verifying.

    Reference-counted, so overlapping verifications in threads restore the levels once,
    when the last one ends.
    """
    global _quiet_users
    with _quiet_lock:
        if _quiet_users == 0:
            _quiet_saved.clear()
            for name in _LOGGERS:
                lg = logging.getLogger(name)
                _quiet_saved.append((lg, lg.level))
                if lg.getEffectiveLevel() < logging.ERROR:
                    lg.setLevel(logging.CRITICAL)
        _quiet_users += 1
    try:
        yield
    finally:
        with _quiet_lock:
            _quiet_users -= 1
            if _quiet_users == 0:
                for lg, level in _quiet_saved:
                    lg.setLevel(level)


def keep_loggers_quiet() -> None:
    """Silence the noisy loggers for the rest of the process's life, once.

    For a process that only verifies (a verification worker, a bulk-import worker):
    :func:`quiet_loggers` then leaves the levels alone on each call instead of setting
    and restoring them (setting a logger's level clears the cache of every logger in the
    process, which costs about 2% of a license's verification). Idempotent.
    """
    global _kept_quiet
    with _quiet_lock:
        if _kept_quiet is not None:
            return
        _kept_quiet = quiet_loggers()
    _kept_quiet.__enter__()  # never left (and kept referenced): the count stays above zero


_kept_quiet: AbstractContextManager[None] | None = None


class Engine:
    """Verification against one trust bundle, in the calling thread, caches kept.

    What a :class:`signing.verify.Verifier` runs in a worker process (or in a thread on
    the in-process path). Reused across calls: the bundle's trust manager and the parsed
    certificates, CRLs, OCSP responses and validated paths of earlier documents.
    """

    def __init__(self, trust: TrustBundle | None) -> None:
        self.trust = trust
        self.cache = ObjectCache()
        self.trust_manager: Any = trust.trust_manager() if trust is not None else None
        self._ofd: OfdVerifier | None = None

    def run(self, data: bytes, at: dt.datetime | None, file_name: str | None) -> VerificationReport:
        if detect_format(bytes(data[:4])) is FileFormat.OFD:  # a ZIP (GB/T 33190)
            if self._ofd is None:
                from signing.ofd.verifier import OfdVerifier  # imported only for OFD files

                self._ofd = OfdVerifier(self.trust)
            return self._ofd.verify(data, at=at, file_name=file_name)
        with _recursion_lock:
            if sys.getrecursionlimit() < _RECURSION_LIMIT:
                sys.setrecursionlimit(_RECURSION_LIMIT)
        return run_loop(
            verify_document(
                data,
                trust=self.trust,
                at=at,
                file_name=file_name,
                cache=self.cache,
                trust_manager=self.trust_manager,
            )
        )


async def verify_document(
    data: bytes,
    *,
    trust: TrustBundle | None,
    at: dt.datetime | None,
    file_name: str | None,
    cache: ObjectCache,
    trust_manager: Any = None,
) -> VerificationReport:
    """Verify ``data`` and build the report. Never raises on bad input."""
    checked_at = at or dt.datetime.now(dt.UTC)
    base = {
        "file": file_name,
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
        "checked_at": checked_at,
    }
    if b"%PDF-" not in data[:1024]:
        return VerificationReport(
            **base,
            indication=Indication.TOTAL_FAILED,
            sub_indication=SubIndication.FORMAT_FAILURE,
            reasons=["not a PDF file (no %PDF- header)"],
        )
    with quiet_loggers(), fast_hex_strings(), rendering_budget():  # one budget per file
        try:
            return await _verify_pdf(data, base, trust, at, cache, trust_manager)
        except RecursionError:
            return raw_report(data, base, "the PDF is nested too deeply to read")
        except Exception as exc:  # last resort: a bug or a hostile file must not crash callers
            return raw_report(
                data, base, f"the PDF cannot be read ({type(exc).__name__}: {str(exc)[:160]})"
            )


def _open_reader(data: bytes) -> Any:
    from pyhanko.pdf_utils.reader import PdfFileReader

    reader = PdfFileReader(io.BytesIO(data), strict=False)
    if reader.encrypted:
        from pyhanko.pdf_utils.crypt import AuthStatus

        result = reader.decrypt("")
        if getattr(result, "status", None) in (None, AuthStatus.FAILED):
            raise _Encrypted()
    return reader


class _Encrypted(Exception):
    pass


def _read_revisions(data: bytes) -> tuple[list[Revision] | None, str | None]:
    """The file's revisions as the structure check reads them (None: they cannot be read
    here, which that check reports later), or why there are more than we read."""
    from signing._verify.structure import read_revisions

    try:
        return read_revisions(data), None
    except TooManyRevisions as exc:
        return None, (
            f"the PDF has {exc}: no genuine license has that many, and reading them all "
            "costs too much"
        )
    except Exception:
        return None, None


async def _verify_pdf(
    data: bytes,
    base: dict[str, Any],
    trust: TrustBundle | None,
    at: dt.datetime | None,
    cache: ObjectCache,
    trust_manager: Any,
) -> VerificationReport:
    revisions, too_many = _read_revisions(data)
    if too_many is not None:
        return raw_report(data, base, too_many)
    try:
        reader = _open_reader(data)
    except _Encrypted:
        return VerificationReport(
            **base,
            indication=Indication.TOTAL_FAILED,
            sub_indication=SubIndication.FORMAT_FAILURE,
            reasons=["the PDF is encrypted with a password; it cannot be verified"],
        )
    except RecursionError:
        return raw_report(data, base, "the PDF is nested too deeply to read")
    except Exception as exc:
        return raw_report(
            data, base, f"the PDF structure cannot be read ({type(exc).__name__}: {str(exc)[:160]})"
        )
    try:
        sigs, notes = find_signatures(reader, data)
    except RecursionError:
        return raw_report(data, base, "the PDF's form fields are nested too deeply to read")
    except Exception as exc:
        return raw_report(
            data,
            base,
            f"the signature fields cannot be read ({type(exc).__name__}: {str(exc)[:160]})",
        )
    doc = read_dss(reader, cache)
    vc_factory = ContextFactory(trust, at, doc, trust_manager, cache.chains)
    reports = []
    for sig in sigs:  # structure first: validation below must not disturb the analysis
        _examine_structure(sig, reader, data)
    _judge_later_revisions(sigs, reader, data, bytes.fromhex(base["sha256"]), revisions)
    for sig in sigs:
        await validate(sig, vc_factory)
    for sig in sigs:
        reports.append(signature_report(sig, sigs, reader, doc, trust, base["checked_at"]))
    return overall_report(base, reports, notes)


def _examine_structure(sig: FoundSignature, reader: Any, data: bytes) -> None:
    """/ByteRange, the CMS and the revision ``sig`` covers; a signature that covers the
    whole file, or no whole revision, gets its changes verdict here already.

    ``check_cms`` is looked up in this module, where tests replace it to make a check slow.
    """
    problem = check_byte_range(data, sig.byte_range, sig.contents)
    if problem:
        sig.format_error = problem
        sig.coverage = Coverage.PARTIAL if len(sig.byte_range) == 4 else Coverage.NONE
        return
    sig.cms = check_cms(sig.contents, signed_bytes(data, sig.byte_range), subfilter=sig.subfilter)
    try:
        sig.signed_revision = signed_revision(reader, sig.field_obj) if sig.field_obj else None
        sig.coverage = coverage(reader, data, sig.byte_range, sig.signed_revision)
    except Exception as exc:
        sig.reasons.append(f"the signature's revision cannot be read ({type(exc).__name__})")
        sig.coverage = raw_coverage(data, sig.byte_range)
    if sig.coverage is Coverage.ENTIRE_FILE:
        sig.changes = ChangeVerdict()
    elif sig.coverage is not Coverage.ENTIRE_REVISION or sig.signed_revision is None:
        sig.changes = ChangeVerdict.refused(
            "the signature does not cover a whole revision of the file"
        )


def _judge_later_revisions(
    sigs: list[FoundSignature],
    reader: Any,
    data: bytes,
    digest: bytes,
    revisions: list[Revision] | None,
) -> None:
    """The verdict on what followed each signature that covers an earlier revision
    (``revisions``: the file's, read already, or None to read them again).

    It depends on the file's bytes alone (its structure, objects, later signatures' CMS
    and pages), so it is remembered per file and signature: the same copy checked again
    (a QR code scanned twice) costs nothing here."""
    pending = [s for s in sigs if s.changes is None and s.signed_revision is not None]
    if not pending:
        return
    for sig in pending:
        known = _known_verdicts.get((digest, sig.byte_range[2] + sig.byte_range[3]))
        sig.changes = copy.deepcopy(known) if known is not None else None
    pending = [s for s in pending if s.changes is None]
    if not pending:
        return
    objs = RevisionObjects(reader)
    work = len(pending) * objs.object_count()
    if len(pending) > 1 and work > MAX_JUDGING_WORK:
        for sig in pending:
            sig.changes = ChangeVerdict.refused(
                f"too much to compare: {len(pending)} signatures each judge what follows "
                f"them among {objs.object_count()} objects, more than a genuine file has "
                f"({work} > {MAX_JUDGING_WORK}); the later revisions are not judged"
            )
        return
    numbers = frozenset(
        int(s.field_obj.sig_ref.idnum) for s in sigs if s.field_obj and s.field_obj.sig_ref
    )
    for sig in pending:
        assert sig.signed_revision is not None
        sig.changes = judge_later_revisions(
            data,
            reader,
            objs,
            signed_rev=sig.signed_revision,
            signed_end=sig.byte_range[2] + sig.byte_range[3],
            permissions=_permissions(sig),
            new_signature=_later_signature_check(sigs, sig.signed_revision),
            signatures=numbers,
            revisions=revisions,
        )
        if sig is pending[0]:  # the first is the file's fixed cost; the others share a bound
            objs.allow_more(MIN_PARSE_BUDGET if len(data) <= 1_000_000 else 3 * len(data))
        if sig.changes.remember:
            _known_verdicts.put(
                (digest, sig.byte_range[2] + sig.byte_range[3]), copy.deepcopy(sig.changes)
            )


#: At most this many (signature, object) pairs are judged per file: judging what follows a
#: signature walks its signed revision's objects and the final file's, so the work grows as
#: signatures x objects (red team pdf12: 100 self-signed seals and 3,000 objects, 990 KB,
#: took 2.9 s of CPU here). Genuine files stay far below: the DSS corpus at most 1,118 (2
#: signatures, 559 objects), a license has 1-3 seals and a few dozen objects. A file past
#: it with two signatures or more to judge is refused, not judged; one signature is judged
#: whatever the objects (its walk is the fixed cost of a file, bounded by the file's size).
#: Below it, the signatures after the first share a parse budget
#: (:data:`signing._verify.objects.MIN_PARSE_BUDGET`).
MAX_JUDGING_WORK = 100_000

#: Change verdicts by (file digest, signed end): they depend on the bytes alone.
_known_verdicts: Lru[tuple[bytes, int], ChangeVerdict] = Lru(2048)


def _permissions(sig: FoundSignature) -> Permissions:
    """What the signature's DocMDP and FieldMDP allow after it (unreadable: nothing)."""
    try:
        perm = docmdp_permission(sig.sig_obj)
        locked = field_lock(sig.field_obj.field if sig.field_obj else None, sig.sig_obj)
    except Exception:  # unreadable locks: fail closed, no form fill is permitted
        return Permissions(form_fill=False, annotations=False, is_locked=lambda name: True)
    return Permissions(form_fill=perm != 1, annotations=perm == 3, is_locked=locked)


def _later_signature_check(
    sigs: list[FoundSignature], after: int
) -> Callable[[int], ChangeKind | None]:
    """What object ``n`` is, when it is the dictionary of an intact signature (SIGNATURE)
    or document timestamp (EXTENSION) that covers a revision later than ``after`` in
    full; None otherwise."""

    def check(number: int) -> ChangeKind | None:
        for other in sigs:
            ref = other.field_obj.sig_ref if other.field_obj else None
            if ref is None or int(ref.idnum) != number:
                continue
            valid = (
                other.cms is not None
                and other.cms.intact
                and other.format_error is None
                and other.coverage in (Coverage.ENTIRE_FILE, Coverage.ENTIRE_REVISION)
                and other.signed_revision is not None
                and other.signed_revision > after
            )
            if not valid:
                return None
            if other.kind is SignatureKind.DOC_TIMESTAMP:
                return ChangeKind.EXTENSION
            return ChangeKind.SIGNATURE
        return None

    return check
