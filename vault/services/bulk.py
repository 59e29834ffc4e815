"""Bulk import of existing stock (存量证照): a folder or a ZIP of sealed PDF and OFD files
(``*.pdf``, ``*.ofd``; the content decides the format, and an extension naming the other
format refuses the file as ``format_mismatch``).

Metadata comes from a manifest CSV (one row per file: a ``file`` column plus the
:class:`schemas.LicenseMetadata` fields, ``extra`` as JSON) or, without a manifest, from a
sidecar ``<name>.json`` next to each PDF. The pushing department of each file is the
department registered with the row's 颁发机构代码.

Verification (the slow part) runs in worker processes; the writes run one at a time in
this process, through :func:`vault.services.intake.ingest`, so every rule of intake holds.
A file whose bytes are already stored is a duplicate found by its SHA-256 without being
verified again, so an interrupted import is resumed by running it again: no duplicates,
no losses.

The journal (:class:`vault.models.ImportRun`, :class:`vault.models.ImportJournalEntry`)
keeps each run and what it decided for each file, by SHA-256. A later run takes a file an
earlier run settled as settled, without verifying it again: stored bytes, and refusals made
for the same bytes with the same metadata under the same *intake digest* (the trust
bundle's fingerprint, the catalog's rules and evault's version). A refusal is decided anew
when asked (``retry_refused``), when that digest or the file's metadata changed, and always
for reasons that depend on other data or on chance (a conflict, a verification that did
not run). The journal is written after intake commits, in batches: it records decisions and
never decides what is stored (that is still the SHA-256 lookup), so a journal entry lost to
a crash costs one verification on the next run, nothing more.
"""

from __future__ import annotations

import concurrent.futures
import csv
import datetime as dt
import hashlib
import io
import json
import multiprocessing
import time
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from pydantic import ValidationError
from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from schemas.license import LicenseMetadata
from schemas.report import VerificationReport
from vault.blobs.base import BlobStore
from vault.crypto import HolderCrypto
from vault.db.base import utcnow
from vault.errors import ConflictError, IntakeRefused, InvalidInput, NotFound
from vault.models import (
    Department,
    ImportJournalEntry,
    ImportRun,
    LicenseType,
    LicenseTypeIssuer,
    SealCertificate,
)
from vault.services.catalog import find_department_by_code
from vault.services.intake import (
    IntakeResult,
    PdfVerifier,
    Prechecked,
    PrecomputedVerifier,
    ingest,
    precheck,
    write_verified,
)
from vault.services.lifecycle import version_by_sha256

__all__ = [
    "MANIFEST_FIELDS",
    "WRITE_BATCH",
    "ArchiveLimits",
    "ImportItem",
    "ImportOutcome",
    "ImportSummary",
    "StockSource",
    "import_run_refusals",
    "import_stock",
    "intake_digest",
    "list_import_runs",
    "read_manifest",
    "write_refusals",
]

MANIFEST_FIELDS = ("file", *LicenseMetadata.model_fields)
_WINDOW_PER_WORKER = 4
#: Verified files written per transaction (``import_stock(write_batch=...)``; 1: one
#: ``ingest`` and one commit per file, as before batches).
WRITE_BATCH = 32
#: Journal entries written per commit (and at the end, or on an interrupt).
_JOURNAL_BATCH = 50
#: Refusals that depend on what else is stored or on chance: decided anew on every run.
_ALWAYS_RETRIED = frozenset({"conflict", "verification_error", "unreadable"})
_METADATA_PURPOSE = "import-metadata"

VerifierFactory = Callable[[], PdfVerifier]
BlobStoreFactory = Callable[[], BlobStore]


@dataclass(frozen=True)
class ImportItem:
    """One PDF to import: ``name`` is its path inside the folder or the ZIP (POSIX)."""

    name: str
    path: Path
    member: str | None = None  # the ZIP member, when ``path`` is a ZIP


@dataclass(frozen=True)
class ArchiveLimits:
    """What an import may read, checked before anything is read (a ZIP: its directory).

    ``files``: entries of a ZIP; ``member_bytes``: one file, expanded (default: the API's
    upload limit, 20 MiB); ``total_bytes``: all of a ZIP's members, expanded; ``ratio``:
    expanded over compressed size, for members over :data:`_RATIO_FROM` bytes.
    """

    files: int = 10_000
    member_bytes: int = 20 * 1024 * 1024
    total_bytes: int = 16 * 1024**3
    ratio: int = 100


