"""Blob stores: the local folder and S3 (a moto server on loopback), same contract."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from vault.blobs import BlobStore, LocalBlobStore, blob_store_from_settings
from vault.errors import BlobIntegrityError, BlobNotFound, BlobStoreError, ConfigError
from vault.settings import load_settings

DATA = b"%PDF-1.7 not really a pdf but bytes all the same\n"
SHA = hashlib.sha256(DATA).hexdigest()


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"{host}:{port}"
    server.stop()


def _s3_store(endpoint: str, bucket: str) -> BlobStore:
    from vault.blobs.s3 import S3BlobStore

    return S3BlobStore(
        endpoint=endpoint,
        access_key="testing",
        secret_key="testing",  # moto accepts any credentials
        bucket=bucket,
        secure=False,
        region="us-east-1",
    )


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    if request.param == "local":
        return LocalBlobStore(tmp_path / "blobs")
    endpoint: str = request.getfixturevalue("s3_endpoint")
    return _s3_store(endpoint, f"evault-{os.urandom(4).hex()}")


def test_put_get_is_content_addressed_and_idempotent(store: BlobStore) -> None:
    assert store.put(DATA) == SHA
    assert store.put(DATA) == SHA
    assert store.exists(SHA)
    assert store.get(SHA) == DATA
    listed = list(store.iter())
    assert [b.sha256 for b in listed] == [SHA]
    assert listed[0].size == len(DATA)
    assert abs(listed[0].modified_at - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=5)
    info = store.info(SHA)
    assert info is not None and info.size == len(DATA)


def test_missing_blob(store: BlobStore) -> None:
    assert not store.exists(SHA)
    assert store.info(SHA) is None
    with pytest.raises(BlobNotFound, match=f"no blob {SHA}|read blob {SHA}: not found"):
        store.get(SHA)
    store.delete(SHA)  # no error


def test_delete(store: BlobStore) -> None:
    store.put(DATA)
    store.delete(SHA)
    assert not store.exists(SHA)
    assert list(store.iter()) == []


def test_bad_address_is_refused(store: BlobStore) -> None:
    with pytest.raises(BlobStoreError, match="a blob address must be 64 lowercase hex"):
        store.get("../../etc/passwd")


def test_local_corruption_is_detected(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    store.put(DATA)
    path = tmp_path / "blobs" / SHA[:2] / SHA[2:4] / SHA
    path.write_bytes(DATA.replace(b"bytes", b"BYTES"))
    with pytest.raises(BlobIntegrityError, match=f"blob {SHA} in local folder .* is corrupt"):
        store.get(SHA)


@pytest.mark.s3
def test_s3_corruption_is_detected(s3_endpoint: str) -> None:
    import io

    from vault.blobs.s3 import S3BlobStore

    store = _s3_store(s3_endpoint, "evault-corrupt")
    assert isinstance(store, S3BlobStore)
    store.put(DATA)
    other = b"something else"
    store._client.put_object(store.bucket, store._key(SHA), io.BytesIO(other), len(other))
    with pytest.raises(BlobIntegrityError, match=f"blob {SHA} in S3 bucket evault-corrupt"):
        store.get(SHA)


def test_local_write_is_atomic_no_temp_left(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    store.put(DATA)
    assert list((tmp_path / "blobs" / "tmp").iterdir()) == []


def test_local_put_refreshes_mtime(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    store.put(DATA)
    path = tmp_path / "blobs" / SHA[:2] / SHA[2:4] / SHA
    os.utime(path, (0, 0))
    store.put(DATA)
    assert path.stat().st_mtime > 1_000_000


def test_put_many_stores_each_in_order(store: BlobStore) -> None:
    datas = [DATA, b"second blob", DATA, b"third"]
    store.put(b"third")  # stored already: taken as it is
    addresses = store.put_many(datas)
    assert addresses == [hashlib.sha256(d).hexdigest() for d in datas]
    for data, address in zip(datas, addresses, strict=True):
        assert store.get(address) == data
    assert store.put_many([]) == []


@pytest.mark.parametrize("syncfs", [True, False], ids=["syncfs", "put each"])
def test_local_put_many_leaves_no_temp_and_refreshes(
    tmp_path: Path, syncfs: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vault.blobs import local

    if not syncfs:
        monkeypatch.setattr(local, "_syncfs", None)  # as where the C library has none
    elif local._syncfs is None:
        pytest.skip("no syncfs here")
    store = LocalBlobStore(tmp_path / "blobs")
    store.put(DATA)
    path = tmp_path / "blobs" / SHA[:2] / SHA[2:4] / SHA
    os.utime(path, (0, 0))
    store.put_many([DATA, b"other", b"more"])
    assert path.stat().st_mtime > 1_000_000
    assert list((tmp_path / "blobs" / "tmp").iterdir()) == []


def test_local_put_many_failing_stores_nothing_and_cleans_up(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    blocked = hashlib.sha256(b"blocked").hexdigest()
    (tmp_path / "blobs" / blocked[:2]).write_bytes(b"a file where its folder must go")
    with pytest.raises(BlobStoreError, match="cannot write blobs"):
        store.put_many([b"fine", b"blocked"])
    assert list((tmp_path / "blobs" / "tmp").iterdir()) == []
    assert not store.exists(blocked)


def test_local_clean_temp(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    leftover = tmp_path / "blobs" / "tmp" / "crashed.tmp"
    leftover.write_bytes(b"half")
    os.utime(leftover, (0, 0))
    assert store.clean_temp(older_than=dt.datetime.now(dt.UTC)) == 1
    assert not leftover.exists()


def test_s3_unreachable_is_a_blob_store_error() -> None:
    with pytest.raises(
        BlobStoreError, match=r"check the bucket failed: S3 bucket evault-down at 127\.0\.0\.1:9"
    ):
        _s3_store("127.0.0.1:9", "evault-down")
    with pytest.raises(BlobStoreError, match="refused by the S3 client: invalid bucket name b"):
        _s3_store("127.0.0.1:9", "b")


def test_settings_choose_the_store(tmp_path: Path) -> None:
    local = blob_store_from_settings(load_settings(data_dir=tmp_path))
    assert isinstance(local, LocalBlobStore)
    assert local.root == tmp_path / "blobs"
    with pytest.raises(ConfigError, match="blob_backend=s3 needs EVAULT_S3_ENDPOINT"):
        blob_store_from_settings(load_settings(data_dir=tmp_path, blob_backend="s3"))


@pytest.mark.s3
def test_settings_s3(s3_endpoint: str, tmp_path: Path) -> None:
    from vault.blobs.s3 import S3BlobStore

    store = blob_store_from_settings(
        load_settings(
            data_dir=tmp_path,
            blob_backend="s3",
            s3_endpoint=s3_endpoint,
            s3_access_key="testing",
            s3_secret_key="testing",
            s3_secure=False,
            s3_bucket="from-settings",
            s3_region="us-east-1",
        )
    )
    assert isinstance(store, S3BlobStore)
    assert store.put(DATA) == SHA
