"""Verification of files sealed by the demo PKI: passes, failures and the report's fields."""

from __future__ import annotations

import asyncio
import datetime as dt
import io

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from schemas.report import Coverage, Indication, RevocationStatus, SignatureKind, SubIndication
from signing.errors import VerificationError
from signing.pki import DemoPKI
from signing.seal import PadesLevel
from signing.trust import TrustBundle
from signing.verify import Verifier, verify_pdf, verify_pdf_async
from tests.helpers.pki import DEPARTMENTS, MARKET_DEPT, demo_pki, sample_pdf, sealed_pdf


def _bundle(pki: DemoPKI, *, crls: tuple[bytes, ...] = ()) -> TrustBundle:
    return TrustBundle.from_certificates(
        roots=[pki.root.certificate],
        intermediates=[pki.issuing_ca.certificate],
        vault_seal=pki.vault_seal.certificate,
        crls=crls,
    )


@pytest.fixture(scope="module")
def verifier() -> Verifier:
    """A bundle with the demo PKI's CRLs: every seal's revocation status is known."""
    pki = demo_pki()
    return Verifier(_bundle(pki, crls=pki.crls()))


@pytest.mark.parametrize("level", list(PadesLevel))
def test_sealed_file_passes_with_the_bundle(verifier: Verifier, level: PadesLevel) -> None:
    report = verifier.verify(sealed_pdf(level, MARKET_DEPT), file_name="x.pdf")
    assert report.indication is Indication.TOTAL_PASSED, report.reasons
    assert report.sub_indication is None
    seal = report.signatures[0]
    assert seal.kind is SignatureKind.SIGNATURE
    assert seal.intact and seal.chain_trusted and not seal.modified_after_signing
    assert seal.pades_level == level.value
    assert seal.signer_credit_code == MARKET_DEPT
    assert seal.signer_fingerprint is not None and len(seal.signer_fingerprint) == 64
    assert "福州市市场监督管理局" in (seal.signer_subject or "")
    assert seal.signing_time is not None
    assert (seal.timestamp_time is not None) == level.timestamped
    assert seal.revocation is RevocationStatus.GOOD
    if level.long_term:
        assert seal.coverage is Coverage.ENTIRE_REVISION
    else:
        assert seal.coverage is Coverage.ENTIRE_FILE and seal.covers_whole_file
    if level is PadesLevel.B_LTA:
        assert report.signatures[1].kind is SignatureKind.DOC_TIMESTAMP


def test_untrusted_root_is_indeterminate() -> None:
    report = verify_pdf(sealed_pdf(PadesLevel.B_LT, MARKET_DEPT), trust=None)
    assert report.indication is Indication.INDETERMINATE
    assert report.sub_indication is SubIndication.NO_CERTIFICATE_CHAIN_FOUND
    assert report.signatures[0].intact and not report.signatures[0].chain_trusted


def test_other_root_is_indeterminate() -> None:
    other = DemoPKI.generate(
        seed=b"another PKI", departments=[("其他部门", MARKET_DEPT)], now=demo_pki().now
    )
    report = Verifier(_bundle(other)).verify(sealed_pdf(PadesLevel.B_B, MARKET_DEPT))
    assert (report.indication, report.sub_indication) == (
        Indication.INDETERMINATE,
        SubIndication.NO_CERTIFICATE_CHAIN_FOUND,
    )


def test_flipped_byte_in_signed_range_is_hash_failure(verifier: Verifier) -> None:
    data = bytearray(sealed_pdf(PadesLevel.B_B, MARKET_DEPT))
    at = data.index(b"evault sample license")
    data[at] = ord("E")
    report = verifier.verify(bytes(data))
    assert (report.indication, report.sub_indication) == (
        Indication.TOTAL_FAILED,
        SubIndication.HASH_FAILURE,
    )
    assert not report.signatures[0].intact
    assert "message digest does not match" in report.signatures[0].reasons[0]


def _append(data: bytes, edit: str) -> bytes:
    w = IncrementalPdfFileWriter(io.BytesIO(data))
    if edit == "page":
        page = generic.DictionaryObject(
            {
                generic.pdf_name("/Type"): generic.pdf_name("/Page"),
                generic.pdf_name("/MediaBox"): generic.ArrayObject(
                    [generic.NumberObject(x) for x in (0, 0, 595, 842)]
                ),
            }
        )
        w.insert_page(page)
    else:
        box = generic.ArrayObject([generic.NumberObject(x) for x in (0, 0, 595, 842)])
        black = generic.StreamObject(
            {
                generic.pdf_name("/Type"): generic.pdf_name("/XObject"),
                generic.pdf_name("/Subtype"): generic.pdf_name("/Form"),
                generic.pdf_name("/BBox"): box,
            },
            stream_data=b"0 0 0 rg 0 0 595 842 re f",
        )
        annot = w.add_object(
            generic.DictionaryObject(
                {
                    generic.pdf_name("/Type"): generic.pdf_name("/Annot"),
                    generic.pdf_name("/Subtype"): generic.pdf_name("/Square"),
                    generic.pdf_name("/Rect"): box,
                    generic.pdf_name("/AP"): generic.DictionaryObject(
                        {generic.pdf_name("/N"): w.add_object(black)}
                    ),
                }
            )
        )
        page_ref = w.root["/Pages"]["/Kids"].raw_get(0)
        page = page_ref.get_object()
        annots = page.get("/Annots", generic.ArrayObject())
        page[generic.pdf_name("/Annots")] = generic.ArrayObject(
            [*(annots.raw_get(i) for i in range(len(annots))), annot]
        )
        w.mark_update(page_ref)
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


