"""The stock to import: the license files of a folder or a ZIP (read within
:class:`ArchiveLimits`), and each file's metadata from a manifest CSV or a sidecar JSON."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from pydantic import ValidationError

from schemas.license import LicenseMetadata
from vault.errors import IntakeRefused, InvalidInput

__all__ = [
    "MANIFEST_FIELDS",
    "ArchiveLimits",
    "ImportItem",
    "StockSource",
    "declared_type",
    "metadata_from_input",
    "metadata_input",
    "read_manifest",
]

MANIFEST_FIELDS = ("file", *LicenseMetadata.model_fields)


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


def declared_type(name: str) -> str | None:
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


def metadata_input(
    stock: StockSource, item: ImportItem, manifest: dict[str, dict[str, str]] | None
) -> dict[str, Any] | None:
    """The file's manifest row or sidecar object, unparsed (None: there is none)."""
    if manifest is not None:
        return manifest.get(item.name)
    return _sidecar(stock, item)


def metadata_from_input(raw: dict[str, Any] | None, *, manifest: bool) -> LicenseMetadata:
    if raw is None:
        if manifest:
            raise IntakeRefused("no_metadata", "the manifest has no row for this file")
        raise IntakeRefused("no_metadata", "no manifest row and no sidecar JSON for this file")
    return _metadata_from_row(raw)
