"""An API over a real, migrated database (SQLite and PostgreSQL), real PKI, real seals.

``api`` gives a TestClient on a demo-mode app plus the catalog of tests.vault.licenses:
market (issuer of CITIZEN_TYPE and COMPANY_TYPE), police (issuer of POLICE_TYPE), housing
(user with a standing permission for CITIZEN_TYPE), plus "tax" (a user with no standing
permission) and "audit" (audit:read only). Department tokens are minted with the app's own
key (the token endpoint has its own tests); holder tokens come from the demo provider.
"""

from __future__ import annotations

import contextlib
import functools
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.context import ApiContext
from tests.helpers.pki import sealer
from tests.vault.conftest import db_url, postgres_schema, sqlite_template  # noqa: F401
from tests.vault.licenses import (
    CITIZEN_TYPE,
    HOLDER,
    OTHER_HOLDER,
    license_pdf,
    make_catalog,
    metadata,
    trust_bundle,
    verifier,
)
from vault.bootstrap import open_vault
from vault.services import catalog
from vault.services.credentials import issue_credentials, set_scopes
from vault.settings import load_settings

TAX_DEPT = "11350100MB0000035H"
AUDIT_DEPT = "11350100MB0000043C"

__all__ = ["AUDIT_DEPT", "HOLDER", "OTHER_HOLDER", "TAX_DEPT", "Api"]


@functools.cache
def copy_renderer() -> Any:
    """The vault's renderer as production builds it: PAdES for PDF, and for OFD the
    vault's SM2 seal from the test SM2 PKI (it chains to the test trust bundle's root)."""
    from api.sealing import VaultCopyRenderer
    from signing.copies.maker import CopyMaker
    from signing.ofd.copy import OfdCopyMaker
    from signing.ofd.pki import Sm2DemoPKI
    from tests.helpers.ofd import SM2_SEED
    from tests.helpers.pki import VAULT_CODE, pki_now

    renderer = VaultCopyRenderer(CopyMaker(sealer()))
    name = "evault 电子证照库"
    pki = Sm2DemoPKI.build(seed=SM2_SEED, departments=[(name, VAULT_CODE)], now=pki_now())
    renderer.ofd = OfdCopyMaker(pki.signers[name], pki.seal_for(name))
    return renderer


@dataclass
class Api:
    client: TestClient
    ctx: ApiContext
    departments: dict[str, int]
    tokens: dict[str, str] = field(default_factory=dict)
    credentials: dict[str, tuple[str, str]] = field(default_factory=dict)

    def dept(self, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[name]}"}

    def holder(self, holder_id: str = HOLDER) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.ctx.holders.mint_demo(holder_id)}"}

    def push(self, n: int, *, issuer: str = "market", **overrides: Any) -> Any:
        meta = metadata(n, **overrides)
        return self.client.post(
            "/v1/licenses",
            headers=self.dept(issuer),
            files={"pdf": (f"license-{n}.pdf", license_pdf(n), "application/pdf")},
            data={"metadata": meta.model_dump_json()},
        )


@pytest.fixture
def api(db_url: str, tmp_path: Path) -> Iterator[Api]:  # noqa: F811
    """The API on SQLite and on PostgreSQL (parametrized)."""
    with _make_api(db_url, tmp_path) as state:
        yield state


@pytest.fixture
def api_sqlite(sqlite_template: Path, tmp_path: Path) -> Iterator[Api]:  # noqa: F811
    """The API on SQLite only: for what does not depend on the database (auth, limits)."""
    target = tmp_path / "evault.db"
    shutil.copyfile(sqlite_template, target)
    with _make_api(f"sqlite:///{target}", tmp_path) as state:
        yield state


@contextlib.contextmanager
def _make_api(
    url: str, tmp_path: Path, *, pdf_verifier: Any = None, **overrides: Any
) -> Iterator[Api]:
    settings = load_settings(
        **{
            "mode": "demo",
            "data_dir": tmp_path / "data",
            "database_url": url,
            "public_base_url": "http://testserver",
            "rate_limit_per_minute": 1_000_000,
            "rate_limit_burst": 1_000_000,
            **overrides,
        }
    )
    opened = open_vault(settings, verifier=pdf_verifier or verifier(), upgrade=False)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    (settings.data_dir / "trust-bundle.json").write_bytes(trust_bundle().dump())
    vault = SimpleNamespace(
        engine=opened.engine,
        sessions=opened.sessions,
        blobs=opened.blobs,
        crypto=opened.crypto,
        verifier=opened.verifier,
        copy_renderer=_LazyRenderer(),
    )
    app = create_app(settings, vault=vault)
    ctx: ApiContext = app.state.ctx
    with opened.session() as session:
        cat = make_catalog(session)
        tax = catalog.create_department(
            session=session, name="福州市税务局", credit_code=TAX_DEPT, user=True
        )
        audit = catalog.create_department(
            session=session,
            name="审计局",
            credit_code=AUDIT_DEPT,
            user=True,
        )
        housing_type = catalog.get_license_type(session=session, code=CITIZEN_TYPE)
        catalog.grant_standing_permission(
            session=session, department_id=cat.housing, license_type_id=housing_type.id
        )
        departments = {
            "market": cat.market,
            "police": cat.police,
            "housing": cat.housing,
            "tax": tax.id,
            "audit": audit.id,
        }
        scopes = {
            "market": ["licenses:issue"],
            "police": ["licenses:issue"],
            "housing": ["licenses:use"],
            "tax": ["licenses:use"],
            "audit": ["audit:read"],
        }
        creds: dict[str, tuple[str, str]] = {}
        for name, dept_id in departments.items():
            set_scopes(session=session, department_id=dept_id, scopes=scopes[name])
        # Real client credentials for one department (the token endpoint's tests use them).
        issued = issue_credentials(session=session, department_id=cat.housing)
        creds["housing"] = (issued.client_id, issued.client_secret)
    state = Api(TestClient(app), ctx, departments, credentials=creds)
    for name, dept_id in departments.items():
        state.tokens[name] = ctx.tokens.issue(
            client_id=f"test-{name}", department_id=dept_id, scopes=frozenset(scopes[name])
        ).access_token
    with state.client:
        yield state
    opened.close()


class _LazyRenderer:
    """Builds the real CopyMaker on first use (only copy tests pay for it)."""

    def make(self, original: bytes, annotation: Any) -> bytes:
        data: bytes = copy_renderer().make(original, annotation)
        return data

    def seal_receipt(self, pdf: bytes, note: Any) -> bytes:
        data: bytes = copy_renderer().seal_receipt(pdf, note)
        return data
