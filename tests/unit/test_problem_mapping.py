"""What each error of ours answers on the API (api.errors.classify): the sealer's state is
the server's problem (503), the document's is the client's (422)."""

from __future__ import annotations

import pytest

from api.errors import classify
from signing.errors import RevocationDataError, SealingError, SealUnavailable, TimestampError
from vault.errors import BlobStoreError, ConfigError, PermissionDenied


@pytest.mark.parametrize(
    ("error", "status", "slug"),
    [
        (SealUnavailable("the seal's chain is revoked"), 503, "seal-unavailable"),
        (RevocationDataError("http://crl.example: timed out"), 503, "seal-unavailable"),
        (SealingError("the PDF is encrypted"), 422, "cannot-seal"),
        (TimestampError("no answer"), 503, "tsa-unavailable"),
        (BlobStoreError("down"), 503, "storage-unavailable"),
        (PermissionDenied("not allowed"), 403, "forbidden"),
        (ConfigError("EVAULT_X"), 500, "configuration"),
    ],
)
def test_status_and_type(error: Exception, status: int, slug: str) -> None:
    got_status, got_slug, _title, detail, _extra = classify(error)
    assert (got_status, got_slug) == (status, slug)
    if status == 500:
        assert detail == "internal error"  # no configuration details to clients
