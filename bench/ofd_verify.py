"""Verify a one-seal OFD license (GB/T 38540 V4, SM2): evault vs a straightforward gmssl
implementation, interleaved in the same run.

    .venv/bin/python -m bench.ofd_verify [--rounds N]

Ours: one :class:`signing.ofd.OfdVerifier` reused across calls (in-process), the full
report: container limits, every reference's SM3, the signed hash, the signer's and the
seal maker's SM2 signatures, the seal rules, the SM2 path to the root with CRLs.
Baseline, as a straightforward integration of the pure-Python ``gmssl`` package writes it:
``zipfile`` + ``xml.etree``, SM3 of every referenced part and of Signature.xml with
``gmssl.sm3``, the signer's and the seal maker's signatures and the two certificate
signatures of the path with ``gmssl.sm2`` (ASN.1 read with asn1crypto, as ours).
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import io
import zipfile
from typing import Any
from xml.etree import ElementTree

from asn1crypto import x509
from gmssl import sm2 as gm_sm2
from gmssl import sm3 as gm_sm3

from bench.harness import Row, compare, format_table, machine
from schemas.report import Indication
from signing.ofd import OfdVerifier
from signing.ofd.pki import Sm2DemoPKI, seal_image
from signing.ofd.sealer import OfdSealer
from signing.ofd.ses import parse_signed_value
from signing.ofd.writer import sample_ofd

__all__ = ["run"]

AT = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)


def _gm_sm3(data: bytes) -> bytes:
    return bytes.fromhex(gm_sm3.sm3_hash(list(data)))


def _gm_verify(cert_der: bytes, signature: bytes, message: bytes) -> bool:
    point = bytes(x509.Certificate.load(cert_der).public_key["public_key"].native)
    crypt = gm_sm2.CryptSM2(public_key=point[1:].hex(), private_key=None, mode=1, asn1=True)
    return bool(crypt.verify_with_sm3(signature.hex(), message))


def _gmssl_verify(data: bytes, root: bytes, ca: bytes) -> bool:
    """The straightforward implementation: every check, no caching, gmssl for SM2/SM3."""
    ns = {"ofd": "http://www.ofdspec.org/2016"}
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        sigs = ElementTree.fromstring(zf.read("Doc_0/Signs/Signatures.xml"))
        ok = True
        for entry in sigs.findall("ofd:Signature", ns):
            path = entry.get("BaseLoc", "").lstrip("/")
            raw = zf.read(path)
            info = ElementTree.fromstring(raw).find("ofd:SignedInfo", ns)
            assert info is not None
            for ref in info.iterfind("ofd:References/ofd:Reference", ns):
                want = base64.b64decode(ref.findtext("ofd:CheckValue", "", ns))
                ok &= _gm_sm3(zf.read(ref.get("FileRef", "").lstrip("/"))) == want
            ses: Any = parse_signed_value(zf.read(path.replace("Signature.xml", "SignedValue.dat")))
            s = ses.ses
            ok &= s.data_hash == _gm_sm3(raw)
            ok &= _gm_verify(s.signer_cert, s.signature, s.signed)
            ok &= _gm_verify(s.seal.maker_cert, s.seal.maker_signature, s.seal.maker_signed)
            for child, parent in ((s.signer_cert, ca), (ca, root)):
                cert = x509.Certificate.load(child)
                ok &= _gm_verify(
                    parent, cert["signature_value"].native, cert["tbs_certificate"].dump()
                )
    return ok


def run(rounds: int) -> list[Row]:
    dept = "福州市市场监督管理局"
    pki = Sm2DemoPKI.build(
        departments=[(dept, "113501000036043600")], now=dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    )
    license_ofd = sample_ofd(
        "营业执照", ["名称：福州某某科技有限公司", "法定代表人：张三"], image=seal_image("样例")
    )
    data = OfdSealer(pki.signers[dept], pki.seal_for(dept)).seal_ofd(license_ofd)
    verifier = OfdVerifier(pki.trust_bundle())
    report = verifier.verify(data, at=AT)
    assert report.indication is Indication.TOTAL_PASSED, report.reasons
    agrees = _gmssl_verify(data, pki.root.cert, pki.ca.cert)
    return [
        compare(
            "verify a one-seal OFD (SM2 V4 seal, path + CRL)",
            lambda: verifier.verify(data, at=AT),
            lambda: _gmssl_verify(data, pki.root.cert, pki.ca.cert),
            baseline_name="straightforward gmssl" + ("" if agrees else " (disagreed!)"),
            rounds=rounds,
            target=">= 5x",
        ),
        _memo_row(pki, data, rounds),
    ]


def _memo_row(pki: Sm2DemoPKI, data: bytes, rounds: int) -> Row:
    """Ours with the certificate and CRL signature checks remembered per trust store
    (``Sm2TrustStore.memo_limit``) against the same verifier re-checking them each call."""
    remembered = OfdVerifier(pki.trust_bundle())
    afresh = OfdVerifier(pki.trust_bundle())
    assert afresh.store is not None
    afresh.store.memo_limit = 0
    for verifier in (remembered, afresh):
        assert verifier.verify(data, at=AT).indication is Indication.TOTAL_PASSED
    return compare(
        "verify a one-seal OFD, path signature checks remembered",
        lambda: remembered.verify(data, at=AT),
        lambda: afresh.verify(data, at=AT),
        baseline_name="the same, re-checked each call",
        rounds=rounds,
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.ofd_verify")
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    print(machine())
    print(format_table(run(args.rounds)))


if __name__ == "__main__":
    main()
