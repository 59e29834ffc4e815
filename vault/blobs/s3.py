"""Blobs in an S3 bucket through the ``minio`` SDK (MinIO in production, any S3 API)."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from typing import Any

from vault.blobs.base import BlobInfo, BlobStore, check_address, sha256_hex
from vault.errors import BlobNotFound, BlobStoreError

__all__ = ["S3BlobStore"]

_CONNECT_TIMEOUT = 5.0
_READ_TIMEOUT = 60.0
_RETRIES = 2
_REFRESH_AFTER = dt.timedelta(minutes=10)
_NOT_FOUND_CODES = ("NoSuchKey", "NoSuchObject", "ResourceNotFound", "NotFound")


class S3BlobStore(BlobStore):
    """Objects ``<prefix>ab/<sha256>`` in one bucket; a PUT of a whole object is atomic.

    For write-once storage in production, enable object lock (governance or compliance
    retention) on the bucket: a blob is never overwritten by evault, only deleted by gc
    when nothing references it.
    """

    def __init__(
        self,
        *,
        endpoint: str,
        access_key: str,
        secret_key: str,
        bucket: str,
        secure: bool = True,
        region: str | None = None,
        prefix: str = "blobs/",
        create_bucket: bool = True,
    ) -> None:
        import urllib3
        from minio import Minio

        self.bucket = bucket
        self.prefix = prefix
        self._endpoint = endpoint
        http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=_CONNECT_TIMEOUT, read=_READ_TIMEOUT),
            retries=urllib3.Retry(
                total=_RETRIES, backoff_factor=0.2, status_forcelist=(500, 502, 503, 504)
            ),
            maxsize=16,
        )
        self._client = Minio(
            endpoint,
            access_key=access_key,
            secret_key=secret_key,
            secure=secure,
            region=region,
            http_client=http,
        )
        if create_bucket:
            self._call("check the bucket", self._ensure_bucket)

    def _ensure_bucket(self) -> None:
        if not self._client.bucket_exists(self.bucket):
            self._client.make_bucket(self.bucket)

    @property
    def description(self) -> str:
        return f"S3 bucket {self.bucket} at {self._endpoint}"

    def _key(self, sha256: str) -> str:
        check_address(sha256)
        return f"{self.prefix}{sha256[:2]}/{sha256}"

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        from minio.error import MinioException, S3Error
        from urllib3.exceptions import HTTPError

        try:
            return fn(*args, **kwargs)
        except S3Error as exc:
            if exc.code in _NOT_FOUND_CODES:
                raise BlobNotFound(f"{what}: not found in {self.description}") from None
            raise BlobStoreError(f"{what} failed in {self.description}: {exc.code}") from None
        except ValueError as exc:
            raise BlobStoreError(f"{what} refused by the S3 client: {exc}") from None
        except (MinioException, HTTPError, OSError) as exc:
            raise BlobStoreError(
                f"{what} failed: {self.description} unreachable ({type(exc).__name__})"
            ) from None

    def put(self, data: bytes) -> str:
        sha256 = sha256_hex(data)
        existing = self.info(sha256)
        if existing is not None and existing.size == len(data):
            age = dt.datetime.now(dt.UTC) - existing.modified_at
            if age < _REFRESH_AFTER:
                return sha256
            # Old: write it again so gc's grace period counts from now.
        self._call(
            f"write blob {sha256}",
            self._client.put_object,
            self.bucket,
            self._key(sha256),
            io.BytesIO(data),
            len(data),
            content_type="application/pdf",
        )
        return sha256

    def _read(self, sha256: str) -> bytes:
        def read() -> bytes:
            response = self._client.get_object(self.bucket, self._key(sha256))
            try:
                return bytes(response.read())
            finally:
                response.close()
                response.release_conn()

        data: bytes = self._call(f"read blob {sha256}", read)
        return data

    def check_ready(self) -> None:
        """One request: the bucket exists and the credentials may see it."""
        if not self._call("check the bucket", self._client.bucket_exists, self.bucket):
            raise BlobStoreError(f"{self.description}: the bucket does not exist")

    def exists(self, sha256: str) -> bool:
        return self.info(sha256) is not None

    def info(self, sha256: str) -> BlobInfo | None:
        try:
            stat = self._call(
                f"stat blob {sha256}", self._client.stat_object, self.bucket, self._key(sha256)
            )
        except BlobNotFound:
            return None
        modified = stat.last_modified or dt.datetime.now(dt.UTC)
        return BlobInfo(sha256=sha256, size=stat.size or 0, modified_at=modified.astimezone(dt.UTC))

    def delete(self, sha256: str) -> None:
        self._call(
            f"delete blob {sha256}", self._client.remove_object, self.bucket, self._key(sha256)
        )

    def iter(self) -> Iterator[BlobInfo]:
        objects = self._call(
            "list blobs", self._client.list_objects, self.bucket, prefix=self.prefix, recursive=True
        )
        iterator = iter(objects)
        while True:
            obj = self._call("list blobs", next, iterator, None)
            if obj is None:
                return
            name = obj.object_name.rsplit("/", 1)[-1]
            if len(name) != 64:
                continue
            modified = obj.last_modified or dt.datetime.now(dt.UTC)
            yield BlobInfo(sha256=name, size=obj.size or 0, modified_at=modified.astimezone(dt.UTC))
