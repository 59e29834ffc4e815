"""The OFD corpus (../shared/corpus/ofd): real signed OFD files with expected verdicts.

For every file: no crash, and
* ``intact`` / ``multi-seal-ok``: every signature intact and not modified after signing,
  INDETERMINATE (no trust anchors are given);
* ``tampered``: flagged (TOTAL_FAILED, or some signature not intact or modified);
* ``unsupported-format``: not reported as verified.
Per signature, the type (Seal/Sign), the format and the seal's name agree with the notes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from schemas.report import FileFormat, Indication, SubIndication
from signing.verify import Verifier
from tests.conftest import ROOT, require

pytestmark = pytest.mark.corpus

OFD_CORPUS = ROOT.parent / "shared" / "corpus" / "ofd"


def _entries() -> list[dict[str, Any]]:
    try:
        data: list[dict[str, Any]] = json.loads((OFD_CORPUS / "expected.json").read_text("utf-8"))
    except OSError:
        return [{"file": "<corpus missing>"}]
    return data


ENTRIES = _entries()


@pytest.fixture(scope="module")
def corpus() -> Path:
    require((OFD_CORPUS / "expected.json").is_file(), f"the OFD corpus at {OFD_CORPUS}")
    return OFD_CORPUS


@pytest.fixture(scope="module")
def verifier() -> Verifier:
    return Verifier(None, isolation="thread", timeout=20)


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["file"].split("/")[-1] for e in ENTRIES])
def test_corpus_file(corpus: Path, verifier: Verifier, entry: dict[str, Any]) -> None:
    name = entry["file"]
    report = verifier.verify((corpus / name).read_bytes(), file_name=name)
    assert report.file_format is FileFormat.OFD
    assert len(report.signatures) == entry["signatures"], report.reasons
    verdict = entry["verdict"]
    sigs = report.signatures
    if verdict in ("intact", "multi-seal-ok"):
        assert all(s.intact and not s.modified_after_signing for s in sigs), sigs
        assert report.indication is Indication.INDETERMINATE, report.reasons
    elif verdict == "tampered":
        assert report.indication is Indication.TOTAL_FAILED, report.reasons
        assert any(not s.intact or s.modified_after_signing for s in sigs)
    else:
        assert verdict == "unsupported-format"
        assert report.indication is not Indication.TOTAL_PASSED
        assert not any(s.intact for s in sigs)
    for got, want in zip(sigs, entry["per_signature"], strict=True):
        assert got.field_name == want["id"]
        assert got.ofd_type is not None and got.ofd_type.value == want["type"]
        assert got.seal_name == want.get("seal_name")
        assert got.seal_id == want.get("esid")


def test_reference_mismatch_names_the_changed_part(corpus: Path, verifier: Verifier) -> None:
    report = verifier.verify((corpus / "files/gen-999-amount-edited.ofd").read_bytes())
    (sig,) = report.signatures
    assert sig.intact and sig.modified_after_signing
    assert sig.sub_indication is SubIndication.HASH_FAILURE
    assert "Doc_0/Pages/Page_0/Content.xml" in sig.reasons[0]


def test_continue_signing_is_explained(corpus: Path, verifier: Verifier) -> None:
    report = verifier.verify((corpus / "files/converter-h.ofd").read_bytes())
    first, second = report.signatures
    assert first.modification_level == "SIGNATURES" and not first.modified_after_signing
    assert second.modification_level == "NONE"


def test_flipped_signature_bit_is_a_crypto_failure(corpus: Path, verifier: Verifier) -> None:
    report = verifier.verify((corpus / "files/gen-V4RideRight-sigvalue-bitflip.ofd").read_bytes())
    (sig,) = report.signatures
    assert not sig.intact
    assert sig.sub_indication is SubIndication.SIG_CRYPTO_FAILURE


def test_expired_seal_at_signing_is_indeterminate(corpus: Path, verifier: Verifier) -> None:
    report = verifier.verify((corpus / "files/reader-SESV4SignDoc.ofd").read_bytes())
    (sig,) = report.signatures
    assert sig.intact and not sig.modified_after_signing
    assert sig.sub_indication is SubIndication.SIG_CONSTRAINTS_FAILURE
    assert "seal was not valid at the signing time" in sig.reasons[0]