#: Smaller members may compress any amount (a short run of zeros does): no ratio check.
_RATIO_FROM = 1024 * 1024


_EXTENSION_TYPES = {".pdf": "application/pdf", ".ofd": "application/ofd"}


def _is_pdf(name: str) -> bool:
    """A license file by its name: ``.pdf`` or ``.ofd`` (any case)."""
    return PurePosixPath(name.lower()).suffix in _EXTENSION_TYPES


def _declared_type(name: str) -> str | None:
    return _EXTENSION_TYPES.get(PurePosixPath(name.lower()).suffix)


class StockSource:
    """The PDFs of a folder or a ZIP, and their sidecars, read within :class:`ArchiveLimits`.

    A ZIP is opened once: its directory is checked against the limits before any member is
    read, and a member is read as a stream of at most the member limit. (Opening the ZIP for
    every file and sidecar read its whole directory each time: an import of n files took
    time in n².) Use as a context manager, or :meth:`close`.
    """

    def __init__(
        self, path: Path, items: list[ImportItem], limits: ArchiveLimits, archive: Any = None
    ) -> None:
        self.path = path
        self.items = items
        self.limits = limits
        self._archive: zipfile.ZipFile | None = archive
        self._members: dict[str, zipfile.ZipInfo] = (
            {info.filename: info for info in archive.infolist()} if archive else {}
        )

    @classmethod
    def open(cls, source: Path, limits: ArchiveLimits) -> StockSource:
        """Every PDF of a folder (recursively) or a ZIP file, sorted by name; raises
        :class:`InvalidInput` (one line: what and which limit) before reading anything
        when the source exceeds a limit."""
        if source.is_dir():
            items = [
                ImportItem(name=p.relative_to(source).as_posix(), path=p)
                for p in sorted(source.rglob("*"))
                if p.is_file() and _is_pdf(p.name)
            ]
            for item in items:
                size = item.path.stat().st_size
                if size > limits.member_bytes:
                    raise InvalidInput(_too_large(item.name, size, limits))
            return cls(source, items, limits)
        if source.is_file() and zipfile.is_zipfile(source):
            try:
                archive = zipfile.ZipFile(source)
            except (OSError, zipfile.BadZipFile) as exc:
                raise InvalidInput(f"{source.name} is not a readable ZIP file: {exc}") from None
            try:
                names = _check_archive(source.name, archive.infolist(), limits)
            except BaseException:
                archive.close()
                raise
            items = [ImportItem(name=n, path=source, member=n) for n in names]
            return cls(source, items, limits, archive)
        raise InvalidInput(f"{source} is neither a folder nor a ZIP file")

    def read(self, item: ImportItem) -> bytes:
        """The file's bytes (at most the member limit: more is :class:`InvalidInput`)."""
        if item.member is None:
            return _read_capped(item.path.open("rb"), item.name, self.limits)
        return self._read_member(item.member)

    def sidecar(self, item: ImportItem) -> bytes | None:
        """The ``<name>.json`` next to the file, or None."""
        name = PurePosixPath(item.name).with_suffix(".json").as_posix()
        if item.member is None:
            path = item.path.with_suffix(".json")
            return _read_capped(path.open("rb"), name, self.limits) if path.is_file() else None
        return self._read_member(name) if name in self._members else None

    def _read_member(self, name: str) -> bytes:
        assert self._archive is not None
        return _read_capped(self._archive.open(self._members[name]), name, self.limits)

    def close(self) -> None:
        if self._archive is not None:
            self._archive.close()

    def __enter__(self) -> StockSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _too_large(name: str, size: int, limits: ArchiveLimits) -> str:
    return (
        f"{name} is {size} bytes, more than the limit of {limits.member_bytes} bytes for one "
        "file (EVAULT_UPLOAD_LIMIT_BYTES)"
    )


