"""The time bound stops a runaway verification: nothing of it keeps running afterwards.

A worker initializer (tests/signing/slow_check.py) makes checking one marked file spin for
ever in pure Python, as a hostile PDF can; every other file verifies as usual.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from schemas.report import Indication, SubIndication
from signing._verify.workers import WorkerPool
from signing.errors import VerificationError
from signing.seal import PadesLevel
from signing.trust import TrustBundle
from signing.verify import Isolation, Verifier
from tests.helpers.pki import MARKET_DEPT, demo_pki, sample_pdf, sealed_pdf, sealer
from tests.helpers.waiting import wait_until
from tests.signing import slow_check

TIMEOUT = 2.0
#: Slack for a busy machine between the bound and the answer.
SLACK = 3.0


@pytest.fixture(scope="module")
def bundle() -> TrustBundle:
    pki = demo_pki()
    return TrustBundle.from_certificates(
        roots=[pki.root.certificate],
        intermediates=[pki.issuing_ca.certificate],
        crls=pki.crls(),
    )


@pytest.fixture(scope="module")
def endless() -> bytes:
    """A good seal whose check the slow-check patch makes endless."""
    return sealer(MARKET_DEPT).seal(
        sample_pdf(slow_check.MARKER.decode()), level=PadesLevel.B_B, reason="issued"
    )


@pytest.fixture
def slow_pool() -> Iterator[WorkerPool]:
    pool = WorkerPool(1, initializer=slow_check.make_cms_check_slow)
    yield pool
    pool.close()


def _running(pid: int) -> bool:
    """Whether a live process with this id still runs our worker."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return b"signing._verify.workers" in cmdline and "State:\tZ" not in status


def _assert_stopped(report_reasons: list[str]) -> None:
    assert report_reasons == [
        f"verification did not finish within {TIMEOUT:g} s and was stopped "
        "(a hostile or huge file?)"
    ]


def test_a_timed_out_worker_is_killed_and_replaced(
    bundle: TrustBundle, endless: bytes, slow_pool: WorkerPool
) -> None:
    verifier = Verifier(bundle, timeout=TIMEOUT, pool=slow_pool)
    good = sealed_pdf(PadesLevel.B_LT, MARKET_DEPT)
    # start the worker under a generous bound (a loaded machine starts Python slowly)
    warm = Verifier(bundle, timeout=60, pool=slow_pool)
    assert warm.verify(good).indication is Indication.TOTAL_PASSED
    assert verifier.verify(good).indication is Indication.TOTAL_PASSED
    (pid,) = slow_pool.pids()
    assert _running(pid)
    threads = threading.active_count()

    started = time.monotonic()
    report = verifier.verify(endless, file_name="endless.pdf")
    elapsed = time.monotonic() - started

    assert (report.indication, report.sub_indication) == (
        Indication.INDETERMINATE,
        SubIndication.GENERIC,
    )
    _assert_stopped(report.reasons)
    assert report.file == "endless.pdf" and report.signatures == []
    assert TIMEOUT <= elapsed < TIMEOUT + SLACK
    assert not _running(pid), "the worker that timed out still runs"
    assert slow_pool.pids() == []
    assert threading.active_count() == threads, "a thread was left behind"
    # the next call gets a fresh worker, and the answer is as before
    assert warm.verify(good).indication is Indication.TOTAL_PASSED
    assert slow_pool.pids() != [pid]


def test_async_verification_is_bounded_the_same_way(
    bundle: TrustBundle, endless: bytes, slow_pool: WorkerPool
) -> None:
    verifier = Verifier(bundle, timeout=TIMEOUT, pool=slow_pool)

    async def both() -> tuple[list[str], float]:
        started = time.monotonic()
        report = await verifier.verify_async(endless)
        return report.reasons, time.monotonic() - started

    reasons, elapsed = asyncio.run(both())
    _assert_stopped(reasons)
    assert elapsed < TIMEOUT + SLACK
    assert slow_pool.pids() == []


