"""The verification pipeline behind :mod:`signing.verify`.

For each signature and document timestamp in a PDF:

1. our own structural checks of /ByteRange and /Contents on the raw bytes;
2. our own CMS integrity check (:mod:`signing._verify.cms_check`);
3. coverage (pyHanko's, which ties the signed range to a revision's xref) and our own
   analysis of later revisions (:mod:`signing._verify.revisions`) instead of pyHanko's
   difference analysis;
4. pyHanko for what it does well: chain building, revocation, signature timestamps,
   against an offline context made from the trust bundle and the document's DSS;
5. the ETSI EN 319 102-1 style indication, worst first.

When pyHanko cannot read the file's structure at all, signatures are still found on the
raw bytes and checked (steps 1-2), and the file is reported TOTAL_FAILED/FORMAT_FAILURE.
Nothing here raises on bad input.
"""

from __future__ import annotations

import asyncio
import binascii
import datetime as dt
import hashlib
import io
import logging
import re
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from schemas.report import (
    Coverage,
    Indication,
    ModificationLevel,
    PadesLevel,
    RevocationStatus,
    SignatureKind,
    SignatureReport,
    SubIndication,
    VerificationReport,
)
from signing._verify.chain import ChainCache, ChainResult, validate_chain
from signing._verify.changes import ChangeKind
from signing._verify.cms_check import CmsCheck, check_cms
from signing._verify.fastparse import fast_hex_strings
from signing._verify.modifications import ChangeVerdict, Permissions, judge_later_revisions
from signing._verify.objects import RevisionObjects
from signing._verify.pdfsig import (
    SigField,
    claimed_signing_time,
    coverage,
    docmdp_permission,
    field_lock,
    signature_fields,
    signed_revision,
)

if TYPE_CHECKING:  # pragma: no cover
    from signing.ofd.verifier import OfdVerifier
    from signing.trust import TrustBundle

__all__ = ["Engine", "ObjectCache", "verify_document"]

_LOGGERS = ("pyhanko", "pyhanko_certvalidator", "asn1crypto", "fontTools")
_SUPPORTED = {"/adbe.pkcs7.detached", "/ETSI.CAdES.detached", "/ETSI.RFC3161"}
_BYTERANGE_RE = re.compile(
    rb"/ByteRange\s*\[\s*(\d{1,12})\s+(\d{1,12})\s+(\d{1,12})\s+(\d{1,12})\s*\]"
)
_CREDIT_RE = re.compile(r"[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}")
_MAX_SIGNATURES = 500
_ZIP_MAGIC = b"PK\x03\x04"  # signing.ofd.verifier.OFD_MAGIC, without importing it
_RECURSION_LIMIT = 4000


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


class ObjectCache:
    """Parsed certificates, CRLs and OCSP responses by the SHA-256 of their DER.

    Validation data repeats across thousands of documents sealed by the same CA; parsing it
    once is one of the caches that make a reused :class:`signing.verify.Verifier` fast.
    """

    def __init__(self, limit: int = 4096) -> None:
        self._items: dict[tuple[str, bytes], Any] = {}
        self._limit = limit
        self.chains = ChainCache()

    def get(self, kind: str, der: bytes) -> Any:
        key = (kind, hashlib.sha256(der).digest())
        hit = self._items.get(key)
        if hit is not None:
            return hit
        from asn1crypto import crl, ocsp, x509

        loader = {"cert": x509.Certificate, "crl": crl.CertificateList, "ocsp": ocsp.OCSPResponse}
        obj = loader[kind].load(der)
        if len(self._items) >= self._limit:
            self._items.clear()
        self._items[key] = obj
        return obj


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
        if bytes(data[:4]) == _ZIP_MAGIC:  # a ZIP: an OFD file (GB/T 33190)
            if self._ofd is None:
                from signing.ofd.verifier import OfdVerifier  # imported only for OFD files

                self._ofd = OfdVerifier(self.trust)
            return self._ofd.verify(data, at=at, file_name=file_name)
        with _recursion_lock:
            if sys.getrecursionlimit() < _RECURSION_LIMIT:
                sys.setrecursionlimit(_RECURSION_LIMIT)
        return asyncio.run(
            verify_document(
                data,
                trust=self.trust,
                at=at,
                file_name=file_name,
                cache=self.cache,
                trust_manager=self.trust_manager,
            )
        )


_recursion_lock = threading.Lock()


