"""Bulk import of existing stock (存量证照): a folder or a ZIP of sealed PDF and OFD files
(``*.pdf``, ``*.ofd``; the content decides the format, and an extension naming the other
format refuses the file as ``format_mismatch``).

Metadata comes from a manifest CSV (one row per file: a ``file`` column plus the
:class:`schemas.LicenseMetadata` fields, ``extra`` as JSON) or, without a manifest, from a
sidecar ``<name>.json`` next to each PDF. The pushing department of each file is the
department registered with the row's 颁发机构代码.

The parts, in the order a file meets them:

- :mod:`~vault.services.bulk.source`: the files of the folder or the ZIP (within
  :class:`ArchiveLimits`) and their metadata;
- :mod:`~vault.services.bulk.prepare`: each chunk of files decided as far as it can be
  without verifying (settled, duplicate, bad metadata, intake's rules, conflicts);
- :mod:`~vault.services.bulk.workers`: verification, in worker processes with a verifier
  kept warm each (or in this process, for one worker);
- :mod:`~vault.services.bulk.write` and :mod:`~vault.services.bulk.core_writer`: the
  report checked by intake's rules, then the rows written a batch per transaction in
  SQLAlchemy Core, every file the batch cannot take decided alone by
  :func:`vault.services.intake.ingest`, so every rule of intake holds;
- :mod:`~vault.services.bulk.journal`: the run and its decisions;
- :mod:`~vault.services.bulk.pipeline`: :class:`StockImport`, which runs them.

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

from vault.services.bulk.journal import (
    ImportOutcome,
    ImportSummary,
    import_run_refusals,
    intake_digest,
    list_import_runs,
    write_refusals,
)
from vault.services.bulk.pipeline import ImportOptions, StockImport, import_stock
from vault.services.bulk.source import (
    MANIFEST_FIELDS,
    ArchiveLimits,
    ImportItem,
    StockSource,
    read_manifest,
)
from vault.services.bulk.workers import BlobStoreFactory, VerifierFactory
from vault.services.bulk.write import WRITE_BATCH

__all__ = [
    "MANIFEST_FIELDS",
    "WRITE_BATCH",
    "ArchiveLimits",
    "BlobStoreFactory",
    "ImportItem",
    "ImportOptions",
    "ImportOutcome",
    "ImportSummary",
    "StockImport",
    "StockSource",
    "VerifierFactory",
    "import_run_refusals",
    "import_stock",
    "intake_digest",
    "list_import_runs",
    "read_manifest",
    "write_refusals",
]