@pytest.mark.parametrize(("edit", "level"), [("page", "OTHER"), ("annotation", "ANNOTATIONS")])
def test_changes_after_signing_are_modifications(verifier: Verifier, edit: str, level: str) -> None:
    data = _append(sealed_pdf(PadesLevel.B_T, MARKET_DEPT), edit)
    report = verifier.verify(data)
    seal = report.signatures[0]
    assert seal.intact and seal.modified_after_signing
    assert seal.modification_level == level
    assert seal.coverage is Coverage.ENTIRE_REVISION and not seal.covers_whole_file
    assert (report.indication, report.sub_indication) == (
        Indication.TOTAL_FAILED,
        SubIndication.FORMAT_FAILURE,
    )


def test_b_lt_carries_its_own_revocation_data() -> None:
    """No CRL in the bundle: a B-LT seal's revocation status comes from its DSS."""
    report = Verifier(_bundle(demo_pki())).verify(sealed_pdf(PadesLevel.B_LT, MARKET_DEPT))
    assert report.indication is Indication.TOTAL_PASSED, report.reasons
    assert report.signatures[0].revocation is RevocationStatus.GOOD


def _unknown_revocation_crls(case: str) -> tuple[bytes, ...]:
    pki = demo_pki()
    if case == "none":
        return ()
    if case == "forged":  # same issuer names, signed by other keys
        rogue = DemoPKI.generate(seed=b"rogue CRLs", departments=DEPARTMENTS, now=pki.now)
        return rogue.crls()
    return pki.crls(at=pki.now - dt.timedelta(days=400))  # expired before the validation time


@pytest.mark.parametrize("case", ["none", "forged", "stale"])
@pytest.mark.parametrize("level", [PadesLevel.B_B, PadesLevel.B_T])
def test_unknown_revocation_is_try_later(case: str, level: PadesLevel) -> None:
    """No valid, current CRL for the chain: INDETERMINATE/TRY_LATER (EN 319 102-1: the
    status may be established when revocation data becomes available), never PASSED. A
    CRL that only names the right issuer is not revocation data."""
    pki = demo_pki()
    report = Verifier(_bundle(pki, crls=_unknown_revocation_crls(case))).verify(
        sealed_pdf(level, MARKET_DEPT)
    )
    (seal,) = report.signatures
    assert seal.intact and seal.chain_trusted and not seal.modified_after_signing
    assert seal.revocation is RevocationStatus.UNKNOWN
    assert (seal.indication, seal.sub_indication) == (
        Indication.INDETERMINATE,
        SubIndication.TRY_LATER,
    )
    assert (report.indication, report.sub_indication) == (
        Indication.INDETERMINATE,
        SubIndication.TRY_LATER,
    )
    assert seal.reasons[0].startswith(
        "revocation status unknown: the file and the trust bundle hold no valid, current CRL "
        "or OCSP response for the signer's certificate chain ("
    )
    assert report.reasons[0] == f"Seal1: {seal.reasons[0]}"


def test_revoked_seal_without_timestamp_is_revoked_no_poe() -> None:
    pki = demo_pki()
    seal = pki.issuing_department_seal(MARKET_DEPT)
    revoked = pki.revoke(seal.serial, pki.now - dt.timedelta(hours=1))
    report = Verifier(_bundle(pki, crls=(revoked.crl(),))).verify(
        sealed_pdf(PadesLevel.B_B, MARKET_DEPT)
    )
    assert report.signatures[0].revocation is RevocationStatus.REVOKED
    assert (report.indication, report.sub_indication) == (
        Indication.INDETERMINATE,
        SubIndication.REVOKED_NO_POE,
    )


def test_revoked_before_the_timestamp_is_revoked() -> None:
    pki = demo_pki()
    seal = pki.issuing_department_seal(MARKET_DEPT)
    revoked = pki.revoke(seal.serial, pki.now - dt.timedelta(hours=1))
    report = Verifier(_bundle(pki, crls=(revoked.crl(),))).verify(
        sealed_pdf(PadesLevel.B_T, MARKET_DEPT)
    )
    assert (report.indication, report.sub_indication) == (
        Indication.TOTAL_FAILED,
        SubIndication.REVOKED,
    )
    assert "revoked on" in " ".join(report.signatures[0].reasons)


@pytest.mark.parametrize(
    "data", [b"", b"garbage bytes", b"%PDF-1.7\n garbage \n%%EOF", b"\x00" * 5000]
)
def test_garbage_is_format_failure(verifier: Verifier, data: bytes) -> None:
    report = verifier.verify(data, file_name="junk.pdf")
    assert (report.indication, report.sub_indication) == (
        Indication.TOTAL_FAILED,
        SubIndication.FORMAT_FAILURE,
    )
    assert report.reasons and report.file == "junk.pdf"


