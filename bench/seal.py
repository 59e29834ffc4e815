"""Seal the same one-page PDF: evault's reused Sealer vs a plain pyHanko integration.

    .venv/bin/python -m bench.seal [--rounds N] [--levels B-B,B-LT]

Plain pyHanko, as a straightforward integration writes it: per call, load the PKCS#12 file
(``SimpleSigner.load_pkcs12``; our demo files use 50,000 PBKDF2 rounds, so that load is a
large share of the baseline), build a ``ValidationContext`` with the trust root and the
CRLs (no fetching), let pyHanko size the placeholder (trial signature) and, for B-LT,
collect and embed validation data itself (``embed_validation_info=True``). Both sides use
the same in-process ECDSA TSA, so the TSA's cost is not part of the difference. Rounds are
interleaved; the table shows median and p95 in milliseconds. A third column, "reused",
is pyHanko with the signer loaded once (still a trial signature and per-call validation):
the gain that does not come from key loading.
"""

from __future__ import annotations

import argparse
import io
import logging
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from pyhanko.sign.fields import SigSeedSubFilter
from pyhanko_certvalidator import ValidationContext

from bench.harness import Row, compare
from signing._pyhanko import to_asn1
from signing.keys import Pkcs12KeySource
from signing.seal import PadesLevel, Sealer
from tests.helpers.pki import MARKET_DEPT, demo_pki, embedded_tsa, sample_pdf

PASSWORD = b"bench password"


def _plain(
    p12: Path | signers.SimpleSigner,
    level: PadesLevel,
    pdf: bytes,
    root: object,
    crls: tuple[bytes, bytes],
) -> bytes:
    """Plain pyHanko; ``p12`` a path (loaded per call) or an already loaded signer."""
    if isinstance(p12, Path):
        signer = signers.SimpleSigner.load_pkcs12(str(p12), passphrase=PASSWORD)
    else:
        signer = p12
    assert signer is not None
    context = ValidationContext(trust_roots=[root], crls=list(crls), ocsps=[], allow_fetching=False)
    meta = signers.PdfSignatureMetadata(
        field_name="Seal1",
        md_algorithm="sha256",
        subfilter=SigSeedSubFilter.PADES,
        embed_validation_info=level.long_term,
        use_pades_lta=level is PadesLevel.B_LTA,
        validation_context=context if level.long_term else None,
    )
    pdf_signer = signers.PdfSigner(
        meta, signer, timestamper=embedded_tsa() if level.timestamped else None
    )
    out = pdf_signer.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf)))
    return bytes(out.getvalue())


def _time(call: Callable[[], bytes]) -> float:
    start = time.perf_counter()
    call()
    return (time.perf_counter() - start) * 1000


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--levels", default="B-B,B-T,B-LT,B-LTA")
    args = parser.parse_args()
    levels = [PadesLevel(v.strip()) for v in args.levels.split(",")]
    logging.getLogger("pyhanko").setLevel(logging.ERROR)  # "fetching is not allowed" noise

    pki = demo_pki()
    pdf = sample_pdf()
    root = to_asn1(pki.root.certificate)
    crls = pki.crls()
    with tempfile.TemporaryDirectory() as tmp:
        pki.save(tmp, PASSWORD)
        p12 = Path(tmp) / f"seal-{MARKET_DEPT}.p12"
        sealer = Sealer(Pkcs12KeySource.load(p12, PASSWORD), timestamper=embedded_tsa(), crls=crls)
        loaded = signers.SimpleSigner.load_pkcs12(str(p12), passphrase=PASSWORD)
        assert loaded is not None
        print(f"seal a {len(pdf)}-byte one-page PDF, ECDSA P-256, {args.rounds} rounds, ms")
        print("plain = pyHanko loading the PKCS#12 per call; reused = pyHanko, signer loaded once")
        header = ("level", "ours med", "p95", "plain med", "p95", "ratio", "reused med", "ratio")
        print("{:6} {:>9} {:>6} {:>10} {:>6} {:>6} {:>11} {:>6}".format(*header))
        for level in levels:
            ours: list[float] = []
            plain: list[float] = []
            reused: list[float] = []
            for _ in range(3):  # warm up all
                sealer.seal(pdf, level=level)
                _plain(p12, level, pdf, root, crls)
                _plain(loaded, level, pdf, root, crls)
            for _ in range(args.rounds):
                ours.append(_time(lambda lv=level: sealer.seal(pdf, level=lv)))
                plain.append(_time(lambda lv=level: _plain(p12, lv, pdf, root, crls)))
                reused.append(_time(lambda lv=level: _plain(loaded, lv, pdf, root, crls)))
            ours_med = statistics.median(ours)
            plain_med, reused_med = statistics.median(plain), statistics.median(reused)
            print(
                f"{level.value:6} {ours_med:9.1f} {_p95(ours):6.1f} "
                f"{plain_med:10.1f} {_p95(plain):6.1f} {plain_med / ours_med:5.1f}x "
                f"{reused_med:11.1f} {reused_med / ours_med:5.1f}x"
            )


def run(rounds: int) -> list[Row]:
    """Harness entry (``python -m bench``): ours vs plain pyHanko (PKCS#12 per call), each level."""
    logging.getLogger("pyhanko").setLevel(logging.ERROR)
    pki = demo_pki()
    pdf = sample_pdf()
    root = to_asn1(pki.root.certificate)
    crls = pki.crls()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        pki.save(tmp, PASSWORD)
        p12 = Path(tmp) / f"seal-{MARKET_DEPT}.p12"
        sealer = Sealer(Pkcs12KeySource.load(p12, PASSWORD), timestamper=embedded_tsa(), crls=crls)
        for level in PadesLevel:
            rows.append(
                compare(
                    f"seal {level.value} (ECDSA P-256)",
                    lambda lv=level: sealer.seal(pdf, level=lv),
                    lambda lv=level: _plain(p12, lv, pdf, root, crls),
                    baseline_name="plain pyHanko, PKCS#12 loaded per call",
                    rounds=rounds,
                )
            )
    return rows


if __name__ == "__main__":
    main()
