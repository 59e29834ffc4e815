"""A verification stopped before it saw any seal (its time bound, a lost worker) is a
``verification_error``, never ``unsigned``: the file was not judged, and the next run of
the import verifies it again (a settled file is not)."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from signing.seal import PadesLevel
from signing.trust import TrustBundle
from signing.verify import Isolation, Verifier
from tests.helpers.pki import MARKET_DEPT, sample_pdf, sealer
from tests.signing import slow_check
from tests.vault.licenses import license_pdf, make_catalog, metadata, trust_bundle
from tests.vault.test_bulk_forgeries import _stock
from vault.blobs import LocalBlobStore
from vault.crypto import HolderCrypto
from vault.errors import IntakeRefused
from vault.models import LicenseVersion
from vault.services.bulk import import_stock
from vault.services.intake import ingest

#: The bound the endless file runs into (seconds).
TIMEOUT = 1.0


def _endless() -> bytes:
    """A good seal of the market department whose check the slow-check patch makes endless."""
    return sealer(MARKET_DEPT).seal(
        sample_pdf(slow_check.MARKER.decode()), level=PadesLevel.B_B, reason="issued"
    )


def _verifier(bundle: TrustBundle) -> Verifier:
    return Verifier(bundle, timeout=TIMEOUT, isolation=Isolation.THREAD)


def test_a_stopped_verification_is_an_error_and_the_next_run_verifies_it_again(
    sessions: sessionmaker[Session],
    blobs: LocalBlobStore,
    crypto: HolderCrypto,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from signing._verify import engine

    with sessions() as s:
        make_catalog(s)
    manifest = _stock(tmp_path / "stock", {"endless.pdf": _endless(), "good.pdf": license_pdf(701)})
    bundle = trust_bundle()
    run = functools.partial(
        import_stock,
        sessions=sessions,
        blobs=blobs,
        crypto=crypto,
        verifier_factory=functools.partial(_verifier, bundle),
        source=tmp_path / "stock",
        manifest=manifest,
        workers=1,
        trust_fingerprint=bundle.fingerprint,
    )

    monkeypatch.setattr(engine, "check_cms", engine.check_cms)  # undone below
    slow_check.make_cms_check_slow()
    first = run()
    assert (first.ingested, first.refused_total) == (1, 1)
    (stopped,) = first.refusals
    assert (stopped.name, stopped.reason) == ("endless.pdf", "verification_error")
    assert "did not finish" in (stopped.message or ""), stopped.message

    monkeypatch.undo()  # the check runs as usual again
    second = run()
    # good.pdf was settled by the first run; endless.pdf is verified again, and passes.
    assert (second.ingested, second.refused_total, second.settled_before) == (1, 0, 1)


def test_a_push_whose_verification_stopped_is_refused_as_an_error(
    sessions: sessionmaker[Session],
    blobs: LocalBlobStore,
    crypto: HolderCrypto,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The API's path (``ingest``) takes the same rule: nothing stored."""
    from signing._verify import engine

    monkeypatch.setattr(engine, "check_cms", engine.check_cms)  # undone after the test
    slow_check.make_cms_check_slow()
    with sessions() as s:
        market = make_catalog(s).market
        with pytest.raises(IntakeRefused) as exc:
            ingest(
                session=s,
                blobs=blobs,
                verifier=_verifier(trust_bundle()),
                crypto=crypto,
                metadata=metadata(700),
                pdf=_endless(),
                pushed_by_department_id=market,
            )
        assert exc.value.reason == "verification_error"
        assert exc.value.report is not None and exc.value.report.signatures == []
        assert s.scalar(select(func.count()).select_from(LicenseVersion)) == 0
