"""Real sealed licenses and a catalog for intake tests (demo PKI from tests.helpers.pki)."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from schemas.identifiers import citizen_id_check_char
from schemas.license import LicenseMetadata
from signing.seal import PadesLevel
from signing.trust import TrustBundle
from signing.verify import Verifier
from tests.helpers.pki import (
    HOUSING_DEPT,
    MARKET_DEPT,
    PUBLIC_SECURITY_DEPT,
    demo_pki,
    sample_pdf,
    sealer,
)
from vault.services import catalog

__all__ = [
    "CITIZEN_TYPE",
    "COMPANY_HOLDER",
    "COMPANY_TYPE",
    "HOLDER",
    "OTHER_HOLDER",
    "Catalog",
    "citizen_id",
    "license_pdf",
    "make_catalog",
    "metadata",
    "trust_bundle",
    "verifier",
]

CITIZEN_TYPE = "11100000000013338W011"  # held by citizens (111)
COMPANY_TYPE = "11100000000013338W021"  # held by organisations (001)
POLICE_TYPE = "11100000000013338W031"  # issued by the public security department only


def citizen_id(serial: int) -> str:
    """A valid 公民身份号码 (Beijing, born 1990-01-01) with sequence ``serial``."""
    body = f"11010519900101{serial:03d}"
    return body + citizen_id_check_char(body)


HOLDER = citizen_id(1)
OTHER_HOLDER = citizen_id(2)
COMPANY_HOLDER = "91350100M000100Y43"


@functools.cache
def trust_bundle() -> TrustBundle:
    """The demo PKI's root, issuing CA and CRLs: a B-B seal's revocation status is known
    (intake refuses unknown revocation by default); and the same of the SM2 PKI that seals
    the OFD licenses (tests.helpers.ofd), with its seal maker pinned."""
    from tests.helpers.ofd import VAULT_NAME, sm2_pki, sm2_vault

    pki = demo_pki()
    sm2 = sm2_pki()
    return TrustBundle.from_certificates(
        roots=[pki.root.certificate, sm2.root.cert],
        intermediates=[pki.issuing_ca.certificate, sm2.ca.cert],
        crls=[*pki.crls(), *sm2.crls()],
        seal_makers=[sm2.maker.cert],
        ofd_vault_seals=[sm2_vault().signers[VAULT_NAME].cert],
    )


@functools.cache
def verifier() -> Verifier:
    # A generous bound: tests push 20 files at once through one verifier on a busy machine.
    return Verifier(trust_bundle(), timeout=180)


@functools.cache
def license_pdf(n: int, department: str = MARKET_DEPT, level: PadesLevel = PadesLevel.B_B) -> bytes:
    """A distinct sealed PDF per ``n``, sealed by ``department``."""
    return sealer(department).seal(sample_pdf(f"license No. {n}"), level=level, reason="issued")


def metadata(n: int, **overrides: Any) -> LicenseMetadata:
    fields: dict[str, Any] = {
        "name": "食品经营许可证",
        "type_code": CITIZEN_TYPE,
        "number": f"JY{n:08d}",
        "issuer_name": "福州市市场监督管理局",
        "issuer_code": MARKET_DEPT,
        "issue_date": dt.date(2024, 3, 1),
        "holder_name": "张三",
        "holder_id": HOLDER,
        "holder_id_type": "111",
        "valid_from": dt.date(2024, 3, 1),
        "valid_until": dt.date(2029, 2, 28),
    }
    fields.update(overrides)
    return LicenseMetadata(**fields)


@dataclass(frozen=True)
class Catalog:
    market: int  # issuer of CITIZEN_TYPE and COMPANY_TYPE, seal fingerprint registered
    police: int  # issuer of POLICE_TYPE only, no fingerprint registered (matched by code)
    housing: int  # a using department only


def make_catalog(session: Session) -> Catalog:
    pki = demo_pki()
    market = catalog.create_department(
        session=session, name="福州市市场监督管理局", credit_code=MARKET_DEPT, issuer=True
    )
    police = catalog.create_department(
        session=session, name="福州市公安局", credit_code=PUBLIC_SECURITY_DEPT, issuer=True
    )
    housing = catalog.create_department(
        session=session, name="福州市住房和城乡建设局", credit_code=HOUSING_DEPT, user=True
    )
    from cryptography.hazmat.primitives import hashes

    seal = pki.issuing_department_seal(MARKET_DEPT).certificate
    catalog.add_seal_certificate(
        session=session,
        department_id=market.id,
        fingerprint=seal.fingerprint(hashes.SHA256()).hex(),
    )
    catalog.create_license_type(
        session=session,
        code=CITIZEN_TYPE,
        name="食品经营许可证",
        holder_kind="111",
        issuer_department_ids=[market.id],
    )
    catalog.create_license_type(
        session=session,
        code=COMPANY_TYPE,
        name="营业执照",
        holder_kind="001",
        issuer_department_ids=[market.id],
    )
    catalog.create_license_type(
        session=session,
        code=POLICE_TYPE,
        name="居住证",
        holder_kind="111",
        issuer_department_ids=[police.id],
    )
    session.commit()
    return Catalog(market=market.id, police=police.id, housing=housing.id)


def readable_license(session: Session, *, blobs: Any, crypto: Any) -> tuple[Catalog, Any]:
    """The catalog, license 1 (CITIZEN_TYPE, pushed by the market department) and the
    housing department's standing permission for its type; flushed, not committed.
    Returns the catalog and the license."""
    from vault.services.intake import ingest

    cat = make_catalog(session)
    pushed = ingest(
        session=session,
        blobs=blobs,
        verifier=verifier(),
        crypto=crypto,
        metadata=metadata(1),
        pdf=license_pdf(1),
        pushed_by_department_id=cat.market,
    )
    catalog.grant_standing_permission(
        session=session,
        department_id=cat.housing,
        license_type_id=catalog.get_license_type(session=session, code=CITIZEN_TYPE).id,
    )
    return cat, pushed.license
