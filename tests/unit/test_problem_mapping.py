"""What each error of ours answers on the API (api.errors.classify): the sealer's state is
the server's problem (503), the document's is the client's (422)."""

from __future__ import annotations

import pytest

from api.errors import classify
from signing.errors import (
    NoBlankSpace,
    RevocationDataError,
    SealingError,
    SealUnavailable,
    TimestampError,
)
from vault.errors import BlobStoreError, ConfigError, PermissionDenied


@pytest.mark.parametrize(
    ("error", "status", "slug"),
    [
        (SealUnavailable("the seal's chain is revoked"), 503, "seal-unavailable"),
        (RevocationDataError("http://crl.example: timed out"), 503, "seal-unavailable"),
        (SealingError("the PDF is encrypted"), 422, "cannot-seal"),
        (NoBlankSpace("the original has no blank space for the annotation"), 422, "no-blank-space"),
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


def test_a_verifier_failure_is_format_neutral_and_says_nothing_internal() -> None:
    """A file the verifier stopped on (a bug): the answer names no format, and neither the
    exception's text (it may quote the file) nor its kind reaches the client."""
    from typing import Any

    from signing._verify.workers import TaskFailed
    from signing.errors import VerificationError
    from signing.verify import Verifier

    class FailingPool:
        def verify(self, *args: Any, **kwargs: Any) -> Any:
            raise TaskFailed("KeyError: '110105199003071234' in _Check.run_changes")

    verifier = Verifier(pool=FailingPool())  # type: ignore[arg-type]
    with pytest.raises(VerificationError) as caught:
        verifier.verify(b"PK\x03\x04" + b"\0" * 100)
    status, slug, title, detail, _ = classify(caught.value)
    assert (status, slug, title) == (422, "cannot-verify", "The file cannot be verified")
    assert "1101" not in detail and "KeyError" not in detail and "_Check" not in detail