@dataclass
class _DocData:
    certs: list[Any] = field(default_factory=list)
    crls: list[Any] = field(default_factory=list)
    ocsps: list[Any] = field(default_factory=list)
    has_dss: bool = False


def _read_dss(reader: Any, cache: ObjectCache) -> _DocData:
    out = _DocData()
    try:
        root = reader.root
        if "/DSS" not in root:
            return out
        dss = root["/DSS"]
        out.has_dss = True
        for key, kind, target in (
            ("/Certs", "cert", out.certs),
            ("/CRLs", "crl", out.crls),
            ("/OCSPs", "ocsp", out.ocsps),
        ):
            for ref in list(dss.get(key, []))[:2000]:
                try:
                    target.append(cache.get(kind, ref.get_object().data))
                except Exception:  # noqa: S112 - a broken entry is skipped, not fatal
                    continue
    except Exception:  # noqa: S110 - no usable DSS: validation proceeds without it
        pass
    return out


def _empty_trust_manager() -> Any:
    from pyhanko_certvalidator.registry import SimpleTrustManager

    return SimpleTrustManager.build(trust_roots=[])


def _credit_code(subject: Any) -> str | None:
    from schemas.errors import SchemaError
    from schemas.identifiers import CreditCode

    try:
        pairs = [(k, str(v)) for k, v in subject.native.items()]
    except Exception:
        return None
    order = {
        "organization_identifier": 0,
        "2.5.4.97": 0,
        "serial_number": 1,
        "organization_name": 2,
    }
    pairs.sort(key=lambda kv: order.get(kv[0], 3))
    for _, value in pairs:
        for cand in _CREDIT_RE.findall(value.upper()):
            try:
                return str(CreditCode.parse(cand))
            except SchemaError:
                continue
    return None


def _subject_str(cert: Any) -> str | None:
    if cert is None:
        return None
    try:
        import warnings

        from cryptography import x509

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return x509.load_der_x509_certificate(cert.dump()).subject.rfc4514_string()
    except Exception:
        try:
            return str(cert.subject.human_friendly)
        except Exception:
            return None


def _fingerprint(cert: Any) -> str | None:
    return hashlib.sha256(cert.dump()).hexdigest() if cert is not None else None


@dataclass
class _Sig:
    """One signature dictionary found in the file, with what we learned about it."""

    field_name: str | None
    sig_obj: Any
    subfilter: str | None
    kind: SignatureKind
    byte_range: list[int]
    contents: bytes
    field_obj: SigField | None = None
    reasons: list[str] = field(default_factory=list)
    format_error: str | None = None
    cms: CmsCheck | None = None
    coverage: Coverage = Coverage.NONE
    signed_revision: int | None = None
    changes: ChangeVerdict | None = None
    status: _Status | None = None


def _check_byte_range(data: bytes, br: list[int], contents: bytes | None) -> str | None:
    """A reason when /ByteRange is not a plain [0 a b c] around the /Contents hex string."""
    if len(br) != 4 or any(not isinstance(x, int) or x < 0 for x in br):
        return "/ByteRange must be four non-negative integers"
    a, b_len, c, d = br
    if a != 0:
        return "/ByteRange does not start at the beginning of the file"
    if not b_len < c or c + d > len(data):
        return "/ByteRange points outside the file or overlaps itself"
    gap = data[b_len:c]
    if len(gap) < 2 or gap[:1] != b"<" or gap[-1:] != b">":
        return "the bytes left out by /ByteRange are not the /Contents hex string"
    body = gap[1:-1]
    if not re.fullmatch(rb"[0-9A-Fa-f\s]*", body):
        return "the bytes left out by /ByteRange contain more than the signature value"
    if contents is not None:
        try:
            gap_value = binascii.unhexlify(re.sub(rb"\s", b"", body))
        except binascii.Error:
            return "the /Contents hex string is malformed"
        if gap_value.rstrip(b"\x00") != contents.rstrip(b"\x00"):
            return "the bytes left out by /ByteRange are not this signature's /Contents"
    return None


def _signed_bytes(data: bytes, br: list[int]) -> bytes:
    return data[br[0] : br[0] + br[1]] + data[br[2] : br[2] + br[3]]


def _is_placeholder(contents: bytes) -> bool:
    return not contents.strip(b"\x00")