def _check_archive(
    archive_name: str, infos: list[zipfile.ZipInfo], limits: ArchiveLimits
) -> list[str]:
    """The PDF members' names, sorted, once the directory passed every limit."""
    if len(infos) > limits.files:
        raise InvalidInput(
            f"{archive_name} has {len(infos)} entries, more than the limit of {limits.files}: "
            "split it, or raise the limit with --max-files"
        )
    total = 0
    for info in infos:
        if info.is_dir():
            continue
        if info.file_size > limits.member_bytes:
            raise InvalidInput(
                f"{archive_name}: " + _too_large(info.filename, info.file_size, limits)
            )
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > _RATIO_FROM and ratio > limits.ratio:
            raise InvalidInput(
                f"{archive_name}: {info.filename} expands {ratio:.0f} times (the limit is "
                f"{limits.ratio}): refused as a ZIP bomb"
            )
        total += info.file_size
    if total > limits.total_bytes:
        raise InvalidInput(
            f"the members of {archive_name} would expand to {total} bytes, more than the "
            f"limit of {limits.total_bytes}"
        )
    return sorted(i.filename for i in infos if not i.is_dir() and _is_pdf(i.filename))


def _read_capped(stream: Any, name: str, limits: ArchiveLimits) -> bytes:
    """Read a stream to its end, refusing past the member limit (whatever a header said)."""
    with stream:
        data: bytes = stream.read(limits.member_bytes + 1)
    if len(data) > limits.member_bytes:
        raise InvalidInput(_too_large(name, len(data), limits) + " (read)")
    return data


@dataclass(frozen=True)
class ImportOutcome:
    """What happened to one file: ``ingested``, ``duplicate`` or ``refused`` (with why).

    ``settled_in`` is the earlier run that settled the file, when this run took its
    decision from the journal instead of verifying the file again.
    """

    name: str
    status: str
    reason: str | None = None
    message: str | None = None
    license_id: int | None = None
    version: int | None = None
    sha256: str | None = field(default=None, repr=False)
    metadata_digest: str | None = field(default=None, repr=False)
    settled_in: int | None = None


@dataclass
class ImportSummary:
    """A run's outcome. ``ingested`` and ``duplicates`` count this run's decisions;
    ``refused`` and ``refusals`` every file of the source that stands refused, whichever
    run refused it; ``settled_before`` the files earlier runs had settled."""

    run_id: int | None = None
    total: int = 0
    ingested: int = 0
    duplicates: int = 0
    settled_before: int = 0
    refused: Counter[str] = field(default_factory=Counter)
    refusals: list[ImportOutcome] = field(default_factory=list)
    elapsed_seconds: float = 0.0

    @property
    def refused_total(self) -> int:
        return sum(self.refused.values())

    @property
    def settled_refused(self) -> int:
        """Refusals taken from an earlier run (not verified again)."""
        return sum(1 for o in self.refusals if o.settled_in is not None)

    def add(self, outcome: ImportOutcome) -> None:
        self.total += 1
        if outcome.settled_in is not None:
            self.settled_before += 1
        if outcome.status == "refused":
            self.refused[outcome.reason or "error"] += 1
            self.refusals.append(outcome)
        elif outcome.settled_in is not None:
            pass
        elif outcome.status == "ingested":
            self.ingested += 1
        else:
            self.duplicates += 1


