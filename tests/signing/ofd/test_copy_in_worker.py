"""Red team 11, r11-12: the worker process the API verifies in rebuilt the trust bundle
from a hand-written list of its fields that left out the pinned OFD vault seals, so every
OFD certified copy failed there ("changed after signing: Doc_0/Document.xml") and passed in
a thread. The worker now gets every field (``signing/_verify/workers.py``)."""

from __future__ import annotations

import dataclasses

import pytest

from schemas.report import Indication
from signing._verify.workers import _bundle_fields
from signing.trust import TrustBundle
from signing.verify import Verifier
from tests.attacks.ofd_copy_forge import annotation, vault_maker
from tests.attacks.ofd_forge import genuine
from tests.helpers.ofd import sm2_bundle


@pytest.mark.parametrize("isolation", ["thread", "process"])
def test_a_certified_copy_verifies_in_either_isolation(isolation: str) -> None:
    copy = vault_maker().make(genuine(), annotation())
    report = Verifier(sm2_bundle(), isolation=isolation).verify(copy)  # type: ignore[arg-type]
    assert report.indication is Indication.TOTAL_PASSED, [s.reasons for s in report.signatures]


def test_the_worker_rebuilds_the_whole_bundle() -> None:
    bundle = sm2_bundle()
    rebuilt = TrustBundle(**_bundle_fields(bundle))  # type: ignore[arg-type]
    for field in dataclasses.fields(TrustBundle):
        if not field.name.startswith("_"):
            assert getattr(rebuilt, field.name) == getattr(bundle, field.name), field.name
    assert rebuilt.ofd_vault_seals