def _find_signatures(reader: Any, data: bytes) -> tuple[list[_Sig], list[str]]:
    from pyhanko.pdf_utils import generic

    found: list[_Sig] = []
    notes: list[str] = []
    seen: dict[Any, _Sig] = {}
    for fld in signature_fields(reader):
        name, sig_obj = fld.name, fld.sig_obj
        if len(found) >= _MAX_SIGNATURES:
            notes.append(f"more than {_MAX_SIGNATURES} signatures: the rest were not checked")
            break
        key = fld.sig_ref if fld.sig_ref is not None else id(sig_obj)
        if key in seen:
            seen[key].reasons.append(f"the same signature is also the value of field {name!r}")
            continue
        try:
            raw = sig_obj.raw_get("/Contents", decrypt=generic.EncryptedObjAccess.RAW)
            contents = bytes(raw.original_bytes)
        except Exception:
            contents = b""
        if _is_placeholder(contents):
            notes.append(f"field {name!r} holds an empty signature placeholder (not signed)")
            continue
        subfilter = str(sig_obj.get("/SubFilter")) if "/SubFilter" in sig_obj else None
        kind = (
            SignatureKind.DOC_TIMESTAMP if subfilter == "/ETSI.RFC3161" else SignatureKind.SIGNATURE
        )
        try:
            br = [int(_plain(x)) for x in _plain(sig_obj.get("/ByteRange", []))]
        except (TypeError, ValueError):
            br = []
        sig = _Sig(
            field_name=name,
            sig_obj=sig_obj,
            subfilter=subfilter,
            kind=kind,
            byte_range=br,
            contents=contents,
            field_obj=fld,
        )
        if kind is SignatureKind.DOC_TIMESTAMP and str(sig_obj.get("/Type", "")) == "/Sig":
            sig.reasons.append("a document timestamp whose dictionary says /Type /Sig")
        seen[key] = sig
        found.append(sig)
    return found, notes


def _plain(obj: Any) -> Any:
    """Unwrap pyHanko's proxies (decrypted or indirect objects)."""
    from pyhanko.pdf_utils import generic

    for _ in range(4):
        if isinstance(obj, generic.IndirectObject):
            obj = obj.get_object()
        elif hasattr(obj, "decrypted"):
            obj = obj.decrypted
        else:
            break
    return obj


def _raw_signatures(data: bytes) -> list[_Sig]:
    """Signatures found by scanning the bytes, when the PDF structure cannot be read."""
    out: list[_Sig] = []
    ranges: set[tuple[int, ...]] = set()
    for m in _BYTERANGE_RE.finditer(data):
        br = [int(g) for g in m.groups()]
        if tuple(br) in ranges or len(out) >= _MAX_SIGNATURES:
            continue
        ranges.add(tuple(br))
        start = max(data.rfind(b" obj", 0, m.start()), 0)
        end = data.find(b"endobj", m.end())
        end = len(data) if end < 0 else end
        gap_ok = 0 < br[1] < br[2] <= len(data)
        text = data[start : br[1]] + data[br[2] : end] if gap_ok else data[start:end]
        sf = re.search(rb"/SubFilter\s*/([A-Za-z0-9.#_-]+)", text)
        subfilter = "/" + sf.group(1).decode("latin-1") if sf else None
        contents = b""
        if gap_ok:
            body = re.sub(rb"\s", b"", data[br[1] + 1 : br[2] - 1])
            try:
                contents = binascii.unhexlify(body)
            except binascii.Error:
                contents = b""
        if _is_placeholder(contents):
            continue
        kind = (
            SignatureKind.DOC_TIMESTAMP if subfilter == "/ETSI.RFC3161" else SignatureKind.SIGNATURE
        )
        name = re.search(rb"/T\s*\(([^)]{0,200})\)", data[max(0, start - 2000) : start])
        out.append(
            _Sig(
                field_name=name.group(1).decode("latin-1") if name else None,
                sig_obj=None,
                subfilter=subfilter,
                kind=kind,
                byte_range=br,
                contents=contents,
            )
        )
    return out


def _raw_coverage(data: bytes, br: list[int]) -> Coverage:
    if len(br) != 4:
        return Coverage.NONE
    end = br[2] + br[3]
    if end == len(data):
        return Coverage.ENTIRE_FILE
    if data[:end].rstrip(b"\r\n ").endswith(b"%%EOF"):
        return Coverage.ENTIRE_REVISION
    return Coverage.PARTIAL


