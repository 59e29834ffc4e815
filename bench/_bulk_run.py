"""One bulk import in a process of its own, for ``bench.bulk``: run with the working
directory at the tree whose code is measured (ours, or main at the baseline commit).

    python -c "import runpy; runpy.run_path('bench/_bulk_run.py', run_name='__main__')" \\
        PLACE STOCK MANIFEST BUNDLE WORKERS BATCH [DATABASE_URL]

Prints one JSON line: files, wall seconds, CPU seconds (this process and its reaped
workers), the import's counts and where ``vault`` was imported from.
"""

from __future__ import annotations

import functools
import json
import os
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> None:
    place, stock, manifest, bundle = (Path(a) for a in argv[:4])
    workers, batch = int(argv[4]), int(argv[5])
    url = argv[6] if len(argv) > 6 else f"sqlite:///{place / 'evault.db'}"

    import vault
    from tests.vault.licenses import make_catalog
    from vault.blobs import LocalBlobStore
    from vault.bootstrap import build_verifier
    from vault.crypto import HolderCrypto
    from vault.db import make_engine, make_session_factory
    from vault.migrations import upgrade
    from vault.services.bulk import import_stock
    from vault.settings import load_settings

    try:  # as `evault import` of this tree builds it
        from signing.verify import Isolation

        isolation = Isolation("inline").value
    except (ImportError, ValueError):
        isolation = "thread"  # a tree from before the inline mode

    place.mkdir(parents=True, exist_ok=True)
    upgrade(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    with sessions() as s:
        make_catalog(s)
    factory = functools.partial(
        build_verifier, load_settings(trust_bundle=bundle), isolation=isolation
    )
    before, started = os.times(), time.perf_counter()
    summary = import_stock(
        sessions=sessions,
        blobs=LocalBlobStore(place / "blobs"),
        crypto=HolderCrypto.generate(),
        verifier_factory=factory,
        blobs_factory=functools.partial(LocalBlobStore, place / "blobs"),
        source=stock,
        manifest=manifest,
        workers=workers,
        write_batch=batch,
    )
    wall, after = time.perf_counter() - started, os.times()
    engine.dispose()
    print(
        json.dumps(
            {
                "files": summary.total,
                "ingested": summary.ingested,
                "refused": summary.refused_total,
                "wall": wall,
                "cpu": sum(after[:4]) - sum(before[:4]),
                "cpu_writer": sum(after[:2]) - sum(before[:2]),
                "vault": vault.__file__,
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1:])
