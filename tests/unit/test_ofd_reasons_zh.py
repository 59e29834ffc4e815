"""The verify page says in Chinese why an OFD seal fails: every reason the OFD verifier gives
for the usual attacks and trust problems has its Chinese sentence (none left in English)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from api.pages.reasons import reason_zh
from signing.ofd import verify_ofd
from signing.ofd.pki import Sm2DemoPKI
from signing.ofd.sealer import OfdSealer
from signing.ofd.writer import sample_ofd
from signing.trust import TrustBundle
from tests.helpers.ofd import license_ofd, ofd_parts, rebuild_ofd, sm2_pki
from tests.helpers.pki import MARKET_DEPT
from tests.vault.licenses import trust_bundle

PAGE = "Doc_0/Pages/Page_0/Content.xml"


def _changed(part_suffix: str, old: bytes = b"", new: bytes = b"") -> bytes:
    """The sealed license with one part changed: ``old`` replaced, or one byte flipped."""
    parts = ofd_parts(license_ofd(1))
    name = next(p for p in parts if p.endswith(part_suffix))
    if old:
        assert old in parts[name]
        parts[name] = parts[name].replace(old, new)
    else:
        value = bytearray(parts[name])
        value[-5] ^= 0x01
        parts[name] = bytes(value)
    return rebuild_ofd(parts)


def _rogue() -> bytes:
    """The market's name and code on a seal under a root nobody trusts."""
    name = "福州市市场监督管理局"
    pki = Sm2DemoPKI.build(seed=b"rogue", departments=[(name, MARKET_DEPT)])
    body = sample_ofd("食品经营许可证", ["经营者名称：张三"])
    return OfdSealer(pki.signers[name], pki.seal_for(name)).seal_ofd(
        body, at=dt.datetime.now(dt.UTC)
    )


def _no_crls() -> TrustBundle:
    pki = sm2_pki()
    return TrustBundle.from_certificates(
        roots=[pki.root.cert], intermediates=[pki.ca.cert], seal_makers=[pki.maker.cert]
    )


def _no_seal_makers() -> TrustBundle:
    pki = sm2_pki()
    return TrustBundle.from_certificates(
        roots=[pki.root.cert], intermediates=[pki.ca.cert], crls=pki.crls()
    )


def _forgery(name: str) -> Callable[[], bytes]:
    def make() -> bytes:
        from tests.attacks import test_ofd_redteam as red

        if name == "v1":
            return red._v1_police_seal_used_by(red.MARKET, listed=False)
        if name == "maker":
            return red._seal_made_by_the_signer()
        return red.HOSTILE[name][0]()

    return make


CASES: dict[str, tuple[Callable[[], bytes], Callable[[], TrustBundle]]] = {
    "no seal maker designated": (lambda: license_ofd(1), _no_seal_makers),
    "signer revoked": (
        lambda: license_ofd(1),
        lambda: sm2_pki().trust_bundle(
            revoked=list(sm2_pki().signers[n].cert for n in sm2_pki().signers)
        ),
    ),
    "seal made by its signer": (_forgery("maker"), trust_bundle),
    "V1 seal listing nothing": (_forgery("v1"), trust_bundle),
    "naive signing time": (_forgery("naive-signing-time"), trust_bundle),
    "negative SM2 r": (_forgery("negative-sm2-r"), trust_bundle),
    "page changed": (lambda: _changed(PAGE, "张三".encode(), "李四".encode()), trust_bundle),
    "signed value altered": (lambda: _changed("SignedValue.dat"), trust_bundle),
    "Signature.xml altered": (
        lambda: _changed("Signature.xml", b"evault", b"evaulx"),
        trust_bundle,
    ),
    "seal file altered": (lambda: _changed("Seal.esl"), trust_bundle),
    "untrusted root": (_rogue, trust_bundle),
    "no CRL": (lambda: license_ofd(1), _no_crls),
    "not an OFD": (lambda: b"PK\x03\x04 broken", trust_bundle),
    "entries alias on unpacking": (
        lambda: rebuild_ofd({**ofd_parts(license_ofd(1)), "ofd.xml": b"<a/>"}),
        trust_bundle,
    ),
    "bytes outside the entries": (lambda: b"MZ" + license_ofd(1), trust_bundle),
}