def _permissions(sig: _Sig) -> Permissions:
    """What the signature's DocMDP and FieldMDP allow after it (unreadable: nothing)."""
    try:
        perm = docmdp_permission(sig.sig_obj)
        locked = field_lock(sig.field_obj.field if sig.field_obj else None, sig.sig_obj)
    except Exception:  # unreadable locks: fail closed, no form fill is permitted
        return Permissions(form_fill=False, annotations=False, is_locked=lambda name: True)
    return Permissions(form_fill=perm != 1, annotations=perm == 3, is_locked=locked)


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
    with quiet_loggers(), fast_hex_strings():
        try:
            return await _verify_pdf(data, base, trust, at, cache, trust_manager)
        except RecursionError:
            return _raw_report(data, base, "the PDF is nested too deeply to read")
        except Exception as exc:  # last resort: a bug or a hostile file must not crash callers
            return _raw_report(
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


async def _verify_pdf(
    data: bytes,
    base: dict[str, Any],
    trust: TrustBundle | None,
    at: dt.datetime | None,
    cache: ObjectCache,
    trust_manager: Any,
) -> VerificationReport:
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
        return _raw_report(data, base, "the PDF is nested too deeply to read")
    except Exception as exc:
        return _raw_report(
            data, base, f"the PDF structure cannot be read ({type(exc).__name__}: {str(exc)[:160]})"
        )
    try:
        sigs, notes = _find_signatures(reader, data)
    except RecursionError:
        return _raw_report(data, base, "the PDF's form fields are nested too deeply to read")
    except Exception as exc:
        return _raw_report(
            data,
            base,
            f"the signature fields cannot be read ({type(exc).__name__}: {str(exc)[:160]})",
        )
    doc = _read_dss(reader, cache)
    vc_factory = _ContextFactory(trust, at, doc, trust_manager, cache.chains)
    reports = []
    for sig in sigs:  # structure first: validation below must not disturb the analysis
        _examine_structure(sig, reader, data)
    _judge_later_revisions(sigs, reader, data)
    for sig in sigs:
        await _validate(sig, vc_factory)
    for sig in sigs:
        reports.append(_report_for(sig, sigs, reader, doc, trust, base["checked_at"]))
    return _overall(base, reports, notes)


class _ContextFactory:
    """Makes the offline validation context for a document, lazily and once."""

    def __init__(
        self,
        trust: TrustBundle | None,
        at: dt.datetime | None,
        doc: _DocData,
        tm: Any,
        chains: ChainCache,
    ):
        self.trust, self.at, self.doc, self.tm, self.chains = trust, at, doc, tm, chains
        self._vcs: dict[str, Any] = {}
        digests = sorted(
            hashlib.sha256(o.dump()).digest() for o in (*doc.crls, *doc.ocsps, *doc.certs)
        )
        self.key = (trust.fingerprint if trust is not None else None, tuple(digests))

    def get(self, revocation_mode: str) -> Any:
        """The context for one certvalidator revocation mode (built on first use)."""
        from signing.trust import build_validation_context

        vc = self._vcs.get(revocation_mode)
        if vc is None:
            if self.trust is not None:
                vc = self.trust.validation_context(
                    moment=self.at,
                    other_certs=self.doc.certs,
                    crls=self.doc.crls,
                    ocsps=self.doc.ocsps,
                    revocation_mode=revocation_mode,
                )
            else:
                vc = build_validation_context(
                    trust_manager=self.tm or _empty_trust_manager(),
                    moment=self.at,
                    other_certs=self.doc.certs,
                    crls=self.doc.crls,
                    ocsps=self.doc.ocsps,
                    revocation_mode=revocation_mode,
                )
            self._vcs[revocation_mode] = vc
        return vc

    async def chain(self, cert: Any, extra: list[Any], eku: set[str] | None = None) -> ChainResult:
        return await validate_chain(
            cert,
            extra_certs=extra,
            make_context=self.get,
            cache=self.chains,
            context_key=self.key,
            moment=self.at,
            eku=eku,
        )


@dataclass
class _Status:
    """Chain and signature-timestamp results for one signature."""

    chain: ChainResult
    ts_time: dt.datetime | None = None
    ts_trusted: bool = False


def _examine_structure(sig: _Sig, reader: Any, data: bytes) -> None:
    problem = _check_byte_range(data, sig.byte_range, sig.contents)
    if problem:
        sig.format_error = problem
        sig.coverage = Coverage.PARTIAL if len(sig.byte_range) == 4 else Coverage.NONE
        return
    sig.cms = check_cms(sig.contents, _signed_bytes(data, sig.byte_range), subfilter=sig.subfilter)
    try:
        sig.signed_revision = signed_revision(reader, sig.field_obj) if sig.field_obj else None
        sig.coverage = coverage(reader, data, sig.byte_range, sig.signed_revision)
    except Exception as exc:
        sig.reasons.append(f"the signature's revision cannot be read ({type(exc).__name__})")
        sig.coverage = _raw_coverage(data, sig.byte_range)
    if sig.coverage is Coverage.ENTIRE_FILE:
        sig.changes = ChangeVerdict()
    elif sig.coverage is not Coverage.ENTIRE_REVISION or sig.signed_revision is None:
        sig.changes = ChangeVerdict.refused(
            "the signature does not cover a whole revision of the file"
        )


def _judge_later_revisions(sigs: list[_Sig], reader: Any, data: bytes) -> None:
    """The verdict on what followed each signature that covers an earlier revision."""
    pending = [s for s in sigs if s.changes is None and s.signed_revision is not None]
    if not pending:
        return
    objs = RevisionObjects(reader)
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
        )


