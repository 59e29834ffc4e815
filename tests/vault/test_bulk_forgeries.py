"""Every forgery of the red teams is refused through ``evault import`` as through a push:
the bulk import's batched Core writer takes a file only after intake's report rules, in the
worker processes and batches that ``evault import`` uses."""

from __future__ import annotations

import csv
import functools
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.attacks import test_ofd_redteam as ofd_redteam
from tests.helpers.forgeries import ATTACKS
from tests.helpers.licenses import sealed_license
from tests.vault.licenses import make_catalog, trust_bundle
from tests.vault.test_bulk import _row
from vault.blobs import LocalBlobStore
from vault.bootstrap import build_verifier
from vault.crypto import HolderCrypto
from vault.models import LicenseVersion
from vault.services.bulk import MANIFEST_FIELDS, WRITE_BATCH, import_stock
from vault.settings import load_settings

#: The OFD forgeries the red team shows flagged (each one's twin shows it is real).
OFD_FORGERIES: dict[str, Callable[[], bytes]] = {
    **{f"docroot-{k}": v for k, v in ofd_redteam.DOCROOT_FORGERIES.items()},
    **{f"alias-{k}": v for k, v in ofd_redteam.ALIAS_FORGERIES.items()},
    "ghost-entries": ofd_redteam._ghost_entries,
    "nested-entry": ofd_redteam._nested_entry,
    "seal-made-by-the-signer": ofd_redteam._seal_made_by_the_signer,
}


def _stock(folder: Path, files: dict[str, bytes]) -> Path:
    """``files`` in ``folder``, each with its own license number in the manifest."""
    folder.mkdir()
    rows = []
    for n, (name, data) in enumerate(sorted(files.items()), start=800):
        (folder / name).write_bytes(data)
        rows.append(_row(name, n))
    manifest = folder.parent / "forgeries.csv"
    with manifest.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=MANIFEST_FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    return manifest


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # worker start-up is slow
def test_every_forgery_is_refused_through_bulk_import(
    sessions: sessionmaker[Session],
    blobs: LocalBlobStore,
    crypto: HolderCrypto,
    tmp_path: Path,
) -> None:
    with sessions() as s:
        make_catalog(s)
    files = {"genuine.pdf": sealed_license()}
    files |= {f"pdf-{case.name}.pdf": case.build() for case in ATTACKS}
    files |= {f"ofd-{name}.ofd": build() for name, build in OFD_FORGERIES.items()}
    manifest = _stock(tmp_path / "stock", files)
    bundle = tmp_path / "bundle.json"
    bundle.write_bytes(trust_bundle().dump())
    summary = import_stock(
        sessions=sessions,
        blobs=blobs,
        crypto=crypto,
        verifier_factory=functools.partial(
            build_verifier, load_settings(trust_bundle=bundle), isolation="thread"
        ),
        blobs_factory=functools.partial(LocalBlobStore, blobs.root),
        source=tmp_path / "stock",
        manifest=manifest,
        workers=2,
        write_batch=WRITE_BATCH,
    )
    assert summary.total == len(files)
    refused = {o.name for o in summary.refusals}
    assert refused == set(files) - {"genuine.pdf"}, "a forgery was stored"
    assert (summary.ingested, summary.duplicates) == (1, 0)
    assert not any(o.reason in ("bad_metadata", "verification_error") for o in summary.refusals)
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(LicenseVersion)) == 1