def test_an_unexpected_error_reads_in_chinese() -> None:
    assert reason_zh("the OFD file cannot be verified (KeyError)") == "OFD 文件无法验证（KeyError）"
    assert reason_zh("Doc_0/Signs/Signatures.xml: too many earlier forms to try; read as changed")


@pytest.mark.parametrize("case", list(CASES))
def test_every_ofd_reason_has_its_chinese(case: str) -> None:
    make, bundle = CASES[case]
    report = verify_ofd(make(), trust=bundle())
    assert not report.passed, case
    reasons = [*report.reasons, *(r for s in report.signatures for r in s.reasons)]
    assert reasons, case
    left = [r for r in reasons if reason_zh(r) is None]
    assert left == [], (case, left)


def test_a_later_stamp_over_signed_text_reads_in_chinese() -> None:
    from tests.attacks.ofd_copy_forge import other_department, seal
    from tests.attacks.ofd_forge import genuine

    report = verify_ofd(
        seal(ofd_parts(genuine()), other_department(), box=(20, 56, 40, 40)),
        trust=trust_bundle(),
    )
    said = [reason_zh(r) for r in report.signatures[0].reasons]
    assert any(z and z.startswith("后加签章 ") and "第 1 页" in z for z in said), said


def test_a_changed_page_reads_in_chinese() -> None:
    data = _changed(PAGE, "张三".encode(), "李四".encode())
    report = verify_ofd(data, trust=trust_bundle())
    assert reason_zh(report.signatures[0].reasons[0]) == f"签章后被改动：{PAGE}"


@pytest.mark.parametrize(
    "reason",
    [
        "the signer's certificate is only for server_auth (extendedKeyUsage), not for signing "
        "documents",
        "CA certificate evault Demo SM2 Issuing CA: X is outside its permitted names "
        "(nameConstraints)",
        "CA certificate evault Demo SM2 Issuing CA: X is in its excluded names (nameConstraints)",
        "CA certificate C: nameConstraints on alternative names are not supported",
        "a certificate on the chain cannot be read (UnicodeDecodeError)",
        "the seal maker's certificate: no chain to a trusted SM2 root",
    ],
)
def test_certificate_path_reasons_read_in_chinese(reason: str) -> None:
    assert reason_zh(reason) is not None


@pytest.mark.parametrize(
    "reason",
    [
        "Doc_0/Document.xml: Doc_0/Tpls/Tpl_0/Content.xml, which is missing, is "
        "Doc_0/Tpls/tpl_0/content.xml once unpacked on a case-insensitive file system, where "
        "readers show it: each signature must cover it itself",
        "the document shows parts the package lacks: Doc_0/Tpls/Tpl_0/Content.xml (readers "
        "show it without them; one supplied later must be signed)",
        "Doc_0/Res/big.bin: too much to hash in this file (every signature's digests "
        "together); read as changed",
    ],
)
def test_reasons_of_red_team_5_read_in_chinese(reason: str) -> None:
    """The reasons of tests/attacks/test_ofd_paths_coverage.py (where a reader finds a
    file, the file's hashing budget)."""
    assert reason_zh(reason) is not None


def test_a_copy_outside_a_named_ofd_namespace_reads_in_chinese() -> None:
    """The reason of tests/attacks/test_ofd_redteam10_copy.py (r10-07's class)."""
    reason = (
        "Doc_0/EvaultCopy/Annotation.xml: what a certified copy adds there is in the "
        "namespaces 'urn:x-evil', not in one named OFD namespace: readers that read OFD "
        "elements by namespace (ofdrw's strict mode) skip it"
    )
    assert reason_zh(reason) is not None