def _later_signature_check(sigs: list[_Sig], after: int) -> Callable[[int], ChangeKind | None]:
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


async def _validate(sig: _Sig, vcs: _ContextFactory) -> None:
    """Chain, revocation and signature timestamp (the CMS itself is already checked)."""
    cms = sig.cms
    if sig.subfilter not in _SUPPORTED or cms is None or not cms.intact or cms.signer_cert is None:
        return
    try:
        if sig.kind is SignatureKind.DOC_TIMESTAMP:
            chain = await vcs.chain(cms.signer_cert, cms.certificates, {"time_stamping"})
            sig.status = _Status(chain)
            return
        chain = await vcs.chain(cms.signer_cert, cms.certificates)
        status = _Status(chain)
        if cms.signature_timestamp is not None and cms.signature_value is not None:
            tst = check_cms(cms.signature_timestamp, cms.signature_value, subfilter=None)
            if tst.intact and tst.tst_info is not None and tst.signer_cert is not None:
                status.ts_time = tst.tst_info["gen_time"].native
                ts_chain = await vcs.chain(tst.signer_cert, tst.certificates, {"time_stamping"})
                status.ts_trusted = ts_chain.trusted and not ts_chain.revoked
                if not status.ts_trusted:
                    sig.reasons.append(
                        "the signature timestamp's authority is not trusted"
                        + (f" ({ts_chain.problem.value})" if ts_chain.problem else "")
                    )
            else:
                sig.reasons.append(
                    "the signature timestamp does not verify: "
                    + ("; ".join(tst.reasons) or "unreadable")
                )
        sig.status = status
    except Exception as exc:  # certvalidator on hostile input: a verdict, not a crash
        sig.reasons.append(
            f"chain validation failed to run ({type(exc).__name__}: {str(exc)[:120]})"
        )


def _revocation(sig: _Sig) -> tuple[RevocationStatus, dt.datetime | None]:
    """(status, revocation date) of the signer's certificate."""
    st = sig.status
    if st is None:
        return RevocationStatus.NOT_CHECKED, None
    if st.chain.revoked:
        return RevocationStatus.REVOKED, st.chain.revocation_date
    if not st.chain.trusted:
        return RevocationStatus.NOT_CHECKED, None
    return (RevocationStatus.GOOD if st.chain.revinfo_found else RevocationStatus.UNKNOWN), None


def _established_time(sig: _Sig, trusted: bool) -> dt.datetime | None:
    """The time a signature timestamp (or a document timestamp) proves: only from a token
    that verifies and, when a trust bundle is given, from a trusted authority."""
    st, cms = sig.status, sig.cms
    if sig.kind is SignatureKind.DOC_TIMESTAMP:
        if cms is None or not cms.intact or cms.tst_info is None:
            return None
        if trusted and not (st is not None and st.chain.trusted):
            return None
        try:
            return cms.tst_info["gen_time"].native
        except Exception:
            return None
    if st is None or st.ts_time is None or (trusted and not st.ts_trusted):
        return None
    return st.ts_time


