"""Blob stores behind one interface, chosen by settings (``blob_backend``)."""

from __future__ import annotations

from vault.blobs.base import BlobInfo, BlobStore, check_address, sha256_hex
from vault.blobs.local import LocalBlobStore
from vault.errors import ConfigError
from vault.settings import BlobBackend, Settings

__all__ = [
    "BlobInfo",
    "BlobStore",
    "LocalBlobStore",
    "blob_store_from_settings",
    "check_address",
    "sha256_hex",
]


def blob_store_from_settings(settings: Settings) -> BlobStore:
    """The local folder (default) or the S3 store the settings name."""
    if settings.blob_backend is BlobBackend.LOCAL:
        return LocalBlobStore(settings.resolved_blob_dir)
    from vault.blobs.s3 import S3BlobStore

    if not settings.s3_endpoint or settings.s3_access_key is None or settings.s3_secret_key is None:
        raise ConfigError(
            "blob_backend=s3 needs EVAULT_S3_ENDPOINT, EVAULT_S3_ACCESS_KEY"
            " and EVAULT_S3_SECRET_KEY"
        )
    return S3BlobStore(
        endpoint=settings.s3_endpoint,
        access_key=settings.s3_access_key.get_secret_value(),
        secret_key=settings.s3_secret_key.get_secret_value(),
        bucket=settings.s3_bucket,
        secure=settings.s3_secure,
        region=settings.s3_region,
    )
