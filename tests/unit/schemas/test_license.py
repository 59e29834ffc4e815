from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from schemas import CitizenId, LicenseMetadata, LicenseStatus

BASE = {
    "name": "食品经营许可证",
    "type_code": "11100000000013338W011",
    "number": "JY13501000000001",
    "issuer_name": "福州市市场监督管理局",
    "issuer_code": "11430000006122244L",
    "issue_date": "2023-01-05",
    "holder_name": "张三",
    "holder_id": "11010519491231002X",
    "holder_id_type": "111",
    "valid_from": "2023-01-05",
    "valid_until": "2028-01-04",
}


def test_valid_metadata() -> None:
    m = LicenseMetadata.model_validate(BASE)
    assert isinstance(m.holder_id, CitizenId)
    assert m.valid_until == dt.date(2028, 1, 4)
    assert "11010519491231002X" not in repr(m)


def test_holder_id_checked_against_its_type() -> None:
    with pytest.raises(ValidationError, match="check character should be X"):
        LicenseMetadata.model_validate(BASE | {"holder_id": "110105194912310021"})
    with pytest.raises(ValidationError, match="统一社会信用代码"):
        LicenseMetadata.model_validate(BASE | {"holder_id_type": "001"})


def test_validity_window_must_be_ordered() -> None:
    with pytest.raises(ValidationError, match="有效期截止 is before 有效期起始"):
        LicenseMetadata.model_validate(BASE | {"valid_until": "2020-01-01"})


def test_identifier_must_agree_and_wrong_check_is_a_finding() -> None:
    lid = "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.V"
    m = LicenseMetadata.model_validate(BASE | {"license_identifier": lid})
    assert m.identifier_findings == ("check character should be U (ISO/IEC 7064 MOD 37,36)",)
    with pytest.raises(ValidationError, match="版本号 differs"):
        LicenseMetadata.model_validate(BASE | {"license_identifier": lid, "version": 2})


def test_status_parse() -> None:
    assert LicenseStatus.parse("吊销") is LicenseStatus.REVOKED
    assert LicenseStatus.parse("revoked") is LicenseStatus.REVOKED
    with pytest.raises(ValueError, match="is not one of"):
        LicenseStatus.parse("gone")
