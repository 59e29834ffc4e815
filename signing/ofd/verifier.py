"""Verify the signatures of an OFD file into a :class:`schemas.report.VerificationReport`.

For each signature listed in a document's Signatures.xml (see docs/verification.md, "OFD"):

1. its Signature.xml and signed value are read (:mod:`signing.ofd.model`, :mod:`.ses`);
2. integrity: the SM2 signature over ``TBS_Sign`` (or the signed attributes), the signed
   hash against SM3 of Signature.xml, and for seals the maker's signature over the seal
   and the seal file against the seal inside the signature;
3. changes: the digest of every referenced file against its CheckValue, under the
   continue-signing rule (a later signature may only append itself to Signatures.xml), and
   every part the document shows covered by this or a later signature;
4. the seal: its validity at the signing time, the signer among the seal's certificates
   (a seal listing none binds no signer) and not the seal's maker;
5. trust: the signer's and the seal maker's SM2 chains to the trust bundle
   (:mod:`signing.ofd.certpath`), the maker one the bundle designates (``seal_makers``).

The verdict is ETSI EN 319 102-1 style, worst first, as for PDF. Nothing here raises on
bad input: a broken container is TOTAL_FAILED/FORMAT_FAILURE with the reason.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import heapq
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from schemas.report import (
    Coverage,
    FileFormat,
    Indication,
    OfdSignatureType,
    RevocationStatus,
    SignatureKind,
    SignatureReport,
    SubIndication,
    VerificationReport,
)
from signing._verify.identity import signer_fields
from signing._verify.summary import dedupe, overall_report
from signing.ofd.additions import (
    Additions,
    list_parts,
    shadowed_attachments,
    strip_additions,
    unnamed_namespace,
)
from signing.ofd.certpath import PathResult, Sm2TrustStore, load_certificate, public_point
from signing.ofd.colours import added_colours_problem
from signing.ofd.continuation import SignaturesText, earlier_signatures_xml
from signing.ofd.model import (
    OfdDocument,
    Reference,
    SignatureEntry,
    SignatureXml,
    default_documents,
    read_documents,
    read_signature_xml,
)
from signing.ofd.overlay import (
    Box,
    annotation_boxes,
    annotation_files,
    inside,
    overlay_problem,
    page_area,
    stamps_of,
)
from signing.ofd.package import DEFAULT_LIMITS, Limits, OfdFormatError, Package
from signing.ofd.ses import (
    SealData,
    SesFormatError,
    SignedValue,
    ValueFormat,
    parse_seal,
    parse_signed_value,
)
from signing.ofd.sm2 import SM2_SM3_OID, sm2_verify, sm3, z_value
from signing.ofd.stamps import Stamp, StampCheck, StampWork, stamp_boxes
from signing.ofd.structure import (
    PackageFindings,
    doc_info_names,
    document_shaped,
    ofd_xml_findings,
    signature_shaped,
    stray_parts,
)
from signing.ofd.uses import drawn_parts, listed_files

if TYPE_CHECKING:  # pragma: no cover
    from signing.trust import TrustBundle

__all__ = ["OFD_MAGIC", "OfdVerifier", "verify_ofd"]

#: An OFD is a ZIP: its first bytes are a local file header.
OFD_MAGIC = b"PK\x03\x04"
_SM2_ALGORITHMS = {SM2_SM3_OID, "1.2.156.10197.1.301.1", "1.2.156.10197.1.301"}
_SM3_METHODS = {"sm3", "1.2.156.10197.1.401"}
_SM3_Z_METHOD = "1.2.156.10197.1.401.2"
#: A Signatures.xml larger than this is not searched for its earlier forms (each one is
#: hashed, for each earlier signature); 200 entries take some 40 KB.
_MAX_CONTINUED_BYTES = 1024 * 1024
#: The bytes the signatures of one file may hash together (SM3: some 3-6 ms per MiB, so
#: 2-3 s): each part once per check method and (SM3 with Z) signer key, the
#: continue-signing guesses and the 加注 strips. Two signers' SM3-with-Z digests of the
#: largest package (256 MiB) fit; 200 junk signatures of 200 keys over it (50 GiB, red team
#: 5, a04) do not, and their digests then read as changed.
_HASH_BUDGET = 512 * 1024 * 1024
#: Questions "does this later seal cover that part" the signatures of one file may ask
#: together (:meth:`_Check._covered_later`): a part a signature leaves out is asked of each
#: later seal, N² × parts in all. A real file asks a few dozen; 200 seals of one signer
#: over 1,000 pages would ask 40 M (red team 12, r12-08's class).
_LATER_QUESTIONS = 2_000_000
#: The bytes of a covered part read to tell whether it is a Document.xml (its root element).
_SNIFF = 4096
#: Problems with the package listed in each report (:func:`_listed`).
_MAX_PACKAGE_PROBLEMS = 100


def verify_ofd(
    data: bytes,
    *,
    trust: TrustBundle | None,
    at: dt.datetime | None = None,
    file_name: str | None = None,
) -> VerificationReport:
    """Verify every signature of an OFD file as of ``at`` (default: now)."""
    return OfdVerifier(trust).verify(data, at=at, file_name=file_name)


class OfdVerifier:
    """Verifies OFD files against one trust bundle (its SM2 part parsed once)."""

    def __init__(self, trust: TrustBundle | None, limits: Limits = DEFAULT_LIMITS) -> None:
        self.trust = trust
        self.limits = limits
        self.store: Sm2TrustStore | None = trust.sm2_store() if trust is not None else None

    def verify(
        self, data: bytes, *, at: dt.datetime | None = None, file_name: str | None = None
    ) -> VerificationReport:
        base: dict[str, Any] = {
            "file_format": FileFormat.OFD,
            "file": file_name,
            "sha256": hashlib.sha256(data).hexdigest(),
            "size": len(data),
            "checked_at": at or dt.datetime.now(dt.UTC),
        }
        try:
            with Package(bytes(data), self.limits) as pkg:
                docs = read_documents(pkg)
                reports, notes = self._verify_documents(pkg, docs, base["checked_at"])
                notes[:0] = pkg.notes
                base["missing_parts"] = sorted({p for d in docs for p in d.missing_content})
        except OfdFormatError as exc:
            return _failed(base, f"the OFD file cannot be read: {exc}")
        except RecursionError:
            return _failed(base, "the OFD file is nested too deeply to read")
        except Exception as exc:  # last resort: a bug or a hostile file must not crash callers
            return _failed(base, f"the OFD file cannot be verified ({type(exc).__name__})")
        return overall_report(base, reports, notes)

    def _verify_documents(
        self, pkg: Package, docs: list[OfdDocument], at: dt.datetime
    ) -> tuple[list[SignatureReport], list[str]]:
        notes: list[str] = []
        budget = _Budget(_HASH_BUDGET)
        per_doc = [
            [_Check(pkg, doc, entry, budget, self.store) for entry in doc.entries] for doc in docs
        ]
        for doc in docs:
            if doc.missing:
                notes.append(
                    f"{doc.root} names parts that are not in the package: "
                    + ", ".join(sorted(set(doc.missing))[:10])
                )
            notes += [
                f"{doc.root}: {named}, which is missing, is {twin} once unpacked on a "
                "case-insensitive file system, where readers show it: each signature must "
                "cover it itself"
                for named, twin in sorted(doc.twins.items())[:10]
            ]
        checks = [check for doc_checks in per_doc for check in doc_checks]
        for check in checks:
            check.run_integrity()
        _flag_listed_twice(checks)
        for doc_checks in per_doc:
            for check in doc_checks:
                check.run_changes(_later_than(check, doc_checks))
                check.run_copy_rule(doc_checks, len(docs))
                check.run_trust(self.store, self.trust is not None, at)
        found = _package_findings(pkg, docs, checks)
        for check in checks:
            check.flag_package(found.problems)
        return [check.report() for check in checks], notes + found.problems + found.notes


def _first(parts: Iterable[str], count: int = 20) -> str:
    """The first ``count`` of ``parts`` in sorted order, joined (a reason names no more)."""
    return ", ".join(heapq.nsmallest(count, parts))


def _flag_listed_twice(checks: list[_Check]) -> None:
    """Fail an entry naming a Signature.xml or a signed value an earlier entry already
    named (the same part, or a byte copy of it elsewhere): one seal listed twice must not
    count as two (red team 6, o01)."""
    seen: dict[bytes, _Check] = {}
    for check in checks:
        for key in check.identity():
            first = seen.setdefault(key, check)
            if first is not check:
                check.intact = False
                check.verdict.fail(
                    Indication.TOTAL_FAILED,
                    SubIndication.FORMAT_FAILURE,
                    f"the signature {check.entry.id} ({check.entry.path}) is the signature "
                    f"{first.entry.id} ({first.entry.path}) listed twice (the same "
                    "Signature.xml or signed value): one seal counts once",
                )
                break


def _later_than(check: _Check, doc_checks: list[_Check]) -> list[_Check]:
    """The signatures of a document that count as later than ``check``: every other one but
    those whose signature files ``check`` itself covers (:meth:`_Check.covers_signature_of`,
    as continue signing does). Signatures.xml's order is not evidence: no digest need
    protect it, so an entry moved before another's proves nothing about when it was made
    (docs/verification.md, "Which seal is later")."""
    return [c for c in doc_checks if c is not check and not check.covers_signature_of(c)]


def _package_findings(
    pkg: Package, docs: list[OfdDocument], checks: list[_Check]
) -> PackageFindings:
    """What no digest protects: OFD.xml, the Signatures.xml lists, unsigned documents and
    parts that are neither signed, shown nor signature structure (:mod:`.structure`).
    OFD.xml's stricter rules apply to each signature that does not cover it itself
    (:meth:`_Check.flag_ofd_xml`), whatever later seals cover. An XML part the verifier
    refused though a reader may read it (:attr:`Package.unread`) fails every signature."""
    covered = [c for c in checks if c.intact and c.reference_matches("OFD.xml")]
    referenced = any(c.intact and c.references_to("OFD.xml") for c in checks)
    root, raw = pkg.xml("OFD.xml"), pkg.read("OFD.xml")
    found = ofd_xml_findings(root, raw, covered=True, referenced=referenced)
    strict = ofd_xml_findings(root, raw, covered=False, referenced=True).problems
    known = set(found.problems)
    strict = [p for p in strict if p not in known]
    names = doc_info_names(root)
    for check in checks:
        if check not in covered:
            check.flag_ofd_xml(strict, names)
            check.flag_package(check.documents_unnamed(covered))
    if len(covered) < len(checks) or not checks:
        found.notes[:0] = strict  # the report's reasons; they failed those signatures
    for doc in docs:
        found.problems += doc.problems
    if checks:
        found.problems += [
            f"the document {doc.root} has no signature beside a signed one (an unsigned document)"
            for doc in docs
            if not doc.entries
        ]
    accounted = {"OFD.xml"}
    for doc in docs:
        accounted |= doc.shown_parts | {e.path for e in doc.entries}
        accounted |= {doc.signatures_path} if doc.signatures_path else set()
    for check in checks:
        if check.xml is not None:
            # a signature that does not verify covers nothing (red team 5, a02, a03, a06:
            # a bare-SM2 entry's References made forged files count as signed)
            accounted |= check.covered_parts() if check.intact else set()
            accounted |= {p for p in (check.xml.signed_value, check.xml.seal) if p}
    if checks:
        found.problems += stray_parts(pkg.paths, accounted, _unlisted_signatures(pkg, docs, checks))
    found.problems += pkg.unread  # a reader may read what the verifier refused
    found.problems = _listed(found.problems)
    return found


def _listed(problems: list[str]) -> list[str]:
    """``problems`` without repeats, the first :data:`_MAX_PACKAGE_PROBLEMS` of them and one
    counting the rest: each fails every signature (up to 200), and a file may hold 100,000
    (an ID declared again and again, locations readers differ on: red team 10, r10-06)."""
    distinct = list(dict.fromkeys(problems))
    if len(distinct) <= _MAX_PACKAGE_PROBLEMS:
        return distinct
    more = len(distinct) - _MAX_PACKAGE_PROBLEMS
    return [*distinct[:_MAX_PACKAGE_PROBLEMS], f"and {more} more problems with the package"]


def _unlisted_signatures(pkg: Package, docs: list[OfdDocument], checks: list[_Check]) -> list[str]:
    """The parts an intact seal covers that hold a signature (a ``<Signature>`` root
    element) no Signatures.xml entry names: a seal a reader does not show, whose entry was
    removed (red team 10, r10-03). Parts no seal covers are stray parts already."""
    listed = {entry.path for doc in docs for entry in doc.entries}
    covered = {p for c in checks if c.intact for p in c.covered_parts()} - listed
    return [p for p in covered if signature_shaped(pkg.read(p)[:_SNIFF])]


def _missing_note(doc: OfdDocument) -> str:
    """What a signature over ``doc`` says of the parts it shows that the package lacks."""
    return (
        "the document shows parts the package lacks: "
        + ", ".join(sorted(set(doc.missing_content))[:20])
        + " (readers show it without them; one supplied later must be signed)"
    )


def _failed(base: dict[str, Any], why: str) -> VerificationReport:
    return VerificationReport(
        **base,
        indication=Indication.TOTAL_FAILED,
        sub_indication=SubIndication.FORMAT_FAILURE,
        reasons=[why],
    )


@dataclass
class _Verdict:
    """The first (worst) problem found for a signature."""

    indication: Indication = Indication.TOTAL_PASSED
    sub: SubIndication | None = None
    reasons: list[str] = field(default_factory=list)

    def fail(self, indication: Indication, sub: SubIndication, why: str) -> None:
        rank = {Indication.TOTAL_PASSED: 0, Indication.INDETERMINATE: 1, Indication.TOTAL_FAILED: 2}
        if rank[indication] > rank[self.indication]:
            self.indication, self.sub = indication, sub
            self.reasons.insert(0, why)
        else:
            self.reasons.append(why)


@dataclass
class _Budget:
    """Work shared by the signatures of one file: the bytes they may still hash, each
    part's digest by method and signer Z value (200 signatures over the same 256 MiB of
    parts hash them once, not 200 times), the stamp comparisons left and each certificate
    parsed once."""

    left: int
    digests: dict[tuple[str, bytes, str], bytes] = field(default_factory=dict)
    """(method, Z value or b"", part) -> its digest."""
    stamps: StampWork = field(default_factory=StampWork)
    certs: dict[bytes, Any] = field(default_factory=dict)
    """Certificates parsed so far, by DER (read-only once parsed)."""
    questions: int = _LATER_QUESTIONS
    """Which-later-seal-covers-it questions left (:meth:`_Check._covered_later`)."""

    def spend(self, size: int) -> bool:
        """Whether ``size`` more bytes may be hashed (then charged); what is refused is not
        charged, so a part too large leaves the budget to smaller ones."""
        if size > self.left:
            return False
        self.left -= size
        return True


def _signed_value(pkg: Package, path: str) -> SignedValue:
    """The parsed signed value at ``path``, parsed once per file however many signature
    entries name it (red team 6, a08: entries naming one 40 MB value each parsed it)."""
    found = pkg.once(("signed_value", path), lambda: _parsed_or_error(pkg.read(path)))
    if isinstance(found, SesFormatError):
        raise SesFormatError(str(found))
    return found


def _parsed_or_error(der: bytes) -> SignedValue | SesFormatError:
    try:
        return parse_signed_value(der)
    except SesFormatError as exc:
        return SesFormatError(str(exc))  # not its traceback: its frames hold the parse


class _Check:
    """Everything found about one signature; its steps are the methods, run in order."""

    def __init__(
        self,
        pkg: Package,
        doc: OfdDocument,
        entry: SignatureEntry,
        budget: _Budget | None = None,
        store: Sm2TrustStore | None = None,
    ) -> None:
        self.pkg, self.doc, self.entry = pkg, doc, entry
        self.store = store
        self.budget = budget or _Budget(_HASH_BUDGET)
        self.verdict = _Verdict()
        self.xml: SignatureXml | None = None
        self.value: SignedValue | None = None
        self.cert: Any = None
        self.extra_certs: list[Any] = []
        self.maker_cert: Any = None
        self.intact = False
        self.modified = False
        self.level = "NONE"
        self.coverage = Coverage.NONE
        self.signing_time: dt.datetime | None = None
        self.digest_ok: dict[str, bool] = {}
        self.path: PathResult | None = None
        self.accepted: list[tuple[str, Box]] = []
        """(page ID, box) of the 加注 later seals added that this seal accepted."""
        self.added: set[str] = set()
        """The annotation parts (and lists) of those 加注: this seal need not cover them."""
        self.unsigned_metadata: list[str] = []
        self._by_path: dict[str | None, list[Reference]] | None = None
        self._stamps: list[Stamp] | None = None
        self._z_value: bytes | None = None
        self._value_digest: bytes | None = None
        self._cert_der: bytes | None = None
        self._covered: frozenset[str] | None = None

    # -- 1 and 2: parts and integrity ------------------------------------------------

    def run_integrity(self) -> None:
        try:
            self.xml = read_signature_xml(self.pkg, self.entry.path)
            if self.xml.signed_value is None:
                raise OfdFormatError(f"{self.entry.path} names no SignedValue")
            path = self.xml.signed_value
            self._value_digest = self.pkg.once(
                ("signed_value_sha256", path), lambda: hashlib.sha256(self.pkg.read(path)).digest()
            )
            self.value = _signed_value(self.pkg, path)
        except (OfdFormatError, SesFormatError) as exc:
            self.verdict.fail(Indication.TOTAL_FAILED, SubIndication.FORMAT_FAILURE, str(exc))
            return
        self.signing_time = _xml_time(self.xml.signature_time)
        if self.value.format is ValueFormat.BARE_SM2:
            self.verdict.fail(
                Indication.INDETERMINATE,
                SubIndication.NO_SIGNING_CERTIFICATE_FOUND,
                "the signed value is a bare SM2 value without a certificate: it cannot be "
                "verified from the file alone",
            )
            return
        if self.value.ses is not None:
            self._check_ses()
        else:
            self._check_cms()

    def identity(self) -> list[bytes]:
        """What makes this signature itself: its Signature.xml's bytes and its signed
        value's (digests), as far as they were read."""
        keys = [b"xml:" + hashlib.sha256(self.xml.raw).digest()] if self.xml is not None else []
        if self._value_digest is not None:
            keys.append(b"value:" + self._value_digest)
        return keys

    def _load_cert(self, der: bytes | None, what: str) -> Any:
        if der is None:
            return None
        loaded = self.budget.certs.get(der)
        if loaded is not None:  # the same certificate in many signatures: parsed once
            return loaded
        try:
            loaded = self.budget.certs[der] = load_certificate(der)
            return loaded
        except ValueError as exc:
            self.verdict.fail(
                Indication.TOTAL_FAILED, SubIndication.FORMAT_FAILURE, f"{what}: {exc}"
            )
            return None

    def _signature_ok(self, cert: Any, algorithm: str, signature: bytes, signed: bytes) -> bool:
        if algorithm not in _SM2_ALGORITHMS:
            self.verdict.fail(
                Indication.INDETERMINATE,
                SubIndication.CRYPTO_CONSTRAINTS_FAILURE,
                f"signature algorithm {algorithm} is not supported (SM2 only)",
            )
            return False
        try:
            point = public_point(cert)
        except ValueError as exc:
            self.verdict.fail(Indication.TOTAL_FAILED, SubIndication.FORMAT_FAILURE, str(exc))
            return False
        return sm2_verify(point, signature, signed)

    def _check_ses(self) -> None:
        assert self.value is not None and self.value.ses is not None and self.xml is not None
        ses = self.value.ses
        self.signing_time = ses.signing_time or self.signing_time
        self.cert = self._load_cert(ses.signer_cert, "the signer's certificate")
        self.maker_cert = self._load_cert(ses.seal.maker_cert, "the seal maker's certificate")
        if self.cert is None or self.maker_cert is None:
            return
        sig_ok = self._signature_ok(self.cert, ses.algorithm, ses.signature, ses.signed)
        hash_ok = ses.data_hash == sm3(self.xml.raw)
        maker_ok = self._signature_ok(
            self.maker_cert,
            ses.seal.maker_algorithm,
            ses.seal.maker_signature,
            ses.seal.maker_signed,
        )
        seal_file_ok = self._seal_file_matches(ses.seal.der)
        if not hash_ok:
            self.verdict.fail(
                Indication.TOTAL_FAILED,
                SubIndication.HASH_FAILURE,
                f"the signed hash is not the SM3 of {self.xml.path}: it was changed",
            )
        if not sig_ok:
            self.verdict.fail(
                Indication.TOTAL_FAILED,
                SubIndication.SIG_CRYPTO_FAILURE,
                "the signer's SM2 signature over TBS_Sign does not verify",
            )
        if not maker_ok:
            self.verdict.fail(
                Indication.TOTAL_FAILED,
                SubIndication.SIG_CRYPTO_FAILURE,
                "the seal maker's SM2 signature over the seal does not verify "
                "(the seal was altered or forged)",
            )
        self.intact = sig_ok and hash_ok and maker_ok and seal_file_ok
        if ses.timestamp is not None:
            self.verdict.reasons.append("the signature carries a timestamp, which is not checked")

    def _seal_file_matches(self, embedded: bytes) -> bool:
        assert self.xml is not None
        if self.xml.seal is None:
            return True
        try:
            parse_seal(self.pkg.read(self.xml.seal))
            same = self.pkg.read(self.xml.seal) == embedded
        except (OfdFormatError, SesFormatError) as exc:
            self.verdict.fail(
                Indication.TOTAL_FAILED,
                SubIndication.FORMAT_FAILURE,
                f"the seal file {self.xml.seal}: {exc}",
            )
            return False
        if not same:
            self.verdict.fail(
                Indication.TOTAL_FAILED,
                SubIndication.SIG_CRYPTO_FAILURE,
                f"the seal file {self.xml.seal} is not the seal that was signed",
            )
        return same

    def _check_cms(self) -> None:
        assert self.value is not None and self.value.cms is not None and self.xml is not None
        cms = self.value.cms
        self.signing_time = cms.signing_time or self.signing_time
        self.cert = self._load_cert(cms.signer_cert, "the signer's certificate")
        if self.cert is None:
            self.verdict.fail(
                Indication.INDETERMINATE,
                SubIndication.NO_SIGNING_CERTIFICATE_FOUND,
                "the SignedData does not hold its signer's certificate",
            )
            return
        self.extra_certs = [
            c
            for d in cms.certificates
            if (c := self._load_cert(d, "a certificate in the SignedData")) is not None
        ]
        sig_ok = self._signature_ok(self.cert, cms.algorithm, cms.signature, cms.signed)
        hash_ok = cms.message_digest == sm3(self.xml.raw)
        if not hash_ok:
            self.verdict.fail(
                Indication.TOTAL_FAILED,
                SubIndication.HASH_FAILURE,
                f"the signed digest is not the SM3 of {self.xml.path}",
            )
        if not sig_ok:
            self.verdict.fail(
                Indication.TOTAL_FAILED,
                SubIndication.SIG_CRYPTO_FAILURE,
                "the signer's SM2 signature does not verify",
            )
        self.intact = sig_ok and hash_ok

    # -- 3: what changed after signing ----------------------------------------------

    def _digest(self, data: bytes) -> bytes | None:
        """``data``'s digest by this signature's CheckMethod (None: not supported)."""
        assert self.xml is not None
        method = self.xml.check_method.lower()
        if method in _SM3_METHODS:
            return sm3(data)
        if method == _SM3_Z_METHOD and self.cert is not None:
            return sm3(data, self._z())
        if method in ("sha256", "sha-256", "2.16.840.1.101.3.4.2.1"):
            return hashlib.sha256(data).digest()
        return None

    def _z(self) -> bytes:
        """Z of this signer's key, for SM3 with Z (raises ValueError for a key that is not
        an SM2 point)."""
        if self._z_value is None:
            self._z_value = z_value(public_point(self.cert))
        return self._z_value

    def _part_digest(self, path: str) -> bytes | None:
        """The digest of a part, computed once for every signature of the file with the
        same method and (SM3 with Z) signer key, and charged to the file's budget (red team
        5, a04); None when the method is not supported or the budget is spent."""
        assert self.xml is not None
        method = self.xml.check_method.lower()
        plain = "sm3" if method in _SM3_METHODS else method
        if self._digest(b"") is None:
            return None
        key = (plain, self._z() if plain == _SM3_Z_METHOD else b"", path)
        if key not in self.budget.digests:
            if not self.budget.spend(self.pkg.info(path).file_size):
                self.verdict.reasons.append(
                    f"{path}: too much to hash in this file (every signature's digests "
                    "together); read as changed"
                )
                return None
            digest = self._digest(self.pkg.read(path))
            assert digest is not None
            self.budget.digests[key] = digest
        return self.budget.digests[key]

    def reference_matches(self, path: str) -> bool:
        """Whether this signature references ``path`` and its digest matches (memoised)."""
        if path not in self.digest_ok:
            self.digest_ok[path] = self._reference_ok(path)
        return self.digest_ok[path]

    def references_to(self, path: str | None) -> list[Reference]:
        """This signature's References of ``path``, from an index built once (a file may
        hold thousands of References, each looked up by every earlier signature)."""
        if self._by_path is None:
            self._by_path = {}
            for ref in self.xml.references if self.xml is not None else []:
                self._by_path.setdefault(ref.path, []).append(ref)
        return self._by_path.get(path, [])

    def _reference_ok(self, path: str) -> bool:
        refs = self.references_to(path)
        if not refs or not self.pkg.has(path):
            return False
        try:
            digest = self._part_digest(path)
        except (OfdFormatError, ValueError):
            return False
        return digest is not None and all(r.check_value == digest for r in refs)

    def is_vault_seal(self) -> bool:
        """Whether this is an intact seal of the vault's pinned OFD copy seal certificate
        (the trust bundle's ``ofd_vault_seals``), the only one that may add a 加注."""
        return bool(self.intact and self.store is not None and self.store.is_vault_seal(self.cert))

    def run_changes(self, later: list[_Check]) -> None:
        if self.xml is None or self.value is None or self.value.format is ValueFormat.BARE_SM2:
            return
        if self._digest(b"") is None:
            self.verdict.fail(
                Indication.INDETERMINATE,
                SubIndication.CRYPTO_CONSTRAINTS_FAILURE,
                f"CheckMethod {self.xml.check_method} is not supported",
            )
            return
        changed = []
        lists = self._list_parts() if later else {}
        for ref in self.xml.references:
            if ref.path is None:
                changed.append(f"{ref.file_ref} (outside the package)")
            elif not self.reference_matches(ref.path):
                if ref.path == self.doc.signatures_path and self._continued(ref.path, later):
                    self.level = "SIGNATURES" if self.level == "NONE" else self.level
                    continue
                kind = "document" if ref.path == self.doc.root else lists.get(ref.path)
                if kind is not None and self._annotated(ref.path, kind, later):
                    self.level = "ANNOTATIONS"
                    continue
                changed.append(ref.path if self.pkg.has(ref.path) else f"{ref.path} (missing)")
        if changed:
            self.modified, self.level = True, "OTHER"
            self.verdict.fail(
                Indication.TOTAL_FAILED,
                SubIndication.HASH_FAILURE,
                "changed after signing: " + ", ".join(changed[:20]),
            )
        self._coverage(later)
        self._stamped_over(later)

    def run_copy_rule(self, doc_checks: list[_Check], documents: int) -> None:
        """A seal of the vault's pinned copy seal certifies a copy of a sealed original: it
        covers the signature files of an earlier seal of another signer that Signatures.xml
        lists (red team 10, r10-03: the issuer's entry removed, the copy showed and reported
        the vault's seal alone), in a file of one document (r10-09: the 加注 and the vault's
        seal on the first of two, a reader showing the second showed neither)."""
        if not self.is_vault_seal():
            return
        second = self._second_reading()
        if second is not None:
            self.verdict.fail(Indication.TOTAL_FAILED, SubIndication.FORMAT_FAILURE, second)
        if documents > 1:
            self.verdict.fail(
                Indication.TOTAL_FAILED,
                SubIndication.FORMAT_FAILURE,
                f"this seal of the vault's copy seal is in a file of {documents} documents: a "
                "certified copy is of one (a reader may show another, without the 加注)",
            )
        if any(
            c is not self and not c.is_vault_seal() and self.covers_signature_of(c)
            for c in doc_checks
        ):
            return
        self.verdict.fail(
            Indication.TOTAL_FAILED,
            SubIndication.FORMAT_FAILURE,
            "this seal of the vault's copy seal covers no earlier seal Signatures.xml lists: "
            "a certified copy certifies a sealed original (was the issuer's entry removed?)",
        )

    def _second_reading(self) -> str | None:
        """Why a reader that reads the document from the Document.xml beside the DocRoot
        (ofdrw: :func:`.model.default_documents`) is shown other Annotations or Attachments
        lists than the DocRoot names, where a copy lists its 加注 and attachments (red team
        12, r12-04: ofdrw handed out the issuer's own ``evault-copy.json`` as the copy's),
        or None."""
        try:
            mine = self._list_parts()
            for default in default_documents(self.pkg, self.doc.root):
                theirs = list_parts(self.pkg, default)
                if theirs != mine:
                    return (
                        f"readers differ on the copy's 加注 and attachments: ofdrw reads the "
                        f"document's Annotations and Attachments lists from {default}, beside "
                        f"the DocRoot {self.doc.root}, which lists other ones"
                    )
        except OfdFormatError as exc:
            return f"readers differ on the copy's 加注 and attachments: {exc}"
        return None

    def _stamped_over(self, later: list[_Check]) -> None:
        """Flag this signature when a later seal's stamp lies over what it signed
        (:mod:`signing.ofd.stamps`). A later seal of this very signer certificate, intact,
        is the signer extending its own document and is not checked."""
        assert self.xml is not None
        # a reader draws the stamps of a signature that does not verify, or whose parts
        # cannot be read, too: they are checked whatever that signature's verdict
        others = [c for c in later if self.pkg.has(c.entry.path) and not self._same_signer(c)]
        if not others:
            return
        signed = {r.path for r in self.xml.references if r.path}
        try:
            check = StampCheck(self.pkg, self.doc.root, signed, self.stamps(), self.budget.stamps)
            later_stamps = (s for c in others for s in c.stamps())
            problem = check.problem(later_stamps, self.accepted)
        except OfdFormatError as exc:
            problem = f"the later seals' stamps cannot be checked: {exc}"
        if problem is not None:
            self.modified, self.level = True, "OTHER"
            self.verdict.fail(Indication.TOTAL_FAILED, SubIndication.FORMAT_FAILURE, problem)
            return
        self._note_later_stamps(others)

    def _note_later_stamps(self, others: list[_Check]) -> None:
        """Say that a later seal of another signer draws its stamp on this signature's
        pages (on blank space, else it failed above): its picture is that signer's own
        statement, not this signature's, as a later PDF signature's widget is."""
        for other in others:
            try:
                pages = sorted({s.page_id for s in other.stamps()})
            except OfdFormatError:
                continue
            if pages:
                who = _subject(other.cert) if other.cert is not None else "an unknown signer"
                self.verdict.reasons.append(
                    f"a later seal by another signer ({who}, signature {other.entry.id}) "
                    f"draws its stamp on page {', '.join(pages[:10])} of this signature's "
                    "document: what its picture shows is that signer's statement, not this "
                    "signature's"
                )

    def stamps(self) -> list[Stamp]:
        """This seal's stamps, read once per verification (raises :class:`OfdFormatError`
        for an unreadable Signature.xml, again on each call)."""
        if self._stamps is None:
            self._stamps = stamp_boxes(self.pkg, self.entry.path)
        return self._stamps

    def covered_parts(self) -> frozenset[str]:
        """The parts this signature references whose digests match, found once (each
        earlier signature asks each later one of its signer)."""
        if self._covered is None:
            refs = self.xml.references if self.xml is not None else []
            self._covered = frozenset(
                r.path for r in refs if r.path and self.reference_matches(r.path)
            )
        return self._covered

    def cert_der(self) -> bytes | None:
        """The signer certificate's DER, dumped once: every earlier signature compares it
        with its own (200 seals: 20,000 pairs; asn1crypto's ``dump()`` checks the whole
        parsed certificate for changes on each call, 2.4 s of CPU in all; red team 12)."""
        if self._cert_der is None and self.cert is not None:
            self._cert_der = self.cert.dump()
        return self._cert_der

    def covers_signature_of(self, other: _Check) -> bool:
        """Whether this signature covers ``other``'s Signature.xml and signed value with
        matching digests, so ``other`` existed, as it is now, when this one was made."""
        if self.xml is None or other.xml is None or other.xml.signed_value is None:
            return False
        return self.reference_matches(other.entry.path) and self.reference_matches(
            other.xml.signed_value
        )

    def _same_signer(self, other: _Check) -> bool:
        return bool(
            other.intact
            and self.cert is not None
            and other.cert is not None
            and self.cert_der() == other.cert_der()
        )

    def _continued(self, path: str, later: list[_Check]) -> bool:
        """A protected Signatures.xml that only later, intact signatures extended. Its
        entries are found once per file (a file may list 200 signatures, each guessing);
        each signature's guesses are charged to the file's budget, the walk that makes them
        (a few passes over the part) too (red team 12, r12-03)."""
        assert self.xml is not None
        if not later or not all(c.intact for c in later):
            return False
        wanted = {r.check_value for r in self.references_to(path)}
        if self.pkg.info(path).file_size > _MAX_CONTINUED_BYTES:
            return False
        found = self.pkg.once(
            ("signatures_text", path), lambda: SignaturesText.of(self.pkg.read(path))
        )
        if found.refused is not None:
            self.verdict.reasons.append(
                f"{path}: {found.refused}; its earlier forms are not searched, read as changed"
            )
            return False
        if not self.budget.spend(len(found.text)):
            self.verdict.reasons.append(f"{path}: too many earlier forms to try; read as changed")
            return False
        for candidate in earlier_signatures_xml(found, [c.entry.id for c in later]):
            if not self.budget.spend(len(candidate)):
                self.verdict.reasons.append(
                    f"{path}: too many earlier forms to try; read as changed"
                )
                return False
            if self._digest(candidate) in wanted:
                return True
        return False

    def _list_parts(self) -> dict[str, str]:
        """The document's Annotations and Attachments lists (:func:`list_parts`), read once
        per file, not once per signature (a walk of Document.xml's children)."""
        try:
            return self.pkg.once(
                ("list_parts", self.doc.root), lambda: list_parts(self.pkg, self.doc.root)
            )
        except OfdFormatError:
            return {}

    def _annotated(self, path: str, kind: str, later: list[_Check]) -> bool:
        """A part a certified copy extends (Document.xml, the Annotations or Attachments
        list) that later, intact signatures changed only by appending elements naming new
        parts (:mod:`signing.ofd.additions`), one of them covering it now, and no added
        annotation covering this seal's text or stamp (:mod:`signing.ofd.overlay`)."""
        assert self.xml is not None
        if not later or not all(c.intact for c in later):
            return False
        vaults = [c for c in later if c.is_vault_seal() and c.reference_matches(path)]
        if not vaults:
            self.verdict.reasons.append(
                f"{path} changed after this seal, and no seal of the vault's pinned copy seal "
                "(the trust bundle's ofd_vault_seals) covers it: only the vault may add a 加注"
            )
            return False
        if not any(all(v is c or v.covers_signature_of(c) for c in later) for v in vaults):
            self.verdict.reasons.append(
                f"{path} changed after this seal under a vault copy seal that does not cover "
                "every other seal of the document: a seal it does not cover counts as added "
                "after the certified copy, which then no longer certifies what is shown"
            )
            return False
        # what the vault's seal added names parts no other seal covers (an earlier seal
        # may have left parts to a later one: those are not the copy's)
        mine = {r.path for r in self.xml.references}
        for c in later:
            if c.xml is not None and not c.is_vault_seal():
                mine |= {r.path for r in c.xml.references}
        wanted = {r.check_value for r in self.references_to(path)}
        current = self.pkg.read(path)
        if not self.budget.spend(len(current)):
            self.verdict.reasons.append(
                f"{path}: too much to hash for its additions; read as changed"
            )
            return False
        found = strip_additions(
            self.pkg, path, kind, current, mine, lambda b: self._digest(b) in wanted
        )
        if found is None:
            return False
        try:
            problem = unnamed_namespace(self.pkg, path, whole=False) or self._overlay(found, later)
        except OfdFormatError as exc:
            problem = f"the added annotations cannot be read: {exc}"
        if problem is not None:
            self.verdict.reasons.append(problem)
            return False
        shadowed = self._shadowed(path, found.attachments) if found.attachments else []
        if shadowed:
            self.verdict.reasons.append(
                f"{path}: an attachment a later seal added is named {shadowed[0]!r} as one "
                "listed before it, which a reader that looks attachments up by name (ofdrw) "
                "hands out instead"
            )
            return False
        self.added |= set(found.attachments) | set(found.attachment_lists)
        for listed in found.attachment_lists:
            self.added |= listed_files(self.pkg, listed)
        self.verdict.reasons.append(
            f"a later seal added {' and '.join(found.names)} to {path} (a certified copy's "
            "加注): they are not part of this seal"
        )
        return True

    def _shadowed(self, path: str, added: list[str]) -> list[str]:
        """The names of the attachments ``added`` to the Attachments list ``path`` that an
        entry listed before them already has (:func:`.additions.shadowed_attachments`)."""
        try:
            return shadowed_attachments(self.pkg, path, set(added))
        except OfdFormatError as exc:
            return [f"(unreadable: {exc})"]

    def _overlay(self, found: Additions, later: list[_Check]) -> str | None:
        """Why the annotations ``found`` added may not be accepted: they must lie clear of
        the page's text, of this and every later seal's stamp (but the vault's, which lies
        on its 加注 by design) and of every annotation there before (an earlier 加注 too),
        and draw inside their boxes (:mod:`signing.ofd.overlay`)."""
        assert self.xml is not None
        added = list(found.annotations)
        for listed in found.annotation_lists:
            added += annotation_files(self.pkg, listed)
        new = {target for _, target in added}
        for part in sorted(new | set(found.annotation_lists) | set(found.attachment_lists)):
            problem = unnamed_namespace(self.pkg, part, whole=True)
            if problem is not None:  # no 加注 to a reader in strict mode (r10-07's class)
                return problem
        before = [
            entry
            for listed, kind in list_parts(self.pkg, self.doc.root).items()
            if kind == "Annotations" and self.pkg.has(listed)
            for entry in annotation_files(self.pkg, listed)
            if entry[1] not in new
        ]
        sealed = [self.xml.path, *(c.entry.path for c in later if not c.is_vault_seal())]
        stamps = [stamp for path in sealed for stamp in stamps_of(self.pkg, path)]
        existing = annotation_boxes(self.pkg, before, drawn_in=self.doc.root)
        problem = (
            overlay_problem(self.pkg, self.doc.root, added, stamps, existing)
            or self._vault_stamp_off_page(later)
            or next(
                filter(
                    None, (added_colours_problem(self.pkg, self.doc.root, p) for p in sorted(new))
                ),
                None,
            )
        )
        if problem is None:
            self.accepted += annotation_boxes(self.pkg, added)
            self.added |= new | set(found.annotation_lists)
        return problem

    def _vault_stamp_off_page(self, later: list[_Check]) -> str | None:
        """Why a stamp of the vault's seal, which certifies the copy, may not be accepted:
        it lies (partly) outside its page's area, where a reader does not show it."""
        for check in later:
            if not check.is_vault_seal():
                continue
            for page_id, box in stamps_of(self.pkg, check.entry.path):
                area = page_area(self.pkg, self.doc.root, page_id)
                if area is None or not inside(box, area):
                    return (
                        f"the stamp of the vault's seal {check.entry.path} on page {page_id} "
                        "lies outside the page: a reader does not show it"
                    )
        return None

    def _coverage(self, later: list[_Check]) -> None:
        """Which shown parts this signature covers. A later signature may cover parts
        added after this one (a copy's 加注, accepted under the vault's rules), never what
        the pages draw with: the Document.xml a reader is shown (DocRoot), its pages'
        content and templates, their resources, fonts, images and annotations
        (:mod:`signing.ofd.uses`) must be ones this signature signed, or a later seal of
        this very signer certificate did, else the document shown is not the signed one (a
        part left out that another, later signer swapped)."""
        assert self.xml is not None
        mine = {r.path for r in self.xml.references}
        # a later, intact seal of this very signer certificate extends its own document;
        # asked only about the drawn parts left out (red team 12, r12-08: the union of
        # every later one's parts, per seal, was N² × R steps)
        own = [c for c in later if self._same_signer(c)]
        intact = [c for c in later if c.intact]
        try:
            drawn = drawn_parts(self.pkg, self.doc.root)
        except OfdFormatError as exc:
            self.verdict.fail(
                Indication.TOTAL_FAILED,
                SubIndication.FORMAT_FAILURE,
                f"what the pages of {self.doc.root} draw with cannot be told: {exc}",
            )
            drawn = frozenset(self.doc.shown_parts)  # unknown: nothing may be uncovered
        if self.doc.missing_content:
            self.verdict.reasons.append(
                self.pkg.once(("missing", self.doc.root), lambda: _missing_note(self.doc))
            )
        # sets, and only the first 20 of each sorted (named): 200 seals beside 4,000 pages
        # asked each shown part of each later seal (1.5 million questions) and sorted them
        left_out = drawn - mine - self.added
        foreign = left_out - self._covered_later(left_out, own)
        uncovered = self.doc.shown_parts - mine
        unsigned = uncovered - self._covered_later(uncovered, intact)
        if unsigned:
            self.verdict.fail(
                Indication.TOTAL_FAILED,
                SubIndication.FORMAT_FAILURE,
                "parts the document shows are covered by no signature: " + _first(unsigned),
            )
        if foreign:
            self.verdict.fail(
                Indication.TOTAL_FAILED,
                SubIndication.HASH_FAILURE,
                f"changed after signing: the document shown ({self.doc.root}) is not the one "
                "this signature signed; it does not cover " + _first(foreign),
            )
        if unsigned or foreign:
            self.coverage, self.modified, self.level = Coverage.PARTIAL, True, "OTHER"
        elif uncovered:
            self.coverage = Coverage.ENTIRE_REVISION
            self.level = "ANNOTATIONS" if self.level == "ANNOTATIONS" else "SIGNATURES"
            self.verdict.reasons.append(
                "later signatures cover parts added after this one: " + _first(uncovered)
            )
        else:
            self.coverage = Coverage.ENTIRE_FILE

    def _covered_later(self, parts: AbstractSet[str], seals: list[_Check]) -> set[str]:
        """Which of ``parts`` one of ``seals`` covers: each part asked of each seal (its
        covered parts found once), charged to the file's budget; past it, none (the
        signature then fails, with the reason)."""
        if not parts or not seals:
            return set()
        asked = len(parts) * len(seals)
        if asked > self.budget.questions:
            self.verdict.reasons.append(
                f"too many later seals ({len(seals)}) to ask which of them cover the "
                f"{len(parts)} parts this signature leaves out: read as covered by none"
            )
            return set()
        self.budget.questions -= asked
        return {p for p in parts if any(p in c.covered_parts() for c in seals)}

    def documents_unnamed(self, covering: list[_Check]) -> list[str]:
        """This signature leaves OFD.xml out and covers more than one document (a part
        shaped like a Document.xml, :func:`.structure.document_shaped`), as Suwell's
        first seal covers both versions it writes: which one the signer showed cannot be
        told, DocRoot being unsigned (red team 6, a11: DocRoot moved to the older one, its
        watermark annotation gone). Unless a later, intact seal of this very signer
        certificate covers OFD.xml (``covering``: the intact seals that do), which names
        it, as in the corpus's Suwell files."""
        if not self.intact or self.xml is None:
            return []
        if any(self._same_signer(c) and not self.covers_signature_of(c) for c in covering):
            return []
        # every part it references: one changed since either fails it, or is the DocRoot
        # a vault copy's 加注 extended (red team 6, a11b), a document all the same
        referenced = {r.path for r in self.xml.references if r.path and self.pkg.has(r.path)}
        docs = sorted(p for p in referenced if document_shaped(self.pkg.read(p)[:_SNIFF]))
        if len(docs) < 2:
            return []
        return [
            "this signature does not cover OFD.xml but covers several documents ("
            + ", ".join(docs[:10])
            + "): which one its signer showed (DocRoot, named only in the unsigned OFD.xml) "
            "cannot be told; only a later seal of the same signer over OFD.xml names it"
        ]

    def flag_ofd_xml(self, problems: list[str], names: list[str]) -> None:
        """This signature leaves OFD.xml out: the stricter rules' ``problems`` fail it, and
        the DocInfo elements ``names`` a reader shows are unsigned by it."""
        self.flag_package(problems)
        self.unsigned_metadata = names
        if names:
            self.verdict.reasons.append(
                "this signature does not cover OFD.xml: its document information (DocInfo: "
                + ", ".join(names)
                + ") is not signed by it, whatever later seals cover"
            )

    def flag_package(self, problems: list[str]) -> None:
        """Fail this signature for what the package holds beyond what it signed."""
        if not problems:
            return
        self.modified, self.level = True, "OTHER"
        self.coverage = Coverage.PARTIAL
        for problem in problems:
            self.verdict.fail(Indication.TOTAL_FAILED, SubIndication.FORMAT_FAILURE, problem)

    # -- 4 and 5: seal rules and trust ---------------------------------------------

    def run_trust(self, store: Sm2TrustStore | None, have_bundle: bool, at: dt.datetime) -> None:
        if self.value is not None and self.value.ses is not None and self.cert is not None:
            self._seal_rules()
        if self.cert is None or not self.intact:
            return
        if store is None:
            self.verdict.fail(
                Indication.INDETERMINATE,
                SubIndication.NO_CERTIFICATE_CHAIN_FOUND,
                "no trust bundle given: the chain cannot reach a trusted root",
            )
            return
        self.path = self._validate(store, self.cert, at, self.extra_certs)
        if self.path is None:
            return
        if not self.path.trusted:
            self._untrusted(self.path)
            return
        if self.path.revocation is RevocationStatus.UNKNOWN:
            self.verdict.fail(
                Indication.INDETERMINATE,
                SubIndication.TRY_LATER,
                f"revocation status unknown: {self.path.message}",
            )
        if self.maker_cert is not None:
            self._maker_trust(store, at)

    def _untrusted(self, path: PathResult) -> None:
        sub = path.problem or SubIndication.NO_CERTIFICATE_CHAIN_FOUND
        ind = (
            Indication.TOTAL_FAILED
            if sub is SubIndication.NOT_YET_VALID
            else Indication.INDETERMINATE
        )
        why = path.message
        when, signed = path.revoked_at, self.signing_time
        if sub is SubIndication.REVOKED_NO_POE and when and signed and when <= signed:
            # EN 319 102-1 5.3.4: revoked before the time the signer itself claims
            ind, sub = Indication.TOTAL_FAILED, SubIndication.REVOKED
            why += f", before the signing time it claims ({signed.isoformat()})"
        self.verdict.fail(ind, sub, why)

    def _validate(
        self, store: Sm2TrustStore, cert: Any, at: dt.datetime, extra: list[Any] | None = None
    ) -> PathResult | None:
        """``cert``'s path, or None (and a FORMAT_FAILURE) when a certificate on the way
        cannot be read."""
        try:
            return store.validate(cert, extra=extra or [], at=at)
        except (ValueError, TypeError, KeyError, UnicodeDecodeError) as exc:
            self.verdict.fail(
                Indication.TOTAL_FAILED,
                SubIndication.FORMAT_FAILURE,
                f"a certificate on the chain cannot be read ({type(exc).__name__})",
            )
            return None

    def _maker_trust(self, store: Sm2TrustStore, at: dt.datetime) -> None:
        """The seal maker (印章制作单位): a certificate the trust bundle designates as one
        (its ``seal_makers``), chaining to a root; a certificate that merely chains to a
        root may be any department's signer, who could then make seals in others' names."""
        if not store.seal_maker_keys:
            why = (
                "the trust bundle designates no seal maker, so who made the seal cannot be "
                "recognised (pin the seal makers' certificates: evault trust export "
                "--seal-maker)"
            )
        elif not store.is_seal_maker(self.maker_cert):
            why = (
                f"the seal maker's certificate ({_subject(self.maker_cert)}) is not a seal "
                "maker the trust bundle designates"
            )
        else:
            maker = self._validate(store, self.maker_cert, at)
            if maker is None:
                return
            why = "" if maker.trusted else f"the seal maker's certificate: {maker.message}"
        if why:
            self.verdict.fail(
                Indication.INDETERMINATE, SubIndication.CHAIN_CONSTRAINTS_FAILURE, why
            )

    def _seal_rules(self) -> None:
        assert self.value is not None and self.value.ses is not None
        seal = self.value.ses.seal
        when = self.signing_time
        if when is not None and (
            (seal.valid_start is not None and when < seal.valid_start)
            or (seal.valid_end is not None and when > seal.valid_end)
        ):
            self.verdict.fail(
                Indication.INDETERMINATE,
                SubIndication.SIG_CONSTRAINTS_FAILURE,
                f"the seal was not valid at the signing time {when.isoformat()} "
                f"(valid {_day(seal.valid_start)} to {_day(seal.valid_end)})",
            )
        self._seal_binding(seal)

    def _seal_binding(self, seal: SealData) -> None:
        """The signer is among the seal's certificates, and is not its maker."""
        der = self.cert.dump()
        digests = (sm3(der), hashlib.sha256(der).digest(), hashlib.sha1(der).digest())  # noqa: S324
        listed = der in seal.cert_list or any(value in digests for _, value in seal.cert_digests)
        if not (seal.cert_list or seal.cert_digests):
            self.verdict.fail(
                Indication.INDETERMINATE,
                SubIndication.SIG_CONSTRAINTS_FAILURE,
                "the seal lists no signer certificate (certList), so nothing binds it to this "
                "signer: anyone holding a copy of the seal could use it",
            )
        elif not listed:
            self.verdict.fail(
                Indication.INDETERMINATE,
                SubIndication.SIG_CONSTRAINTS_FAILURE,
                "the signer's certificate is not among the seal's certificates",
            )
        if self.maker_cert is not None and _same_key(self.maker_cert, self.cert):
            self.verdict.fail(
                Indication.INDETERMINATE,
                SubIndication.SIG_CONSTRAINTS_FAILURE,
                "the seal was made by its own signer's key: a seal must be made by a seal "
                "maker (印章制作单位), not by the one who uses it",
            )

    # -- the report -----------------------------------------------------------------

    def report(self) -> SignatureReport:
        seal = self.value.ses.seal if self.value is not None and self.value.ses else None
        return SignatureReport(
            field_name=self.entry.id,
            kind=SignatureKind.SIGNATURE,
            **signer_fields(self.cert),
            signing_time=self.signing_time,
            intact=self.intact,
            covers_whole_file=self.coverage is Coverage.ENTIRE_FILE,
            coverage=self.coverage,
            modified_after_signing=self.modified,
            modification_level=self.level,
            chain_trusted=bool(self.path and self.path.trusted),
            revocation=self.path.revocation if self.path else RevocationStatus.NOT_CHECKED,
            indication=self.verdict.indication,
            sub_indication=self.verdict.sub,
            reasons=dedupe(self.verdict.reasons),
            ofd_type=OfdSignatureType.SIGN if self.entry.type == "Sign" else OfdSignatureType.SEAL,
            signature_format=self.value.format.value if self.value else None,
            seal_name=seal.name if seal else None,
            seal_id=seal.es_id if seal else None,
            vault_copy_seal=self.is_vault_seal(),
            unsigned_metadata=self.unsigned_metadata,
        )


def _same_key(a: Any, b: Any) -> bool:
    return bool(a.dump() == b.dump() or a.public_key.dump() == b.public_key.dump())


def _subject(cert: Any) -> str:
    try:
        return str(cert.subject.human_friendly)
    except (ValueError, TypeError, UnicodeDecodeError):
        return "an unreadable subject"


def _day(moment: dt.datetime | None) -> str:
    return moment.date().isoformat() if moment else "?"


def _xml_time(text: str | None) -> dt.datetime | None:
    """SignatureDateTime: ``yyyyMMddHHmmssZ``, ``yyyy-MM-dd HH:mm:ss`` or ISO 8601 (UTC
    when no zone is given)."""
    if not text:
        return None
    for fmt in ("%Y%m%d%H%M%SZ", "%Y-%m-%d %H:%M:%S"):
        try:
            return dt.datetime.strptime(text, fmt).replace(tzinfo=dt.UTC)
        except ValueError:
            continue
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
