"""Files answered for download, with the same headers on every route and page: the type, a
file name, ``Cache-Control: no-store`` (licenses, copies and materials carry personal data)
and ``X-Content-Type-Options: nosniff``."""

from __future__ import annotations

from fastapi.responses import Response

from schemas.report import FileFormat
from signing.formats import EXTENSIONS, MEDIA_TYPES, detect_format

__all__ = ["copy_download", "file_download"]


def file_download(
    data: bytes, media_type: str, file_name: str, *, private: bool = True
) -> Response:
    """``data`` as an attachment named ``file_name``; ``private=False`` for public files
    (the trust bundle) that caches may keep."""
    headers = {
        "Content-Disposition": f'attachment; filename="{file_name}"',
        "X-Content-Type-Options": "nosniff",
    }
    if private:
        headers["Cache-Control"] = "no-store"
    return Response(data, media_type=media_type, headers=headers)


def copy_download(copy_id: str, data: bytes) -> Response:
    """A certified copy: a PDF or an OFD file, as its original was."""
    kind = detect_format(data) or FileFormat.PDF
    return file_download(data, MEDIA_TYPES[kind], f"copy-{copy_id}.{EXTENSIONS[kind]}")
