"""What kind of sealed file some bytes are: PDF or OFD, told by the content.

A declared media type (a multipart part's ``Content-Type``, a file's extension) is a
claim; the bytes decide. ``detect_format`` looks at the file's first bytes the way the
verifier dispatches (:mod:`signing.verify`): a ZIP local file header is OFD (GB/T 33190),
``%PDF-`` within the first KiB is PDF (ISO 32000 readers accept a short preamble).
"""

from __future__ import annotations

from schemas.report import FileFormat

__all__ = [
    "EXTENSIONS",
    "GENERIC_MEDIA_TYPES",
    "MEDIA_TYPES",
    "declared_format",
    "detect_format",
]

#: The media type each format is served with.
MEDIA_TYPES: dict[FileFormat, str] = {
    FileFormat.PDF: "application/pdf",
    FileFormat.OFD: "application/ofd",
}
#: The file name extension each format is saved with.
EXTENSIONS: dict[FileFormat, str] = {FileFormat.PDF: "pdf", FileFormat.OFD: "ofd"}
#: Declared types that name no format (the content alone decides).
GENERIC_MEDIA_TYPES = frozenset({"", "application/octet-stream", "binary/octet-stream"})
#: Declared types that name a format (application/zip: how some clients label an OFD).
_DECLARED: dict[str, FileFormat] = {
    "application/pdf": FileFormat.PDF,
    "application/x-pdf": FileFormat.PDF,
    "application/ofd": FileFormat.OFD,
    "application/x-ofd": FileFormat.OFD,
    "application/zip": FileFormat.OFD,
}
_ZIP_MAGIC = b"PK\x03\x04"
_PDF_MAGIC = b"%PDF-"
_PDF_PREAMBLE = 1024


def detect_format(data: bytes) -> FileFormat | None:
    """The format of ``data`` by its first bytes; None when it is neither PDF nor OFD."""
    if data.startswith(_ZIP_MAGIC):
        return FileFormat.OFD
    if _PDF_MAGIC in data[:_PDF_PREAMBLE]:
        return FileFormat.PDF
    return None


def declared_format(media_type: str | None) -> FileFormat | None:
    """The format a declared media type names (parameters ignored, any case); None for a
    generic type (``application/octet-stream``) or none given.

    Raises ValueError for a type that names something else (``text/plain``, ``image/png``).
    """
    bare = (media_type or "").split(";", 1)[0].strip().lower()
    if bare in GENERIC_MEDIA_TYPES:
        return None
    try:
        return _DECLARED[bare]
    except KeyError:
        raise ValueError(f"{bare} is not a sealed license's type") from None
