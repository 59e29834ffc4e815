from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schemas import InvalidValue, LicenseId, mod37_36_check_char, parse_license_id

EXAMPLE = "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U"
ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def test_design_example_passes() -> None:
    lid = LicenseId.parse(EXAMPLE)
    assert lid.check_ok
    assert lid.type_code == "11100000000013338W011"
    assert lid.issuer_code == "11430000006122244L"
    assert lid.serial == "20230000403"
    assert lid.version == "001"
    assert str(lid) == EXAMPLE


def test_wrong_check_is_a_finding_not_a_refusal() -> None:
    wrong = EXAMPLE[:-1] + "V"
    lid = parse_license_id(wrong)
    assert not lid.check_ok
    assert lid.findings == ("check character should be U (ISO/IEC 7064 MOD 37,36)",)
    with pytest.raises(InvalidValue, match="check character should be U"):
        LicenseId.parse(wrong)


def test_builder_computes_the_check() -> None:
    lid = LicenseId.build(
        type_code="11100000000013338W011",
        issuer_code="11430000006122244L",
        serial="20230000403",
        version=1,
    )
    assert str(lid) == EXAMPLE


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1.2.156.3005.1.X", "must start with 1.2.156.3005.2"),
        ("1.2.156.3005.2.A.B", "must have 5 segments"),
        (EXAMPLE.replace(".001.", ".01."), "版本号 must be 3 digits"),
        (EXAMPLE.replace("W011.", "W01."), "证照类型代码 must be 21 characters"),
        (EXAMPLE.replace("20230000403", "2023-0403"), "流水号 must be digits and capital letters"),
    ],
)
def test_structure_errors(value: str, message: str) -> None:
    with pytest.raises(InvalidValue, match=message):
        parse_license_id(value)


@given(data=st.text(alphabet=ALNUM, min_size=1, max_size=60))
def test_check_satisfies_iso7064_hybrid_property(data: str) -> None:
    # ISO 7064 hybrid systems: running the recurrence over data+check ends at p with
    # (p + 0) such that the final s == 1 (mod M), i.e. the check character validates.
    check = mod37_36_check_char(data)
    m, p = 36, 36
    for c in data + check:
        s = (p + ALNUM.index(c)) % m or m
        p = (s * 2) % (m + 1)
    assert s == 1


@given(
    data=st.text(alphabet=ALNUM, min_size=2, max_size=40),
    pos=st.integers(0, 39),
    d=st.integers(1, 35),
)
def test_single_substitution_changes_the_check(data: str, pos: int, d: int) -> None:
    pos %= len(data)
    changed = data[:pos] + ALNUM[(ALNUM.index(data[pos]) + d) % 36] + data[pos + 1 :]
    assert mod37_36_check_char(changed) != mod37_36_check_char(data)