def _level(
    sig: _Sig, sigs: list[_Sig], reader: Any, doc: _DocData, intact: bool, trusted: bool
) -> PadesLevel | None:
    """The PAdES baseline level the file establishes for ``sig`` (timestamps count only
    when they verify, and are trusted when a trust bundle is given)."""
    if sig.kind is not SignatureKind.SIGNATURE or not intact:
        return None
    later_ts = [
        s
        for s in sigs
        if s.kind is SignatureKind.DOC_TIMESTAMP
        and _established_time(s, trusted) is not None
        and s.signed_revision is not None
        and sig.signed_revision is not None
        and s.signed_revision > sig.signed_revision
    ]
    has_sig_ts = _established_time(sig, trusted) is not None
    if not has_sig_ts and not later_ts:
        return PadesLevel.B_B
    if not doc.has_dss or not (doc.certs or doc.crls or doc.ocsps):
        return PadesLevel.B_T
    dss_rev = _dss_revision(reader)
    if dss_rev is not None and any(
        s.signed_revision is not None and s.signed_revision >= dss_rev for s in later_ts
    ):
        return PadesLevel.B_LTA
    return PadesLevel.B_LT


def _dss_revision(reader: Any) -> int | None:
    """The first revision that has a DSS."""
    try:
        for rev in range(reader.xrefs.total_revisions):
            if "/DSS" in reader.get_historical_resolver(rev).root:
                return int(rev)
    except Exception:
        return None
    return None


def _validity_problem(
    cert: Any, moment: dt.datetime
) -> tuple[Indication, SubIndication, str] | None:
    """The signer certificate's validity period against the validation time."""
    try:
        validity = cert["tbs_certificate"]["validity"]
        not_before = validity["not_before"].native
        not_after = validity["not_after"].native
    except Exception:
        return None
    if moment < not_before:
        return (
            Indication.TOTAL_FAILED,
            SubIndication.NOT_YET_VALID,
            f"the signer's certificate is not yet valid at the validation time "
            f"{moment.isoformat()} (valid from {not_before.isoformat()})",
        )
    if moment > not_after:
        return (
            Indication.INDETERMINATE,
            SubIndication.OUT_OF_BOUNDS_NO_POE,
            f"the signer's certificate expired on {not_after.isoformat()} and nothing "
            "proves the signature existed before",
        )
    return None