# Metadata ------------------------------------------------------------------------------------
def read_manifest(path: Path) -> dict[str, dict[str, str]]:
    """Manifest rows keyed by their ``file`` column (UTF-8, with or without a BOM)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read manifest {path}: {exc}") from None
    reader = csv.DictReader(io.StringIO(text))
    columns = set(reader.fieldnames or ())
    if "file" not in columns:
        raise InvalidInput(f"manifest {path} has no 'file' column")
    unknown = columns - set(MANIFEST_FIELDS)
    if unknown:
        raise InvalidInput(f"manifest {path} has unknown columns: {', '.join(sorted(unknown))}")
    rows: dict[str, dict[str, str]] = {}
    for line, row in enumerate(reader, start=2):
        name = (row.get("file") or "").strip()
        if not name:
            raise InvalidInput(f"manifest {path} line {line}: empty 'file'")
        if name in rows:
            raise InvalidInput(f"manifest {path} line {line}: {name} is listed twice")
        rows[name] = row
    return rows


def _metadata_from_row(row: dict[str, Any]) -> LicenseMetadata:
    fields = {k: v for k, v in row.items() if k != "file" and v not in (None, "")}
    if isinstance(fields.get("extra"), str):
        try:
            fields["extra"] = json.loads(fields["extra"])
        except json.JSONDecodeError:
            raise IntakeRefused("bad_metadata", "extra: not valid JSON") from None
    try:
        return LicenseMetadata.model_validate(fields)
    except ValidationError as exc:
        # Field names and rule messages only: never the input values (holder IDs).
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'metadata'}: {e['msg']}" for e in exc.errors()
        )
        raise IntakeRefused("bad_metadata", problems) from None


def _sidecar(stock: StockSource, item: ImportItem) -> dict[str, Any] | None:
    stem = PurePosixPath(item.name).with_suffix(".json").as_posix()
    try:
        raw = stock.sidecar(item)
    except (OSError, zipfile.BadZipFile):
        return None
    except InvalidInput as exc:
        raise IntakeRefused("bad_metadata", str(exc)) from None
    if raw is None:
        return None
    try:
        data = json.loads(raw)
    except json.JSONDecodeError:
        raise IntakeRefused("bad_metadata", f"{stem}: not valid JSON") from None
    if not isinstance(data, dict):
        raise IntakeRefused("bad_metadata", f"{stem}: not a JSON object")
    return data


def _metadata_input(
    stock: StockSource, item: ImportItem, manifest: dict[str, dict[str, str]] | None
) -> dict[str, Any] | None:
    """The file's manifest row or sidecar object, unparsed (None: there is none)."""
    if manifest is not None:
        return manifest.get(item.name)
    return _sidecar(stock, item)


def _metadata_from_input(raw: dict[str, Any] | None, *, manifest: bool) -> LicenseMetadata:
    if raw is None:
        if manifest:
            raise IntakeRefused("no_metadata", "the manifest has no row for this file")
        raise IntakeRefused("no_metadata", "no manifest row and no sidecar JSON for this file")
    return _metadata_from_row(raw)


# Worker processes ----------------------------------------------------------------------------
_worker_verifier: PdfVerifier | None = None
_worker_blobs: BlobStore | None = None


def _init_worker(factory: VerifierFactory, blobs_factory: BlobStoreFactory | None) -> None:
    global _worker_verifier, _worker_blobs
    _worker_verifier = factory()
    _worker_blobs = blobs_factory() if blobs_factory is not None else None


def _verify_in_worker(data: bytes, name: str, at: dt.datetime) -> str:
    """Verify; when it passed, also store the blob here (the fsyncs leave the writer's path).

    A blob stored for a file that intake then refuses (wrong signer, a conflict) is
    unreferenced and removed by gc after the grace period.
    """
    assert _worker_verifier is not None
    report = _worker_verifier.verify(data, at=at, file_name=name)
    if _worker_blobs is not None and report.passed:
        _worker_blobs.put(data)
    return report.model_dump_json()


# The import ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Pending:
    item: ImportItem
    data: bytes
    sha256: str
    metadata_digest: str
    metadata: LicenseMetadata
    department_id: int
    prechecked: Prechecked


_Write = Callable[[_Pending, VerificationReport], ImportOutcome]


