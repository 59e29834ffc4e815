"""Bulk import of existing stock (存量证照): a folder or a ZIP of sealed PDFs.

Metadata comes from a manifest CSV (one row per file: a ``file`` column plus the
:class:`schemas.LicenseMetadata` fields, ``extra`` as JSON) or, without a manifest, from a
sidecar ``<name>.json`` next to each PDF. The pushing department of each file is the
department registered with the row's 颁发机构代码.

Verification (the slow part) runs in worker processes; the writes run one at a time in
this process, through :func:`vault.services.intake.ingest`, so every rule of intake holds.
A file whose bytes are already stored is a duplicate found by its SHA-256 without being
verified again, so an interrupted import is resumed by running it again: no duplicates,
no losses.
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
from sqlalchemy.orm import Session, sessionmaker

from schemas.license import LicenseMetadata
from schemas.report import VerificationReport
from vault.blobs.base import BlobStore
from vault.crypto import HolderCrypto
from vault.errors import ConflictError, IntakeRefused, InvalidInput
from vault.services.catalog import find_department_by_code
from vault.services.intake import (
    PdfVerifier,
    Prechecked,
    PrecomputedVerifier,
    ingest,
    precheck,
)
from vault.services.lifecycle import version_by_sha256

__all__ = [
    "MANIFEST_FIELDS",
    "ImportItem",
    "ImportOutcome",
    "ImportSummary",
    "discover",
    "import_stock",
    "read_manifest",
    "write_refusals",
]

MANIFEST_FIELDS = ("file", *LicenseMetadata.model_fields)
_WINDOW_PER_WORKER = 4

VerifierFactory = Callable[[], PdfVerifier]
BlobStoreFactory = Callable[[], BlobStore]


@dataclass(frozen=True)
class ImportItem:
    """One PDF to import: ``name`` is its path inside the folder or the ZIP (POSIX)."""

    name: str
    path: Path
    member: str | None = None  # the ZIP member, when ``path`` is a ZIP

    def read(self) -> bytes:
        if self.member is None:
            return self.path.read_bytes()
        with zipfile.ZipFile(self.path) as archive:
            return archive.read(self.member)


@dataclass(frozen=True)
class ImportOutcome:
    """What happened to one file: ``ingested``, ``duplicate`` or ``refused`` (with why)."""

    name: str
    status: str
    reason: str | None = None
    message: str | None = None
    license_id: int | None = None
    version: int | None = None


@dataclass
class ImportSummary:
    total: int = 0
    ingested: int = 0
    duplicates: int = 0
    refused: Counter[str] = field(default_factory=Counter)
    refusals: list[ImportOutcome] = field(default_factory=list)
    elapsed_seconds: float = 0.0

    @property
    def refused_total(self) -> int:
        return sum(self.refused.values())

    def add(self, outcome: ImportOutcome) -> None:
        self.total += 1
        if outcome.status == "ingested":
            self.ingested += 1
        elif outcome.status == "duplicate":
            self.duplicates += 1
        else:
            self.refused[outcome.reason or "error"] += 1
            self.refusals.append(outcome)


# Discovery and metadata -------------------------------------------------------------------
def discover(source: Path) -> list[ImportItem]:
    """Every PDF in a folder (recursively) or a ZIP file, sorted by name."""
    if source.is_dir():
        return [
            ImportItem(name=p.relative_to(source).as_posix(), path=p)
            for p in sorted(source.rglob("*"))
            if p.is_file() and p.suffix.lower() == ".pdf"
        ]
    if source.is_file() and zipfile.is_zipfile(source):
        with zipfile.ZipFile(source) as archive:
            names = sorted(
                info.filename
                for info in archive.infolist()
                if not info.is_dir() and info.filename.lower().endswith(".pdf")
            )
        return [ImportItem(name=n, path=source, member=n) for n in names]
    raise InvalidInput(f"{source} is neither a folder nor a ZIP file")


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


def _sidecar(item: ImportItem) -> dict[str, Any] | None:
    stem = PurePosixPath(item.name).with_suffix(".json").as_posix()
    try:
        if item.member is None:
            path = item.path.with_suffix(".json")
            raw = path.read_bytes() if path.is_file() else None
        else:
            with zipfile.ZipFile(item.path) as archive:
                raw = archive.read(stem) if stem in archive.namelist() else None
    except OSError:
        return None
    if raw is None:
        return None
    try:
        data = json.loads(raw)
    except json.JSONDecodeError:
        raise IntakeRefused("bad_metadata", f"{stem}: not valid JSON") from None
    if not isinstance(data, dict):
        raise IntakeRefused("bad_metadata", f"{stem}: not a JSON object")
    return data


def _metadata_for(item: ImportItem, manifest: dict[str, dict[str, str]] | None) -> LicenseMetadata:
    if manifest is not None:
        row = manifest.get(item.name)
        if row is None:
            raise IntakeRefused("no_metadata", "the manifest has no row for this file")
        return _metadata_from_row(row)
    data = _sidecar(item)
    if data is None:
        raise IntakeRefused("no_metadata", "no manifest row and no sidecar JSON for this file")
    return _metadata_from_row(data)


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
    metadata: LicenseMetadata
    department_id: int
    prechecked: Prechecked


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
    on_outcome: Callable[[ImportOutcome], None] | None = None,
    on_start: Callable[[int], None] | None = None,
) -> ImportSummary:
    """Import every PDF of ``source`` (a folder or a ZIP); see the module docstring.

    ``sessions`` makes sessions (a ``sessionmaker``); ``verifier_factory`` must be
    picklable (a module-level function or a ``functools.partial`` of one) when
    ``workers > 1``: each worker process builds its own verifier with it. With
    ``blobs_factory`` (picklable too) the workers also store the blobs of files that
    passed verification, so the serialized writer does not wait for their fsyncs.
    """
    started = time.perf_counter()
    items = discover(source)
    rows = read_manifest(manifest) if manifest is not None else None
    summary = ImportSummary()
    if on_start is not None:
        on_start(len(items))

    def record(outcome: ImportOutcome) -> None:
        summary.add(outcome)
        if on_outcome is not None:
            on_outcome(outcome)

    with sessions() as session:
        departments: dict[str, int | None] = {}

        def prepare(item: ImportItem) -> _Pending | ImportOutcome:
            """Duplicates and metadata problems are settled here, without verification."""
            try:
                data = item.read()
            except (OSError, zipfile.BadZipFile, KeyError) as exc:
                return ImportOutcome(item.name, "refused", "unreadable", str(exc))
            sha256 = hashlib.sha256(data).hexdigest()
            existing = version_by_sha256(session=session, sha256=sha256)
            session.rollback()
            if existing is not None:
                return ImportOutcome(
                    item.name, "duplicate", license_id=existing.license_id, version=existing.version
                )
            try:
                metadata = _metadata_for(item, rows)
            except IntakeRefused as exc:
                return ImportOutcome(item.name, "refused", exc.reason, str(exc))
            code = str(metadata.issuer_code)
            if code not in departments:
                found = find_department_by_code(session=session, credit_code=code)
                departments[code] = found.id if found is not None else None
                session.rollback()
            department_id = departments[code]
            if department_id is None:
                return ImportOutcome(
                    item.name,
                    "refused",
                    "unknown_department",
                    f"no department is registered with 颁发机构代码 {code}",
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
                return ImportOutcome(item.name, "refused", exc.reason, str(exc))
            except ConflictError as exc:
                return ImportOutcome(item.name, "refused", "conflict", str(exc))
            return _Pending(item, data, metadata, department_id, checked)

        def write(pending: _Pending, report: VerificationReport) -> ImportOutcome:
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
                )
            except IntakeRefused as exc:
                session.rollback()
                return ImportOutcome(pending.item.name, "refused", exc.reason, str(exc))
            except ConflictError as exc:
                session.rollback()
                return ImportOutcome(pending.item.name, "refused", "conflict", str(exc))
            return ImportOutcome(
                pending.item.name,
                "ingested" if result.created else "duplicate",
                license_id=result.license.id,
                version=result.version.version,
            )

        at = now or dt.datetime.now(dt.UTC)
        if workers <= 1:
            verifier = verifier_factory()
            for item in items:
                prepared = prepare(item)
                if isinstance(prepared, ImportOutcome):
                    record(prepared)
                    continue
                report = verifier.verify(prepared.data, at=at, file_name=item.name)
                record(write(prepared, report))
        else:
            _run_parallel(
                items, prepare, write, record, verifier_factory, blobs_factory, workers, at
            )
    summary.elapsed_seconds = time.perf_counter() - started
    return summary


def _run_parallel(
    items: list[ImportItem],
    prepare: Callable[[ImportItem], _Pending | ImportOutcome],
    write: Callable[[_Pending, VerificationReport], ImportOutcome],
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
                    record(write(prepared, report))
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise


def write_refusals(summary: ImportSummary, path: Path) -> Path:
    """Write the refusals as CSV (file, reason, message); messages carry no holder IDs."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["file", "reason", "message"])
        for outcome in summary.refusals:
            writer.writerow([outcome.name, outcome.reason or "", outcome.message or ""])
    return path