def _report_for(
    sig: _Sig,
    sigs: list[_Sig],
    reader: Any,
    doc: _DocData,
    trust: TrustBundle | None,
    checked_at: dt.datetime,
) -> SignatureReport:
    """The report of one signature; the ETSI indication is decided here, worst first."""
    reasons = list(sig.reasons)
    cms = sig.cms
    st = sig.status
    cert = cms.signer_cert if cms else None
    changes = sig.changes or ChangeVerdict.refused("not analysed")
    intact = bool(cms and cms.intact)
    modified = changes.modified
    covers_whole = sig.coverage is Coverage.ENTIRE_FILE
    chain_trusted = bool(st is not None and st.chain.trusted)
    revocation, revoked_at = _revocation(sig)
    signing_time = None
    ts_time = None
    if sig.kind is SignatureKind.SIGNATURE:
        signing_time = claimed_signing_time(cms.signing_time if cms else None, sig.sig_obj)
    ts_time = _established_time(sig, trust is not None)
    poe = st.ts_time if (st is not None and st.ts_trusted) else None

    indication, sub = Indication.TOTAL_PASSED, None
    if sig.format_error:
        indication, sub = Indication.TOTAL_FAILED, SubIndication.FORMAT_FAILURE
        reasons.insert(0, sig.format_error)
    elif cms is not None and cms.malformed:
        indication, sub = Indication.TOTAL_FAILED, SubIndication.FORMAT_FAILURE
        reasons[:0] = cms.reasons
    elif cms is not None and cms.unsupported:
        indication, sub = Indication.INDETERMINATE, SubIndication.CRYPTO_CONSTRAINTS_FAILURE
        reasons[:0] = cms.reasons
    elif not intact:
        indication = Indication.TOTAL_FAILED
        sub = (
            SubIndication.HASH_FAILURE
            if cms is None or not cms.digest_ok or cms.non_der_attrs
            else SubIndication.SIG_CRYPTO_FAILURE
        )
        reasons[:0] = (cms.reasons if cms else []) or ["the signature does not verify"]
    elif not changes.permitted:
        indication, sub = Indication.TOTAL_FAILED, SubIndication.FORMAT_FAILURE
        reasons[:0] = changes.reasons or ["the file was changed after signing"]
    elif sig.subfilter not in _SUPPORTED:
        indication, sub = Indication.INDETERMINATE, SubIndication.CRYPTO_CONSTRAINTS_FAILURE
        reasons.insert(
            0,
            f"sub-filter {sig.subfilter} is not accepted"
            + (f" ({cms.weak})" if cms and cms.weak else "")
            + ": its integrity was checked but its chain was not validated",
        )
    elif st is None:
        indication, sub = Indication.INDETERMINATE, SubIndication.GENERIC
        if not any("validation" in r for r in reasons):
            reasons.append("the chain could not be validated")
    elif revocation is RevocationStatus.REVOKED:
        if st.chain.ca_revoked:
            indication, sub = Indication.INDETERMINATE, SubIndication.REVOKED_CA_NO_POE
            reasons.append(f"a CA certificate in the chain is revoked: {st.chain.message}")
        elif poe is not None and revoked_at is not None and poe < revoked_at:
            reasons.append(
                f"the signer's certificate was revoked on {revoked_at.isoformat()}, after the "
                "signature timestamp: the signature stands"
            )
        elif poe is not None and revoked_at is not None:
            indication, sub = Indication.TOTAL_FAILED, SubIndication.REVOKED
            reasons.append(f"the signer's certificate was revoked on {revoked_at.isoformat()}")
        else:
            indication, sub = Indication.INDETERMINATE, SubIndication.REVOKED_NO_POE
            reasons.append(
                "the signer's certificate is revoked"
                + (f" (since {revoked_at.isoformat()})" if revoked_at else "")
                + " and nothing proves the signature existed before"
            )
    elif (
        not chain_trusted
        and st.chain.problem is not SubIndication.NO_CERTIFICATE_CHAIN_FOUND
        and _validity_problem(cert, checked_at)
    ):
        indication, sub, why = _validity_problem(cert, checked_at)  # type: ignore[misc]
        reasons.insert(0, why)
    elif not chain_trusted:
        mapped = st.chain.problem or SubIndication.NO_CERTIFICATE_CHAIN_FOUND
        if mapped is SubIndication.TRY_LATER:
            reasons.append(_no_revocation_data(st.chain.revinfo_problem))
        if trust is None and mapped is SubIndication.NO_CERTIFICATE_CHAIN_FOUND:
            reasons.append("no trust bundle given: the chain cannot reach a trusted root")
        if mapped is SubIndication.NOT_YET_VALID:
            indication = Indication.TOTAL_FAILED
        else:
            indication = Indication.INDETERMINATE
        sub = mapped
        reasons.append(
            {
                SubIndication.NO_CERTIFICATE_CHAIN_FOUND: "no chain to a trusted root",
                SubIndication.NOT_YET_VALID: "the signer's certificate is not yet valid at the "
                "validation time",
                SubIndication.OUT_OF_BOUNDS_NO_POE: "the signer's certificate is expired at the "
                "validation time and nothing proves the signature existed before",
                SubIndication.EXPIRED: "the signer's certificate has expired",
            }.get(mapped, f"the certificate chain does not validate ({mapped.value})")
        )
    elif sig.kind is SignatureKind.SIGNATURE and revocation is RevocationStatus.UNKNOWN:
        indication, sub = Indication.INDETERMINATE, SubIndication.TRY_LATER
        reasons.append(_no_revocation_data(st.chain.revinfo_problem))
    if cms is not None and cms.weak and indication is Indication.TOTAL_PASSED:
        indication, sub = Indication.INDETERMINATE, SubIndication.CRYPTO_CONSTRAINTS_FAILURE
        reasons.append(f"relies on {cms.weak}")
    if intact and sig.coverage is Coverage.ENTIRE_REVISION and changes.permitted:
        if modified:
            reasons.extend(changes.reasons)
        elif changes.level is not ModificationLevel.NONE:
            reasons.append(f"later revisions add only permitted changes ({changes.level.value})")
    return SignatureReport(
        field_name=sig.field_name,
        kind=sig.kind,
        signer_subject=_subject_str(cert),
        signer_fingerprint=_fingerprint(cert),
        signer_credit_code=_credit_code(cert.subject) if cert is not None else None,
        signing_time=signing_time,
        timestamp_time=ts_time,
        pades_level=_level(sig, sigs, reader, doc, intact, trust is not None),
        intact=intact,
        covers_whole_file=covers_whole,
        coverage=sig.coverage,
        modified_after_signing=modified,
        modification_level=changes.level,
        changes=changes.categories,
        visual_check=changes.visual,
        chain_trusted=chain_trusted,
        revocation=revocation,
        indication=indication,
        sub_indication=sub,
        reasons=_dedupe(reasons),
        warnings=list(changes.warnings),
    )


def _no_revocation_data(problem: str | None) -> str:
    detail = f" ({problem})" if problem else ""
    return (
        "revocation status unknown: the file and the trust bundle hold no valid, current CRL "
        "or OCSP response for the signer's certificate chain" + detail
    )