class _BatchWriter:
    """Writes verified files :data:`WRITE_BATCH` at a time, one commit for all.

    Each file is all-or-nothing in its own savepoint (:func:`write_verified`); outcomes are
    recorded (journal, progress) only after the commit that stored them, in the order they
    came (an outcome decided meanwhile without a write waits for the batch), so an
    interrupt loses the uncommitted files from the journal as well as from the store, and
    the next run verifies them again. A file the batch cannot take (its bytes or license
    key taken meanwhile, also by an earlier file of the batch) is decided after the commit
    by the one-file path, ``ingest``, which finds the duplicate or the conflict.
    """

    def __init__(
        self,
        session: Session,
        size: int,
        write_one: _Write,
        record: Callable[[ImportOutcome], None],
        write_args: dict[str, Any],
    ) -> None:
        self.session, self.size, self.write_one, self.record = session, size, write_one, record
        self.write_args = write_args
        self._items: list[ImportOutcome | tuple[_Pending, VerificationReport]] = []
        self._writes = 0

    def add(self, pending: _Pending, report: VerificationReport) -> None:
        """A verified file: written now (``size`` 1) or with its batch."""
        if self.size <= 1:
            self.record(self.write_one(pending, report))
            return
        self._items.append((pending, report))
        self._writes += 1
        if self._writes >= self.size:
            self.flush()

    def outcome(self, outcome: ImportOutcome) -> None:
        """An outcome decided without a write: recorded after the files before it."""
        if self._items:
            self._items.append(outcome)
        else:
            self.record(outcome)

    def flush(self) -> None:
        """Write the files held, commit, then record every outcome held, in order."""
        items, self._items, self._writes = self._items, [], 0
        if not items:  # the first item held is always a file to write
            return
        done = [i if isinstance(i, ImportOutcome) else self._write(*i) for i in items]
        self.session.commit()
        for outcome in done:
            self.record(outcome if isinstance(outcome, ImportOutcome) else self.write_one(*outcome))

    def _write(
        self, pending: _Pending, report: VerificationReport
    ) -> ImportOutcome | tuple[_Pending, VerificationReport]:
        try:
            result = write_verified(
                session=self.session,
                pdf=pending.data,
                report=report,
                prechecked=pending.prechecked,
                declared_type=_declared_type(pending.item.name),
                **self.write_args,
            )
        except IntakeRefused as exc:  # before any row: the batch goes on
            return _refused(pending, exc.reason, str(exc))
        except (ConflictError, IntegrityError):  # savepoint rolled back: decide it alone
            return (pending, report)
        return _stored(pending, result)


def _stored(pending: _Pending, result: IntakeResult) -> ImportOutcome:
    return ImportOutcome(
        pending.item.name,
        "ingested" if result.created else "duplicate",
        license_id=result.license.id,
        version=result.version.version,
        sha256=pending.sha256,
        metadata_digest=pending.metadata_digest,
    )


def _refused(pending: _Pending, reason: str, message: str) -> ImportOutcome:
    return ImportOutcome(
        pending.item.name,
        "refused",
        reason,
        message,
        sha256=pending.sha256,
        metadata_digest=pending.metadata_digest,
    )