def test_unsigned_pdf_fails_with_a_reason(verifier: Verifier) -> None:
    report = verifier.verify(sample_pdf())
    assert report.indication is Indication.TOTAL_FAILED
    assert report.reasons == ["no signature found in the file"]


def test_validation_time_before_the_certificate(verifier: Verifier) -> None:
    at = demo_pki().now - dt.timedelta(days=30)
    report = verifier.verify(sealed_pdf(PadesLevel.B_B, MARKET_DEPT), at=at)
    assert report.indication is not Indication.TOTAL_PASSED
    assert (report.indication, report.sub_indication) == (
        Indication.TOTAL_FAILED,
        SubIndication.NOT_YET_VALID,
    ), report.reasons
    assert "not yet valid" in report.signatures[0].reasons[0]
    assert report.checked_at == at


def test_validation_time_after_expiry_without_poe(verifier: Verifier) -> None:
    at = demo_pki().now + dt.timedelta(days=6 * 366)
    report = verifier.verify(sealed_pdf(PadesLevel.B_B, MARKET_DEPT), at=at)
    assert (report.indication, report.sub_indication) == (
        Indication.INDETERMINATE,
        SubIndication.OUT_OF_BOUNDS_NO_POE,
    ), report.reasons


def test_naive_time_is_a_usage_error(verifier: Verifier) -> None:
    with pytest.raises(VerificationError, match="timezone-aware"):
        verifier.verify(b"%PDF-", at=dt.datetime(2025, 1, 1))


def test_async_inside_a_running_loop(verifier: Verifier) -> None:
    data = sealed_pdf(PadesLevel.B_LT, MARKET_DEPT)

    async def main() -> Indication:
        report = await verify_pdf_async(data, trust=verifier.trust)
        return report.indication

    assert asyncio.run(main()) is Indication.TOTAL_PASSED


def test_time_bound_reports_indeterminate() -> None:
    report = Verifier(None, timeout=1e-6).verify(sealed_pdf(PadesLevel.B_LT, MARKET_DEPT))
    assert report.indication is Indication.INDETERMINATE
    assert "did not finish" in report.reasons[0]


def test_deeply_nested_pdf_ends(verifier: Verifier) -> None:
    nested = b"[" * 100_000 + b"]" * 100_000
    data = b"%PDF-1.7\n1 0 obj\n" + nested + b"\nendobj\ntrailer\n<</Root 1 0 R>>\n%%EOF\n"
    report = verifier.verify(data)
    assert report.indication is Indication.TOTAL_FAILED


def test_trust_paths_are_cached_across_documents() -> None:
    import datetime as _dt

    pki = demo_pki()
    verifier = Verifier(_bundle(pki, crls=pki.crls()), isolation="thread")  # caches here
    assert verifier._engine is not None
    chains = verifier._engine.cache.chains
    data = sealed_pdf(PadesLevel.B_LT, MARKET_DEPT)
    first = verifier.verify(data)
    cached = dict(chains._items)
    assert len(cached) == 2  # the seal's path and the TSA's path
    again = verifier.verify(data, at=_dt.datetime.now(_dt.UTC))  # "now", given explicitly
    assert chains._items.keys() == cached.keys()
    assert again.signatures[0].model_dump(exclude={"reasons"}) == first.signatures[0].model_dump(
        exclude={"reasons"}
    )


def test_concurrent_verifications_agree_and_restore_logging(verifier: Verifier) -> None:
    import logging
    from concurrent.futures import ThreadPoolExecutor

    logger = logging.getLogger("pyhanko")
    before = logger.level
    files = [sealed_pdf(level, MARKET_DEPT) for level in PadesLevel] * 3
    with ThreadPoolExecutor(max_workers=6) as pool:
        reports = list(pool.map(verifier.verify, files))
    assert [r.indication for r in reports] == [Indication.TOTAL_PASSED] * len(files)
    assert logger.level == before


_KEPT_QUIET = """
import logging, sys
from signing._verify.engine import Engine
from signing.verify import keep_loggers_quiet
from tests.helpers.pki import demo_trust_bundle, sealed_pdf

before = logging.getLogger("pyhanko").level
data = sealed_pdf()
engine = Engine(demo_trust_bundle())
keep_loggers_quiet()
keep_loggers_quiet()
assert logging.getLogger("pyhanko").level == logging.CRITICAL
calls = []
original = logging.Logger.setLevel
logging.Logger.setLevel = lambda self, level: calls.append(self.name) or original(self, level)
for _ in range(3):
    assert engine.run(data, None, None).indication.value == "TOTAL_PASSED"
assert calls == [], calls
assert logging.getLogger("pyhanko").level == logging.CRITICAL != before
"""


def test_loggers_kept_quiet_once_in_a_worker_process() -> None:
    """A process that only verifies silences the noisy loggers once: verifications then
    set no logger's level (in a process of its own: it lasts for the process's life)."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", _KEPT_QUIET],
        cwd=root,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
