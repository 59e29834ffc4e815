"""The catalog service: departments, seal certificates, license types, 用证目录, credentials."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from tests.helpers.pki import HOUSING_DEPT, MARKET_DEPT
from vault.errors import ConflictError, InvalidInput, NotFound
from vault.services import catalog

FP = "ab" * 32


def test_departments_and_seals(session: Session) -> None:
    market = catalog.create_department(
        session=session, name="福州市市场监督管理局", credit_code=MARKET_DEPT.lower(), issuer=True
    )
    assert market.credit_code == MARKET_DEPT
    with pytest.raises(ConflictError) as dup:
        catalog.create_department(session=session, name="x", credit_code=MARKET_DEPT, user=True)
    assert (
        str(dup.value) == f"a department with 统一社会信用代码 {MARKET_DEPT} is already registered"
    )
    with pytest.raises(InvalidInput, match=r"department 统一社会信用代码: .*check character"):
        catalog.create_department(
            session=session, name="x", credit_code=MARKET_DEPT[:-1] + "1", user=True
        )
    with pytest.raises(InvalidInput, match="a department must be an issuer, a user, or both"):
        catalog.create_department(session=session, name="x", credit_code=HOUSING_DEPT)

    cert = catalog.add_seal_certificate(
        session=session, department_id=market.id, fingerprint=FP.upper()
    )
    assert cert.fingerprint == FP
    again = catalog.add_seal_certificate(session=session, department_id=market.id, fingerprint=FP)
    assert again.id == cert.id
    housing = catalog.create_department(
        session=session, name="住建局", credit_code=HOUSING_DEPT, user=True
    )
    with pytest.raises(ConflictError) as taken:
        catalog.add_seal_certificate(session=session, department_id=housing.id, fingerprint=FP)
    assert str(taken.value) == (
        f"seal certificate {FP} is already registered to department {market.id}"
    )
    with pytest.raises(InvalidInput, match="SHA-256 as 64 hex characters"):
        catalog.add_seal_certificate(session=session, department_id=market.id, fingerprint="zz")
    assert catalog.issuer_fingerprints(session=session, department_id=market.id) == {FP}
    with pytest.raises(NotFound, match="no department 4242"):
        catalog.get_department(session=session, department_id=4242)


def test_types_issuers_and_standing_permissions(session: Session) -> None:
    market = catalog.create_department(
        session=session, name="市场监管局", credit_code=MARKET_DEPT, issuer=True
    )
    housing = catalog.create_department(
        session=session, name="住建局", credit_code=HOUSING_DEPT, user=True
    )
    code = "11100000000013338W011"
    license_type = catalog.create_license_type(
        session=session,
        code=code,
        name="食品经营许可证",
        holder_kind="111",
        issuer_department_ids=[market.id],
    )
    assert catalog.is_registered_issuer(
        session=session, license_type_id=license_type.id, department_id=market.id
    )
    with pytest.raises(ConflictError, match=f"license type {code} is already registered"):
        catalog.create_license_type(session=session, code=code, name="x", holder_kind="111")
    with pytest.raises(InvalidInput, match="21 digits or capital letters"):
        catalog.create_license_type(session=session, code="short", name="x", holder_kind="111")
    with pytest.raises(InvalidInput, match="holder kind must be 111"):
        catalog.create_license_type(
            session=session, code="11100000000013338W099", name="x", holder_kind="222"
        )
    with pytest.raises(ConflictError, match="住建局 is not registered as an issuer"):
        catalog.register_issuer(
            session=session, license_type_id=license_type.id, department_id=housing.id
        )
    with pytest.raises(ConflictError, match="市场监管局 is not registered as a user"):
        catalog.grant_standing_permission(
            session=session, department_id=market.id, license_type_id=license_type.id
        )
    catalog.grant_standing_permission(
        session=session, department_id=housing.id, license_type_id=license_type.id
    )
    assert catalog.has_standing_permission(
        session=session, department_id=housing.id, license_type_id=license_type.id
    )
    assert catalog.revoke_standing_permission(
        session=session, department_id=housing.id, license_type_id=license_type.id
    )
    assert not catalog.has_standing_permission(
        session=session, department_id=housing.id, license_type_id=license_type.id
    )
    assert [t.code for t in catalog.list_license_types(session=session)] == [code]
    with pytest.raises(NotFound, match="no license type 11100000000013338W012"):
        catalog.get_license_type(session=session, code="11100000000013338W012")


def test_client_credentials(session: Session) -> None:
    market = catalog.create_department(
        session=session, name="市场监管局", credit_code=MARKET_DEPT, issuer=True
    )
    secret = "s3cret-long-enough-value"
    catalog.set_client_credentials(
        session=session, department_id=market.id, client_id="market", secret=secret
    )
    assert market.oauth_secret_hash is not None and secret not in market.oauth_secret_hash
    found = catalog.authenticate_client(session=session, client_id="market", secret=secret)
    assert found is not None and found.id == market.id
    assert catalog.authenticate_client(session=session, client_id="market", secret="wrong") is None
    assert catalog.authenticate_client(session=session, client_id="nobody", secret=secret) is None
    with pytest.raises(InvalidInput, match="at least 16 characters"):
        catalog.set_client_credentials(
            session=session, department_id=market.id, client_id="market", secret="short"
        )