def import_stock(
    *,
    sessions: sessionmaker[Session],
    blobs: BlobStore,
    crypto: HolderCrypto,
    verifier_factory: VerifierFactory,
    blobs_factory: BlobStoreFactory | None = None,
    source: Path,
    manifest: Path | None = None,
    workers: int = 2,
    now: dt.datetime | None = None,
    trust_fingerprint: str | None = None,
    retry_refused: bool = False,
    on_outcome: Callable[[ImportOutcome], None] | None = None,
    on_start: Callable[[int], None] | None = None,
    require_revocation: bool = True,
    limits: ArchiveLimits | None = None,
    write_batch: int = 1,
) -> ImportSummary:
    """Import every PDF of ``source`` (a folder or a ZIP); see the module docstring.

    ``limits`` (default :class:`ArchiveLimits`): a source beyond them is refused with
    :class:`InvalidInput` before anything is read or written.

    ``sessions`` makes sessions (a ``sessionmaker``); ``verifier_factory`` must be
    picklable (a module-level function or a ``functools.partial`` of one) when
    ``workers > 1``: each worker process builds its own verifier with it. With
    ``blobs_factory`` (picklable too) the workers also store the blobs of files that
    passed verification, so the serialized writer does not wait for their fsyncs.
    ``trust_fingerprint`` is the fingerprint of the trust bundle the verifiers use: a
    refusal made under another one is tried again (None: trust changes go unnoticed).
    ``retry_refused`` decides every refused file anew, verifying it again.
    ``write_batch``: verified files written per transaction (1, the default: one commit
    per file, each outcome reported as soon as it is decided; ``evault import`` writes
    :data:`WRITE_BATCH`).
    """
    started = time.perf_counter()
    rows = read_manifest(manifest) if manifest is not None else None
    stock = StockSource.open(source, limits or ArchiveLimits())
    items = stock.items
    summary = ImportSummary()
    if on_start is not None:
        on_start(len(items))

    with stock, sessions() as session:
        digest = intake_digest(session=session, trust_fingerprint=trust_fingerprint)
        run = ImportRun(
            source=str(source.resolve()),
            retry_refused=retry_refused,
            intake_digest=digest,
            state="running",
        )
        session.add(run)
        session.commit()
        run_id = summary.run_id = run.id
        journal: list[ImportOutcome] = []

        def write_journal(state: str | None = None) -> None:
            session.add_all(_journal_entry(run_id, o) for o in journal)
            values: dict[str, Any] = {
                "files": summary.total,
                "ingested": summary.ingested,
                "duplicates": summary.duplicates,
                "refused": summary.refused_total - summary.settled_refused,
                "settled_before": summary.settled_before,
            }
            if state is not None:
                values |= {"state": state, "finished_at": utcnow()}
            session.execute(update(ImportRun).where(ImportRun.id == run_id).values(**values))
            session.commit()
            journal.clear()

        def record(outcome: ImportOutcome) -> None:
            summary.add(outcome)
            if outcome.settled_in is None:
                journal.append(outcome)
                if len(journal) >= _JOURNAL_BATCH:
                    write_journal()
            if on_outcome is not None:
                on_outcome(outcome)

        departments: dict[str, int | None] = {}

        def prepare(item: ImportItem) -> _Pending | ImportOutcome:
            """Settled files, duplicates and metadata problems are decided here, unverified."""
            try:
                data = stock.read(item)
            except (OSError, zipfile.BadZipFile, KeyError, InvalidInput) as exc:
                return ImportOutcome(item.name, "refused", "unreadable", str(exc))
            sha256 = hashlib.sha256(data).hexdigest()
            existing = version_by_sha256(session=session, sha256=sha256)
            # Read before the rollback expires it (a reload would cost a query per file).
            stored = (existing.license_id, existing.version) if existing is not None else None
            earlier = _journal_of(session, sha256, excluding_run=run_id)
            session.rollback()
            if stored is not None:
                stored_by = next((e.run_id for e in earlier if e.outcome != "refused"), None)
                return ImportOutcome(
                    item.name,
                    "duplicate",
                    license_id=stored[0],
                    version=stored[1],
                    sha256=sha256,
                    settled_in=stored_by,
                )

            def refused(reason: str, message: str, metadata_digest: str | None) -> ImportOutcome:
                return ImportOutcome(
                    item.name,
                    "refused",
                    reason,
                    message,
                    sha256=sha256,
                    metadata_digest=metadata_digest,
                )

            try:
                raw = _metadata_input(stock, item, rows)
            except IntakeRefused as exc:
                return refused(exc.reason, str(exc), None)
            metadata_digest = crypto.digest(
                json.dumps(raw, sort_keys=True, ensure_ascii=False).encode(),
                purpose=_METADATA_PURPOSE,
            )
            if not retry_refused:
                settled = _settled_refusal(earlier, metadata_digest, digest)
                if settled is not None:
                    return ImportOutcome(
                        item.name,
                        "refused",
                        settled.reason,
                        settled.message,
                        sha256=sha256,
                        metadata_digest=metadata_digest,
                        settled_in=settled.run_id,
                    )
            try:
                metadata = _metadata_from_input(raw, manifest=rows is not None)
            except IntakeRefused as exc:
                return refused(exc.reason, str(exc), metadata_digest)
            code = str(metadata.issuer_code)
            if code not in departments:
                found = find_department_by_code(session=session, credit_code=code)
                departments[code] = found.id if found is not None else None
                session.rollback()
            department_id = departments[code]
            if department_id is None:
                return refused(
                    "unknown_department",
                    f"no department is registered with 颁发机构代码 {code}",
                    metadata_digest,
                )
            try:
                checked = precheck(
                    session=session,
                    crypto=crypto,
                    metadata=metadata,
                    pushed_by_department_id=department_id,
                    sha256=sha256,
                )
            except IntakeRefused as exc:
                return refused(exc.reason, str(exc), metadata_digest)
            except ConflictError as exc:
                return refused("conflict", str(exc), metadata_digest)
            return _Pending(item, data, sha256, metadata_digest, metadata, department_id, checked)

        def write(pending: _Pending, report: VerificationReport) -> ImportOutcome:
            def refused(reason: str, message: str) -> ImportOutcome:
                session.rollback()
                return _refused(pending, reason, message)

            try:
                result = ingest(
                    session=session,
                    blobs=blobs,
                    verifier=PrecomputedVerifier(report),
                    crypto=crypto,
                    metadata=pending.metadata,
                    pdf=pending.data,
                    pushed_by_department_id=pending.department_id,
                    file_name=pending.item.name,
                    now=now,
                    prechecked=pending.prechecked,
                    require_revocation=require_revocation,
                    declared_type=_declared_type(pending.item.name),
                )
            except IntakeRefused as exc:
                return refused(exc.reason, str(exc))
            except ConflictError as exc:
                return refused("conflict", str(exc))
            return _stored(pending, result)

        at = now or dt.datetime.now(dt.UTC)
        writer = _BatchWriter(
            session,
            write_batch,
            write,
            record,
            {
                "blobs": blobs,
                "crypto": crypto,
                "now": now,
                "require_revocation": require_revocation,
            },
        )
        try:
            if workers <= 1:
                verifier: PdfVerifier | None = None
                for item in items:
                    prepared = prepare(item)
                    if isinstance(prepared, ImportOutcome):
                        writer.outcome(prepared)
                        continue
                    verifier = verifier or verifier_factory()
                    report = verifier.verify(prepared.data, at=at, file_name=item.name)
                    writer.add(prepared, report)
            else:
                _run_parallel(
                    items,
                    prepare,
                    writer.add,
                    writer.outcome,
                    verifier_factory,
                    blobs_factory,
                    workers,
                    at,
                )
            writer.flush()
        except BaseException:
            session.rollback()
            try:
                write_journal("interrupted")
            except Exception:  # the original error matters more than the journal's
                session.rollback()
            raise
        write_journal("finished")
    summary.elapsed_seconds = time.perf_counter() - started
    return summary