def test_waiting_for_a_busy_pool_counts_against_the_bound(
    bundle: TrustBundle, endless: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(slow_check.PAUSE_DIR, str(tmp_path))  # the worker inherits it
    pool = WorkerPool(1, initializer=slow_check.pause_first_marked_check)
    hog = threading.Thread(target=Verifier(bundle, timeout=600, pool=pool).verify, args=(endless,))
    try:
        hog.start()
        # the hog's worker parks: it holds the pool's only worker until it is killed
        wait_until((tmp_path / "paused").is_file, "the hog's worker to park")
        quick = Verifier(bundle, timeout=0.5, pool=pool)
        report = quick.verify(sealed_pdf(PadesLevel.B_B, MARKET_DEPT))
        assert report.indication is Indication.INDETERMINATE
        assert report.reasons == [
            "no verification worker became free within 0.5 s (too many verifications at once)"
        ]
    finally:
        pool.close()  # kills the parked worker: the hog's verification ends
    hog.join(SLACK)
    assert not hog.is_alive()


def test_a_worker_that_dies_is_reported_and_replaced(bundle: TrustBundle, endless: bytes) -> None:
    pool = WorkerPool(1, initializer=slow_check.make_marked_file_kill_its_worker)
    try:
        verifier = Verifier(bundle, timeout=30, pool=pool)
        report = verifier.verify(endless)
        assert report.indication is Indication.INDETERMINATE
        assert report.reasons == [
            "verification did not finish: the verification worker exited with status 3 "
            "(a hostile file?)"
        ]
        assert pool.pids() == []
        good = verifier.verify(sealed_pdf(PadesLevel.B_B, MARKET_DEPT))
        assert good.indication is Indication.TOTAL_PASSED
    finally:
        pool.close()


def test_a_worker_that_cannot_start_is_a_clear_error(bundle: TrustBundle) -> None:
    pool = WorkerPool(1, initializer=slow_check.exit_at_start)
    try:
        with pytest.raises(VerificationError) as exc:
            Verifier(bundle, pool=pool).verify(sealed_pdf(PadesLevel.B_B, MARKET_DEPT))
        assert str(exc.value) == (
            "cannot start a verification worker: the verification worker exited with status 7"
        )
        assert pool.pids() == []
    finally:
        pool.close()


def test_prestart_starts_a_worker_the_first_verification_uses(bundle: TrustBundle) -> None:
    pool = WorkerPool(2)
    try:
        verifier = Verifier(bundle, pool=pool)
        verifier.prestart()
        started = pool.pids()
        assert len(started) == 1
        verifier.prestart()  # one is there: no second
        assert pool.pids() == started
        report = verifier.verify(sealed_pdf(PadesLevel.B_B, MARKET_DEPT))
        assert report.indication is Indication.TOTAL_PASSED
        assert pool.pids() == started  # the prestarted worker did it
        Verifier(bundle, isolation="thread").prestart()  # in-process: nothing to start
    finally:
        pool.close()


def test_in_process_path_stops_its_thread(
    bundle: TrustBundle, endless: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    from signing._verify import engine

    monkeypatch.setattr(engine, "check_cms", engine.check_cms)  # undone after the test
    slow_check.make_cms_check_slow()
    verifier = Verifier(bundle, timeout=TIMEOUT, isolation=Isolation.THREAD)
    report = verifier.verify(endless)
    _assert_stopped(report.reasons)
    deadline = time.monotonic() + SLACK
    while time.monotonic() < deadline and any(
        t.name == "evault-verify" for t in threading.enumerate()
    ):
        time.sleep(0.05)
    assert not [t for t in threading.enumerate() if t.name == "evault-verify"], (
        "the timed-out verification thread still runs"
    )
    good = verifier.verify(sealed_pdf(PadesLevel.B_B, MARKET_DEPT))
    assert good.indication is Indication.TOTAL_PASSED


def test_a_worker_limits_its_own_cpu_time() -> None:
    """The safety net when the parent is gone before it could kill: RLIMIT_CPU ends the
    worker's runaway by itself (SIGXCPU)."""
    code = (
        "from signing._verify.limits import limit_cpu; "
        "from tests.signing.slow_check import spin; limit_cpu(1); spin()"
    )
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", code], timeout=60, check=False)
    assert done.returncode < 0 and -done.returncode in (24, 9)  # SIGXCPU (or SIGKILL at hard)
    assert time.monotonic() - started < 30


def test_unknown_isolation_is_a_usage_error(bundle: TrustBundle) -> None:
    with pytest.raises(VerificationError, match="isolation must be one of process, thread"):
        Verifier(bundle, isolation="fibre")


def test_inline_path_stops_in_the_calling_thread_and_puts_back_sigalrm(
    bundle: TrustBundle, endless: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    from signing._verify import engine

    monkeypatch.setattr(engine, "check_cms", engine.check_cms)  # undone after the test
    slow_check.make_cms_check_slow()

    def ours(signum: int, frame: object) -> None:
        raise AssertionError("the caller's SIGALRM handler ran")

    previous = signal.signal(signal.SIGALRM, ours)
    try:
        verifier = Verifier(bundle, timeout=TIMEOUT, isolation=Isolation.INLINE)
        threads = threading.active_count()
        report = verifier.verify(endless)
        _assert_stopped(report.reasons)
        assert threading.active_count() == threads  # no thread was started for it
        assert signal.getsignal(signal.SIGALRM) is ours
        assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)  # no timer left armed
        good = verifier.verify(sealed_pdf(PadesLevel.B_B, MARKET_DEPT))
        assert good.indication is Indication.TOTAL_PASSED
        assert signal.getsignal(signal.SIGALRM) is ours
    finally:
        signal.signal(signal.SIGALRM, previous)


def test_inline_path_off_the_main_thread_runs_in_a_thread_of_its_own(
    bundle: TrustBundle, endless: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGALRM reaches only the main thread: elsewhere the inline mode is the thread mode."""
    from signing._verify import engine

    monkeypatch.setattr(engine, "check_cms", engine.check_cms)  # undone after the test
    slow_check.make_cms_check_slow()
    verifier = Verifier(bundle, timeout=TIMEOUT, isolation="inline")
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        report = pool.submit(verifier.verify, endless).result(timeout=TIMEOUT + SLACK)
        good = pool.submit(verifier.verify, sealed_pdf(PadesLevel.B_B, MARKET_DEPT)).result()
    _assert_stopped(report.reasons)
    assert good.indication is Indication.TOTAL_PASSED
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
