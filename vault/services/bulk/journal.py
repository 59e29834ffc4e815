"""The import's journal: each run (:class:`vault.models.ImportRun`) and what it decided for
each file, by SHA-256 (:class:`vault.models.ImportJournalEntry`); what earlier runs settled;
the run's summary and its refusals CSV."""

from __future__ import annotations

import csv
import functools
import hashlib
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from vault.db.base import utcnow
from vault.errors import NotFound
from vault.models import (
    Department,
    ImportJournalEntry,
    ImportRun,
    LicenseType,
    LicenseTypeIssuer,
    SealCertificate,
)

__all__ = [
    "Decision",
    "ImportOutcome",
    "ImportSummary",
    "Journal",
    "decisions_of",
    "import_run_refusals",
    "intake_digest",
    "list_import_runs",
    "settled_refusal",
    "write_refusals",
]

#: Journal entries written per commit (and at the end, or on an interrupt).
JOURNAL_BATCH = 50
#: Refusals that depend on what else is stored or on chance: decided anew on every run.
_ALWAYS_RETRIED = frozenset({"conflict", "verification_error", "unreadable"})


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


class Journal:
    """The current run's row and its entries, written :data:`JOURNAL_BATCH` at a time.

    Entries are written after intake committed what they record: a lost entry costs one
    verification on the next run, never a wrong decision.
    """

    def __init__(self, session: Session, run_id: int, summary: ImportSummary) -> None:
        self.session, self.run_id, self.summary = session, run_id, summary
        self._held: list[ImportOutcome] = []

    @classmethod
    def start(cls, session: Session, *, source: Path, retry_refused: bool, digest: str) -> Journal:
        """A new run, committed, and its journal."""
        run = ImportRun(
            source=str(source.resolve()),
            retry_refused=retry_refused,
            intake_digest=digest,
            state="running",
        )
        session.add(run)
        session.commit()
        summary = ImportSummary(run_id=run.id)
        return cls(session, run.id, summary)

    def add(self, outcome: ImportOutcome) -> None:
        """Count the outcome; journal it (this run's decisions only) in a later commit."""
        self.summary.add(outcome)
        if outcome.settled_in is None:
            self._held.append(outcome)
            if len(self._held) >= JOURNAL_BATCH:
                self.write()

    def write(self, state: str | None = None) -> None:
        """The held entries and the run's counts (and ``state``, when it ended), committed."""
        if self._held:
            self.session.execute(_INSERT_ENTRY, [_entry_values(self.run_id, o) for o in self._held])
        summary = self.summary
        values: dict[str, Any] = {
            "files": summary.total,
            "ingested": summary.ingested,
            "duplicates": summary.duplicates,
            "refused": summary.refused_total - summary.settled_refused,
            "settled_before": summary.settled_before,
        }
        if state is not None:
            values |= {"state": state, "finished_at": utcnow()}
        self.session.execute(update(ImportRun).where(ImportRun.id == self.run_id).values(**values))
        self.session.commit()
        self._held.clear()


_INSERT_ENTRY = insert(cast(Table, ImportJournalEntry.__table__))


def _entry_values(run_id: int, outcome: ImportOutcome) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "name": outcome.name,
        "sha256": outcome.sha256,
        "metadata_digest": outcome.metadata_digest,
        "outcome": outcome.status,
        "reason": outcome.reason,
        "message": outcome.message,
        "license_id": outcome.license_id,
        "version": outcome.version,
        "decided_at": utcnow(),
    }


@dataclass(frozen=True)
class Decision:
    """An earlier run's journal entry for some bytes, with that run's intake digest."""

    run_id: int
    outcome: str
    reason: str | None
    message: str | None
    metadata_digest: str | None
    intake_digest: str


#: What other runs decided for some bytes, newest first (one query for many files).
_DECISIONS_OF = (
    select(
        ImportJournalEntry.sha256,
        ImportJournalEntry.run_id,
        ImportJournalEntry.outcome,
        ImportJournalEntry.reason,
        ImportJournalEntry.message,
        ImportJournalEntry.metadata_digest,
        ImportRun.intake_digest,
    )
    .join(ImportRun, ImportRun.id == ImportJournalEntry.run_id)
    .where(
        ImportJournalEntry.sha256.in_(bindparam("sha256s", expanding=True)),
        ImportJournalEntry.run_id != bindparam("run_id"),
    )
    .order_by(ImportJournalEntry.id.desc())
)


def decisions_of(
    session: Session, sha256s: Iterable[str], *, excluding_run: int
) -> dict[str, list[Decision]]:
    """What other runs (not ``excluding_run``, the current one) decided for each of these
    bytes, newest first."""
    found: dict[str, list[Decision]] = {}
    keys = sorted(set(sha256s))
    if not keys:
        return found
    rows = session.connection().execute(_DECISIONS_OF, {"sha256s": keys, "run_id": excluding_run})
    for sha256, run_id, outcome, reason, message, metadata_digest, digest in rows:
        decision = Decision(run_id, outcome, reason, message, metadata_digest, digest)
        found.setdefault(sha256 or "", []).append(decision)
    return found


def settled_refusal(earlier: list[Decision], metadata_digest: str, digest: str) -> Decision | None:
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


@functools.cache
def _evault_version() -> str:
    """The installed evault's version, read once per process (the code running is the code
    loaded; looking it up scans the whole path, tens of milliseconds a run)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("evault")
    except PackageNotFoundError:
        return "unknown"


def intake_digest(*, session: Session, trust_fingerprint: str | None) -> str:
    """A fingerprint of what intake's verdicts depend on besides the file and its metadata:
    the trust bundle, the catalog's rules (departments, issuers, license types, seal
    fingerprints) and evault's version. Ends the session's read transaction."""
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
        "evault": _evault_version(),
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