def _journal_entry(run_id: int, outcome: ImportOutcome) -> ImportJournalEntry:
    return ImportJournalEntry(
        run_id=run_id,
        name=outcome.name,
        sha256=outcome.sha256,
        metadata_digest=outcome.metadata_digest,
        outcome=outcome.status,
        reason=outcome.reason,
        message=outcome.message,
        license_id=outcome.license_id,
        version=outcome.version,
    )


@dataclass(frozen=True)
class _Decision:
    """An earlier run's journal entry for some bytes, with that run's intake digest."""

    run_id: int
    outcome: str
    reason: str | None
    message: str | None
    metadata_digest: str | None
    intake_digest: str


#: What other runs decided for some bytes, newest first (built once: it runs per file).
_JOURNAL_OF = (
    select(
        ImportJournalEntry.run_id,
        ImportJournalEntry.outcome,
        ImportJournalEntry.reason,
        ImportJournalEntry.message,
        ImportJournalEntry.metadata_digest,
        ImportRun.intake_digest,
    )
    .join(ImportRun, ImportRun.id == ImportJournalEntry.run_id)
    .where(
        ImportJournalEntry.sha256 == bindparam("sha256"),
        ImportJournalEntry.run_id != bindparam("run_id"),
    )
    .order_by(ImportJournalEntry.id.desc())
)


def _journal_of(session: Session, sha256: str, *, excluding_run: int) -> list[_Decision]:
    """What other runs (not ``excluding_run``, the current one) decided for these bytes, newest
    first."""
    rows = session.connection().execute(_JOURNAL_OF, {"sha256": sha256, "run_id": excluding_run})
    return [_Decision(*row) for row in rows]


def _settled_refusal(
    earlier: list[_Decision], metadata_digest: str, digest: str
) -> _Decision | None:
    """The refusal that settles these bytes with this metadata, if the newest decision for
    them is one made under the same intake digest for a reason that does not change alone."""
    newest = next((e for e in earlier if e.metadata_digest == metadata_digest), None)
    if (
        newest is not None
        and newest.outcome == "refused"
        and newest.intake_digest == digest
        and newest.reason not in _ALWAYS_RETRIED
    ):
        return newest
    return None


