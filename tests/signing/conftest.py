"""Session fixtures for the signing tests: the seeded demo PKI, its TSA and sealers.

The objects come from :mod:`tests.helpers.pki` (cached per process), so tests elsewhere
can use the same PKI without these fixtures.
"""

from __future__ import annotations

import pytest

from signing.pki import DemoPKI
from signing.seal import Sealer
from signing.timestamps import EmbeddedTSA
from tests.helpers import pki as helpers


@pytest.fixture(scope="session")
def pki() -> DemoPKI:
    return helpers.demo_pki()


@pytest.fixture(scope="session")
def tsa() -> EmbeddedTSA:
    return helpers.embedded_tsa()


@pytest.fixture(scope="session")
def department_sealer() -> Sealer:
    """The sealer of 福州市市场监督管理局 (embedded TSA, CRLs for B-LT)."""
    return helpers.sealer(helpers.MARKET_DEPT)


@pytest.fixture(scope="session")
def vault_sealer() -> Sealer:
    return helpers.sealer(None)


@pytest.fixture(scope="session")
def sample() -> bytes:
    return helpers.sample_pdf()
