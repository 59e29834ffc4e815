from __future__ import annotations

import datetime as dt
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from schemas import (
    CitizenId,
    CreditCode,
    HolderId,
    InvalidValue,
    citizen_id_check_char,
    credit_code_check_char,
    mask,
    organization_code_check_char,
    parse_holder_id,
)
from schemas.identifiers import CREDIT_CODE_ALPHABET

GOOD_CITIZEN = "11010519491231002X"
GOOD_CREDIT = "91350100M000100Y43"


def test_known_good_examples() -> None:
    assert CitizenId.parse(GOOD_CITIZEN) == GOOD_CITIZEN
    assert CreditCode.parse(GOOD_CREDIT) == GOOD_CREDIT
    assert CitizenId.parse(GOOD_CITIZEN).birth_date == dt.date(1949, 12, 31)


def test_lowercase_x_and_spaces_are_normalised() -> None:
    assert CitizenId.parse(" 11010519491231002x ") == GOOD_CITIZEN


@pytest.mark.parametrize("pos", range(18))
def test_citizen_id_any_single_change_is_refused(pos: int) -> None:
    for c in "0123456789X":
        if c == GOOD_CITIZEN[pos]:
            continue
        bad = GOOD_CITIZEN[:pos] + c + GOOD_CITIZEN[pos + 1 :]
        with pytest.raises(InvalidValue) as info:
            CitizenId.parse(bad)
        assert info.value.rule in ("check", "format", "birth_date", "address")


@pytest.mark.parametrize("pos", range(18))
def test_credit_code_any_single_change_is_refused(pos: int) -> None:
    for c in CREDIT_CODE_ALPHABET + "IOZSV":
        if c == GOOD_CREDIT[pos]:
            continue
        bad = GOOD_CREDIT[:pos] + c + GOOD_CREDIT[pos + 1 :]
        with pytest.raises(InvalidValue):
            CreditCode.parse(bad)


def test_messages_name_the_rule() -> None:
    with pytest.raises(InvalidValue, match="check character should be X") as info:
        CitizenId.parse("110105194912310021")
    assert info.value.rule == "check"
    with pytest.raises(InvalidValue, match="not a real date of birth"):
        CitizenId.parse("110105194902300021")
    with pytest.raises(InvalidValue, match="must be 18 characters, got 17"):
        CitizenId.parse(GOOD_CITIZEN[:17])
    with pytest.raises(InvalidValue, match="check character should be 3"):
        CreditCode.parse("91350100M000100Y42")
    with pytest.raises(InvalidValue, match="'I' are not allowed"):
        CreditCode.parse("91350100M000100I43")


def test_error_messages_never_carry_the_number() -> None:
    try:
        CitizenId.parse("110105194912310021")
    except InvalidValue as exc:
        assert "110105194912310021" not in str(exc)


def _credit_with_org_check(org_check: str) -> str:
    """GOOD_CREDIT with another organization-code check (position 17), GB 32100 check fitted."""
    body = GOOD_CREDIT[:16] + org_check
    return body + credit_code_check_char(body)


def test_embedded_organization_code_check_is_required() -> None:
    # GB 32100 embeds the organization code (GB 11714, positions 9-17) with its own check:
    # M000100Y has check 4; a code whose last character fits but whose 17th does not is refused.
    assert _credit_with_org_check("4") == GOOD_CREDIT
    for wrong in "01235X":
        bad = _credit_with_org_check(wrong)
        assert bad[17] == credit_code_check_char(bad[:17])  # the GB 32100 check fits
        with pytest.raises(InvalidValue, match="should be 4") as info:
            CreditCode.parse(bad)
        assert info.value.rule == "organization_code"
        assert bad not in str(info.value)


@pytest.mark.parametrize(
    ("org_body", "check"),
    [("M000100Y", "4"), ("MB000001", "9"), ("00360436", "0"), ("70000001", "X")],
)
def test_organization_code_check_char(org_body: str, check: str) -> None:
    assert organization_code_check_char(org_body) == check


def test_first_character_may_be_a_letter() -> None:
    body = "N1350100M000100Y4"
    code = body + credit_code_check_char(body)
    assert CreditCode.parse(code) == code


def test_mask() -> None:
    assert mask(GOOD_CITIZEN) == "110105********002X"
    assert CitizenId.parse(GOOD_CITIZEN).masked() == "110105********002X"
    assert GOOD_CITIZEN not in repr(CitizenId.parse(GOOD_CITIZEN))


def test_parse_holder_id_guesses_kind() -> None:
    assert isinstance(parse_holder_id(GOOD_CITIZEN), CitizenId)
    assert isinstance(parse_holder_id(GOOD_CREDIT), CreditCode)
    assert isinstance(parse_holder_id(GOOD_CREDIT, "001"), CreditCode)
    with pytest.raises(InvalidValue):
        parse_holder_id(GOOD_CREDIT, "111")


def test_holder_id_as_pydantic_field() -> None:
    class M(BaseModel):
        holder: HolderId

    assert isinstance(M(holder=GOOD_CITIZEN).holder, CitizenId)
    with pytest.raises(ValidationError, match="check character should be X"):
        M(holder="110105194912310021")


# --- property-based: the check algorithms ---------------------------------------------

dates = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2020, 12, 31))


@given(
    address=st.integers(min_value=100000, max_value=999999),
    born=dates,
    seq=st.integers(min_value=0, max_value=999),
)
def test_citizen_id_built_with_its_check_parses(address: int, born: dt.date, seq: int) -> None:
    body = f"{address}{born:%Y%m%d}{seq:03d}"
    value = body + citizen_id_check_char(body)
    assert CitizenId.parse(value) == value


@given(
    address=st.integers(min_value=100000, max_value=999999),
    born=dates,
    seq=st.integers(min_value=0, max_value=999),
    wrong=st.sampled_from("0123456789X"),
)
def test_citizen_id_wrong_check_is_refused(
    address: int, born: dt.date, seq: int, wrong: str
) -> None:
    body = f"{address}{born:%Y%m%d}{seq:03d}"
    right = citizen_id_check_char(body)
    if wrong == right:
        return
    with pytest.raises(InvalidValue, match=f"should be {right}"):
        CitizenId.parse(body + wrong)


credit_body = st.tuples(
    st.text(alphabet=CREDIT_CODE_ALPHABET, min_size=2, max_size=2),
    st.text(alphabet=string.digits, min_size=6, max_size=6),
    st.text(alphabet=CREDIT_CODE_ALPHABET, min_size=8, max_size=8),
).map(lambda parts: "".join(parts) + organization_code_check_char(parts[2]))


@given(body=credit_body)
def test_credit_code_built_with_its_check_parses(body: str) -> None:
    value = body + credit_code_check_char(body)
    assert CreditCode.parse(value) == value


@given(body=credit_body, pos=st.integers(0, 16), delta=st.integers(1, 30))
def test_credit_code_detects_any_single_substitution(body: str, pos: int, delta: int) -> None:
    value = body + credit_code_check_char(body)
    old = CREDIT_CODE_ALPHABET.index(value[pos])
    new_char = CREDIT_CODE_ALPHABET[(old + delta) % 31]
    changed = value[:pos] + new_char + value[pos + 1 :]
    with pytest.raises(InvalidValue):
        CreditCode.parse(changed)