def intake_digest(*, session: Session, trust_fingerprint: str | None) -> str:
    """A fingerprint of what intake's verdicts depend on besides the file and its metadata:
    the trust bundle, the catalog's rules (departments, issuers, license types, seal
    fingerprints) and evault's version. Ends the session's read transaction."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        evault_version = version("evault")
    except PackageNotFoundError:
        evault_version = "unknown"
    departments = session.execute(
        select(Department.id, Department.credit_code, Department.is_issuer).order_by(Department.id)
    ).all()
    types = session.execute(
        select(LicenseType.id, LicenseType.code, LicenseType.holder_kind).order_by(LicenseType.id)
    ).all()
    issuers = session.execute(
        select(LicenseTypeIssuer.license_type_id, LicenseTypeIssuer.department_id).order_by(
            LicenseTypeIssuer.license_type_id, LicenseTypeIssuer.department_id
        )
    ).all()
    seals = session.execute(
        select(SealCertificate.department_id, SealCertificate.fingerprint).order_by(
            SealCertificate.department_id, SealCertificate.fingerprint
        )
    ).all()
    session.rollback()
    payload = {
        "trust": trust_fingerprint or "",
        "evault": evault_version,
        "departments": [list(r) for r in departments],
        "types": [list(r) for r in types],
        "issuers": [list(r) for r in issuers],
        "seals": [list(r) for r in seals],
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def list_import_runs(*, session: Session, limit: int = 20) -> list[ImportRun]:
    """The latest runs of ``evault import``, newest first."""
    return list(session.scalars(select(ImportRun).order_by(ImportRun.id.desc()).limit(limit)))


def import_run_refusals(*, session: Session, run_id: int) -> tuple[ImportRun, list[ImportOutcome]]:
    """A run and the refusals it decided (not those it took from earlier runs)."""
    run = session.get(ImportRun, run_id)
    if run is None:
        raise NotFound(f"there is no import run {run_id}")
    entries = session.scalars(
        select(ImportJournalEntry)
        .where(ImportJournalEntry.run_id == run_id, ImportJournalEntry.outcome == "refused")
        .order_by(ImportJournalEntry.id)
    )
    return run, [
        ImportOutcome(e.name, e.outcome, e.reason, e.message, sha256=e.sha256) for e in entries
    ]


def _run_parallel(
    items: list[ImportItem],
    prepare: Callable[[ImportItem], _Pending | ImportOutcome],
    write: Callable[[_Pending, VerificationReport], None],
    record: Callable[[ImportOutcome], None],
    factory: VerifierFactory,
    blobs_factory: BlobStoreFactory | None,
    workers: int,
    at: dt.datetime,
) -> None:
    # fork: the workers start with everything already imported (a spawned worker spends
    # seconds importing pyHanko and SQLAlchemy); they touch none of the parent's
    # connections or threads. spawn where fork does not exist.
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    context = multiprocessing.get_context(method)
    window = workers * _WINDOW_PER_WORKER
    queue: Iterator[ImportItem] = iter(items)
    pending: dict[concurrent.futures.Future[str], _Pending] = {}
    with concurrent.futures.ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_init_worker,
        initargs=(factory, blobs_factory),
    ) as pool:
        try:
            exhausted = False
            while pending or not exhausted:
                while not exhausted and len(pending) < window:
                    item = next(queue, None)
                    if item is None:
                        exhausted = True
                        break
                    prepared = prepare(item)
                    if isinstance(prepared, ImportOutcome):
                        record(prepared)
                        continue
                    future = pool.submit(_verify_in_worker, prepared.data, item.name, at)
                    pending[future] = prepared
                if not pending:
                    continue
                done, _ = concurrent.futures.wait(
                    pending, return_when=concurrent.futures.FIRST_COMPLETED
                )
                for future in sorted(done, key=lambda f: pending[f].item.name):
                    prepared = pending.pop(future)
                    try:
                        report = VerificationReport.model_validate_json(future.result())
                    except Exception as exc:  # the worker failed on this file
                        record(
                            ImportOutcome(
                                prepared.item.name,
                                "refused",
                                "verification_error",
                                f"verification failed to run: {type(exc).__name__}",
                            )
                        )
                        continue
                    write(prepared, report)
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise


def write_refusals(summary: ImportSummary, path: Path) -> Path:
    """Write the refusals as CSV (file, reason, message, run: the run that refused the
    file); messages carry no holder IDs."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["file", "reason", "message", "run"])
        for outcome in summary.refusals:
            run = outcome.settled_in or summary.run_id
            writer.writerow([outcome.name, outcome.reason or "", outcome.message or "", run or ""])
    return path
