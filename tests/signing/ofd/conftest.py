"""Fixtures of the OFD tests: one demo SM2 PKI, its trust bundle, a sample license and a
sealed copy (built once per session)."""

from __future__ import annotations

import datetime as dt

import pytest

from signing.ofd.pki import Sm2DemoPKI, seal_image
from signing.ofd.sealer import OfdSealer
from signing.ofd.writer import sample_ofd
from signing.trust import TrustBundle

MARKET = "福州市市场监督管理局"
POLICE = "福建省公安厅"
VAULT = "福建省电子证照库"
VAULT_CODE = "12350000MB0000000D"


@pytest.fixture(scope="session")
def sm2_pki() -> Sm2DemoPKI:
    return Sm2DemoPKI.build(
        departments=[
            (MARKET, "113501000036043600"),
            (POLICE, "11350000003591037R"),
            (VAULT, VAULT_CODE),
        ],
        now=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    )


@pytest.fixture(scope="session")
def sm2_bundle(sm2_pki: Sm2DemoPKI) -> TrustBundle:
    bundle: TrustBundle = sm2_pki.trust_bundle(vault_seals=[sm2_pki.signers[VAULT].cert])
    return bundle


@pytest.fixture(scope="session")
def market_sealer(sm2_pki: Sm2DemoPKI) -> OfdSealer:
    return OfdSealer(sm2_pki.signers[MARKET], sm2_pki.seal_for(MARKET))


@pytest.fixture(scope="session")
def license_ofd() -> bytes:
    return sample_ofd(
        "营业执照",
        ["名称：福州某某科技有限公司", "统一社会信用代码：91350100M000100Y43", "法定代表人：张三"],
        image=seal_image("样例图片"),
    )


@pytest.fixture(scope="session")
def sealed(market_sealer: OfdSealer, license_ofd: bytes) -> bytes:
    return market_sealer.seal_ofd(license_ofd, at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC))


AT = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