def _dedupe(items: list[str]) -> list[str]:
    return [x for i, x in enumerate(items) if x and x not in items[:i]]


_RANK = {Indication.TOTAL_PASSED: 0, Indication.INDETERMINATE: 1, Indication.TOTAL_FAILED: 2}


def _overall(
    base: dict[str, Any], reports: list[SignatureReport], notes: list[str]
) -> VerificationReport:
    if not reports:
        return VerificationReport(
            **base,
            indication=Indication.TOTAL_FAILED,
            sub_indication=SubIndication.FORMAT_FAILURE,
            reasons=["no signature found in the file", *notes],
            signatures=[],
        )
    has_signature = any(r.kind is SignatureKind.SIGNATURE for r in reports)

    def rank(r: SignatureReport) -> int:
        # A broken document timestamp costs the archival level, not the signatures under
        # it: with signatures present it makes the file INDETERMINATE at worst.
        if has_signature and r.kind is SignatureKind.DOC_TIMESTAMP:
            return min(_RANK[r.indication], 1)
        return _RANK[r.indication]

    worst = max(reports, key=rank)
    warnings = _warnings(reports)
    reasons = list(notes)
    if rank(worst) < _RANK[worst.indication]:
        who = worst.field_name or "a document timestamp"
        return VerificationReport(
            **base,
            indication=Indication.INDETERMINATE,
            sub_indication=SubIndication.GENERIC,
            reasons=[f"{who}: {worst.reasons[0] if worst.reasons else 'does not verify'}", *notes],
            warnings=warnings,
            signatures=reports,
        )
    if worst.indication is not Indication.TOTAL_PASSED:
        who = worst.field_name or "a signature"
        reasons.insert(0, f"{who}: {worst.reasons[0] if worst.reasons else worst.indication.value}")
    if all(r.kind is SignatureKind.DOC_TIMESTAMP for r in reports):
        reasons.append("the file carries document timestamps only, no signature")
    return VerificationReport(
        **base,
        indication=worst.indication,
        sub_indication=worst.sub_indication,
        reasons=reasons,
        warnings=warnings,
        signatures=reports,
    )


def _warnings(reports: list[SignatureReport]) -> list[str]:
    """Each signature's warnings, once per text, naming the signatures they are about."""
    seen: dict[str, list[str]] = {}
    for r in reports:
        for text in r.warnings:
            seen.setdefault(text, []).append(r.field_name or "a signature")
    return [f"{', '.join(names)}: {text}" for text, names in seen.items()]


def _raw_report(data: bytes, base: dict[str, Any], why: str) -> VerificationReport:
    """The file cannot be parsed as a PDF: check what signatures the raw bytes hold, and
    fail the file with the reason."""
    reports = []
    for sig in _raw_signatures(data):
        problem = _check_byte_range(data, sig.byte_range, None)
        cms = None
        if not problem:
            cms = check_cms(
                sig.contents, _signed_bytes(data, sig.byte_range), subfilter=sig.subfilter
            )
        coverage = _raw_coverage(data, sig.byte_range)
        intact = bool(cms and cms.intact)
        modified = coverage is not Coverage.ENTIRE_FILE
        reasons = [problem] if problem else list(cms.reasons if cms else [])
        reasons.append(why)
        if modified:
            reasons.append("later revisions cannot be read, so they count as changes")
        cert = cms.signer_cert if cms else None
        reports.append(
            SignatureReport(
                field_name=sig.field_name,
                kind=sig.kind,
                signer_subject=_subject_str(cert),
                signer_fingerprint=_fingerprint(cert),
                signer_credit_code=_credit_code(cert.subject) if cert is not None else None,
                intact=intact,
                covers_whole_file=coverage is Coverage.ENTIRE_FILE,
                coverage=coverage,
                modified_after_signing=modified,
                modification_level=ModificationLevel.OTHER if modified else ModificationLevel.NONE,
                chain_trusted=False,
                revocation=RevocationStatus.NOT_CHECKED,
                indication=Indication.TOTAL_FAILED,
                sub_indication=SubIndication.FORMAT_FAILURE,
                reasons=_dedupe(reasons),
            )
        )
    return VerificationReport(
        **base,
        indication=Indication.TOTAL_FAILED,
        sub_indication=SubIndication.FORMAT_FAILURE,
        reasons=[why],
        signatures=reports,
    )
