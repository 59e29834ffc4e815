"""The SM2 trust store remembers certificate and CRL signature checks (``_signed``), and
nothing that depends on the validation time: validity and revocation are judged on every
call, and a certificate whose bytes differ is checked afresh."""

from __future__ import annotations

import datetime as dt
from typing import Any

from asn1crypto import crl

from schemas.report import RevocationStatus, SubIndication
from signing.ofd.certpath import Sm2TrustStore, load_certificate
from signing.ofd.pki import Sm2DemoPKI
from tests.signing.ofd.conftest import AT, MARKET, POLICE


def _store(pki: Sm2DemoPKI, revoked: list[bytes] | None = None) -> Sm2TrustStore:
    return Sm2TrustStore(
        [pki.root.certificate],
        [pki.ca.certificate],
        [crl.CertificateList.load(d) for d in pki.crls(revoked or [])],
    )


def _cert(pki: Sm2DemoPKI, who: str) -> Any:
    return load_certificate(pki.signers[who].cert)


def test_a_remembered_path_still_expires(sm2_pki: Sm2DemoPKI) -> None:
    store = _store(sm2_pki)
    cert = _cert(sm2_pki, MARKET)
    assert store.validate(cert, at=AT).trusted
    assert store._memo  # the path's signature checks are remembered
    after = cert["tbs_certificate"]["validity"]["not_after"].native + dt.timedelta(days=1)
    late = store.validate(cert, at=after)
    assert not late.trusted and late.problem is SubIndication.OUT_OF_BOUNDS_NO_POE


def test_a_remembered_ca_does_not_hide_a_revocation(sm2_pki: Sm2DemoPKI) -> None:
    store = _store(sm2_pki, revoked=[sm2_pki.signers[POLICE].cert])
    assert store.validate(_cert(sm2_pki, MARKET), at=AT).trusted  # CA and CRLs remembered
    revoked = store.validate(_cert(sm2_pki, POLICE), at=AT)
    assert not revoked.trusted and revoked.revocation is RevocationStatus.REVOKED


def test_a_changed_certificate_is_checked_afresh(sm2_pki: Sm2DemoPKI) -> None:
    store = _store(sm2_pki)
    assert store.validate(_cert(sm2_pki, MARKET), at=AT).trusted
    der = bytearray(sm2_pki.signers[MARKET].cert)
    der[-10] ^= 0x01  # inside the signature value: same name, same issuer
    forged = store.validate(load_certificate(bytes(der)), at=AT)
    assert not forged.trusted and forged.problem is SubIndication.NO_CERTIFICATE_CHAIN_FOUND


def test_the_memo_is_bounded_and_optional(sm2_pki: Sm2DemoPKI) -> None:
    store = _store(sm2_pki)
    store.memo_limit = 1
    for who in (MARKET, POLICE, MARKET):
        assert store.validate(_cert(sm2_pki, who), at=AT).trusted
        assert len(store._memo) <= 1
    store.memo_limit = 0
    store._memo.clear()
    assert store.validate(_cert(sm2_pki, POLICE), at=AT).trusted
    assert not store._memo
